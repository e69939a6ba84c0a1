"""The applicant told of a decision on their application (approved, rejected, returned for correction): a notice per
recipient and channel, MERGEd on its key, then delivered like a reminder (consent, channel order, quiet hours, cap).

Who is told is who a reminder of the matter would reach: the person; a minor's living guardians; an entity's legal
representatives (or the entity's own inbox when it has none). Each decision is named by its place in the
application's history (graph.applications.history), so the same decision told twice makes nothing new and a second
decision after a resubmission is told again.

Nothing lost, nothing twice: `decide` calls `after_decision` once its move is committed. The notices are written to
the graph before their delivery is queued, so a Redis outage leaves them `pending` for the sweeper; if the web
process dies between the decision and its notices, or the graph refuses the second write, `catch_up` (from the
sweeper or the daily scan) finds the decisions no notice tells and tells them. The keys make every path idempotent.
"""

from __future__ import annotations

from datetime import date, timedelta

import structlog

from graph.notices import NoticeRow
from notifier.delivery import enqueue_delivery
from notifier.services import Services
from profiles import rules
from profiles.models import Application, Transition
from profiles.notices import DECISION_KINDS, Contact, Preferences, channels_for, decision_key, new_nid

log = structlog.get_logger(__name__)

CATCH_UP = timedelta(days=7)  # how far back `catch_up` looks for decisions nobody was told of
_NO_PUSH = Preferences(channels=())  # an entity's own inbox: no phone, no e-mail


def after_decision(services: Services, aid: str) -> None:
    """`decide`'s hook, called after the move is committed: tell the applicant now if we can.

    It never raises: the decision stands whatever happens here, and the officer must not be told it failed. What
    could not be done now is done by the sweeper (notices left pending) or by `catch_up` (notices never written)."""
    try:
        tell_applicant(services, aid)
    except Exception:  # any failure at all: the catch-up makes good what this did not do
        log.exception("decision notices postponed to the catch-up", aid=aid)


def tell_applicant(services: Services, aid: str, seq: int | None = None, at: str | None = None) -> list[str]:
    """Create the notices of the decision at place `seq` of the application's history (None: its latest decision)
    and queue their delivery; returns their nids, new or found. Safe to run any number of times."""
    now = services.now(at)
    history = services.applications.history(aid)
    if seq is None:
        seq = max((i for i, t in enumerate(history) if t.after in DECISION_KINDS), default=None)
    if seq is None or not 0 <= seq < len(history) or history[seq].after not in DECISION_KINDS:
        return []
    app = services.applications.get(aid)
    rows = _rows(services, app, seq, history[seq])
    created = services.notices.create(rows, f"decision-{aid}-{seq}", now)
    enqueue_delivery(services, [nid for nid, status, not_before in created  # a deferred one has its own job
                                if status == "pending" and (not_before is None or not_before <= now)], clock=at)
    if rows:
        log.info("applicant told", aid=aid, seq=seq, outcome=history[seq].after, notices=len(created))
    return [nid for nid, _, _ in created]


def catch_up(services: Services, at: str | None = None, window: timedelta = CATCH_UP) -> int:
    """Tell every decision of the last `window` that no notice tells yet; returns how many were told."""
    now = services.now(at)
    untold = services.notices.untold_decisions(list(DECISION_KINDS), now - window)
    told = sum(1 for aid, seq in untold if tell_applicant(services, aid, seq, at))
    if untold:
        log.info("decision catch-up", untold=len(untold), told=told)
    return told


def _rows(services: Services, app: Application, seq: int, decision: Transition) -> list[NoticeRow]:
    decided_on = decision.at.astimezone(services.settings.zone).date()
    recipients = _applicants(services, app, decided_on)
    persons = [r for r in recipients if not _is_entity(app, r)]
    reach = services.preferences.reach(persons)
    rows = []
    for r in recipients:
        label = "Entity" if _is_entity(app, r) else "Person"
        if r in reach:
            phone, email, prefs = reach[r]
            contact = Contact(r, "y" if phone else None, "y" if email else None, prefs)
        else:
            contact = Contact(r, preferences=_NO_PUSH)
        for channel in channels_for(contact, 0):  # the inbox and the person's first reachable push channel
            rows.append(NoticeRow(
                dedupe_key=decision_key(app.aid, seq, decision.after, r, channel), nid=new_nid(),
                kind=DECISION_KINDS[decision.after], channel=channel, recipient_label=label, recipient_id=r,
                subject_label=app.subject_label, subject_id=app.subject_id, service=app.service, due_on=decided_on,
                offset_days=0, draft_key=None, draft_aid=None, aid=app.aid, transition_seq=seq))
    return rows


def _applicants(services: Services, app: Application, on: date) -> tuple[str, ...]:
    """Whom a reminder of this matter would reach (profiles.rules chooses for both, so they cannot disagree)."""
    snapshot = services.snapshots.load(app.subject_label, app.subject_id)
    if snapshot.person is not None and snapshot.person.deceased_on is not None:
        return ()  # a death ends what is sent to the deceased; the next of kin are told by the death's own effect
    return rules.recipients(snapshot, "self", on)


def _is_entity(app: Application, recipient: str) -> bool:
    return app.subject_label == "Entity" and recipient == app.subject_id
