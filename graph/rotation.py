"""Key rotation at rest: re-encrypt every encrypted property still under an older key, a batch per transaction.

Each batch commits on its own and only rewrites a value that has not changed since it was read, so an interrupted
rotation simply resumes: the next run finds what is still under an old key.
"""

from __future__ import annotations

from collections.abc import Callable

import neo4j

from profiles.privacy import FieldCipher

# label -> (key property, {stored property: encryption context}); keys and properties come from this table only.
ENCRYPTED = {
    "Person": ("pid", {"id_enc": "Person.id_number", "name_enc": "Person.name", "phone_enc": "Person.phone",
                       "email_enc": "Person.email", "bc_enc": "Person.birth_certificate_number"}),
    "Material": ("mid", {"number_enc": "Material.number", "fields_enc": "Material.fields"}),
    "LifeEvent": ("evid", {"details_enc": "LifeEvent.details"}),
    "Application": ("aid", {"fields_enc": "Application.fields", "note_enc": "Application.note"}),
}


def count_pending(driver: neo4j.Driver, database: str, cipher: FieldCipher) -> int:
    total = 0
    for label, (_key, props) in ENCRYPTED.items():
        total += driver.execute_query(
            f"MATCH (n:{label}) WHERE {_stale(props)} RETURN count(n) AS c",
            prefix=_prefix(cipher), database_=database, routing_=neo4j.RoutingControl.READ,
        )[0][0]["c"]
    return total


def rotate(driver: neo4j.Driver, database: str, cipher: FieldCipher, batch: int = 500,
           progress: Callable[[int], None] = lambda n: None) -> int:
    """Re-encrypt everything under the active key; returns how many nodes were rewritten."""
    done = 0
    for label, (key, props) in ENCRYPTED.items():
        projection = ", ".join("." + p for p in props)
        while True:
            # a read transaction, chained to the previous batch's write by the driver's bookmarks: a cluster's
            # secondary answers it once it has applied that batch, so it never hands the same rows back
            rows = driver.execute_query(
                f"MATCH (n:{label}) WHERE {_stale(props)} "
                f"RETURN n.{key} AS id, n {{{projection}}} AS values LIMIT $batch",
                prefix=_prefix(cipher), batch=batch, database_=database, routing_=neo4j.RoutingControl.READ,
            )[0]
            if not rows:
                break
            updates = []
            for row in rows:
                old = {p: v for p, v in row["values"].items() if v is not None}
                new = {p: cipher.rotate(v, context=props[p]) for p, v in old.items()}
                updates.append({"id": row["id"], "old": old, "new": new})
            sets = ", ".join(f"n.{p} = coalesce(u.new.{p}, n.{p})" for p in props)
            guard = " AND ".join(f"(n.{p} = u.old.{p} OR (n.{p} IS NULL AND u.old.{p} IS NULL))" for p in props)
            driver.execute_query(
                f"UNWIND $updates AS u MATCH (n:{label} {{{key}: u.id}}) WHERE {guard} SET {sets}",
                updates=updates, database_=database,
            )
            done += len(rows)
            progress(len(rows))
    return done


def _prefix(cipher: FieldCipher) -> str:
    return f"enc1:{cipher.active}:"


def _stale(props: dict[str, str]) -> str:
    return " OR ".join(f"(n.{p} IS NOT NULL AND NOT n.{p} STARTS WITH $prefix)" for p in props)
