"""The daily due scan on the real Neo4j: exactly the evaluator's items over every subject's snapshot, found by index
seeks on dates, for random small populations (29 February, cut-off days, supersession, guardians, applications) and
for the demo population."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from graph.scan import partition, scan_due, scan_queries
from profiles.catalog import load_catalog
from profiles.demo import add_years, generate
from profiles.models import Person
from profiles.rules import due_items

CATALOG = load_catalog()
PERSON_SERVICES = sorted(c for c, s in CATALOG.services.items() if s.audience == "person")
ENTITY_SERVICES = sorted(c for c, s in CATALOG.services.items() if s.audience == "entity")
PERSON_KINDS = ("id_card", "passport", "driving_licence", "residence_permit", "social_security_card",
                "vaccination_certificate", "hukou")
ENTITY_KINDS = ("business_licence", "food_business_permit")
PERSON_EVENTS = ("birth", "school_entry", "retirement", "medical_insurance_paid", "marriage")
ENTITY_EVENTS = ("annual_report", "founding", "change", "hiring")
SPECIAL_BIRTHS = (date(2008, 2, 29), date(2012, 2, 29), date(2016, 2, 29), date(2020, 2, 29), date(2019, 8, 31),
                  date(2019, 9, 1), date(2020, 8, 31), date(2020, 9, 1), date(2010, 2, 28), date(2010, 3, 1),
                  date(1964, 12, 31), date(1965, 1, 1), date(1970, 1, 31), date(1975, 1, 1), date(1976, 9, 1),
                  date(1984, 11, 30), date(1960, 2, 29))
MILESTONES = (0, 6, 16, 50, 55, 58, 60, 61, 63)

_WRITE = (
    "UNWIND $persons AS row CREATE (n:Person) SET n = row, n.created_at = datetime()",
    "UNWIND $entities AS row CREATE (n:Entity) SET n = row, n.created_at = datetime()",
    *(f"UNWIND $materials AS row MATCH (h:{label} {{{key}: row.hid}}) "
      "CREATE (h)-[:HOLDS]->(m:Material) SET m = row.props, m.created_at = datetime()"
      for label, key in (("Person", "pid"), ("Entity", "eid"))),
    *(f"UNWIND $events AS row MATCH (h:{label} {{{key}: row.sid}}) "
      "CREATE (h)-[:EXPERIENCED]->(:LifeEvent {evid: row.evid, kind: row.kind, occurred_on: row.occurred_on, "
      "                                        details_enc: row.details, created_at: datetime()})"
      for label, key in (("Person", "pid"), ("Entity", "eid"))),
    *(f"UNWIND $applications AS row MATCH (h:{label} {{{key}: row.sid}}) "
      "CREATE (h)-[:APPLIED]->(:Application {aid: row.aid, service: row.service, status: row.status, "
      "                                      created_on: row.created_on, submitted_on: row.submitted_on})"
      for label, key in (("Person", "pid"), ("Entity", "eid"))),
    *(f"UNWIND $relations AS row WITH row WHERE row.type = '{t}' "
      f"MATCH (a:Person {{pid: row.a}}) MATCH (b:{to} {{{key}: row.b}}) CREATE (a)-[:{t}]->(b)"
      for t, to, key in (("GUARDIAN_OF", "Person", "pid"), ("PARENT_OF", "Person", "pid"),
                         ("SPOUSE_OF", "Person", "pid"), ("LEGAL_REP_OF", "Entity", "eid"),
                         ("EMPLOYED_BY", "Entity", "eid"))),
)


def near(as_of: date, lo: int, hi: int):
    return st.integers(lo, hi).map(lambda d: as_of + timedelta(days=d))


@st.composite
def populations(draw):
    """A handful of persons and entities with everything that moves a due date or settles an item."""
    as_of = draw(st.dates(date(2025, 1, 1), date(2026, 12, 31)))
    pids = [f"p{i}" for i in range(draw(st.integers(1, 6)))]
    eids = [f"e{i}" for i in range(draw(st.integers(0, 3)))]
    born = st.one_of(
        st.sampled_from(SPECIAL_BIRTHS),
        st.builds(lambda a, d: add_years(as_of, -a) + timedelta(days=d), st.sampled_from(MILESTONES),
                  st.integers(-400, 400)),
        st.dates(date(1935, 1, 1), date(2026, 12, 31)))
    persons, entities, materials, events, applications, relations = [], [], [], [], [], []
    for n, pid in enumerate(pids):
        # a newborn put on file by its birth certificate: still without an ID number, or given one since
        registered = draw(st.sampled_from(("id", "id", "newborn", "attached")))
        died = draw(st.none() | near(as_of, -45, 0)) if draw(st.integers(0, 4)) == 0 else None
        persons.append(Person(pid, None if registered == "newborn" else f"id-{pid}", f"name-{pid}",
                              draw(near(as_of, -400, 0)) if registered != "id" else draw(born),
                              draw(st.sampled_from("MF")), None if registered == "newborn" else "440604",
                              deceased_on=died,
                              birth_certificate_number=None if registered == "id" else f"Q{n:09d}",
                              id_attached_on=draw(near(as_of, -60, 30)) if registered == "attached" else None))
        if died is not None:  # a death as graph.effects records it: the event and deceased_on
            events.append({"sid": pid, "evid": f"{pid}-death", "kind": "death", "occurred_on": died})
    subjects = [(pid, PERSON_KINDS, PERSON_EVENTS, PERSON_SERVICES) for pid in pids] + \
               [(eid, ENTITY_KINDS, ENTITY_EVENTS, ENTITY_SERVICES) for eid in eids]
    for sid, kinds, event_kinds, services in subjects:
        for n in range(draw(st.integers(0, 3))):
            materials.append({"hid": sid, "mid": f"{sid}-m{n}", "kind": draw(st.sampled_from(kinds)),
                              "issued_on": draw(near(as_of, -4000, 0)),
                              "expires_on": draw(st.none() | near(as_of, -60, 420)),
                              "superseded": draw(st.booleans()) and draw(st.booleans())})
        for n in range(draw(st.integers(0, 3))):
            events.append({"sid": sid, "evid": f"{sid}-v{n}", "kind": draw(st.sampled_from(event_kinds)),
                           "occurred_on": draw(near(as_of, -420, 60))})
        for n in range(draw(st.integers(0, 2))):
            submitted = draw(st.none() | near(as_of, -400, 30))
            applications.append({"sid": sid, "aid": f"{sid}-a{n}", "service": draw(st.sampled_from(services)),
                                 "status": "draft" if submitted is None else
                                 draw(st.sampled_from(["submitted", "approved", "rejected"])),
                                 "created_on": as_of - timedelta(days=500), "submitted_on": submitted})
    for i, child in enumerate(pids):
        for parent in draw(st.lists(st.sampled_from(pids[:i] + pids[i + 1:]), max_size=2)) if len(pids) > 1 else []:
            relations += [{"a": parent, "b": child, "type": t}
                          for t in draw(st.sets(st.sampled_from(("GUARDIAN_OF", "PARENT_OF")), min_size=1))]
    for i, a in enumerate(pids):  # spouses (a relative's death makes the after-death bundle due)
        if i + 1 < len(pids) and draw(st.integers(0, 2)) == 0:
            relations.append({"a": a, "b": pids[i + 1], "type": "SPOUSE_OF"})
    for eid in eids:
        closed = draw(st.none() | near(as_of, -45, 0)) if draw(st.integers(0, 2)) == 0 else None
        entities.append({"eid": eid, "uscc": f"uscc-{eid}", "name": eid, "kind": "limited_company",
                         "region": "440604", "status": "closed" if closed else "active", "closed_on": closed,
                         "established_on": draw(st.one_of(near(as_of, -800, 30), st.dates(date(1995, 1, 1),
                                                                                           date(2026, 12, 31))))})
        if closed is not None:
            events.append({"sid": eid, "evid": f"{eid}-closure", "kind": "closure", "occurred_on": closed})
        relations += [{"a": p, "b": eid, "type": "LEGAL_REP_OF"}
                      for p in draw(st.sets(st.sampled_from(pids), max_size=2))]
        relations += [{"a": p, "b": eid, "type": "EMPLOYED_BY"}
                      for p in draw(st.sets(st.sampled_from(pids), max_size=2))]
    return {"as_of": as_of, "within": draw(st.sampled_from((30, 365))), "page": draw(st.sampled_from((1, 2, 5000))),
            "persons": persons, "entities": entities, "materials": materials, "events": events,
            "applications": applications, "relations": relations}


def write(services, pop) -> None:
    cipher = services.cipher
    rows = {
        "persons": [services.subjects.person_properties(p) for p in pop["persons"]],
        "entities": pop["entities"],
        "materials": [{"hid": m["hid"], "props": {
            "mid": m["mid"], "kind": m["kind"], "number_enc": cipher.encrypt("N", context="Material.number"),
            "issued_on": m["issued_on"], "expires_on": m["expires_on"], "issuer": "局", "provenance": "issued",
            "fields_enc": cipher.encrypt("{}", context="Material.fields"), "version": 1,
            "superseded": m["superseded"]}} for m in pop["materials"]],
        "events": [{**e, "details": cipher.encrypt(json.dumps({}), context="LifeEvent.details")}
                   for e in pop["events"]],
        "applications": pop["applications"],
        "relations": pop["relations"],
    }

    def work(tx):
        tx.run("MATCH (n) WHERE NOT n:SchemaMigration DETACH DELETE n").consume()
        for query in _WRITE:
            tx.run(query, rows).consume()

    with services.driver.session(database=services.settings.neo4j_database) as session:
        session.execute_write(work)


def snapshots_of_all(services) -> list:
    db = services.settings.neo4j_database
    ids = services.driver.execute_query(
        "MATCH (p:Person) RETURN 'Person' AS label, p.pid AS id UNION ALL "
        "MATCH (e:Entity) RETURN 'Entity' AS label, e.eid AS id", database_=db)[0]
    return [services.snapshots.load(r["label"], r["id"]) for r in ids]


def evaluated(services, as_of: date, within: int, snapshots: list | None = None) -> Counter:
    """The reference: the evaluator on every subject's snapshot as graph/snapshots loads it."""
    return Counter(item for snapshot in snapshots or snapshots_of_all(services)
                   for item in due_items(snapshot, CATALOG, as_of, within))


