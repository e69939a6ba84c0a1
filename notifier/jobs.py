"""Jobs the worker runs. Each takes ids or plain values, reloads what it needs, and is safe to run twice."""

from __future__ import annotations

from graph.driver import ping
from notifier.services import current


def probe() -> dict[str, str]:
    """Prove the worker's wiring end to end: it reached Redis to get this job, and reaches Neo4j now."""
    services = current()
    ping(services.driver, services.settings.neo4j_database)
    return {"neo4j": "ok", "redis": "ok"}
