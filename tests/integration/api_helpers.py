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
    """Every node's labels and properties and every relationship: equal snapshots mean nothing was written.

    But an API key's `last_used_at`: a refused request still used the key, and that is what an admin looking for a
    leaked key needs to see (graph/apikeys.py stamps it at most once a minute)."""
    nodes = driver.execute_query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p", database_=database)[0]
    rels = driver.execute_query("MATCH (a)-[r]->(b) RETURN type(r) AS t, elementId(a) AS a, elementId(b) AS b",
                                database_=database)[0]
    return (sorted(repr((sorted(r["l"]), sorted((k, v) for k, v in r["p"].items()
                                                if not ("ApiKey" in r["l"] and k == "last_used_at"))))
                   for r in nodes),
            sorted(repr(tuple(r.values())) for r in rels))


def redis_contents(connection) -> list[tuple[bytes, bytes]]:
    """Every key and its whole value read by type (not DUMP: that compresses long strings, hiding plain text)."""
    found = []
    for key in connection.scan_iter("*"):
        kind = connection.type(key).decode()
        if kind == "string":
            values = [connection.get(key) or b""]
        elif kind == "hash":
            values = [b for pair in connection.hgetall(key).items() for b in pair]
        elif kind == "list":
            values = connection.lrange(key, 0, -1)
        elif kind == "set":
            values = list(connection.smembers(key))
        elif kind == "zset":
            values = [member for member, _score in connection.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            values = [b for _id, entry in connection.xrange(key) for pair in entry.items() for b in pair]
        else:
            values = []
        found.append((key, b"\x00".join(values)))
    return found
