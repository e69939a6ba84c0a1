"""The REST API v1 (API.md): smorest blueprints, API-key auth, one error shape, OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

from flask import Flask, jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from profiles.errors import Conflict, NotFound, Rejected, Unavailable
from profiles.identifiers import InvalidIdentifier
from web.errors import error_body, error_page, extra_headers, is_page, unavailable


class LifecycleApi(Api):
    """flask-smorest's Api with the contract's error body: field errors flat, never nested under a location."""

    def handle_http_exception(self, error: HTTPException):
        code = error.code or 500
        if is_page():  # smorest's handler is the app's; a browser's request gets the page
            return error_page(code, error)
        data = getattr(error, "data", None) or {}
        errors = _flatten(data.get("messages", {}))
        message = data.get("message") or _message(code, errors, error.description)
        headers = extra_headers(error) + list((data.get("headers") or {}).items())  # Allow on a 405, for one
        return jsonify(error_body(code, message, errors)), code, headers


def _flatten(messages: dict) -> dict[str, list[str]]:
    """webargs reports {"json": {"name": [...]}} or {"query": {...}}; the contract wants {"name": [...]}."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_body", []).extend(value)
        else:
            flat.setdefault(prefix or "_body", []).append(str(value))

    for location, fields in messages.items():
        walk("" if location in ("json", "query", "headers", "form", "view_args") else location, fields)
    return flat


def _message(code: int, errors: dict, description: str | None) -> str:
    if code == 422 and errors:
        first = next(iter(errors))
        return f"{first}: {errors[first][0]}"
    if code == 400 and "_body" in errors:
        return errors["_body"][0]
    return description or "Request failed."


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Lifecycle service API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = LifecycleApi(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"apiKey": []}]

    from web.api import applications, auth, catalog, holdings, notices, subjects

    api.register_blueprint(subjects.blp)
    api.register_blueprint(holdings.blp)
    api.register_blueprint(catalog.blp)
    api.register_blueprint(applications.blp)
    api.register_blueprint(notices.blp)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        field = exc.field or "id"
        return jsonify(error_body(404, f"No {exc.what} with that id.", {field: [str(exc)]})), 404

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        return jsonify(error_body(409, f"{exc.field}: {exc.reason}", {exc.field: [exc.reason]})), 409

    @app.errorhandler(Rejected)
    def _rejected(exc: Rejected):
        return jsonify(error_body(422, f"{exc.field}: {exc.reason}", {exc.field: [exc.reason]})), 422

    @app.errorhandler(Unavailable)  # graph/ raises it for Neo4j; web.errors answers Redis's own error the same way
    def _backing_service_down(exc: Unavailable):
        return unavailable(exc.which)

    app.after_request(auth.unrecorded_reads)
    app.extensions["lifecycle.api"] = api
    _ = InvalidIdentifier  # mapped where parsed: the field name is known there
