"""Delivery of a batch of notices, and its queueing: reload, drop what is no longer owed, respect consent, quiet
hours and the daily cap, render, send, record; retry what may succeed later, fail what cannot (the inbox always has it).

The job takes notice ids and reloads them, so running it twice, or two of them on the same ids, is harmless: only a
`pending` notice is looked at, and only the delivery that moves it to `sending` (graph.notices.claim) sends it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

import structlog
from rq import Queue, Retry

from notifier.delivery_reads import record_or_queue
from notifier.email import EmailError
from notifier.sending import send_all
from notifier.services import Services, current
from notifier.templates import Reminder, Rendered, render
from notifier.throttle import Throttled
from profiles.catalog import model
from profiles.errors import NotFound
from profiles.models import Application, Transition
from profiles.notices import DECISION_KINDS, Contact, Notice, backoff, next_day_start, quiet_until
from profiles.prefill import prefill
from profiles.rules import Snapshot, due_items

log = structlog.get_logger(__name__)

_DECISIONS = frozenset(DECISION_KINDS.values())
JOB_RETRY = Retry(max=3, interval=[10, 60, 300])  # Neo4j restarting, a deadlock: the batch reloads, so it may run again


def deliver(nids: list[str], at: str | None = None) -> dict[str, int]:
    services = current()
    now = services.now(at)
    batch = Batch(services, now)
    batch.run([n for n in services.notices.load(nids) if n.status == "pending"])
    log.info("delivery batch", **batch.counts)
    return batch.counts


def enqueue_delivery(services: Services, nids: list[str], when: datetime | None = None,
                     clock: str | None = None) -> int:
    """Delivery in batches of `delivery_batch` notice ids: one job per batch, never one per notice.

    `when`: not before then (quiet hours, the daily cap, a retry's back-off). `clock`: the caller's fixed clock,
    handed on to jobs that run now (a scan replayed for a date in tests); scheduled jobs run on the real clock."""
    size = services.settings.delivery_batch
    batches = [nids[i:i + size] for i in range(0, len(nids), size)]
    if not batches:
        return 0
    queue: Queue = services.queues["deliver"]
    if when is None:
        queue.enqueue_many([Queue.prepare_data(deliver, args=(batch, clock), retry=JOB_RETRY) for batch in batches])
    else:
        if when.microsecond:  # RQ schedules by the whole second, rounding down: the job would run before `when`
            when = when.replace(microsecond=0) + timedelta(seconds=1)
        for batch in batches:
            queue.enqueue_at(when, deliver, batch, retry=JOB_RETRY)
    return len(batches)


def link(services: Services, nid: str) -> str:
    return f"{services.settings.public_url}/n/{nid}"


def inbox_text(services: Services, n: Notice, language: str = "zh-CN") -> Rendered:
    """What a notice says in the inbox (title and body), for the pages: delivery moves an inbox notice to
    `delivered` without rendering it, and a decision's note is kept encrypted with the application, not here."""
    return render("inbox", language, Batch(services, services.now())._reminder(n))


class Batch:
    """One delivery job's work; `moves` collects the status changes written at the end of each step."""

    def __init__(self, services: Services, now: datetime):
        self.services, self.now, self.today = services, now, now.date()
        self.settings = services.settings
        self.counts: dict[str, int] = defaultdict(int)
        self._snapshots: dict[tuple[str, str], Snapshot | None] = {}
        self._decisions: dict[tuple[str, int], tuple[Application, Transition] | None] = {}

    def run(self, notices: list[Notice]) -> None:
        ready = [n for n in notices if n.not_before is None or n.not_before <= self.now]
        waiting = defaultdict(list)  # this job ran early (or is a duplicate): come back when they are due
        for n in notices:
            if n.not_before is not None and n.not_before > self.now:
                waiting[n.not_before].append(n.nid)
        for when, nids in waiting.items():
            enqueue_delivery(self.services, nids, when=when)
            self.counts["waiting"] += len(nids)
        ended = self.services.notices.ended_parties([n.nid for n in ready])
        if ended:  # a death since the notice was made: nothing goes to or about the deceased (graph.effects)
            for reason in set(ended.values()):
                moved = self.services.notices.cancel([nid for nid, why in ended.items() if why == reason], reason,
                                                     self.now)
                self.counts["cancelled"] += len(moved)
            ready = [n for n in ready if n.nid not in ended]
        self._preload(ready)
        owed, moves = [], []
        for n in ready:
            reason = self._no_longer_owed(n)
            if reason:
                moves.append({"nid": n.nid, "from": ["pending"], "to": "skipped", "detail": reason})
            elif n.channel == "inbox":
                moves.append({"nid": n.nid, "from": ["pending"], "to": "delivered", "detail": "inbox", "sent": True})
            else:
                owed.append(n)
        self._move(moves)
        self._push(owed)

    # --- what is still owed ----------------------------------------------------------------------------------------
    def _no_longer_owed(self, n: Notice) -> str | None:
        if n.kind in _DECISIONS:  # news of a decision stays owed whatever the application does next
            if n.service not in self.services.catalog.services:
                return "service withdrawn from the catalog"
            return None if self._decision(n) is not None else "decision not found"
        if n.kind != "reminder":  # a card: still owed while the application waits for its decision
            app = self.services.applications.get(n.aid) if n.aid else None
            return None if app is not None and app.status == "submitted" else "decided"
        snapshot = self._snapshot("Person" if self._is_person(n) else "Entity", n.subject_id)
        if snapshot is None:
            return "subject gone"
        service = self.services.catalog.services.get(n.service)
        if service is None:
            return "service withdrawn from the catalog"
        one = model.Catalog(self.services.catalog.materials, {service.code: service}, self.services.catalog.events)
        items = due_items(snapshot, one, self.today, self.services.catalog.max_offset())
        if not any(i.due_on == n.due_on for i in items):
            return "no longer due"
        return None

    def _is_person(self, n: Notice) -> bool:
        service = self.services.catalog.services.get(n.service)
        return service is None or service.audience == "person"

    def _preload(self, notices: list[Notice]) -> None:
        """Every snapshot the batch will look at, in one read per label (subjects, and guardians who get a
        minor's reminder, whose own materials may fill it)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for n in notices:
            if n.kind == "reminder":
                wanted["Person" if self._is_person(n) else "Entity"].add(n.subject_id)
                if n.recipient_id != n.subject_id and self._is_person(n):
                    wanted["Person"].add(n.recipient_id)
        for label, ids in wanted.items():
            found = self.services.snapshots.load_many(label, list(ids))
            self._snapshots.update({(label, sid): found.get(sid) for sid in ids})

    def _decision(self, n: Notice) -> tuple[Application, Transition] | None:
        """The application and the decision a decision notice tells (its note is what to correct, or why)."""
        key = (n.aid or "", n.transition_seq if n.transition_seq is not None else -1)
        if key not in self._decisions:
            try:
                app, history = self.services.applications.get(key[0]), self.services.applications.history(key[0])
            except NotFound:
                app, history = None, []
            found = app is not None and 0 <= key[1] < len(history) and history[key[1]].after in DECISION_KINDS
            self._decisions[key] = (app, history[key[1]]) if found else None
        return self._decisions[key]

    def _snapshot(self, label: str, sid: str) -> Snapshot | None:
        if (label, sid) not in self._snapshots:
            try:
                self._snapshots[(label, sid)] = self.services.snapshots.load(label, sid)
            except LookupError:
                self._snapshots[(label, sid)] = None
        return self._snapshots[(label, sid)]

    # --- push channels ---------------------------------------------------------------------------------------------
    def _push(self, notices: list[Notice]) -> None:
        if not notices:
            return
        contacts = self.services.preferences.contacts([n.recipient_id for n in notices])
        moves, deferred, wanted = [], defaultdict(list), []
        for n in notices:
            contact = contacts.get(n.recipient_id)
            why = _unreachable(contact, n.channel)
            if why:
                moves.append({"nid": n.nid, "from": ["pending"], "to": "skipped", "detail": why})
                continue
            quiet = contact.preferences.quiet_hours or self.settings.quiet_hours
            until = quiet_until(self.now, quiet)
            if until is not None:
                deferred[(until, "quiet hours")].append(n.nid)
            else:
                wanted.append(n)
        self._move(moves)
        claimed, over = self.services.notices.claim([(n.nid, n.recipient_id) for n in wanted], self.today,
                                                    self.settings.daily_cap, self.now)
        for nid in over:
            rid = next(n.recipient_id for n in wanted if n.nid == nid)
            quiet = contacts[rid].preferences.quiet_hours or self.settings.quiet_hours
            deferred[(next_day_start(self.now, quiet), "daily cap")].append(nid)
        for (until, why), nids in deferred.items():
            self.services.notices.defer(nids, until, why, self.now)
            enqueue_delivery(self.services, nids, when=until)
            self.counts["deferred"] += len(nids)
        mine = set(claimed)
        self._send([replace(n, attempts=n.attempts + 1) for n in wanted if n.nid in mine], contacts)

    def _send(self, notices: list[Notice], contacts: dict[str, Contact]) -> None:
        if not notices:
            return
        results = send_all(self.services, notices, contacts, self._reminder)
        moves, retries = [], defaultdict(list)
        for n in notices:
            ok, value, error = results[n.nid]
            if ok:
                moves.append({"nid": n.nid, "from": ["sending"], "to": "sent", "provider_id": value, "sent": True})
                self.counts[f"sent_{n.channel}"] += 1
            elif isinstance(error, Throttled):  # never reached the provider: not a failed attempt
                when = self.now + timedelta(seconds=max(error.retry_after, 1.0))
                moves.append({"nid": n.nid, "from": ["sending"], "to": "pending", "not_before": when,
                              "detail": f"throttled: {error}"})
                retries[when].append(n.nid)
                self.counts["throttled"] += 1
            elif getattr(error, "permanent", False) or (isinstance(error, EmailError) and not error.retryable):
                code = str(error.code)
                moves.append({"nid": n.nid, "from": ["sending"], "to": "failed", "error_code": code,
                              "detail": f"{code}; the inbox has it"})
                if n.channel == "sms" and error.code == 21610:
                    self.services.preferences.opt_out_sms(n.recipient_id, "21610 from the carrier", self.now)
                self.counts["failed"] += 1
            elif n.attempts >= self.settings.retry_max:
                code = f"retries_exhausted:{getattr(error, 'code', None)}"
                moves.append({"nid": n.nid, "from": ["sending"], "to": "failed", "error_code": code,
                              "detail": "the inbox has it"})
                self.counts["failed"] += 1
            else:
                when = self.now + timedelta(seconds=backoff(n.attempts, self.settings.retry_base_s))
                moves.append({"nid": n.nid, "from": ["sending"], "to": "pending", "not_before": when,
                              "detail": f"retry {n.attempts}: {getattr(error, 'code', None) or type(error).__name__}"})
                retries[when].append(n.nid)
                self.counts["retry"] += 1
        self._move(moves)
        record_or_queue(self.services, [n for n in notices if not isinstance(results[n.nid][2], Throttled)], JOB_RETRY)
        for when, nids in retries.items():
            enqueue_delivery(self.services, nids, when=when)

    def _reminder(self, n: Notice) -> Reminder:
        service = self.services.catalog.services[n.service]
        common = {"service_zh": service.name.zh, "service_en": service.name.en, "due_on": n.due_on,
                  "link": link(self.services, n.nid), "sender": self.settings.sms_sender}
        if n.kind in _DECISIONS:
            found = self._decision(n)
            if found is None:  # delivery skipped it already (_no_longer_owed); a page asked for a lost one
                raise NotFound("application", n.aid or "")
            app, decision = found
            told = self._snapshot(app.subject_label, app.subject_id) if n.recipient_id != n.subject_id else None
            return Reminder(kind=n.kind, days_left=0, bring=(), reference=app.number, note=decision.note,
                            for_name=_for_name(told), **common)
        if n.kind != "reminder":
            return Reminder(kind=n.kind, days_left=(n.due_on - self.today).days, bring=(), reference=n.aid, **common)
        subject = self._snapshot("Person" if self._is_person(n) else "Entity", n.subject_id)
        related = {}
        if n.recipient_id != n.subject_id and subject is not None and subject.person is not None:
            related["parent"] = self._snapshot("Person", n.recipient_id)
        form = prefill(subject, self.services.catalog, [n.service], self.today,
                       {k: v for k, v in related.items() if v is not None})
        bring = tuple((m.name_zh, m.name_en) for m in form.materials if m.state != "reusable")
        sad = any(isinstance(t, model.AfterKinEventTrigger) for t in service.triggers)  # after a relative's death
        return Reminder(kind="bereavement" if sad else "reminder", days_left=(n.due_on - self.today).days, bring=bring,
                        for_name=_for_name(subject) if n.recipient_id != n.subject_id else None,
                        nature=service.nature, guide=f"{self.settings.public_url}/services/{n.service}", **common)

    def _move(self, moves: list[dict]) -> None:
        moved = self.services.notices.move(moves, self.now)
        for m in moves:
            if m["nid"] in moved and m["to"] in ("skipped", "delivered"):
                self.counts[m["to"]] += 1


def _unreachable(contact: Contact | None, channel: str) -> str | None:
    if contact is None:
        return "no such person"
    if channel not in contact.preferences.channels:
        return f"no consent for {channel}"
    if channel == "sms" and contact.preferences.sms_opted_out:
        return "opted out of SMS"
    if not contact.reachable(channel):
        return f"no {'phone number' if channel == 'sms' else 'e-mail address'}"
    return None


def _for_name(snapshot: Snapshot | None) -> str | None:
    """Who the matter concerns, shortly: a child's given name (the SMS goes to a guardian), an entity's name."""
    if snapshot is None:
        return None
    if snapshot.entity is not None:
        return snapshot.entity.name
    name = snapshot.person.name if snapshot.person else ""
    return name[1:] if len(name) >= 2 else name or None