def scanned(services, as_of: date, within: int, page: int = 5000) -> Counter:
    return Counter(scan_due(services.driver, services.settings.neo4j_database, CATALOG, as_of, within, page))


def assert_same(got: Counter, want: Counter) -> None:
    missing, extra = want - got, got - want
    assert not missing and not extra, f"missing from the scan: {sorted(map(repr, missing))[:5]}\n" \
                                      f"not from the evaluator: {sorted(map(repr, extra))[:5]}"


@pytest.mark.timeout(900)  # 200 populations with deaths, closures and employment: over the default 300 s here
@hyp_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pop=populations())
def test_the_scan_finds_exactly_what_the_evaluator_finds(app, pop):
    services = app.extensions["lifecycle"]
    write(services, pop)
    assert_same(scanned(services, pop["as_of"], pop["within"], pop["page"]),
                evaluated(services, pop["as_of"], pop["within"]))


def test_the_edge_cases_are_found_and_settled_like_the_evaluator(app):
    """A fixed population whose items are known, so the property above is not comparing two empty sets."""
    services = app.extensions["lifecycle"]
    as_of = date(2026, 2, 1)
    pop = {
        "persons": [Person("leap", "id-1", "n1", date(2010, 2, 28), "M", "440604"),  # 16 on 28 Feb 2026
                    Person("cut", "id-2", "n2", date(2020, 8, 31), "F", "440604"),  # 6 on 31 Aug 2026: due that day
                    Person("late", "id-3", "n3", date(2020, 9, 1), "F", "440604"),  # due 31 Aug 2027: outside 30
                    Person("mum", "id-4", "n4", date(1976, 3, 10), "F", "440604"),  # retires at 50y8m: 10 Nov 2026
                    Person("dead", "id-5", "n5", date(2010, 2, 20), "M", "440604", deceased_on=date(2025, 1, 1)),
                    # newborns put on file by their birth certificate: one still without an ID number, one given it
                    Person("baby", None, "n6", date(2026, 1, 25), "F", None, birth_certificate_number="Q000000006"),
                    Person("named", "id-7", "n7", date(2026, 1, 24), "M", "440604",
                           birth_certificate_number="Q000000007", id_attached_on=date(2026, 1, 30))],
        "entities": [{"eid": "co", "uscc": "u1", "name": "co", "kind": "limited_company", "region": "440604",
                      "status": "active", "established_on": date(2020, 5, 1)},
                     {"eid": "new", "uscc": "u2", "name": "new", "kind": "limited_company", "region": "440604",
                      "status": "active", "established_on": date(2026, 1, 10)}],
        "materials": [
            {"hid": "mum", "mid": "old", "kind": "id_card", "issued_on": date(2006, 2, 20),
             "expires_on": date(2026, 2, 20), "superseded": True},
            {"hid": "mum", "mid": "card", "kind": "id_card", "issued_on": date(2006, 2, 21),
             "expires_on": date(2026, 2, 21), "superseded": False},
            {"hid": "co", "mid": "food", "kind": "food_business_permit", "issued_on": date(2021, 2, 10),
             "expires_on": date(2026, 2, 10), "superseded": False}],
        "events": [{"sid": "mum", "evid": "b", "kind": "birth", "occurred_on": date(2026, 1, 20)},
                   {"sid": "baby", "evid": "b6", "kind": "birth", "occurred_on": date(2026, 1, 25)},
                   {"sid": "named", "evid": "b7", "kind": "birth", "occurred_on": date(2026, 1, 24)}],
        "applications": [{"sid": "co", "aid": "a1", "service": "food_business_permit_renewal", "status": "draft",
                          "created_on": as_of, "submitted_on": None},
                         # a rejected renewal settles nothing: the card is still due
                         {"sid": "mum", "aid": "a2", "service": "id_card_renewal", "status": "rejected",
                          "created_on": date(2026, 1, 5), "submitted_on": date(2026, 1, 5)}],
        "relations": [{"a": "mum", "b": "leap", "type": "GUARDIAN_OF"}, {"a": "mum", "b": "leap", "type": "PARENT_OF"},
                      {"a": "mum", "b": "co", "type": "LEGAL_REP_OF"}, {"a": "mum", "b": "baby", "type": "PARENT_OF"},
                      {"a": "mum", "b": "named", "type": "PARENT_OF"}],
    }
    write(services, pop)
    for within in (30, 365):
        for page in (1, 5000):
            assert_same(scanned(services, as_of, within, page), evaluated(services, as_of, within))
    got = {(i.service, i.subject_id): i for i in scanned(services, as_of, 30)}
    assert got[("id_card_first", "leap")].due_on == date(2026, 2, 28)
    assert got[("id_card_first", "leap")].recipients == ("mum",)
    assert got[("id_card_renewal", "mum")].reason.source == "material:card"
    assert got[("food_business_permit_renewal", "co")].recipients == ("mum",)
    assert ("primary_school_entry", "cut") not in got and ("id_card_first", "dead") not in got
    assert got[("newborn_hukou_registration", "mum")].due_on == date(2026, 2, 20)
    # the newborn without an ID number: its registration is due to its mother a month after the birth; the one
    # whose ID number was attached since is settled (the number is assigned at that registration)
    assert got[("newborn_hukou_registration", "baby")].due_on == date(2026, 2, 25)
    assert got[("newborn_hukou_registration", "baby")].recipients == ("mum",)
    assert ("newborn_hukou_registration", "named") not in got
    year = {(i.service, i.subject_id) for i in scanned(services, as_of, 365)}
    assert ("primary_school_entry", "cut") in year and ("primary_school_entry", "late") not in year
    assert ("enterprise_annual_report", "co") in year and ("enterprise_annual_report", "new") not in year
    assert ("newborn_medical_insurance", "named") in year  # the attach settles the registration only
    assert ("newborn_hukou_registration", "named") not in year


