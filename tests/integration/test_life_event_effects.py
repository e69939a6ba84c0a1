"""The other life events' effects through the API, with real Neo4j (graph/effects.py): a closure closes the business,
ends its annual report and makes the deregistrations due, and nothing can be recorded after it; a hiring links the
employee, makes the employer owe the registrations and ends the employee's residents' medical insurance; a marriage
and a divorce add and end SPOUSE_OF; a household move keeps the address encrypted; each refusal names the field and
writes nothing; a bulk import of deaths and closures sets the same state."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from profiles.models import LifeEvent
from tests.integration.api_helpers import keys, snapshot
from tests.integration.pages_helpers import make_entity, make_person
from tests.integration.test_life_event_death import TODAY

PURPOSE = {"X-Purpose": "核对登记事项 checking the record"}


@pytest.fixture
def svc(app):
    return app.extensions["lifecycle"]


@pytest.fixture
def api(app):
    client, auth = app.test_client(), keys(app)

    def call(method: str, path: str, body: dict | None = None, role: str = "system"):
        headers = {**auth[role], **(PURPOSE if role == "officer" else {})}
        return client.open(f"/api/v1{path}", method=method, json=body, headers=headers)

    return call


def event(api, kind: str, sid: str, code: str, on: date, **details):
    return api("POST", f"/{kind}/{sid}/events", {"kind": code, "occurred_on": on.isoformat(), "details": details})


def due(api, kind: str, sid: str) -> set[str]:
    return {i["service"] for i in api("GET", f"/{kind}/{sid}/due?as_of={TODAY}", role="officer").get_json()}


def related(svc, rel: str) -> list[tuple[str, str]]:
    records = svc.driver.execute_query(f"MATCH (a)-[:{rel}]->(b) RETURN coalesce(a.pid, a.eid) AS a, "
                                       "coalesce(b.pid, b.eid) AS b ORDER BY a, b",
                                       database_=svc.settings.neo4j_database)[0]
    return [(r["a"], r["b"]) for r in records]


def refused_writing_nothing(svc, answer, field: str) -> None:
    assert answer.status_code == 422, answer.get_json()
    assert list(answer.get_json()["errors"]) == [field], answer.get_json()


def test_a_closure_closes_the_business_and_makes_the_deregistrations_due(svc, api):
    rep = make_person(svc, name="赵经理", phone="+8613712345611")
    business = make_entity(svc, name="禅城示例贸易有限公司", legal_rep=rep, established=date(2018, 6, 1))
    assert "enterprise_annual_report" in due(api, "entities", business.eid)
    on = TODAY - timedelta(days=2)
    closed = event(api, "entities", business.eid, "closure", on)
    assert closed.status_code == 201, closed.get_json()
    shown = api("GET", f"/entities/{business.eid}", role="officer").get_json()
    assert (shown["status"], shown["closed_on"]) == ("closed", on.isoformat())
    owed = due(api, "entities", business.eid)
    assert "enterprise_annual_report" not in owed
    assert {"closure_social_insurance_deregistration", "closure_housing_fund_deregistration"} <= owed

    before = snapshot(svc.driver, svc.settings.neo4j_database)
    refused_writing_nothing(svc, event(api, "entities", business.eid, "annual_report", TODAY), "occurred_on")
    refused_writing_nothing(svc, event(api, "entities", business.eid, "change", on - timedelta(days=1)), "kind")
    refused_writing_nothing(svc, event(api, "entities", business.eid, "closure", on), "kind")
    assert snapshot(svc.driver, svc.settings.neo4j_database) == before
    young = make_entity(svc, name="禅城新设有限公司", established=TODAY - timedelta(days=10))
    before = snapshot(svc.driver, svc.settings.neo4j_database)
    refused_writing_nothing(svc, event(api, "entities", young.eid, "closure", TODAY - timedelta(days=11)),
                            "occurred_on")
    assert snapshot(svc.driver, svc.settings.neo4j_database) == before
    assert api("GET", f"/entities/{young.eid}", role="officer").get_json()["status"] == "active"


def test_a_hiring_links_the_employee_and_the_employer_owes_the_registrations(svc, api):
    business = make_entity(svc, name="禅城示例餐饮有限公司")
    worker = make_person(svc, name="钱工人", born=date(1995, 2, 3))
    assert "resident_medical_insurance_contribution" in due(api, "persons", worker.pid)
    hired = event(api, "entities", business.eid, "hiring", TODAY - timedelta(days=3), employee_pid=worker.pid)
    assert hired.status_code == 201, hired.get_json()
    assert related(svc, "EMPLOYED_BY") == [(worker.pid, business.eid)]
    assert {"employee_social_insurance_registration", "employee_housing_fund_registration"} <= due(
        api, "entities", business.eid)
    assert "resident_medical_insurance_contribution" not in due(api, "persons", worker.pid)

    gone = make_person(svc, name="孙故人", born=date(1950, 1, 1))
    assert event(api, "persons", gone.pid, "death", TODAY - timedelta(days=30)).status_code == 201
    before = snapshot(svc.driver, svc.settings.neo4j_database)
    for details in ({"employee_pid": str(uuid.uuid4())}, {"employee_pid": gone.pid}, {}):
        answer = event(api, "entities", business.eid, "hiring", TODAY, **details)
        refused_writing_nothing(svc, answer, "details.employee_pid")
    assert snapshot(svc.driver, svc.settings.neo4j_database) == before


def test_a_marriage_adds_and_a_divorce_ends_spouse_of(svc, api):
    me, spouse = make_person(svc, name="周一"), make_person(svc, name="吴二")
    assert event(api, "persons", me.pid, "marriage", date(2015, 5, 1), spouse_pid=spouse.pid).status_code == 201
    assert event(api, "persons", spouse.pid, "marriage", date(2015, 5, 1), spouse_pid=me.pid).status_code == 201
    assert related(svc, "SPOUSE_OF") == [(me.pid, spouse.pid)]  # once, whoever's record it is
    refused_writing_nothing(svc, event(api, "persons", me.pid, "marriage", date(2016, 1, 1), spouse_pid=me.pid),
                            "details.spouse_pid")
    assert event(api, "persons", spouse.pid, "divorce", date(2020, 3, 3), spouse_pid=me.pid).status_code == 201
    assert related(svc, "SPOUSE_OF") == []
    kinds = [e["kind"] for e in api("GET", f"/persons/{me.pid}/events", role="officer").get_json()]
    assert kinds == ["marriage"]  # the divorce is on the spouse's record, the relation ended for both


def test_a_household_move_keeps_the_new_address_encrypted(svc, api):
    me = make_person(svc, name="郑三")
    refused_writing_nothing(svc, event(api, "persons", me.pid, "household_move", TODAY), "details.address")
    moved = event(api, "persons", me.pid, "household_move", TODAY, address="佛山市南海区桂城街道1号", region="440605")
    assert moved.status_code == 201, moved.get_json()
    (stored,) = svc.driver.execute_query("MATCH (p:Person {pid: $pid}) RETURN p.address_enc AS a, p.region AS r",
                                         pid=me.pid, database_=svc.settings.neo4j_database)[0]
    assert stored["r"] == "440605" and stored["a"] and "桂城" not in str(stored["a"])


def test_a_bulk_import_of_deaths_and_closures_sets_the_state(svc, api):
    person = make_person(svc, name="冯四", born=date(1940, 2, 2))
    business = make_entity(svc, name="禅城旧厂有限公司", established=date(2001, 1, 1))
    written = svc.bulk.write_events([
        LifeEvent(str(uuid.uuid4()), person.pid, "death", date(2025, 7, 7), {}),
        LifeEvent(str(uuid.uuid4()), business.eid, "closure", date(2024, 4, 4), {}),
        LifeEvent(str(uuid.uuid4()), person.pid, "retirement", date(2000, 2, 2), {}),
    ])
    assert written.created == 3
    assert api("GET", f"/persons/{person.pid}", role="officer").get_json()["deceased_on"] == "2025-07-07"
    shown = api("GET", f"/entities/{business.eid}", role="officer").get_json()
    assert (shown["status"], shown["closed_on"]) == ("closed", "2024-04-04")
    assert due(api, "persons", person.pid) == set()
