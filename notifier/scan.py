"""The daily scan fanned out: one job per key partition finds what is owed today, MERGEs its notices and drafts, and
enqueues their delivery in batches; one more job raises the officers' yellow and red cards. The 06:00 job around it
(`daily_scan`: a sweep first, the scan, then the dashboard's due counts) lives here too.

Jobs take ids and plain values and reload (a retried or duplicated job finds the notices it already made: they are
MERGEd on their dedupe key). A scan run is recorded in the graph (`graph.scans`), so its progress survives Redis.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, timedelta

import structlog
from rq import Callback, Queue, Retry

from graph.notices import NoticeRow
from graph.scan import partition, scan_due
from notifier import due_counts, outcomes
from notifier.delivery import enqueue_delivery
from notifier.services import Services, current
from notifier.sweep import sweep
from profiles.applications import card
from profiles.catalog import model
from profiles.notices import Contact, Preferences, card_key, channels_for, dedupe_key, owed_offset
from profiles.rules import DueItem

log = structlog.get_logger(__name__)

CREATE_BATCH = 500  # notices MERGEd per transaction
JOB_RETRY = Retry(max=3, interval=[10, 60, 300])  # Neo4j restarting, a deadlock: the job is safe to run again
YEARLY_CATCH_UP = 7  # days after a yearly reminder date on which the daily scan still makes it (see scan_due)
CARD_HORIZON = timedelta(days=30)  # applications whose decision date is this close are checked for a yellow card
_NO_PUSH = Preferences(channels=())  # an entity's own inbox, a department: no phone, no e-mail


def start_scan(services: Services, as_of: date, scan_id: str | None = None, at: str | None = None) -> str:
    """Record a scan run and enqueue its jobs; an existing `scan_id` (the daily run's) is not started twice."""
    scan_id = scan_id or uuid.uuid4().hex
    parts = services.settings.scan_partitions
    if not services.scans.create(scan_id, as_of, parts + 1, services.now(at)):
        log.info("scan already recorded", scan_id=scan_id)
        return scan_id
    queue: Queue = services.queues["scan"]
    failed = Callback(_scan_failed)
    jobs = [Queue.prepare_data(scan_partition, args=(scan_id, k, at), job_id=f"scan-{scan_id}-{k}",
                               retry=JOB_RETRY, on_failure=failed, description=f"scan {scan_id} part {k}")
            for k in range(parts)]
    jobs.append(Queue.prepare_data(scan_cards, args=(scan_id, at), job_id=f"scan-{scan_id}-cards",
                                   retry=JOB_RETRY, on_failure=failed, description=f"scan {scan_id} cards"))
    queue.enqueue_many(jobs)
    log.info("scan enqueued", scan_id=scan_id, as_of=as_of.isoformat(), partitions=parts)
    return scan_id


def daily_scan(at: str | None = None) -> str:
    """The 06:00 job: a sweep, today's scan (its id is the date, so a second scheduler cannot start it twice), and the
    dashboard's count of due items.

    It stays in this module, by name: the scheduler enqueues it as `notifier.scan.daily_scan`, and RQ keeps that path
    in Redis, so a job waiting across an upgrade must still find it here. Sweep and due counts import nothing of this
    module, which keeps the dependency one-way."""
    services = current()
    today = services.now(at).date()
    sweep(at)
    outcomes.catch_up(services, at)  # a week of decisions no notice tells yet (the sweeper looks an hour back)
    scan_id = start_scan(services, today, scan_id=f"daily-{today.isoformat()}", at=at)
    due_counts.ask(services, today)  # the supervisors' dashboard figure, after the reminders
    return scan_id


def scan_partition(scan_id: str, k: int, at: str | None = None) -> int:
    services = current()
    now = services.now(at)
    scan = services.scans.get(scan_id)
    services.scans.started(scan_id, now)
    catalog = services.catalog
    items = scan_due(services.driver, services.settings.neo4j_database, catalog, scan.as_of, catalog.max_offset(),
                     part=partition(k, services.settings.scan_partitions), catch_up=YEARLY_CATCH_UP)
    owed = [(i, off) for i in items if (off := owed_offset(i.due_on, i.notify_on, scan.as_of)) is not None]
    for start in range(0, len(owed), CREATE_BATCH):
        _create_and_enqueue(services, owed[start:start + CREATE_BATCH], scan_id, now, at)
    services.scans.partition_done(scan_id, k, len(owed), services.now(at))
    log.info("scan partition done", scan_id=scan_id, part=k, owed=len(owed))
    return len(owed)


def scan_cards(scan_id: str, at: str | None = None) -> int:
    """Yellow card at 80 % of an application's statutory limit, red once it has passed: an inbox notice to the
    department handling the service, once per application and card."""
    services = current()
    now = services.now(at)
    scan = services.scans.get(scan_id)
    services.scans.started(scan_id, now)
    rows = []
    for app in services.applications.open_near_limit(scan.as_of + CARD_HORIZON):
        colour = card(app.submitted_on, app.time_limit_days, scan.as_of)
        service = services.catalog.services.get(app.service)
        if colour == "none" or service is None:
            continue
        rows.append(NoticeRow(
            dedupe_key=card_key(app.aid, colour), nid=new_nid(), kind=f"{colour}_card", channel="inbox",
            recipient_label="Department", recipient_id=service.department.zh, subject_label=app.subject_label,
            subject_id=app.subject_id, service=app.service, due_on=app.decide_by, offset_days=0, draft_key=None,
            draft_aid=None, aid=app.aid))
    services.notices.ensure_departments(r.recipient_id for r in rows)
    created = services.notices.create(rows, scan_id, now)
    enqueue_delivery(services, [nid for nid, status, _ in created if status == "pending"], clock=at)
    services.scans.partition_done(scan_id, services.settings.scan_partitions, len(rows), services.now(at))
    return len(rows)


def _create_and_enqueue(services: Services, owed: list[tuple[DueItem, int]], scan_id: str, now: datetime,
                        at: str | None) -> None:
    catalog = services.catalog
    persons = [r for item, _ in owed for r in item.recipients if _recipient_label(item, r, catalog) == "Person"]
    reach = services.preferences.reach(persons)
    earlier = {}  # (item, recipient) -> inbox dedupe keys of the item's earlier offsets
    for item, off in owed:
        for r in item.recipients:
            earlier[(item, r)] = [dedupe_key(r, item.subject_id, item.service, item.due_on, o, "inbox")
                                  for o in offsets(item) if o > off]
    unread = services.notices.unread([k for keys in earlier.values() for k in keys])
    rows = []
    for item, off in owed:
        service = catalog.services[item.service]
        draft = _draft_key(item)
        draft_aid = str(uuid.UUID(draft[:32]))  # derived from the key: every row of the item names the same draft
        for r in item.recipients:
            label = _recipient_label(item, r, catalog)
            if label == "Person" and r in reach:
                phone, email, prefs = reach[r]
                contact = Contact(r, "y" if phone else None, "y" if email else None, prefs)
            else:
                contact = Contact(r, preferences=_NO_PUSH)
            missed = sum(1 for k in earlier[(item, r)] if k in unread)
            for channel in channels_for(contact, missed):
                rows.append(NoticeRow(
                    dedupe_key=dedupe_key(r, item.subject_id, item.service, item.due_on, off, channel),
                    nid=new_nid(), kind="reminder", channel=channel, recipient_label=label, recipient_id=r,
                    subject_label="Person" if service.audience == "person" else "Entity",
                    subject_id=item.subject_id, service=item.service, due_on=item.due_on, offset_days=off,
                    draft_key=draft, draft_aid=draft_aid, time_limit_days=service.time_limit_days))
    created = services.notices.create(rows, scan_id, now)
    enqueue_delivery(services, [nid for nid, status, not_before in created
                                if status == "pending" and (not_before is None or not_before <= now)], clock=at)


def offsets(item: DueItem) -> list[int]:
    return [(item.due_on - d).days for d in item.notify_on]


def new_nid() -> str:
    """Short (it goes into every SMS link) and unguessable: 72 random bits."""
    return uuid.uuid4().hex[:18]


def _draft_key(item: DueItem) -> str:
    raw = "\x1f".join(("draft1", item.subject_id, item.service, item.due_on.isoformat()))
    return hashlib.sha256(raw.encode()).hexdigest()


def _recipient_label(item: DueItem, recipient: str, catalog: model.Catalog) -> str:
    entity = catalog.services[item.service].audience == "entity"
    return "Entity" if entity and recipient == item.subject_id else "Person"


def _scan_failed(job, connection, exc_type, exc, tb) -> None:
    """RQ's on_failure runs on every failure: only the last one (no retry left) marks the run failed; the job stays
    in the FailedJobRegistry, to be re-queued with `flask --app wsgi jobs requeue`."""
    if job.should_retry:
        return
    services = current()
    scan_id = job.args[0]
    services.scans.failed(scan_id, f"{job.description}: {exc_type.__name__}: {exc}", services.now())