def test_pages_break_ties_on_the_same_date_and_shared_anchors_reach_every_holder(app):
    services = app.extensions["lifecycle"]
    as_of, born = date(2026, 2, 1), date(2010, 3, 1)  # five turn 16 on 1 March 2026, five passports expire that day
    pids = [f"t{i}" for i in range(5)]
    write(services, {
        "persons": [Person(pid, f"id-{pid}", pid, born, "M", "440604") for pid in pids],
        "entities": [],
        "materials": [{"hid": pid, "mid": f"pp-{pid}", "kind": "passport", "issued_on": date(2016, 3, 1),
                       "expires_on": date(2026, 3, 1), "superseded": False} for pid in pids],
        "events": [{"sid": pid, "evid": f"b-{pid}", "kind": "birth", "occurred_on": date(2026, 1, 15)}
                   for pid in pids],
        "applications": [], "relations": []})
    services.driver.execute_query(  # one passport on file for two holders: each is reminded, as the evaluator says
        "MATCH (p:Person {pid: 't0'}), (m:Material {mid: 'pp-t1'}) CREATE (p)-[:HOLDS]->(m)",
        database_=services.settings.neo4j_database)
    want = evaluated(services, as_of, 30)
    assert sum(1 for i in want if i.service == "passport_renewal") == 6
    for page in (1, 2, 3, 5000):
        assert_same(scanned(services, as_of, 30, page), want)


