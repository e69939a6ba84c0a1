"""Migrations on the real Neo4j: applied once, a no-op the second time, recorded, and used by range scans."""

import pytest

from graph.schema import MIGRATIONS, Migration, MigrationError, applied_versions, migrate


def _schema(driver, db):
    constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name", database_=db)
    indexes, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, type, state WHERE type <> 'LOOKUP' RETURN name, type, state ORDER BY name",
        database_=db)
    return [r["name"] for r in constraints], [tuple(r.values()) for r in indexes]


def _drop_everything(driver, db):
    for name in _schema(driver, db)[0]:
        driver.execute_query(f"DROP CONSTRAINT {name}", database_=db)
    for name, _type, _state in _schema(driver, db)[1]:
        driver.execute_query(f"DROP INDEX {name} IF EXISTS", database_=db)
    driver.execute_query("MATCH (m:SchemaMigration) DELETE m", database_=db)


def test_migrate_twice_is_a_no_op(driver, settings):
    db = settings.neo4j_database
    _drop_everything(driver, db)
    assert _schema(driver, db) == ([], [])

    assert migrate(driver, db) == [m.version for m in MIGRATIONS]
    first = _schema(driver, db)
    ledger = driver.execute_query("MATCH (m:SchemaMigration) RETURN m.version AS v, m.applied_at AS at "
                                  "ORDER BY v", database_=db)[0]

    assert migrate(driver, db) == []
    assert _schema(driver, db) == first
    again = driver.execute_query("MATCH (m:SchemaMigration) RETURN m.version AS v, m.applied_at AS at "
                                 "ORDER BY v", database_=db)[0]
    assert [tuple(r.values()) for r in again] == [tuple(r.values()) for r in ledger]

    constraint_names, indexes = first
    assert "person_id_hash" in constraint_names and "notice_dedupe_key" in constraint_names
    assert ("material_expires_on", "RANGE", "ONLINE") in indexes
    assert applied_versions(driver, db) == {m.version: m.checksum for m in MIGRATIONS}


def test_uniqueness_is_enforced(driver, settings):
    db = settings.neo4j_database
    driver.execute_query("CREATE (:Person {pid: 'p1', id_hash: 'h1'})", database_=db)
    with pytest.raises(Exception, match="already exists"):
        driver.execute_query("CREATE (:Person {pid: 'p2', id_hash: 'h1'})", database_=db)


def test_a_date_range_scan_seeks_the_index(driver, settings):
    plan = driver.execute_query(
        "EXPLAIN MATCH (m:Material) WHERE m.expires_on >= $start AND m.expires_on < $end RETURN m.mid",
        start=__import__("datetime").date(2026, 1, 1), end=__import__("datetime").date(2026, 2, 1),
        database_=settings.neo4j_database,
    )[1].plan
    operators = []

    def walk(node):
        operators.append(node["operatorType"])
        for child in node.get("children", []):
            walk(child)

    walk(plan)
    assert any(op.startswith("NodeIndexSeekByRange") for op in operators), operators
    assert not any(op.startswith("NodeByLabelScan") for op in operators), operators


def test_a_changed_applied_migration_is_refused(driver, settings):
    db = settings.neo4j_database
    migrate(driver, db)
    edited = (Migration(1, MIGRATIONS[0].name, (*MIGRATIONS[0].statements, "CREATE INDEX x IF NOT EXISTS "
                                                "FOR (n:Person) ON (n.region)")),)
    with pytest.raises(MigrationError, match=r"migration 1 .* differs .* add a new numbered one"):
        migrate(driver, db, edited)


def test_a_new_migration_is_applied_on_top(driver, settings):
    db = settings.neo4j_database
    migrate(driver, db)
    extra = Migration(len(MIGRATIONS) + 1, "test-only index", (
        "CREATE RANGE INDEX test_only_person_region IF NOT EXISTS FOR (n:Person) ON (n.region)",))
    try:
        assert migrate(driver, db, (*MIGRATIONS, extra)) == [extra.version]
        assert migrate(driver, db, (*MIGRATIONS, extra)) == []
    finally:
        driver.execute_query("DROP INDEX test_only_person_region IF EXISTS", database_=db)
        driver.execute_query("MATCH (m:SchemaMigration {version: $v}) DELETE m", v=extra.version, database_=db)


def test_cli_migrate_reports_up_to_date(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["graph", "migrate"])
    assert first.exit_code == 0, first.output
    assert f"schema up to date (version {MIGRATIONS[-1].version})" in first.output
    status = runner.invoke(args=["graph", "status"])
    assert status.exit_code == 0 and "applied" in status.output and "pending" not in status.output


def test_access_record_seq_is_unique_per_chain_and_a_chains_walk_seeks_the_index(driver, settings):
    db = settings.neo4j_database
    migrate(driver, db)
    constraints = _schema(driver, db)[0]
    assert "access_record_chain_seq" in constraints and "access_record_seq" not in constraints
    driver.execute_query("CREATE (:AccessRecord {rid: 'a1', chain: 'a', seq: 1}), "
                         "(:AccessRecord {rid: 'b1', chain: 'b', seq: 1})", database_=db)  # one seq, two chains
    with pytest.raises(Exception, match="already exists"):
        driver.execute_query("CREATE (:AccessRecord {rid: 'a1-again', chain: 'a', seq: 1})", database_=db)
    with pytest.raises(Exception, match="already exists"):
        driver.execute_query("CREATE (:AuditHead {chain: 'a'}), (:AuditHead {chain: 'a'})", database_=db)

    from graph.audit_rows import CHAIN_PAGE

    plan = driver.execute_query("EXPLAIN " + CHAIN_PAGE, chain="a", after=0, upto=None, page=10, database_=db)[1].plan
    operators = []

    def walk(node):
        operators.append(node["operatorType"])
        for child in node.get("children", []):
            walk(child)

    walk(plan)
    assert any(op.startswith("NodeUniqueIndexSeek") for op in operators), operators
    assert not any(op.startswith("NodeByLabelScan") for op in operators), operators
