"""The enterprise page's blueprint and its guards: which business is signed in (while its representative still
represents it), and a reminder or an application of that business, else the attempt recorded and answered 404."""

from __future__ import annotations

from flask import Blueprint

from graph.enterprise import BUSINESS_NOTICE_KINDS
from profiles.errors import NotFound
from profiles.models import Application
from profiles.notices import Notice
from web.pages.guards import refuse, services, visitor

bp = Blueprint("enterprise", __name__, url_prefix="/biz")

def business_id() -> str:
    """The signed-in business, while the person who signed in is still its legal representative: a session
    outlives a change in the register only until the next page."""
    v = visitor()
    if not v.eid or not v.pid or not services().portal.represents(v.pid, v.eid):
        refuse(403, f"person {v.pid} no longer represents business {v.eid}")
    return v.eid  # type: ignore[return-value]


def own_notice(eid: str, nid: str) -> Notice:
    """A reminder or a decision about this business, else the attempt is recorded and 404."""
    notice = services().notices.get(nid)
    if notice is None or notice.subject_id != eid or notice.kind not in BUSINESS_NOTICE_KINDS:
        refuse(404, f"notice {nid} is not about business {eid}")
    return notice  # type: ignore[return-value]


def own_application(eid: str, aid: str) -> Application:
    """One of this business's applications, else the attempt is recorded and 404."""
    try:
        app = services().applications.get(aid)
    except NotFound:
        app = None
    if app is None or app.subject_label != "Entity" or app.subject_id != eid:
        refuse(404, f"application {aid} is not business {eid}'s")
    return app  # type: ignore[return-value]