def plan_operators(plan) -> list[tuple[str, str]]:
    out = [(plan["operatorType"], plan.get("args", {}).get("Details", ""))]
    for child in plan.get("children", []):
        out += plan_operators(child)
    return out


def test_every_scan_query_seeks_an_index(app):
    services = app.extensions["lifecycle"]
    as_of = date(2026, 2, 1)
    services.bulk.write_population(generate(300, seed=3, today=as_of))  # statistics a real graph would have
    queries = scan_queries(CATALOG, as_of, 365)
    assert {q.name.split(":")[2] for q in queries} == {"expiry", "age", "after_event", "after_kin_event", "yearly"}
    for q in queries:
        params = {**q.params, "page": 5000, "after_on": None, "after_key": "", "part_lo": "4", "part_hi": "8"}
        plan = services.driver.execute_query("EXPLAIN " + q.text, params,
                                             database_=services.settings.neo4j_database)[1].plan
        ops = plan_operators(plan)
        names = [op for op, _ in ops]
        assert not any(op.startswith(("NodeByLabelScan", "AllNodesScan")) for op in names), (q.name, names)
        if q.paged_by_label:  # the yearly trigger: every subject, in pages by key (a seek on the key's index)
            assert any(op.startswith("NodeUniqueIndexSeekByRange") for op in names), (q.name, names)
        else:
            seeks = [details for op, details in ops if op.startswith("NodeIndexSeekByRange")]
            assert seeks, (q.name, names)
            field = {"expiry": "expires_on", "age": "birth_date", "after_event": "occurred_on",
                     "after_kin_event": "occurred_on"}[q.name.split(":")[2]]
            assert any(field in details for details in seeks), (q.name, seeks)


