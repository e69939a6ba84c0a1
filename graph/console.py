"""What the officer console reads that the repositories do not: the application queue by decision date, the
departments' card inbox, the supervisors' dashboard counts and the lists behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import neo4j

from graph.driver import utc
from profiles.privacy import FieldCipher


@dataclass(frozen=True)
class Subject:
    """Whom a queue row or a card concerns: a person's ID number (the page masks it) or an entity's name and code."""

    label: str
    sid: str
    id_number: str | None = None
    name: str | None = None  # entities only: a registered name is public (persons' only in the dashboard's lists)
    uscc: str | None = None


@dataclass(frozen=True)
class NoticeItem:
    """One notice in a dashboard list: to whom (a person, a business or a department), about what, how it went."""

    nid: str
    created_at: datetime
    channel: str
    status: str
    error_code: str | None
    service: str
    recipient: Subject


@dataclass(frozen=True)
class ReuseItem:
    """One reuse: an application that took a material from the record instead of asking for it again."""

    aid: str
    number: str | None
    service: str
    status: str
    submitted_on: date | None
    kind: str
    subject: Subject


@dataclass(frozen=True)
class QueueRow:
    aid: str
    service: str
    submitted_on: date
    time_limit_days: int
    decide_by: date
    subject: Subject


@dataclass(frozen=True)
class CardRow:
    nid: str
    kind: str  # yellow_card | red_card
    department: str
    service: str
    due_on: date
    status: str
    created_at: datetime | None
    read_at: datetime | None
    aid: str | None
    subject: Subject | None


# The subject of an application or notice, with what the page may show of it (persons only by masked ID number).
_SUBJECT = "{label: labels(s)[0], sid: coalesce(s.pid, s.eid), id_enc: s.id_enc, name: s.name, uscc: s.uscc}"
# A notice's recipient or an applicant in the dashboard's lists: a department too (its name), and a person's name.
_RECIPIENT = ("{label: labels(s)[0], sid: coalesce(s.pid, s.eid, s.name), id_enc: s.id_enc, name: s.name, "
              "name_enc: s.name_enc, uscc: s.uscc}")


class Console:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher):
        self.driver, self.database, self.cipher = driver, database, cipher

    def _read(self, query: str, **params) -> list[neo4j.Record]:
        return self.driver.execute_query(query, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]

    def queue(self, services: list[str] | None, limit: int = 200) -> list[QueueRow]:
        """Submitted, undecided applications, soonest decision date first (a seek on the decide_by index);
        `services` limits them to those codes (None: every service)."""
        rows = self._read(
            "MATCH (a:Application) WHERE a.decide_by IS NOT NULL AND a.status = 'submitted' "
            "  AND ($services IS NULL OR a.service IN $services) "
            "WITH a ORDER BY a.decide_by, a.aid LIMIT $limit "
            "MATCH (s)-[:APPLIED]->(a) "
            f"RETURN a {{.aid, .service, .submitted_on, .time_limit_days, .decide_by}} AS a, {_SUBJECT} AS s "
            "ORDER BY a.decide_by, a.aid", services=services, limit=limit)
        return [QueueRow(r["a"]["aid"], r["a"]["service"], _day(r["a"]["submitted_on"]), r["a"]["time_limit_days"],
                         _day(r["a"]["decide_by"]), self._subject(r["s"])) for r in rows]

    def cards(self, departments: list[str] | None, limit: int = 100) -> list[CardRow]:
        """The yellow and red cards in these departments' inboxes (None: every department), newest first."""
        rows = self._read(
            "MATCH (d:Department)<-[:TO]-(n:Notice) WHERE $departments IS NULL OR d.name IN $departments "
            "WITH d, n ORDER BY n.created_at DESC, n.nid LIMIT $limit "
            "OPTIONAL MATCH (n)-[:ABOUT]->(a:Application) "
            "OPTIONAL MATCH (s)-[:APPLIED]->(a) "
            f"RETURN n {{.nid, .kind, .service, .due_on, .status, .created_at, .read_at}} AS n, d.name AS department, "
            f"       a.aid AS aid, CASE WHEN s IS NULL THEN null ELSE {_SUBJECT} END AS s "
            "ORDER BY n.created_at DESC, n.nid", departments=departments, limit=limit)
        return [CardRow(r["n"]["nid"], r["n"]["kind"], r["department"], r["n"]["service"], _day(r["n"]["due_on"]),
                        r["n"]["status"], _day(r["n"]["created_at"]), _day(r["n"]["read_at"]), r["aid"],
                        self._subject(r["s"]) if r["s"] else None) for r in rows]

    def notices_per_day(self, since: datetime, timezone: str) -> list[tuple[date, str, str, int]]:
        """(local day, channel, status, count) of the notices created since `since` (sent in UTC, see
        graph.driver.utc)."""
        rows = self._read(
            "MATCH (n:Notice) WHERE n.created_at >= $since "
            "WITH date(datetime({datetime: n.created_at, timezone: $tz})) AS day, n.channel AS channel, "
            "     n.status AS status "
            "RETURN day, channel, status, count(*) AS n ORDER BY day, channel, status", since=utc(since), tz=timezone)
        return [(_day(r["day"]), r["channel"], r["status"], r["n"]) for r in rows]

    def failures_per_day(self, since: datetime, timezone: str) -> list[tuple[date, str, str | None, int]]:
        """(local day, channel, provider's error code, count) of the notices created since `since` that failed or
        were not delivered."""
        rows = self._read(
            "MATCH (n:Notice) WHERE n.created_at >= $since AND n.status IN ['failed', 'undelivered'] "
            "WITH date(datetime({datetime: n.created_at, timezone: $tz})) AS day, n.channel AS channel, "
            "     n.error_code AS code "
            "RETURN day, channel, code, count(*) AS n ORDER BY day, channel, code", since=utc(since), tz=timezone)
        return [(_day(r["day"]), r["channel"], r["code"], r["n"]) for r in rows]

    def notices_on(self, day: date, since: datetime, until: datetime, timezone: str, *, channel: str | None = None,
                   statuses: list[str] | None = None, code: str | None = None, by_code: bool = False,
                   limit: int = 500) -> list[NoticeItem]:
        """The notices behind one dashboard count: created on the local `day` (between `since` and `until`, sent in
        UTC), optionally of one channel, of these statuses and (by_code) with this error code (None: none given)."""
        rows = self._read(
            "MATCH (n:Notice) WHERE n.created_at >= $since AND n.created_at < $until "
            "  AND date(datetime({datetime: n.created_at, timezone: $tz})) = $day "
            "  AND ($channel IS NULL OR n.channel = $channel) AND ($statuses IS NULL OR n.status IN $statuses) "
            "  AND (NOT $by_code OR coalesce(n.error_code, '') = coalesce($code, '')) "
            "WITH n ORDER BY n.created_at, n.nid LIMIT $limit "
            "MATCH (n)-[:TO]->(s) "
            f"RETURN n {{.nid, .created_at, .channel, .status, .error_code, .service}} AS n, {_RECIPIENT} AS s "
            "ORDER BY n.created_at, n.nid", day=day, since=utc(since), until=utc(until), tz=timezone,
            channel=channel, statuses=statuses, code=code, by_code=by_code, limit=limit)
        return [NoticeItem(r["n"]["nid"], _day(r["n"]["created_at"]), r["n"]["channel"], r["n"]["status"],
                           r["n"]["error_code"], r["n"]["service"], self._subject(r["s"], names=True)) for r in rows]

    def reuses_of(self, kind: str, limit: int = 500) -> list[ReuseItem]:
        """The reuses behind one dashboard count: each application that reused a material of this kind (one row
        per application and material, as reuse_by_kind counts them)."""
        rows = self._read(
            "MATCH (a:Application)-[:REUSES]->(m:Material {kind: $kind}) "
            "WITH a, m ORDER BY a.submitted_on DESC, a.aid, m.mid LIMIT $limit "
            "MATCH (s)-[:APPLIED]->(a) "
            f"RETURN a {{.aid, .number, .service, .status, .submitted_on}} AS a, m.kind AS kind, {_RECIPIENT} AS s "
            "ORDER BY a.submitted_on DESC, a.aid", kind=kind, limit=limit)
        return [ReuseItem(r["a"]["aid"], r["a"]["number"], r["a"]["service"], r["a"]["status"],
                          _day(r["a"]["submitted_on"]), r["kind"], self._subject(r["s"], names=True)) for r in rows]

    def reuse_by_kind(self) -> list[tuple[str, int, int]]:
        """(material kind, times reused by an application, distinct materials reused): documents nobody handed in
        again."""
        rows = self._read("MATCH (:Application)-[:REUSES]->(m:Material) "
                          "RETURN m.kind AS kind, count(*) AS reuses, count(DISTINCT m) AS materials "
                          "ORDER BY reuses DESC, kind")
        return [(r["kind"], r["reuses"], r["materials"]) for r in rows]

    def _subject(self, s: dict, names: bool = False) -> Subject:
        """`names`: a person's name too (the dashboard's lists, opened with a stated purpose and recorded)."""
        id_number = self.cipher.decrypt(s["id_enc"], context="Person.id_number") if s.get("id_enc") else None
        name = s.get("name") if s["label"] != "Person" else None
        if names and s["label"] == "Person" and s.get("name_enc"):
            name = self.cipher.decrypt(s["name_enc"], context="Person.name")
        return Subject(s["label"], s["sid"], id_number, name, s.get("uscc"))


def _day(value):
    return value.to_native() if value is not None and hasattr(value, "to_native") else value
