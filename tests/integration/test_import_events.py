"""`flask import events FILE`: a department's feed of deaths, closures and hirings is one command, and each event has
the effect it has through the API (graph/effects.py through web.usecases.holdings.record_event): the deceased's
waiting reminder is cancelled and its draft withdrawn, the business is closed, the employee linked; bad rows are
reported with their line, field and reason, and write nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tests.integration.notify_helpers import notices
from tests.integration.pages_fixtures import pages_sandbox  # noqa: F401  (the module's SMS sandbox)
from tests.integration.pages_helpers import make_person
from tests.integration.test_bulk import invoke, rejects_of, uscc, write
from tests.integration.test_life_event_death import TODAY, app, card, scan, svc  # noqa: F401  (fixtures)

FATHER = "+8613712345611"


def test_a_feed_of_events_records_each_with_its_effect_and_reports_the_bad_rows(app, svc, tmp_path):  # noqa: F811
    father = make_person(svc, name="黄大山", born=date(1955, 3, 1), phone=FATHER)
    worker = make_person(svc, name="李明", born=date(1990, 4, 2))
    baby = make_person(svc, name="黄小宝", born=TODAY - timedelta(days=200))
    card(svc, father.pid)
    scan(svc, queues=("scan",))  # the father's reminder and its draft, the delivery still waiting
    waiting = [n for n in notices(svc) if n["to"] == father.pid]
    assert waiting and {n["status"] for n in waiting} == {"pending"}
    draft = svc.notices.get(waiting[0]["nid"]).aid
    code = uscc("MA4UXXX07")
    invoke(app, "import", "entities", str(write(tmp_path / "e.csv", [
        ["uscc", "name", "kind", "established_on"], [code, "佛山市示例餐饮公司", "limited_company", "2018-01-02"]])))
    (eid,) = svc.bulk.entity_ids([code]).values()
    died, hired, closed = TODAY - timedelta(days=2), TODAY - timedelta(days=10), TODAY - timedelta(days=1)
    rows = [
        {"holder_id_number": father.id_number, "kind": "death", "occurred_on": died.isoformat()},  # 1
        {"holder_uscc": code, "kind": "hiring", "occurred_on": hired.isoformat(),  # 2: the employee by ID number
         "details": {"employee_pid": worker.id_number}},
        {"holder_uscc": code, "kind": "closure", "occurred_on": closed.isoformat()},  # 3
        {"holder_id_number": father.id_number, "kind": "death", "occurred_on": died.isoformat()},  # 4: same as 1
        {"holder_id_number": father.id_number, "kind": "death", "occurred_on": (died - timedelta(days=1)).isoformat()},
        {"holder_id_number": baby.id_number, "kind": "death", "occurred_on": "2000-01-01"},  # 6: before the birth
        {"holder_id_number": worker.id_number, "kind": "death", "occurred_on": (TODAY + timedelta(days=3)).isoformat()},
        {"holder_id_number": "440604199001011234", "kind": "death", "occurred_on": died.isoformat()},  # 8: checksum
        {"holder_id_number": worker.id_number, "kind": "closure", "occurred_on": died.isoformat()},  # 9: a person
        {"holder_id_number": worker.id_number, "kind": "marriage", "occurred_on": "yesterday"},  # 10: no date
        {"holder_id_number": worker.id_number, "holder_uscc": code, "kind": "marriage",  # 11: two holders
         "occurred_on": died.isoformat()},
        {"holder_uscc": code, "kind": "hiring", "occurred_on": hired.isoformat(),  # 12: nobody with that number
         "details": {"employee_pid": "11010519491231002X"}},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    events_before = len(svc.holdings.events("Person", worker.pid)) + len(svc.holdings.events("Person", baby.pid))

    result = invoke(app, "import", "events", str(path))

    assert "imported 3, rejected 9" in result.stdout, result.stdout + result.stderr
    rejected = rejects_of(tmp_path / "events.jsonl.rejects.csv")
    assert [(line, field) for line, field, _ in rejected] == [
        (4, "holder_id_number"), (5, "kind"), (6, "occurred_on"), (7, "occurred_on"), (8, "holder_id_number"),
        (9, "kind"), (10, "occurred_on"), (11, "holder_id_number"), (12, "details.employee_pid")]
    reasons = {line: reason for line, _, reason in rejected}
    assert reasons[4] == "duplicate of line 1" and reasons[5] == f"a death is already on file ({died.isoformat()})"
    assert "before the birth" in reasons[6] and reasons[7] == "the date is in the future"
    assert reasons[12] == "no person with this ID number is on file"
    assert svc.subjects.get_person(father.pid).deceased_on == died
    assert {n["status"] for n in notices(svc) if n["to"] == father.pid} == {"cancelled"}  # not the bulk path
    assert svc.applications.get(draft).status == "withdrawn"
    entity = svc.subjects.get_entity(eid)
    assert (entity.status, entity.closed_on) == ("closed", closed)
    employers = svc.driver.execute_query("MATCH (:Person {pid: $pid})-[:EMPLOYED_BY]->(e:Entity) RETURN e.eid",
                                         pid=worker.pid, database_=svc.settings.neo4j_database)[0]
    assert [r[0] for r in employers] == [eid]
    assert len(svc.holdings.events("Person", worker.pid)) + len(svc.holdings.events("Person", baby.pid)) \
        == events_before  # the refused rows wrote nothing