def test_partitions_cover_every_due_item_exactly_once(app):
    services = app.extensions["lifecycle"]
    as_of = date(2026, 2, 1)
    services.bulk.write_population(generate(400, seed=11, today=as_of))
    whole = scanned(services, as_of, 365)
    assert sum(whole.values()) > 100
    for of in (2, 4, 16):
        parts = [partition(k, of) for k in range(of)]
        assert parts[0][0] == "" and parts[-1][1] == "\uffff"
        assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))  # adjacent, no gap, no overlap
        pieces = [Counter(scan_due(services.driver, services.settings.neo4j_database, CATALOG, as_of, 365,
                                   part=part)) for part in parts]
        assert sum(pieces, Counter()) == whole
        assert all(sum(p.values()) < sum(whole.values()) for p in pieces)


def test_the_demo_population(app, capsys):
    services = app.extensions["lifecycle"]
    as_of = date(2026, 2, 1)
    services.bulk.write_population(generate(2000, seed=7, today=as_of))
    snapshots = snapshots_of_all(services)
    for within in (365, 30):
        got = scanned(services, as_of, within)
        assert_same(got, evaluated(services, as_of, within, snapshots))
        counts = Counter(item.service for item in got.elements())
        with capsys.disabled():
            print(f"\ndemo 2000 persons, as_of {as_of}, within {within}: {sum(counts.values())} due items")
            for service, n in sorted(counts.items()):
                print(f"  {service:40} {n}")
        assert counts["id_card_renewal"] > 0 and counts["newborn_medical_insurance"] > 0
        if within == 365:  # the yearly windows close on 30 June and 31 December
            assert counts["enterprise_annual_report"] > 0 and counts["resident_medical_insurance_contribution"] > 0


