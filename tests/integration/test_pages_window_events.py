"""Life events at the officer's window, with real Neo4j and Redis and the CSRF token as a browser sends it: the form
offers the details the subject's event kinds declare (events.yaml); a death recorded there (once confirmed) shows on
the profile; a hiring names the employee by their ID number, and a refusal is shown on the field with nothing
written."""

from __future__ import annotations

from datetime import date, timedelta

from tests.integration.api_helpers import snapshot
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_person, post
from tests.integration.test_pages_officer import TODAY, officer, search


def test_a_death_recorded_at_the_window_shows_on_the_profile(app, svc):
    person = make_person(svc, name="黄大山", born=date(1950, 3, 1))
    client = officer(app, svc)
    search(client, person.id_number)
    form = client.get(f"/officer/persons/{person.pid}/record").get_data(as_text=True)
    for name in ("spouse_pid", "address", "region", "place", "certificate_number"):  # the person's kinds' details
        assert f'id="e-{name}"' in form, name
    assert 'id="e-employee_pid"' not in form  # a business's event
    on = TODAY - timedelta(days=1)
    answer = post(client, f"/officer/persons/{person.pid}/events",
                  {"kind": "death", "occurred_on": on.isoformat(), "place": "佛山市第一人民医院", "confirm": "1"})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert svc.subjects.get_person(person.pid).deceased_on == on
    profile = client.get(f"/officer/persons/{person.pid}").get_data(as_text=True)
    assert f"<dt>死亡日期</dt><dd>{on.isoformat()}</dd>" in profile
    again = post(client, f"/officer/persons/{person.pid}/events", {"kind": "death", "occurred_on": on.isoformat()})
    assert again.status_code == 422 and 'id="e-e-kind"' in again.get_data(as_text=True)


def test_a_hiring_names_the_employee_by_id_number_and_a_refusal_is_shown_on_the_field(app, svc):
    business = make_entity(svc, name="禅城示例餐饮有限公司")
    worker = make_person(svc, name="钱工人", born=date(1995, 2, 3))
    gone = make_person(svc, name="孙故人", born=date(1940, 1, 1))
    client = officer(app, svc)
    search(client, gone.id_number)
    assert post(client, f"/officer/persons/{gone.pid}/events",
                {"kind": "death", "occurred_on": "2024-01-01", "confirm": "1"}).status_code == 303
    search(client, business.uscc)
    form = client.get(f"/officer/entities/{business.eid}/record").get_data(as_text=True)
    assert 'id="e-employee_pid"' in form and 'id="e-registered_capital"' in form and 'id="e-spouse_pid"' not in form

    before = snapshot(svc.driver, svc.settings.neo4j_database)
    for employee in ("", "440604199001011234", gone.id_number):  # missing, nobody on file, deceased
        answer = post(client, f"/officer/entities/{business.eid}/events",
                      {"kind": "hiring", "occurred_on": TODAY.isoformat(), "employee_pid": employee})
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422 and 'id="e-e-employee_pid"' in page, employee
        assert f'value="{employee}"' in page  # what the officer typed is kept
    assert snapshot(svc.driver, svc.settings.neo4j_database) == before

    hired = post(client, f"/officer/entities/{business.eid}/events",
                 {"kind": "hiring", "occurred_on": TODAY.isoformat(), "employee_pid": worker.id_number})
    assert hired.status_code == 303
    (event,) = [e for e in svc.holdings.events("Entity", business.eid) if e.kind == "hiring"]
    assert event.details == {"employee_pid": worker.pid}
    records = svc.driver.execute_query("MATCH (p:Person)-[:EMPLOYED_BY]->(e:Entity) RETURN p.pid AS p, e.eid AS e",
                                       database_=svc.settings.neo4j_database)[0]
    assert [(r["p"], r["e"]) for r in records] == [(worker.pid, business.eid)]
