"""Test data factories for the API tests: valid identifiers, API keys per role, and a graph snapshot."""

from __future__ import annotations

from datetime import date

from profiles.identifiers import resident_id_check_digit, uscc_check_digit


def id_number(region: str = "440604", born: date = date(1990, 5, 17), seq: int = 123) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_digit(first17)


def uscc(org: str = "MA4W12345", region: str = "440604") -> str:
    first17 = f"91{region}{org}"
    return first17 + uscc_check_digit(first17)


def keys(app) -> dict[str, dict[str, str]]:
    api_keys = app.extensions["lifecycle"].api_keys
    return {role: {"Authorization": f"Bearer {api_keys.create(f'test-{role}', role)}"}
            for role in ("system", "officer", "admin")}


def snapshot(driver, database: str) -> tuple:
    """Every node's labels and properties and every relationship: equal snapshots mean nothing was written."""
    nodes = driver.execute_query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p", database_=database)[0]
    rels = driver.execute_query("MATCH (a)-[r]->(b) RETURN type(r) AS t, elementId(a) AS a, elementId(b) AS b",
                                database_=database)[0]
    return (sorted(repr((sorted(r["l"]), sorted(r["p"].items()))) for r in nodes),
            sorted(repr(tuple(r.values())) for r in rels))
