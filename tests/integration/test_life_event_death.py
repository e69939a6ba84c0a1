"""A death recorded through the API, with real Neo4j, Redis and the SMS sandbox, jobs run in this process at 10:00 on
the day (graph/effects.py): deceased_on is set, nothing is due, the notices waiting to go are cancelled with the
reason and never sent, the drafts withdrawn, a ward is told through the living parent only, the adult next of kin
(a son, a spouse) owe the 身后 bundle and get one reminder each; a second death, a death before the birth and one in
the future are refused naming the field, and nothing is written."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from notifier.delivery import deliver
from notifier.scan import start_scan
from notifier.services import install
from profiles.models import Material, Relation
from tests.integration.api_helpers import keys, snapshot
from tests.integration.notify_helpers import ZONE, at, notices, run_jobs
from tests.integration.pages_fixtures import pages_sandbox  # noqa: F401  (the module's SMS sandbox)
from tests.integration.pages_helpers import make_person, pages_app

TODAY = datetime.now(ZONE).date()  # the app's day: a death cannot be in the future
FATHER, SON, WIFE, MUM, DAD = "+8613712345601", "+8613712345602", "+8613712345603", "+8613712345604", "+8613712345605"
PURPOSE = {"X-Purpose": "身后一件事 after a death"}


@pytest.fixture
def app(live_environ, sandbox, clean):
    sandbox.clear()
    app = pages_app(live_environ, sandbox.url)  # the default quiet hours: the scans run at 10:00
    install(app.extensions["lifecycle"])
    yield app
    app.extensions["lifecycle"].close()


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


def card(svc, pid: str, kind: str = "id_card", expires_on: date = TODAY + timedelta(days=30)) -> Material:
    return svc.holdings.add_material("Person", Material(f"m-{pid[:8]}-{kind}", pid, kind, f"N{pid[:6]}",
                                                        expires_on - timedelta(days=3652), expires_on,
                                                        "佛山市公安局禅城分局", "issued", {}))


def scan(svc, queues: tuple[str, ...] | None = None) -> None:
    start_scan(svc, TODAY, at=at(TODAY, 10))
    if queues:
        run_jobs(svc, queues)
    else:
        run_jobs(svc)


def death(api, pid: str, on: date = TODAY - timedelta(days=1)):
    return api("POST", f"/persons/{pid}/events", {"kind": "death", "occurred_on": on.isoformat(), "details": {}})


def family(svc):
    father = make_person(svc, name="黄大山", born=date(1955, 3, 1), phone=FATHER)
    son = make_person(svc, name="黄小山", born=date(1985, 6, 2), phone=SON)
    wife = make_person(svc, name="李秀英", born=date(1958, 9, 9), phone=WIFE)
    svc.subjects.relate(Relation(father.pid, son.pid, "PARENT_OF"))
    svc.subjects.relate(Relation(father.pid, wife.pid, "SPOUSE_OF"))
    return father, son, wife


def test_a_death_ends_what_is_owed_and_sent_and_the_next_of_kin_owe_the_after_death_bundle(app, svc, api, sandbox):
    father, son, wife = family(svc)
    card(svc, father.pid)
    scan(svc, queues=("scan",))  # the father's reminder is made; its delivery still waits in the queue
    waiting = [n for n in notices(svc) if n["to"] == father.pid]
    assert {n["status"] for n in waiting} == {"pending"} and {n["channel"] for n in waiting} == {"inbox", "sms"}
    aid = svc.notices.get(waiting[0]["nid"]).aid  # the prefilled draft the reminder leads to
    assert svc.applications.get(aid).status == "draft"

    on = TODAY - timedelta(days=1)
    recorded = death(api, father.pid, on)
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["kind"] == "death"
    shown = api("GET", f"/persons/{father.pid}", role="officer").get_json()
    assert shown["deceased_on"] == on.isoformat()
    assert api("GET", f"/persons/{father.pid}/due?as_of={TODAY}", role="officer").get_json() == []
    told = api("GET", f"/persons/{father.pid}/notices", role="officer").get_json()
    assert {n["status"] for n in told} == {"cancelled"} and len(told) == len(waiting)
    assert all("the person has died" in n["history"][-1] for n in told)
    assert svc.applications.get(aid).status == "withdrawn"

    run_jobs(svc)  # the delivery job made before the death, and a later one for the same notices
    deliver([n["nid"] for n in told], at=at(TODAY, 11))
    assert sandbox.messages(to=FATHER) == []
    assert {n["status"] for n in notices(svc) if n["to"] == father.pid} == {"cancelled"}

    for kin in (son, wife):
        due = api("GET", f"/persons/{kin.pid}/due?as_of={TODAY}", role="officer").get_json()
        (bundle,) = [i for i in due if i["service"] == "after_death_bundle"]
        assert bundle["due_on"] == (on + timedelta(days=28)).isoformat() and bundle["recipients"] == [kin.pid]
    scan(svc)
    scan(svc)  # a second scan the same day makes nothing more
    bundles = notices(svc, service="after_death_bundle")
    assert sorted((n["to"], n["channel"]) for n in bundles) == sorted(
        (p, c) for p in (son.pid, wife.pid) for c in ("inbox", "sms"))
    assert {n["status"] for n in bundles if n["channel"] == "sms"} == {"sent"}
    for phone in (SON, WIFE):
        (body,) = [m["body"] for m in sandbox.messages(to=phone) if "身后" in m["body"]]
        assert "！" not in body
    assert sandbox.messages(to=FATHER) == []


def test_a_ward_is_told_through_the_living_parent_only(svc, api, sandbox):
    mum = make_person(svc, name="陈美玲", born=date(1984, 1, 5), phone=MUM)
    dad = make_person(svc, name="王建国", born=date(1982, 2, 6), phone=DAD)
    child = make_person(svc, name="王小宝", born=TODAY.replace(year=TODAY.year - 9, day=1))
    for parent in (mum, dad):
        svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    card(svc, child.pid, "passport")
    before = [i for i in api("GET", f"/persons/{child.pid}/due?as_of={TODAY}", role="officer").get_json()
              if i["service"] == "passport_renewal"]
    assert sorted(before[0]["recipients"]) == sorted([mum.pid, dad.pid])

    assert death(api, dad.pid).status_code == 201
    (after,) = [i for i in api("GET", f"/persons/{child.pid}/due?as_of={TODAY}", role="officer").get_json()
                if i["service"] == "passport_renewal"]
    assert after["recipients"] == [mum.pid]
    scan(svc)
    assert sorted(n["to"] for n in notices(svc, service="passport_renewal", channel="sms")) == [mum.pid]
    assert sandbox.messages(to=DAD) == []
    assert len([m for m in sandbox.messages(to=MUM) if "护照" in m["body"]]) == 1
    # the child (9) is no adult: the father's death makes no 身后 bundle due to them; the mother is not kin to him
    assert notices(svc, service="after_death_bundle") == []


def events_on_file(svc) -> int:
    return svc.driver.execute_query("MATCH (e:LifeEvent) RETURN count(e) AS n",
                                    database_=svc.settings.neo4j_database)[0][0]["n"]


@pytest.mark.parametrize("case", ["second death", "before birth", "in the future"])
def test_a_death_that_cannot_be_is_refused_naming_the_field_and_nothing_is_written(svc, api, case):
    person = make_person(svc, name="赵一", born=date(1970, 4, 4))
    if case == "second death":
        assert death(api, person.pid, TODAY - timedelta(days=3)).status_code == 201
    on, field = {"second death": (TODAY - timedelta(days=1), "kind"),
                 "before birth": (date(1969, 12, 31), "occurred_on"),
                 "in the future": (TODAY + timedelta(days=1), "occurred_on")}[case]
    count, graph = events_on_file(svc), snapshot(svc.driver, svc.settings.neo4j_database)
    refused = death(api, person.pid, on)
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == [field], refused.get_json()
    assert events_on_file(svc) == count and snapshot(svc.driver, svc.settings.neo4j_database) == graph
    if case != "second death":
        assert "deceased_on" not in api("GET", f"/persons/{person.pid}", role="officer").get_json()
