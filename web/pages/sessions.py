"""Who is signed in to the pages: a server-side session in Redis, named by a random id in Flask's signed cookie.

The cookie carries only that id (plus the language and the CSRF token), so signing out, an idle time-out or an
operator can end a session for real; a new id is issued at every sign-in, so a session id planted before sign-in
is worthless after it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from flask import current_app, g, session

from profiles.models import Actor
from profiles.privacy import DecryptionError

KINDS = ("citizen", "business", "officer")
_PREFIX = "pages:session:"
_OFFICER_SESSIONS = "pages:officer-sessions:"  # + user name: the ids of that officer's sessions, to end them all
_CONTEXT = "pages.session"


@dataclass
class Visitor:
    sid: str
    kind: str  # citizen | business | officer
    name: str  # shown in the page header
    pid: str | None = None  # the citizen, or the legal representative who signed in for a business
    eid: str | None = None  # the business
    username: str | None = None  # the officer
    role: str | None = None  # officer | supervisor | admin
    data: dict = field(default_factory=dict)  # per-session state, e.g. an officer's stated purposes

    @property
    def actor(self) -> Actor:
        """As the access log and the refusals record name this visitor."""
        if self.kind == "officer":
            return Actor(name=self.data.get("actor", self.name), role=self.role or "officer")
        if self.kind == "business":
            return Actor(name=f"business {self.eid} (by {self.pid})", role="business")
        return Actor(name=f"citizen {self.pid}", role="citizen")


def _redis():
    return current_app.extensions["lifecycle"].redis


def _cipher():
    return current_app.extensions["lifecycle"].cipher


def _idle() -> int:
    return current_app.extensions["lifecycle"].settings.session_idle_s


def start(kind: str, name: str, **ids: str | None) -> Visitor:
    """Sign in: a fresh session id, everything else in the cookie dropped but the language. A session this browser
    already had (someone else signed in before, at a shared counter) ends on the server, not only in the cookie."""
    assert kind in KINDS
    _end_on_server()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    visitor = Visitor(sid=secrets.token_urlsafe(32), kind=kind, name=name, **ids)
    save(visitor)
    if kind == "officer" and visitor.username:
        _remember_officer_session(visitor.username, visitor.sid)
    session["sid"] = visitor.sid
    session.permanent = True
    g.visitor = visitor
    return visitor


def save(visitor: Visitor) -> None:
    """Encrypted like personal data in the graph: the record holds a name (and an officer's stated purposes), and
    Redis keeps it in memory and in its append-only file on disk."""
    record = {"kind": visitor.kind, "name": visitor.name, "pid": visitor.pid, "eid": visitor.eid,
              "username": visitor.username, "role": visitor.role, "data": visitor.data}
    sealed = _cipher().encrypt(json.dumps(record, ensure_ascii=False), context=_CONTEXT)
    _redis().set(_PREFIX + visitor.sid, sealed, ex=_idle())


def current() -> Visitor | None:
    """The signed-in visitor of this request (the idle clock restarts), or None."""
    if "visitor" in g:
        return g.visitor
    visitor = None
    sid = session.get("sid")
    if isinstance(sid, str):
        raw = _redis().get(_PREFIX + sid)
        try:
            record = json.loads(_cipher().decrypt(raw.decode(), context=_CONTEXT)) if raw is not None else None
        except DecryptionError:  # written before an upgrade, or under a key since retired: signed out
            record = None
        if record is not None and record["kind"] == "officer" and not _redis().sismember(
                _OFFICER_SESSIONS + (record["username"] or ""), sid):
            _redis().delete(_PREFIX + sid)  # ended by an admin (or opened before sessions were indexed): signed out
            record = None
        if record is not None:
            visitor = Visitor(sid=sid, **record)
            _redis().expire(_PREFIX + sid, _idle())
    g.visitor = visitor
    return visitor


def seconds_left() -> int:
    """How long this browser's session has left before it idles out (0 when there is none), without restarting
    the clock: the warning before the end asks this, and asking must not keep a session alive."""
    sid = session.get("sid")
    if not isinstance(sid, str):
        return 0
    return max(0, int(_redis().ttl(_PREFIX + sid)))


def idle_seconds() -> int:
    return _idle()


def end() -> None:
    _end_on_server()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    g.visitor = None


def _end_on_server() -> None:
    sid = session.get("sid")
    if isinstance(sid, str):
        visitor = g.get("visitor")
        if visitor is not None and visitor.kind == "officer" and visitor.username:
            _redis().srem(_OFFICER_SESSIONS + visitor.username, sid)
        _redis().delete(_PREFIX + sid)


def end_officer_sessions(username: str, keep: str | None = None) -> int:
    """Every open session of this officer ends (the account disabled, the password reset), except `keep` (the
    admin's own, resetting their own password). Returns how many ended."""
    r = _redis()
    ended = 0
    for member in r.smembers(_OFFICER_SESSIONS + username):
        sid = member.decode() if isinstance(member, bytes) else member
        if sid != keep:
            ended += r.delete(_PREFIX + sid)
            r.srem(_OFFICER_SESSIONS + username, member)
    return ended


def _remember_officer_session(username: str, sid: str) -> None:
    """Add the session to the officer's set, dropping ids whose sessions have idled out (the set stays small)."""
    r = _redis()
    key = _OFFICER_SESSIONS + username
    gone = [m for m in r.smembers(key) if not r.exists(_PREFIX + (m.decode() if isinstance(m, bytes) else m))]
    if gone:
        r.srem(key, *gone)
    r.sadd(key, sid)