def test_deaths_closures_and_employment_are_scanned_like_the_evaluator(app):
    """Known items of the life events' effects, so the property above is not comparing two empty sets there."""
    services = app.extensions["lifecycle"]
    as_of = date(2026, 10, 1)
    pop = {
        "persons": [Person("gone", "id-1", "n1", date(1950, 5, 1), "M", "440604", deceased_on=date(2026, 9, 20)),
                    Person("widow", "id-2", "n2", date(1952, 5, 1), "F", "440604"),
                    Person("son", "id-3", "n3", date(1980, 5, 1), "M", "440604"),
                    Person("grandchild", "id-4", "n4", date(2015, 5, 1), "M", "440604"),
                    Person("worker", "id-5", "n5", date(1990, 5, 1), "M", "440604")],
        "entities": [{"eid": "shut", "uscc": "u1", "name": "shut", "kind": "limited_company", "region": "440604",
                      "status": "closed", "closed_on": date(2026, 9, 25), "established_on": date(2020, 5, 1)},
                     {"eid": "firm", "uscc": "u2", "name": "firm", "kind": "limited_company", "region": "440604",
                      "status": "active", "established_on": date(2019, 5, 1)}],
        "materials": [{"hid": "shut", "mid": "food", "kind": "food_business_permit", "issued_on": date(2021, 11, 1),
                       "expires_on": date(2026, 11, 1), "superseded": False}],
        "events": [{"sid": "gone", "evid": "death", "kind": "death", "occurred_on": date(2026, 9, 20)},
                   {"sid": "shut", "evid": "closure", "kind": "closure", "occurred_on": date(2026, 9, 25)},
                   {"sid": "firm", "evid": "hired", "kind": "hiring", "occurred_on": date(2026, 9, 15)}],
        "applications": [],
        "relations": [{"a": "gone", "b": "widow", "type": "SPOUSE_OF"}, {"a": "gone", "b": "son", "type": "PARENT_OF"},
                      {"a": "son", "b": "grandchild", "type": "PARENT_OF"},
                      {"a": "gone", "b": "grandchild", "type": "GUARDIAN_OF"},
                      {"a": "son", "b": "shut", "type": "LEGAL_REP_OF"},
                      {"a": "worker", "b": "firm", "type": "EMPLOYED_BY"},
                      {"a": "son", "b": "shut", "type": "EMPLOYED_BY"}],  # a closed employer employs no one
    }
    write(services, pop)
    for within in (30, 365):
        assert_same(scanned(services, as_of, within), evaluated(services, as_of, within))
    got = {(i.service, i.subject_id): i for i in scanned(services, as_of, 365)}
    assert got[("after_death_bundle", "widow")].due_on == date(2026, 10, 18)
    assert ("after_death_bundle", "son") in got and ("after_death_bundle", "grandchild") not in got
    assert not any(sid == "gone" for _, sid in got)
    assert {s for s, sid in got if sid == "shut"} == {"closure_social_insurance_deregistration",
                                                       "closure_housing_fund_deregistration"}
    assert got[("closure_social_insurance_deregistration", "shut")].recipients == ("son",)
    assert ("employee_social_insurance_registration", "firm") in got
    assert ("resident_medical_insurance_contribution", "worker") not in got
    assert ("resident_medical_insurance_contribution", "son") in got
    assert got[("id_card_first", "grandchild")].recipients == ("son",) if ("id_card_first", "grandchild") in got \
        else True
