"""The Neo4j driver: built from settings without connecting, its connection failures raised as the domain's
`Unavailable` (in one place, for every repository), one bookmark manager for all its transactions, an optional record
of their access modes, and a bounded liveness probe."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import neo4j
from neo4j.exceptions import (
    ConnectionAcquisitionTimeoutError,
    ConstraintError,
    DriverError,
    ResultFailedError,
    ServiceUnavailable,
    SessionExpired,
)

from graph.transactions import TransactionLog, WatchedSession, mode_of
from profiles.config import Settings
from profiles.errors import Unavailable

# No server, a server lost in the middle of a session, or no free connection in time: Neo4j cannot answer now.
_DOWN = (ServiceUnavailable, SessionExpired, ConnectionAcquisitionTimeoutError)


class Neo4jUnavailable(Unavailable, DriverError):
    """`Unavailable("neo4j")`. Still a DriverError, so graph code that knowingly tolerates any driver failure (the
    API keys' best-effort use stamp) tolerates this one as before."""

    def __init__(self) -> None:
        Unavailable.__init__(self, "neo4j")


@contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except _DOWN as exc:
        raise Neo4jUnavailable() from exc


class Driver:
    """The driver every repository is given: its `execute_query` and `session`, with a server that cannot be reached
    raised as `Unavailable("neo4j")`. The mapping sits outside the driver's own retries, so a transient failure is
    still retried by `execute_query` and `execute_write` before it is reported.

    Sessions share `execute_query`'s bookmark manager: in a cluster a read sent to a secondary then waits until that
    secondary has applied every write this process committed, whichever of the two APIs wrote it (without this, a
    session's write and a later `execute_query` read were not causally chained).

    `transactions`, when set to a `TransactionLog`, receives every transaction that succeeds (tests turn it on);
    while it is None nothing is recorded and nothing is wrapped."""

    def __init__(self, driver: neo4j.Driver):
        self.unguarded = driver
        self.bookmarks = driver.execute_query_bookmark_manager
        self.transactions: TransactionLog | None = None

    def execute_query(self, *args, **kwargs):
        with _reachable():
            result = self.unguarded.execute_query(*args, **kwargs)
        if self.transactions is not None:
            self.transactions.add(mode_of(kwargs.get("routing_")), [result.summary.query_type or "?"],
                                  "execute_query")
        return result

    @contextmanager
    def session(self, **config) -> Iterator[neo4j.Session]:
        config.setdefault("bookmark_manager", self.bookmarks)
        with _reachable(), self.unguarded.session(**config) as session:
            if self.transactions is None:
                yield session
                return
            watched = WatchedSession(session, self.transactions, mode_of(config.get("default_access_mode")))
            yield watched
            watched.flush()

    def close(self) -> None:
        self.unguarded.close()


def build_driver(settings: Settings) -> Driver:
    """Create the driver; the neo4j package connects lazily, so nothing touches the network here."""
    auth = (settings.neo4j_user, settings.neo4j_password) if settings.neo4j_password else None
    return Driver(neo4j.GraphDatabase.driver(
        settings.neo4j_uri,
        auth=auth,
        connection_timeout=5.0,
        connection_acquisition_timeout=10.0,
        max_connection_lifetime=1800,
        liveness_check_timeout=30.0,
        user_agent="lifecycle/1",
        # "property key does not exist" on a young graph is noise, and every such warning quotes the whole query
        notifications_min_severity="OFF",
    ))


def utc(moment: datetime | None) -> datetime | None:
    """Times go to Neo4j in UTC: the driver's conversion of a zoneinfo time can recurse until the process
    crashes (seen as a segmentation fault in neo4j.time's utc_offset), and UTC is what we store anyway."""
    return moment.astimezone(UTC) if moment is not None else None


def ping(driver: Driver, database: str) -> None:
    """Run a trivial query once; raises the driver's own error when the server is down or refuses us (/healthz
    shows it: the reason, not only that Neo4j is unavailable).

    Deliberately not `execute_query`: that retries for up to 30 s, and a probe must report, not wait.
    """
    with driver.unguarded.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        session.run("RETURN 1 AS ok").consume()


@contextmanager
def constraint_errors() -> Iterator[None]:
    """Let a uniqueness violation surface as the ConstraintError it is. Under concurrent creates the driver sometimes
    reports it as the ResultFailedError its rollback raised (the ConstraintError is only the cause), which callers
    that map a duplicate to 409 would otherwise answer with 500."""
    try:
        yield
    except ResultFailedError as exc:
        if isinstance(exc.__cause__, ConstraintError):
            raise exc.__cause__ from None
        raise
