"""API-key authentication, role checks and the stated purpose of a read, done before any body is parsed.

Views declare who may call them with `@roles(...)` and whether they read one subject with `@reads_subject`; a
blueprint's `before_request` enforces both, so a caller without a key gets 401 even for a malformed body.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, g, request

from profiles.models import Actor

MAX_PURPOSE = 200


def roles(*allowed: str) -> Callable:
    def mark(view: Callable) -> Callable:
        view._roles = allowed  # type: ignore[attr-defined]
        return view
    return mark


def reads_subject(view: Callable) -> Callable:
    view._reads_subject = True  # type: ignore[attr-defined]
    return view


def _view_method() -> Callable | None:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return getattr(view_class, request.method.lower(), None)
    return view


def enforce() -> None:
    """Before every API request: 401 without a valid key, 403 for a role not allowed, 400 without a purpose."""
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
    if getattr(method, "_reads_subject", False):
        purpose = header_text(request.headers.get("X-Purpose", "")).strip()
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


def _bad_purpose(reason: str) -> None:
    from flask_smorest import abort as api_abort

    api_abort(400, message=f"X-Purpose: {reason}.", messages={"headers": {"X-Purpose": [reason]}})


def actor() -> Actor:
    return g.actor


def record_read(label: str, subject_id: str, what: str) -> None:
    """Write the access record for a read that is about to be answered (no record, no answer)."""
    current_app.extensions["lifecycle"].access_log.record(g.actor, label, subject_id, g.purpose, what)
