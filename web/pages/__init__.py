"""The pages: citizens' personal page, the enterprise page, the officer console and signing in — server-rendered
Jinja2 in zh-CN and English, CSRF on every form, rate-limited logins, sessions in Redis."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, request
from flask_wtf.csrf import CSRFProtect

from profiles.config import Settings
from profiles.privacy import mask_birth_certificate_number, mask_email, mask_id_number, mask_phone
from web.pages import i18n, sessions
from web.pages.identity import person_number
from web.pages.limits import limiter

csrf = CSRFProtect()
PAGE_BLUEPRINTS = ("login", "citizen", "links", "enterprise", "officer")


def init_app(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="lifecycle_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),  # the cookie's life; the Redis session idles out sooner
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by the page blueprints only: the API uses keys, webhooks signatures
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as the session that holds it
        # The limits share the app's own Redis pool (limits' RedisStorage takes one), so they reach Redis exactly as
        # the sessions do: same Sentinel master, password, TLS and timeouts. The URI only picks that storage class.
        RATELIMIT_STORAGE_URI="redis://",
        RATELIMIT_STORAGE_OPTIONS={"connection_pool": app.extensions["lifecycle"].redis.connection_pool},
        RATELIMIT_HEADERS_ENABLED=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app, settings.tz)
    app.jinja_env.filters.update(mask_id=mask_id_number, mask_phone=mask_phone, mask_email=mask_email,
                                 mask_birth_certificate=mask_birth_certificate_number, person_number=person_number)
    app.jinja_env.globals.update(visitor=sessions.current)

    from web.pages import citizen, enterprise, login, officer, services

    for blueprint in (login.bp, citizen.bp, citizen.links, enterprise.bp, officer.bp, services.bp):
        app.register_blueprint(blueprint)
    app.before_request(_check_csrf)


def _check_csrf() -> None:
    """Every form post to a page carries the session's CSRF token (400 otherwise, before the view runs)."""
    if request.blueprint in PAGE_BLUEPRINTS and request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
