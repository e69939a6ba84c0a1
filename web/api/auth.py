"""API-key authentication, role checks and the stated purpose of a read, done before any body is parsed.

Views declare who may call them with `@roles(...)`, and either that they read a subject (`@reads_subject`: a purpose
is required and the read is recorded) or that they answer no personal data (`@no_personal_data(reason)`); a
blueprint's `before_request` enforces both, so a caller without a key gets 401 even for a malformed body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import structlog
from flask import Response, abort, current_app, g, jsonify, make_response, request

from profiles.models import Actor
from profiles.text import RefusedText, clean_text
from web.errors import error_body
from web.usecases.reads import read_subject
from web.usecases.subjects import SubjectRef

log = structlog.get_logger(__name__)
MAX_PURPOSE = 200


def roles(*allowed: str) -> Callable:
    def mark(view: Callable) -> Callable:
        view._roles = allowed  # type: ignore[attr-defined]
        return view
    return mark


def reads_subject(view: Callable) -> Callable:
    """The answer carries a subject's personal data: the caller states a purpose (X-Purpose), and the view records
    the read before answering — a 2xx answer without a record is turned into a 500 (see `unrecorded_reads`)."""
    view._reads_subject = True  # type: ignore[attr-defined]
    return view


def no_personal_data(reason: str) -> Callable:
    """The answer carries no subject's personal data beyond what the caller itself just sent (the echo of a write,
    the catalog, a scan's counts): no purpose, no record. Every API view is marked one way or the other; a test
    goes over the URL map so a new view cannot slip through unmarked."""
    def mark(view: Callable) -> Callable:
        view._no_personal_data = reason  # type: ignore[attr-defined]
        return view
    return mark


def _view_method() -> Callable | None:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return getattr(view_class, request.method.lower(), None)
    return view


def enforce() -> None:
    """Before every API request: 401 without a valid key, 403 for a role not allowed, 400 without a purpose, 422
    for a purpose with an invisible or control character."""
    method = _view_method()
    if method is None:
        return  # unknown route or method: Flask answers 404/405 itself
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, "An API key is required: send Authorization: Bearer <key>.")
    actor = current_app.extensions["lifecycle"].api_keys.authenticate(token.strip())
    if actor is None:
        abort(401, "That API key is not valid.")
    allowed = getattr(method, "_roles", ())
    if actor.role not in allowed and actor.role != "admin":
        abort(403, f"The {actor.role} role may not do this.")
    g.actor = actor
    g.reads_subject, g.recorded = getattr(method, "_reads_subject", False), False
    if g.reads_subject:
        try:
            # checked before stripping: strip() would quietly drop a trailing U+2028 or \x1f instead of refusing it
            purpose = clean_text(header_text(request.headers.get("X-Purpose", ""))).strip()
        except RefusedText as exc:
            _bad_purpose(exc.reason, status=422)
        if not purpose:
            _bad_purpose("state why you are reading this record in the X-Purpose header")
        if len(purpose) > MAX_PURPOSE:
            _bad_purpose(f"at most {MAX_PURPOSE} characters")
        g.purpose = purpose


def header_text(raw: str) -> str:
    """HTTP headers reach WSGI decoded as Latin-1; a purpose typed in Chinese was sent as UTF-8, so undo that.

    A value that is not valid UTF-8 once re-encoded really was Latin-1 and is kept as it came.
    """
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _bad_purpose(reason: str, status: int = 400) -> NoReturn:
    """400 for a missing or overlong purpose (API.md), 422 for one that holds a refused character."""
    from flask_smorest import abort as api_abort

    api_abort(status, message=f"X-Purpose: {reason}.", messages={"headers": {"X-Purpose": [reason]}})
    raise AssertionError("unreachable")


def actor() -> Actor:
    return g.actor


def record_read(label: str, subject_id: str, what: str) -> None:
    """Write the access record for a read that is about to be answered (no record, no answer)."""
    read_subject(current_app.extensions["lifecycle"], g.actor, SubjectRef(label, subject_id), g.purpose, what)
    g.recorded = True


def unrecorded_reads(response: Response) -> Response:
    """After every API request: a view that reads a subject and answers 2xx must have written its access record.
    A view that forgot is a bug, and its data does not leave unrecorded."""
    if g.get("reads_subject") and 200 <= response.status_code < 300 and not g.get("recorded"):
        log.error("read_not_recorded", endpoint=request.endpoint)
        return make_response(jsonify(error_body(500, "The read could not be recorded; nothing is shown.")), 500)
    return response
