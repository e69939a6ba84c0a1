"""Security headers on every answer (flask-talisman): no framing, no MIME sniffing, a Content-Security-Policy that
allows only our own static files, and `Cache-Control: no-store` on everything but those files, since pages and API
answers carry personal data and CSRF tokens that must not stay in a shared computer's cache."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_talisman import Talisman

from profiles.config import Settings

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",  # web/static/*.js only: no inline script, no event-handler attributes
    "style-src": "'self'",  # web/static/site.css only: no inline style attributes
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
talisman = Talisman()


def init_app(app: Flask, settings: Settings) -> None:
    https = settings.public_url.startswith("https://")
    talisman.init_app(
        app,
        # TLS ends at the proxy in front of us; redirecting here would loop. HSTS is sent on https requests.
        force_https=False,
        frame_options="DENY",
        content_security_policy=CSP,
        referrer_policy="same-origin",  # our URLs name records (pids, aids): other sites do not need them
        session_cookie_secure=https,
        session_cookie_http_only=True,
    )
    app.after_request(_no_store)


def _no_store(response: Response) -> Response:
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response
