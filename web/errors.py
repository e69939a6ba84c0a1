"""One error shape for every failure: {"code", "status", "message", "errors"} as API.md's conventions fix it."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, abort, jsonify, request
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError as RedisReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError


def error_body(code: int, message: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "status": HTTPStatus(code).phrase, "message": message, "errors": errors or {}}


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_oversized_bodies():
        # Declared sizes are refused before routing, so even a wrong method or path gets 413, not 405/404;
        # bodies without a declared length are cut off by MAX_CONTENT_LENGTH when read.
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            abort(413, f"The request body is larger than {limit // 1024} KiB.")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        if is_page():
            return error_page(code, exc)
        return jsonify(error_body(code, exc.description or HTTPStatus(code).phrase)), code, extra_headers(exc)

    # Redis is not mapped to the domain's Unavailable where it is used: RQ and the sessions share its client, RQ's
    # retries expect redis's own errors, and flask-limiter raises them too. So the web layer maps them, here. During
    # a Sentinel failover a request meets one of these for a few seconds: the old master refuses (ConnectionError),
    # no sentinel names a master yet (MasterNotFoundError, a ConnectionError), a reply never comes (TimeoutError),
    # or a node still taken for the master was demoted (ReadOnlyError, when REDIS_URL names a node directly).
    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    @app.errorhandler(RedisReadOnlyError)
    def _redis_down(_exc: Exception):
        return unavailable("redis")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # logged by Flask; the client learns nothing about internals
        app.logger.exception("unhandled error")
        if is_page():
            return error_page(500, InternalServerError())
        return jsonify(error_body(500, InternalServerError.description)), 500


def unavailable(which: str):
    """503 for a backing service that cannot be reached ("neo4j" or "redis"), named in the errors."""
    return jsonify(error_body(503, f"{which} is unavailable; nothing was changed. Try again shortly.",
                              {which: ["unavailable"]})), 503


def extra_headers(exc: HTTPException) -> list[tuple[str, str]]:
    """The headers an HTTP error carries besides its body's type: `Allow` on a 405, `Retry-After` on a 429 or 503,
    `WWW-Authenticate` on a 401."""
    return [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]


MACHINE_PATHS = ("/api/", "/webhooks/", "/healthz", "/metrics", "/static/")


def is_page() -> bool:
    """A request a person makes in a browser (HTML errors) rather than a program (the JSON error body): not under
    the API's paths, and not asking for JSON."""
    if request.path.startswith(MACHINE_PATHS):
        return False
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) != "application/json"


def _session_ended():
    """A form on a signed-in page posted without its session (the cookie with the CSRF token is gone, or Redis
    forgot the session): not a bare 400, but "your session ended", sign in, and back to the form's page. The sign-in
    forms themselves keep the 400 page: there is no session to have ended there."""
    from web.pages import sessions
    from web.pages.guards import kind_of_path, session_ended

    if request.blueprint == "login" or request.method != "POST" or sessions.current() is not None:
        return None
    return session_ended(kind_of_path(request.path))


def error_page(code: int, exc: HTTPException):
    """The error as a page in the visitor's language; a 429 says in plain words how long to wait (from the limit's
    reset; Retry-After says the same to programs) and leads back to the sign-in page it came from."""
    from flask import render_template

    from web.pages.limits import plain_wait, wait_seconds

    if isinstance(exc, CSRFError):  # here, not in a handler of its own: flask-smorest's handler answers errors too
        ended = _session_ended()
        if ended is not None:
            return ended
    headers = extra_headers(exc)
    wait, back = None, None
    if code == 429:
        seconds = wait_seconds()
        wait = plain_wait(seconds) if seconds else None
        if request.blueprint == "login":  # every limited route is a sign-in page, or the code page's resend
            back = "/login/code" if request.endpoint == "login.resend" else request.full_path.rstrip("?")
    return render_template("error.html", code=code, wait=wait, back=back), code, headers
