"""web: the only package that imports flask — the app factory, REST API, pages, webhooks, health and metrics."""

from __future__ import annotations

import secrets

import structlog
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from notifier.logs import configure_logging
from notifier.services import build
from profiles.config import Settings, load

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 256 * 1024  # larger bodies get 413 before any handler reads them


def create_app(config: Settings | None = None) -> Flask:
    """Build the app and its clients. Nothing connects here: the first request (or CLI command) does."""
    settings = config if config is not None else load()
    if config is None:
        configure_logging(settings)
    app = Flask(__name__)
    secret = settings.secret_key
    if not secret:  # production refuses this in Settings; elsewhere sessions just do not survive a restart
        secret = secrets.token_urlsafe(32)
        log.warning("no SECRET_KEY set: using a random one for this process")
    app.config.update(SECRET_KEY=secret, MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.extensions["lifecycle"] = build(settings)

    from web import api, cli, errors, health, metrics, pages, security, webhooks

    errors.init_app(app)
    api.init_app(app)
    pages.init_app(app, settings)
    security.init_app(app, settings)
    metrics.init_app(app)
    health.init_app(app)
    webhooks.init_app(app)
    cli.init_app(app)
    if settings.proxy_hops:
        # Each trusted proxy appends one X-Forwarded-For entry and sets the other headers, so the client's own
        # entries come first and are skipped: only the last `hops` values are believed, and none at 0 (no proxy).
        # No X-Forwarded-Prefix: webhook signatures and links come from PUBLIC_URL, which names any prefix itself.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=0)
    return app
