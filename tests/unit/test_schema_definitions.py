"""The migration list itself (no database): numbering, and that DESIGN §3's keys and scan dates are all covered."""

import re

import pytest

from graph.schema import MIGRATIONS, Migration, MigrationError, _check_numbering

ALL = [s for m in MIGRATIONS for s in m.statements]


def test_migrations_are_numbered_without_gaps():
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    with pytest.raises(MigrationError, match="without gaps"):
        _check_numbering((Migration(1, "a", ("RETURN 1",)), Migration(3, "c", ("RETURN 1",))))


@pytest.mark.parametrize(("label", "prop"), [
    ("Person", "pid"), ("Person", "id_hash"), ("Entity", "eid"), ("Entity", "uscc"), ("Material", "mid"),
    ("LifeEvent", "evid"), ("Application", "aid"), ("Notice", "nid"), ("Notice", "dedupe_key"),
    ("AccessRecord", "rid"),
])
def test_every_lookup_key_is_unique(label, prop):
    pattern = rf"CREATE CONSTRAINT \w+ IF NOT EXISTS FOR \(n:{label}\) REQUIRE n\.{prop} IS UNIQUE"
    assert any(re.fullmatch(pattern, s) for s in ALL)


@pytest.mark.parametrize(("label", "prop"), [
    ("Material", "expires_on"), ("Person", "birth_date"), ("Application", "decide_by"), ("Notice", "due_on"),
])
def test_every_scanned_date_has_a_range_index(label, prop):
    pattern = rf"CREATE RANGE INDEX \w+ IF NOT EXISTS FOR \(n:{label}\) ON \(n\.{prop}\)"
    assert any(re.fullmatch(pattern, s) for s in ALL)


def test_every_statement_is_idempotent_ddl():
    created = [s for s in ALL if s.startswith("CREATE ")]
    dropped = [s for s in ALL if s.startswith("DROP ")]
    assert len(created) + len(dropped) == len(ALL)
    assert all(" IF NOT EXISTS " in s for s in created) and all(s.endswith(" IF EXISTS") for s in dropped)
    names = [s.split()[2] if s.startswith("CREATE CONSTRAINT") else s.split()[3] for s in created]
    assert len(names) == len(set(names)), "schema object names must be unique"


def test_a_dropped_object_was_created_by_an_earlier_migration():
    for m in MIGRATIONS:
        earlier = {s.split()[2] for e in MIGRATIONS if e.version < m.version for s in e.statements
                   if s.startswith("CREATE CONSTRAINT")}
        for s in m.statements:
            if s.startswith("DROP CONSTRAINT"):
                assert s.split()[2] in earlier, s


@pytest.mark.parametrize(("label", "props"), [
    ("AccessRecord", r"\(n\.chain, n\.seq\)"), ("AuditHead", r"n\.chain"), ("AuditAnchor", r"n\.seq"),
    ("AnchorEntry", r"\(n\.anchor, n\.chain\)"), ("AnchorHead", r"n\.name"),
])
def test_the_access_logs_chains_and_anchors_have_their_keys(label, props):
    pattern = rf"CREATE CONSTRAINT \w+ IF NOT EXISTS FOR \(n:{label}\) REQUIRE {props} IS UNIQUE"
    assert any(re.fullmatch(pattern, s) for s in ALL)


def test_seq_is_unique_per_chain_not_in_the_whole_log():
    assert "DROP CONSTRAINT access_record_seq IF EXISTS" in MIGRATIONS[6].statements
    assert MIGRATIONS[6].version == 7


def test_checksum_follows_the_text():
    a = Migration(1, "a", ("CREATE INDEX x IF NOT EXISTS FOR (n:A) ON (n.b)",))
    b = Migration(1, "a", ("CREATE INDEX x IF NOT EXISTS FOR (n:A) ON (n.c)",))
    assert a.checksum == Migration(1, "renamed", a.statements).checksum
    assert a.checksum != b.checksum
