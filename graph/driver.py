"""The Neo4j driver: built from settings without connecting, and a bounded liveness probe."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import neo4j
from neo4j.exceptions import ConstraintError, ResultFailedError

from profiles.config import Settings


def build_driver(settings: Settings) -> neo4j.Driver:
    """Create the driver; the neo4j package connects lazily, so nothing touches the network here."""
    auth = (settings.neo4j_user, settings.neo4j_password) if settings.neo4j_password else None
    return neo4j.GraphDatabase.driver(
        settings.neo4j_uri,
        auth=auth,
        connection_timeout=5.0,
        connection_acquisition_timeout=10.0,
        max_connection_lifetime=1800,
        liveness_check_timeout=30.0,
        user_agent="lifecycle/1",
        # "property key does not exist" on a young graph is noise, and every such warning quotes the whole query
        notifications_min_severity="OFF",
    )


def utc(moment: datetime | None) -> datetime | None:
    """Times go to Neo4j in UTC: the driver's conversion of a zoneinfo time can recurse until the process
    crashes (seen as a segmentation fault in neo4j.time's utc_offset), and UTC is what we store anyway."""
    return moment.astimezone(UTC) if moment is not None else None


def ping(driver: neo4j.Driver, database: str) -> None:
    """Run a trivial query once; raises the driver's error when the server is down or refuses us.

    Deliberately not `execute_query`: that retries for up to 30 s, and a probe must report, not wait.
    """
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        session.run("RETURN 1 AS ok").consume()


Driver = neo4j.Driver  # so callers can name the type without importing neo4j themselves


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
