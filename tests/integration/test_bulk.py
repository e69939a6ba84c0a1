"""Bulk import and the demo seed on the real Neo4j: good rows land, bad rows are reported by line and reason, a second
import adds nothing, materials supersede by issue date, and seeded personal data is stored only encrypted."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from graph import bulk
from profiles.demo import generate
from profiles.identifiers import resident_id_check_digit, uscc_check_digit
from profiles.models import Material, Person
from web.cli_data import seed_demo


def rid(born: str, seq: int, region: str = "440604") -> str:
    first17 = f"{region}{born}{seq:03d}"
    return first17 + resident_id_check_digit(first17)


def uscc(org: str, region: str = "440604") -> str:
    first17 = f"91{region}{org}"
    return first17 + uscc_check_digit(first17)


def bad_check(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def rejects_of(path: Path) -> list[tuple[int, str, str]]:
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["line", "field", "reason"]
    return [(int(line), field, reason) for line, field, reason in rows[1:]]


def invoke(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def count(driver, settings, query: str) -> int:
    return driver.execute_query(query, database_=settings.neo4j_database)[0][0][0]


def services_of(app):
    return app.extensions["lifecycle"]


A, B, C, D = rid("19900517", 123), rid("19851102", 456), rid("20150301", 21), rid("19880808", 32)
EXISTING = rid("19700101", 11)
INJECTION = "x'}) MATCH (n) DETACH DELETE n //"


def persons_file(tmp_path: Path) -> Path:
    return write(tmp_path / "persons.csv", [
        ["id_number", "name", "phone", "email"],
        [A, "张三", "13812345678", "zhang@example.org"],  # 2
        [bad_check(B), "李四", "", ""],  # 3: check digit
        [rid("19900230", 5), "王五", "", ""],  # 4: 30 February (check digit made right for it)
        [EXISTING, "赵六", "", ""],  # 5: already on file
        [A.lower(), "张三", "", ""],  # 6: same number as line 2
        [B, "钱七", "12345", ""],  # 7: not a phone number
        [C, INJECTION, "", ""],  # 8: injection in the name
        [D, "孙八", "", "", "surplus"],  # 9: a value with no column
        [B, "周九", "+8613900001111", ""],  # 10: good
    ])


def test_persons_csv_good_rows_land_and_bad_rows_are_reported(app, driver, settings, tmp_path):
    services = services_of(app)
    services.subjects.add_person(Person("p-existing", EXISTING, "赵六", date(1970, 1, 1), "M", "440604"))
    path = persons_file(tmp_path)

    result = invoke(app, "import", "persons", str(path))

    assert result.exit_code == 0, result.output
    rejects_path = tmp_path / "persons.csv.rejects.csv"
    assert f"imported 2, rejected 7 (see {rejects_path})" in result.stdout
    rejects = rejects_of(rejects_path)
    assert [(line, field) for line, field, _ in rejects] == [
        (3, "id_number"), (4, "id_number"), (5, "id_number"), (6, "id_number"), (7, "phone"), (8, "name"),
        (9, "line")]
    reasons = {line: reason for line, _, reason in rejects}
    assert "check digit" in reasons[3] and "not a real calendar date" in reasons[4]
    assert reasons[5] == bulk.PERSON_CONFLICT and reasons[6] == "duplicate of line 2"
    assert "more values" in reasons[9]
    assert "line 3: id_number:" in result.stderr
    assert count(driver, settings, "MATCH (p:Person) RETURN count(p)") == 3
    zhang = services.subjects.find_person(A)
    assert (zhang.name, zhang.phone, zhang.email, zhang.birth_date) == ("张三", "+8613812345678",
                                                                       "zhang@example.org", date(1990, 5, 17))
    assert services.subjects.find_person(B).name == "周九"


def test_reimporting_a_file_imports_nothing_and_rejects_every_row_as_on_file(app, tmp_path):
    path = write(tmp_path / "p.csv", [["id_number", "name"], [A, "张三"], [B, "李四"]])
    assert "imported 2, rejected 0" in invoke(app, "import", "persons", str(path)).stdout
    again = invoke(app, "import", "persons", str(path), "--rejects", str(tmp_path / "r.csv"), "--batch", "1")
    assert again.exit_code == 0
    assert "imported 0, rejected 2" in again.stdout
    assert rejects_of(tmp_path / "r.csv") == [(2, "id_number", bulk.PERSON_CONFLICT),
                                              (3, "id_number", bulk.PERSON_CONFLICT)]


def test_entities_from_json_lines(app, driver, settings, tmp_path):
    good, other = uscc("MA4UXXX01"), uscc("MA4UXXX02", "440106")
    lines = [
        json.dumps({"uscc": good, "name": "佛山市禅城区示例科技有限公司", "kind": "limited_company",
                    "established_on": "2015-03-01"}),
        json.dumps({"uscc": bad_check(other), "name": "坏校验有限公司", "kind": "limited_company",
                    "established_on": "2015-03-01"}),
        json.dumps({"uscc": other, "name": "某银行", "kind": "bank", "established_on": "2015-03-01"}),
        "{not json",
        json.dumps({"uscc": other, "name": "未来公司", "kind": "branch", "established_on": "2999-01-01"}),
        json.dumps({"uscc": other, "name": "多余字段公司", "kind": "branch", "established_on": "2020-01-01",
                    "owner": "x"}),
        "",
        json.dumps({"uscc": other, "name": "广州市天河区示例商行", "kind": "individual_business",
                    "established_on": "2020-01-01"}),
        json.dumps({"uscc": good, "name": "重复公司", "kind": "limited_company", "established_on": "2015-03-01"}),
    ]
    path = tmp_path / "entities.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = invoke(app, "import", "entities", str(path))

    assert result.exit_code == 0
    assert "imported 2, rejected 6" in result.stdout
    rejects = rejects_of(tmp_path / "entities.jsonl.rejects.csv")
    assert [(line, field) for line, field, _ in rejects] == [
        (2, "uscc"), (3, "kind"), (4, "line"), (5, "established_on"), (6, "owner"), (9, "uscc")]
    entity = services_of(app).subjects.find_entity(other)
    assert (entity.name, entity.kind, entity.region) == ("广州市天河区示例商行", "individual_business", "440106")
    assert count(driver, settings, "MATCH (e:Entity) RETURN count(e)") == 2


def test_materials_attach_by_id_number_or_credit_code_and_supersede_by_issue_date(app, tmp_path):
    services = services_of(app)
    invoke(app, "import", "persons", str(write(tmp_path / "p.csv", [["id_number", "name"], [A, "张三"]])))
    code = uscc("MA4UXXX03")
    invoke(app, "import", "entities", str(write(tmp_path / "e.csv", [
        ["uscc", "name", "kind", "established_on"],
        [code, "佛山市示例餐饮有限公司", "limited_company", "2018-01-02"]])))
    path = write(tmp_path / "m.csv", [
        ["holder_id_number", "holder_uscc", "kind", "number", "issued_on", "expires_on", "issuer", "provenance",
         "fields"],
        [A, "", "id_card", A, "2016-05-01", "2036-05-01", "佛山市公安局禅城分局", "issued",
         json.dumps({"address": "广东省佛山市禅城区祖庙路1号"}, ensure_ascii=False)],  # 2: newest card
        [A, "", "id_card", A, "2006-05-01", "2016-05-01", "佛山市公安局禅城分局", "issued", ""],  # 3: older
        ["", code, "business_licence", code, "2018-01-02", "", "佛山市禅城区市场监督管理局", "issued", ""],  # 4
        [rid("19991231", 77), "", "hukou", "123456789", "2000-01-01", "", "公安局", "issued", ""],  # 5: nobody
        [A, "", "hukou", "123456789", "2000-01-01", "2030-01-01", "公安局", "issued", ""],  # 6: hukou expires?
        [A, code, "passport", "E1", "2020-01-01", "2030-01-01", "局", "issued", ""],  # 7: two holders
        [A, "", "passport", "E1", "2020-01-01", "2030-01-01", "局", "issued", "[1, 2]"],  # 8: fields not object
        ["", code, "id_card", "X1", "2020-01-01", "2030-01-01", "局", "issued", ""],  # 9: entity's ID card
    ])

    result = invoke(app, "import", "materials", str(path))

    assert "imported 3, rejected 5" in result.stdout
    assert [(line, field) for line, field, _ in rejects_of(tmp_path / "m.csv.rejects.csv")] == [
        (5, "holder_id_number"), (6, "expires_on"), (7, "holder_id_number"), (8, "fields"), (9, "kind")]
    pid = services.subjects.find_person(A).pid
    cards = services.holdings.materials("Person", pid)
    assert [(m.issued_on.year, m.version, m.superseded) for m in cards] == [(2016, 2, False), (2006, 1, True)]
    assert cards[0].number == A and cards[0].fields == {"address": "广东省佛山市禅城区祖庙路1号"}
    licence = services.holdings.materials("Entity", services.subjects.find_entity(code).eid)
    assert [(m.kind, m.expires_on, m.number) for m in licence] == [("business_licence", None, code)]

    again = invoke(app, "import", "materials", str(path))
    assert "imported 0, rejected 8" in again.stdout
    assert len(services.holdings.materials("Person", pid)) == 2


def test_bulk_materials_continue_versions_on_file(app):
    services = services_of(app)
    services.subjects.add_person(Person("p1", A, "张三", date(1990, 5, 17), "M", "440604"))
    card = Material("m0", "p1", "passport", "E0", date(2012, 1, 1), date(2022, 1, 1), "局", "issued")
    services.holdings.add_material("Person", card)
    newer = [Material(f"m{i}", "p1", "passport", f"E{i}", date(2010 + i * 5, 2, 1), date(2020 + i * 5, 2, 1), "局",
                      "verified") for i in (2, 1)]
    written = services.bulk.write_materials([*newer, Material("mx", "nobody", "passport", "E9", date(2020, 1, 1),
                                                              date(2030, 1, 1), "局", "issued")])
    assert written.created == 2 and list(written.skipped) == [2]
    got = {m.mid: (m.version, m.superseded) for m in services.holdings.materials("Person", "p1")}
    assert got == {"m0": (1, True), "m1": (2, True), "m2": (3, False)}


def test_relations(app, driver, settings, tmp_path):
    code = uscc("MA4UXXX04")
    invoke(app, "import", "persons", str(write(tmp_path / "p.csv", [
        ["id_number", "name"], [A, "张三"], [B, "李四"], [C, "张小三"]])))
    invoke(app, "import", "entities", str(write(tmp_path / "e.csv", [
        ["uscc", "name", "kind", "established_on"], [code, "佛山市示例有限公司", "limited_company", "2018-01-02"]])))
    path = write(tmp_path / "r.csv", [
        ["from_id_number", "to_id_number", "to_uscc", "type"],
        [A, B, "", "SPOUSE_OF"],  # 2
        [A, C, "", "PARENT_OF"],  # 3
        [A, "", code, "LEGAL_REP_OF"],  # 4
        [A, B, "", "FRIEND_OF"],  # 5: unknown type
        [A, "", "", "EMPLOYED_BY"],  # 6: no entity given
        [D, C, "", "PARENT_OF"],  # 7: D is not on file
        [A, A, "", "SPOUSE_OF"],  # 8: oneself
        [A, C, "", "PARENT_OF"],  # 9: same as line 3
    ])

    result = invoke(app, "import", "relations", str(path))

    assert "imported 3, rejected 5" in result.stdout
    assert [(line, field) for line, field, _ in rejects_of(tmp_path / "r.csv.rejects.csv")] == [
        (5, "type"), (6, "to_uscc"), (7, "from_id_number"), (8, "to_id_number"), (9, "from_id_number")]
    types = driver.execute_query("MATCH ()-[r]->() RETURN type(r) AS t ORDER BY t",
                                 database_=settings.neo4j_database)[0]
    assert [r["t"] for r in types] == ["LEGAL_REP_OF", "PARENT_OF", "SPOUSE_OF"]
    again = invoke(app, "import", "relations", str(path))
    assert "imported 0, rejected 8" in again.stdout
    assert count(driver, settings, "MATCH ()-[r]->() RETURN count(r)") == 3


@pytest.mark.parametrize("name, content", [
    ("missing.csv", None),
    ("bad-header.csv", "id,name\n1,x\n"),
    ("empty.csv", ""),
    ("latin1.csv", "id_number,name\n1,\xe9\n".encode("latin-1")),
    ("persons.xlsx", "id_number,name\n"),
])
def test_a_file_that_cannot_be_read_exits_1(app, tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    result = invoke(app, "import", "persons", str(path))
    assert result.exit_code == 1
    assert "Error:" in result.stderr


def test_a_constraint_error_in_a_batch_falls_back_to_row_by_row(app, monkeypatch):
    services = services_of(app)
    services.subjects.add_person(Person("p-existing", EXISTING, "赵六", date(1970, 1, 1), "M", "440604"))
    monkeypatch.setattr(bulk.Bulk, "_lookup", lambda *args, **kwargs: {})  # as if another writer got there in between
    batch = [Person("p-a", A, "张三", date(1990, 5, 17), "M", "440604"),
             Person("p-dup", EXISTING, "赵六", date(1970, 1, 1), "M", "440604"),
             Person("p-b", B, "李四", date(1985, 11, 2), "F", "440604")]
    written = services.bulk.write_persons(batch)
    assert (written.created, written.skipped, written.nodes) == (2, {1: bulk.PERSON_CONFLICT}, 2)


def test_demo_seed_refuses_production():
    services = SimpleNamespace(settings=SimpleNamespace(production=True))
    with pytest.raises(RuntimeError, match="production"):
        seed_demo(services, 10, 1)


def test_demo_seed_loads_the_population_encrypted_and_readable(app, driver, settings):
    services = services_of(app)
    today = datetime.now(settings.zone).date()
    expected = generate(300, seed=42, today=today)

    result = invoke(app, "demo", "seed", "--persons", "300")

    assert result.exit_code == 0, result.output
    db = settings.neo4j_database
    assert count(driver, settings, "MATCH (p:Person) RETURN count(p)") == 300
    assert count(driver, settings, "MATCH (e:Entity) RETURN count(e)") == 30
    assert count(driver, settings, "MATCH (m:Material) RETURN count(m)") == len(expected.materials)
    assert count(driver, settings, "MATCH (e:LifeEvent) RETURN count(e)") == len(expected.events)
    assert count(driver, settings, "MATCH (:Person)-[r]->(:Person|Entity) RETURN count(r)") == len(expected.relations)
    assert f"created 300 persons, 30 entities, {len(expected.relations)} relations" in result.stdout
    assert "persons/s" in result.stdout and "graph writes/s" in result.stdout
    citizens = [line for line in result.stdout.splitlines() if line.startswith("demo citizen:")]
    assert len(citizens) == 2 and "demo business:" in result.stdout

    person = expected.persons[0]
    assert services.subjects.get_person(person.pid) == person
    assert services.subjects.find_person(person.id_number).pid == person.pid
    stored = {m.mid: m for m in services.holdings.materials("Person", person.pid)}
    for m in expected.materials:
        if m.holder_id == person.pid:
            got = stored[m.mid]
            assert (got.kind, got.number, got.issued_on, got.expires_on, got.fields, got.provenance) == \
                   (m.kind, m.number, m.issued_on, m.expires_on, m.fields, m.provenance)
    current = [m for m in services.holdings.materials("Person", person.pid) if not m.superseded]
    assert len({m.kind for m in current}) == len(current), "one current material per kind"
    assert services.holdings.events("Person", person.pid) == [
        e for e in sorted(expected.events, key=lambda e: (e.occurred_on, e.evid)) if e.subject_id == person.pid]

    # Every string property of every node. A business's registered name is public and may, like many a shop's, hold
    # a person's name (or two characters that happen to be one), so names are looked for everywhere else.
    nodes = driver.execute_query("MATCH (n) RETURN labels(n) AS labels, properties(n) AS p", database_=db)[0]
    stored = [(k, v, "Entity" in r["labels"]) for r in nodes for k, v in r["p"].items() if isinstance(v, str)]
    assert len(stored) > 5000, "the scan must actually read the graph"
    numbers = [s for p in expected.persons for s in (p.id_number, p.phone, p.phone and p.phone[3:]) if s]
    names = [p.name for p in expected.persons]
    leaks = [(s, k, v) for k, v, _ in stored for s in numbers if s in v]
    leaks += [(s, k, v) for k, v, entity in stored if not (entity and k == "name") for s in names if s in v]
    assert leaks == []

    again = invoke(app, "demo", "seed", "--persons", "300")
    assert "created 0 persons, 0 entities, 0 relations, 0 materials, 0 events" in again.stdout


def test_generated_demo_data_passes_every_import_rule(app, driver, settings, tmp_path):
    pop = generate(200, seed=5, today=datetime.now(settings.zone).date())
    numbers = {p.pid: p.id_number for p in pop.persons}
    codes = {e.eid: e.uscc for e in pop.entities}
    files = {
        "persons": [["id_number", "name", "phone", "email"],
                    *[[p.id_number, p.name, p.phone or "", p.email or ""] for p in pop.persons]],
        "entities": [["uscc", "name", "kind", "established_on", "region"],
                     *[[e.uscc, e.name, e.kind, e.established_on.isoformat(), e.region] for e in pop.entities]],
        "relations": [["from_id_number", "to_id_number", "to_uscc", "type"],
                      *[[numbers[r.from_id], numbers.get(r.to_id, ""), codes.get(r.to_id, ""), r.type]
                        for r in pop.relations]],
        "materials": [["holder_id_number", "holder_uscc", "kind", "number", "issued_on", "expires_on", "issuer",
                       "provenance", "fields"],
                      *[[numbers.get(m.holder_id, ""), codes.get(m.holder_id, ""), m.kind, m.number,
                         m.issued_on.isoformat(), m.expires_on.isoformat() if m.expires_on else "", m.issuer,
                         m.provenance, json.dumps(m.fields, ensure_ascii=False)] for m in pop.materials]],
    }
    for name, rows in files.items():
        result = invoke(app, "import", name, str(write(tmp_path / f"{name}.csv", rows)))
        assert f"imported {len(rows) - 1}, rejected 0" in result.stdout, (name, result.stdout, result.stderr)
    current = count(driver, settings, "MATCH (m:Material {superseded: false}) RETURN count(m)")
    assert current == sum(not m.superseded for m in pop.materials)
