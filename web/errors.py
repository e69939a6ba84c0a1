"""One error shape for every failure: {"code", "status", "message", "errors"} as API.md's conventions fix it."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, abort, jsonify, request
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


def error_page(code: int, exc: HTTPException):
    """The error as a page in the visitor's language; a 429 says when to try again."""
    from flask import render_template

    headers = extra_headers(exc)
    retry = next((v for k, v in headers if k == "Retry-After"), None)
    return render_template("error.html", code=code, retry_after=retry), code, headers
