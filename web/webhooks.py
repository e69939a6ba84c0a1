"""Provider webhooks: `POST /webhooks/twilio/status` — signed by Twilio, checked against PUBLIC_URL, 204 or 403."""

from __future__ import annotations

from datetime import datetime

import structlog
from flask import Blueprint, Flask, abort, current_app, request

from notifier.status import apply_status, signature_valid

log = structlog.get_logger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.post("/twilio/status")
def twilio_status():
    services = current_app.extensions["lifecycle"]
    # Twilio signs the URL it was given: PUBLIC_URL + path + query. Not request.url, even with PROXY_HOPS set: that is
    # rebuilt from what the proxies forward (host, port, no prefix), and a rewrite there would refuse genuine callbacks.
    url = services.settings.public_url + request.full_path.rstrip("?")
    params = request.form.to_dict(flat=True)
    if not signature_valid(services, url, params, request.headers.get("X-Twilio-Signature", "")):
        log.warning("webhook refused: bad signature", path=request.path)
        abort(403, "The X-Twilio-Signature header does not match this request.")
    outcome = apply_status(services, request.args.get("nid", ""), params,
                           datetime.now(services.settings.zone))
    log.info("provider status", outcome=outcome, status=params.get("MessageStatus"))
    return "", 204


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
