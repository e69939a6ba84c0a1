"""Scan runs in the graph: one `Scan` node per run, its partitions counted off as their jobs finish.

Progress lives in Neo4j, not Redis, so it survives a Redis flush; the notice counts are read from the notices the
run created (`Notice.scan_id`), not kept as counters that a retried job could double.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import neo4j
from neo4j.exceptions import ConstraintError

from graph.driver import constraint_errors, utc
from profiles.errors import NotFound


@dataclass(frozen=True)
class Scan:
    scan_id: str
    as_of: date
    state: str  # queued / running / done / failed
    partitions: int
    partitions_done: int
    due_found: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = None


class Scans:
    def __init__(self, driver: neo4j.Driver, database: str):
        self.driver, self.database = driver, database

    def create(self, scan_id: str, as_of: date, partitions: int, now: datetime) -> bool:
        """Record a new run; False when `scan_id` exists already (the daily scan's id is its date: once a day)."""
        try:
            with constraint_errors():
                self.driver.execute_query(
                    "CREATE (:Scan {scan_id: $id, as_of: $as_of, state: 'queued', partitions: $p, "
                    "partitions_done: 0, done_parts: [], due_found: 0, created_at: $now})",
                    id=scan_id, as_of=as_of, p=partitions, now=utc(now), database_=self.database)
        except ConstraintError:
            return False
        return True

    def started(self, scan_id: str, now: datetime) -> None:
        self.driver.execute_query(
            "MATCH (s:Scan {scan_id: $id}) WHERE s.state = 'queued' SET s.state = 'running', s.started_at = $now",
            id=scan_id, now=utc(now), database_=self.database)

    def partition_done(self, scan_id: str, part: int, due_found: int, now: datetime) -> None:
        """Count a partition once, however often its job runs (a retried job does not count twice)."""
        self.driver.execute_query(
            "MATCH (s:Scan {scan_id: $id}) WHERE NOT $part IN s.done_parts "
            "SET s.done_parts = s.done_parts + $part, s.partitions_done = s.partitions_done + 1, "
            "    s.due_found = s.due_found + $found "
            "WITH s WHERE s.partitions_done >= s.partitions AND s.state <> 'failed' "
            "SET s.state = 'done', s.finished_at = $now",
            id=scan_id, part=part, found=due_found, now=utc(now), database_=self.database)

    def failed(self, scan_id: str, error: str, now: datetime) -> None:
        self.driver.execute_query(
            "MATCH (s:Scan {scan_id: $id}) SET s.state = 'failed', s.error = $error, s.finished_at = $now",
            id=scan_id, error=error[:500], now=utc(now), database_=self.database)

    def get(self, scan_id: str) -> Scan:
        records = self.driver.execute_query("MATCH (s:Scan {scan_id: $id}) RETURN s", id=scan_id,
                                            database_=self.database, routing_=neo4j.RoutingControl.READ)[0]
        if not records:
            raise NotFound("scan", scan_id)
        s = records[0]["s"]
        return Scan(scan_id=s["scan_id"], as_of=s["as_of"].to_native(), state=s["state"], partitions=s["partitions"],
                    partitions_done=s["partitions_done"], due_found=s["due_found"],
                    created_at=s["created_at"].to_native(), started_at=_native(s.get("started_at")),
                    finished_at=_native(s.get("finished_at")), error=s.get("error"))


def _native(value):
    return value.to_native() if value is not None else None
