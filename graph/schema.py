"""Graph schema: numbered migrations (constraints and range indexes from DESIGN §3), applied once and recorded.

Each applied migration leaves a `(:SchemaMigration {version, name, checksum, applied_at})` node. A migration is never
edited after it has shipped: a change is a new, higher-numbered entry, and `migrate` refuses to run when the code's
text of an applied migration no longer matches its recorded checksum.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import neo4j


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]

    @property
    def checksum(self) -> str:
        return hashlib.sha256("\n".join(self.statements).encode()).hexdigest()[:16]


class MigrationError(RuntimeError):
    """The recorded schema and the code disagree; the message names the migration."""


def _unique(name: str, label: str, props: str) -> str:
    if "," not in props:
        return f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{props} IS UNIQUE"
    on = ", ".join(f"n.{p.strip()}" for p in props.split(","))
    return f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE ({on}) IS UNIQUE"


def _range(name: str, label: str, props: str) -> str:
    on = ", ".join(f"n.{p.strip()}" for p in props.split(","))
    return f"CREATE RANGE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON ({on})"


# The ledger itself needs its constraint before any migration is recorded, so it is not a numbered migration.
_LEDGER = _unique("schema_migration_version", "SchemaMigration", "version")

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "lookup keys and scan dates", (
        _unique("person_pid", "Person", "pid"),
        _unique("person_id_hash", "Person", "id_hash"),
        _unique("entity_eid", "Entity", "eid"),
        _unique("entity_uscc", "Entity", "uscc"),
        _unique("material_mid", "Material", "mid"),
        _unique("life_event_evid", "LifeEvent", "evid"),
        _unique("application_aid", "Application", "aid"),
        _unique("notice_nid", "Notice", "nid"),
        _unique("notice_dedupe_key", "Notice", "dedupe_key"),
        _unique("access_record_rid", "AccessRecord", "rid"),
        _range("material_expires_on", "Material", "expires_on"),
        _range("person_birth_date", "Person", "birth_date"),
        _range("application_decide_by", "Application", "decide_by"),
        _range("notice_due_on", "Notice", "due_on"),
        _range("life_event_occurred_on", "LifeEvent", "occurred_on"),
        _range("access_record_at", "AccessRecord", "at"),
    )),
    Migration(2, "api keys, the access-log chain head, event and record lookups", (
        _unique("api_key_kid", "ApiKey", "kid"),
        _unique("audit_head_name", "AuditHead", "name"),
        _unique("access_record_seq", "AccessRecord", "seq"),
        _range("access_record_subject", "AccessRecord", "subject_id"),
        _range("material_kind", "Material", "kind"),
    )),
    Migration(3, "notification pipeline: scans, drafts, provider ids, stale-notice sweeps, departments", (
        _unique("scan_scan_id", "Scan", "scan_id"),
        _unique("application_draft_key", "Application", "draft_key"),
        _unique("department_name", "Department", "name"),
        _range("notice_provider_id", "Notice", "provider_id"),
        _range("notice_status_updated", "Notice", "status, updated_at"),
        _range("notice_scan_id", "Notice", "scan_id"),
    )),
    Migration(4, "pages: officer accounts and refused attempts to reach a record", (
        _unique("officer_username", "Officer", "username"),
        _range("refusal_at", "Refusal", "at"),
    )),
    Migration(5, "one matter, one application: numbers, their daily counters, the moves by time", (
        _unique("application_number", "Application", "number"),
        _unique("application_counter_day", "ApplicationCounter", "day"),
        _range("transition_at", "Transition", "at"),  # the decision catch-up seeks the recent moves
    )),
    Migration(6, "newborns before household registration: the birth certificate number's blind index", (
        _unique("person_bc_hash", "Person", "bc_hash"),
    )),
    # A chain per subject: seq is unique within a chain, no longer in the whole log. Heads that moved since the last
    # anchor are found by their mark; an anchor's entries by anchor, a chain's last entry by chain.
    Migration(7, "the access log: a chain per subject, its head, anchors", (
        "DROP CONSTRAINT access_record_seq IF EXISTS",
        _unique("access_record_chain_seq", "AccessRecord", "chain, seq"),
        _unique("audit_head_chain", "AuditHead", "chain"),
        _range("audit_head_unanchored", "AuditHead", "unanchored"),
        _unique("audit_anchor_seq", "AuditAnchor", "seq"),
        _unique("anchor_entry_anchor_chain", "AnchorEntry", "anchor, chain"),
        _range("anchor_entry_anchor", "AnchorEntry", "anchor"),
        _range("anchor_entry_chain", "AnchorEntry", "chain"),
        _unique("anchor_head_name", "AnchorHead", "name"),
    )),
)


def applied_versions(driver: neo4j.Driver, database: str) -> dict[int, str]:
    """Version -> checksum of every migration recorded in the graph."""
    records, _, _ = driver.execute_query(
        "MATCH (m:SchemaMigration) RETURN m.version AS version, m.checksum AS checksum",
        database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return {r["version"]: r["checksum"] for r in records}


def migrate(driver: neo4j.Driver, database: str, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply every migration not yet recorded, in order; return the versions applied (empty when up to date)."""
    _check_numbering(migrations)
    driver.execute_query(_LEDGER, database_=database)
    done = applied_versions(driver, database)
    for m in migrations:
        if m.version in done and done[m.version] != m.checksum:
            raise MigrationError(
                f"migration {m.version} ({m.name}) differs from the one applied to this graph; "
                "never edit an applied migration, add a new numbered one instead"
            )
    applied = []
    for m in migrations:
        if m.version in done:
            continue
        for statement in m.statements:  # schema commands cannot share a transaction with writes
            driver.execute_query(statement, database_=database)
        driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
        driver.execute_query(
            "MERGE (m:SchemaMigration {version: $version}) "
            "ON CREATE SET m.name = $name, m.checksum = $checksum, m.applied_at = datetime()",
            version=m.version, name=m.name, checksum=m.checksum, database_=database,
        )
        applied.append(m.version)
    return applied


def _check_numbering(migrations: tuple[Migration, ...]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migrations must be numbered 1, 2, 3, ... without gaps; found {versions}")
