"""The demo population: deterministic, valid identifiers, consistent households, materials that obey the rules."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest

from profiles.catalog import load_catalog
from profiles.demo import (
    ABOLISHED,
    DISTRICTS,
    Population,
    add_years,
    age_on,
    chunks,
    current_region,
    generate,
    id_card_years,
    showcase,
)
from profiles.identifiers import parse_resident_id, parse_uscc, region_ever_existed
from profiles.materials import check_material
from profiles.models import ENTITY_KINDS

TODAY = date(2025, 6, 1)
N = 3000


@pytest.fixture(scope="module")
def pop() -> Population:
    return generate(N, seed=7, today=TODAY)


@pytest.fixture(scope="module")
def persons(pop):
    return {p.pid: p for p in pop.persons}


def test_the_same_seed_gives_the_same_population_and_another_seed_does_not():
    assert generate(200, seed=1, today=TODAY) == generate(200, seed=1, today=TODAY)
    assert generate(200, seed=1, today=TODAY).persons != generate(200, seed=2, today=TODAY).persons


def test_chunks_are_the_same_stream_cut_at_household_boundaries():
    whole = generate(500, seed=3, today=TODAY)
    pieces = list(chunks(500, seed=3, today=TODAY, size=60))
    assert len(pieces) > 5
    joined = Population()
    for piece in pieces:
        joined.extend(piece)
    assert joined == whole


def test_exactly_the_requested_number_of_persons(pop):
    assert len(pop.persons) == N
    assert len(generate(1, seed=1, today=TODAY).persons) == 1


def test_every_region_code_ever_existed_and_old_codes_map_to_a_district():
    for code in [*DISTRICTS, *ABOLISHED]:
        assert region_ever_existed(code), code
    for old, (successor, _from, _before) in ABOLISHED.items():
        assert successor in DISTRICTS and old not in DISTRICTS


def test_every_id_number_is_valid_unique_and_matches_the_person(pop):
    numbers = [p.id_number for p in pop.persons if p.id_number is not None]
    assert len(set(numbers)) == len(numbers)
    for p in pop.persons:
        if p.id_number is None:  # a newborn not registered yet: tests below
            continue
        rid = parse_resident_id(p.id_number, TODAY)
        assert (rid.birth_date, rid.sex, rid.region) == (p.birth_date, p.sex, p.region)
        assert region_ever_existed(p.region)


def test_a_small_share_carries_an_abolished_code_from_before_it_was_abolished(pop):
    old = [p for p in pop.persons if p.region in ABOLISHED]
    assert 0.01 < len(old) / len(pop.persons) < 0.15
    for p in old:
        _successor, born_from, born_before = ABOLISHED[p.region]
        assert born_from <= p.birth_date < born_before


def test_ages_spread_like_a_population(pop):
    ages = [age_on(p.birth_date, TODAY) for p in pop.persons]
    assert min(ages) >= 0 and max(ages) <= 95
    share = lambda lo, hi: sum(lo <= a <= hi for a in ages) / len(ages)  # noqa: E731
    assert share(20, 60) > 0.5
    assert 0.1 < share(0, 17) < 0.35
    assert 0.05 < share(65, 95) < 0.25


def test_contact_details_shares_and_formats(pop):
    phones = [p.phone for p in pop.persons if p.phone]
    assert 0.7 < len(phones) / N < 0.9
    assert all(len(phone) == 14 and phone.startswith("+861") and phone[4] in "3456789" and phone[1:].isdigit()
               for phone in phones)
    assert 0.2 < sum(bool(p.email) for p in pop.persons) / N < 0.4


def test_households_are_consistent(pop, persons):
    spouses = [r for r in pop.relations if r.type == "SPOUSE_OF"]
    parents = defaultdict(set)
    for r in pop.relations:
        if r.type == "PARENT_OF":
            parents[r.to_id].add(r.from_id)
    guardians = {(r.from_id, r.to_id) for r in pop.relations if r.type == "GUARDIAN_OF"}
    couple = {}
    for r in spouses:
        husband, wife = persons[r.from_id], persons[r.to_id]
        assert (husband.sex, wife.sex) == ("M", "F")
        assert current_region(husband.region) == current_region(wife.region)
        couple[frozenset((husband.pid, wife.pid))] = r
    assert len(spouses) > N / 6
    assert parents, "some households have children"
    for child_id, parent_ids in parents.items():
        child = persons[child_id]
        assert len(parent_ids) == 2 and frozenset(parent_ids) in couple
        father = next(persons[p] for p in parent_ids if persons[p].sex == "M")
        assert child.name.startswith(father.name[0])
        if child.id_number is not None:  # a newborn not registered yet has no region of registration
            assert current_region(child.region) == current_region(father.region)
        for pid in parent_ids:
            assert 20 <= age_on(persons[pid].birth_date, child.birth_date) <= 40
            assert ((pid, child_id) in guardians) == (age_on(child.birth_date, TODAY) < 18)
    for pid, _child in guardians:
        assert age_on(persons[pid].birth_date, TODAY) >= 18
    singles = set(persons) - {pid for r in spouses for pid in (r.from_id, r.to_id)} - set(parents)
    assert len(singles) > N / 20, "singles and the widowed elderly live alone"


def test_every_material_passes_the_rules_and_belongs_to_a_holder(pop, persons):
    kinds = load_catalog().materials  # the catalog shipped with the code, which the demo population is made for
    entities = {e.eid for e in pop.entities}
    for m in pop.materials:
        holder = "person" if m.holder_id in persons else "entity"
        assert m.holder_id in persons or m.holder_id in entities
        check_material(kinds, holder, m.kind, m.issued_on, m.expires_on, TODAY)
        assert m.provenance in ("issued", "verified", "declared") and m.number and m.issuer
    per_person = sum(kinds[m.kind].holder == "person" for m in pop.materials) / N
    assert 2.5 < per_person < 4.0
    counts = Counter(m.kind for m in pop.materials)
    assert counts["hukou"] == sum(p.id_number is not None for p in pop.persons)  # registered residents
    assert {"id_card", "birth_certificate", "passport", "driving_licence", "residence_permit",
            "marriage_certificate", "business_licence", "food_business_permit"} <= set(counts)


def test_id_card_validity_follows_the_age_at_issue(pop, persons):
    cards = [m for m in pop.materials if m.kind == "id_card"]
    for m in cards:
        years = id_card_years(age_on(persons[m.holder_id].birth_date, m.issued_on))
        assert m.expires_on == (None if years is None else add_years(m.issued_on, years))
        assert m.number == persons[m.holder_id].id_number
    holders = {m.holder_id for m in cards}
    assert all(p.pid in holders for p in pop.persons if age_on(p.birth_date, TODAY) >= 16)
    assert any(age_on(persons[h].birth_date, TODAY) < 16 for h in holders), "some children have a card"
    statuses = Counter(m.status(TODAY) for m in cards)
    assert statuses["expired"] > 0 and statuses["expiring"] > 0 and statuses["valid"] > len(cards) / 2
    years_left = {m.expires_on.year for m in cards if m.expires_on and m.expires_on > TODAY}
    assert len(years_left) >= 15, "expiries spread over the coming years"
    assert any(m.expires_on is None for m in cards), "long-term cards for those 46 and older"


def test_other_materials_have_realistic_validity(pop, persons):
    for m in pop.materials:
        born = persons[m.holder_id].birth_date if m.holder_id in persons else None
        if m.kind == "passport":
            assert m.expires_on == add_years(m.issued_on, 5 if age_on(born, m.issued_on) < 16 else 10)
        elif m.kind == "residence_permit":
            assert m.expires_on == add_years(m.issued_on, 1)
        elif m.kind == "food_business_permit":
            assert m.expires_on == add_years(m.issued_on, 5)
        elif m.kind in ("hukou", "birth_certificate", "marriage_certificate"):
            assert m.expires_on is None
        if m.kind == "birth_certificate":
            assert born.year >= 1996
    adults = [p for p in pop.persons if age_on(p.birth_date, TODAY) >= 18]
    share = lambda kind: len({m.holder_id for m in pop.materials if m.kind == kind}) / len(adults)  # noqa: E731
    assert 0.18 < share("passport") < 0.32 and 0.3 < share("driving_licence") < 0.5


def test_about_one_entity_per_ten_persons_each_with_an_adult_legal_representative(pop, persons):
    assert len(pop.entities) == N // 10
    reps = {r.to_id: r.from_id for r in pop.relations if r.type == "LEGAL_REP_OF"}
    for e in pop.entities:
        assert parse_uscc(e.uscc) == e.uscc and e.kind in ENTITY_KINDS and e.region in DISTRICTS
        assert e.uscc[2:8] == e.region
        rep = persons[reps[e.eid]]
        assert age_on(rep.birth_date, TODAY) >= 18 and age_on(rep.birth_date, e.established_on) >= 18
        assert e.established_on <= TODAY
    assert len({e.uscc for e in pop.entities}) == len(pop.entities)
    licences = Counter(m.holder_id for m in pop.materials if m.kind == "business_licence")
    assert all(licences[e.eid] == 1 for e in pop.entities)
    assert any(r.type == "SHAREHOLDER_OF" for r in pop.relations) and any(r.type == "EMPLOYED_BY" for r in
                                                                          pop.relations)


def test_events(pop, persons):
    by_kind = Counter(e.kind for e in pop.events)
    assert by_kind["founding"] == len(pop.entities) and by_kind["annual_report"] > 0
    # a newborn without an ID number gets its birth event when it is written (graph/bulk.py), not from the demo
    assert by_kind["birth"] == sum(p.birth_date.year >= 2000 and p.id_number is not None for p in pop.persons)
    catalog = load_catalog()
    for e in pop.events:
        assert e.kind in catalog.event_kinds("person" if e.subject_id in persons else "entity")
        assert e.occurred_on <= TODAY
        if e.kind == "annual_report":
            assert e.details == {"year": TODAY.year - 1}
    married = {pid for r in pop.relations if r.type == "SPOUSE_OF" for pid in (r.from_id, r.to_id)}
    assert {e.subject_id for e in pop.events if e.kind == "marriage"} == married


def test_showcase_picks_a_guardian_an_adult_and_a_business(pop):
    citizens, business = showcase(pop, TODAY)
    assert len(citizens) == 2 and citizens[0] != citizens[1]
    assert any(r.type == "GUARDIAN_OF" and r.from_id == citizens[0].pid for r in pop.relations)
    assert business in pop.entities


def test_when_a_birth_dates_500_sequence_numbers_are_all_given_the_next_person_is_born_the_day_before():
    """A million persons clamp many wives' birth dates to one day (21 years ago): the generator must not loop."""
    from datetime import timedelta

    from profiles.demo import SEQUENCES_PER_DAY, _Generator

    gen, day, out = _Generator(seed=7, today=TODAY), date(2004, 6, 1), Population()
    household = {"home": "440604", "address": "佛山市禅城区祖庙路1号"}
    people = [gen.person("李", "F", day, household, out) for _ in range(SEQUENCES_PER_DAY + 3)]
    ids = [parse_resident_id(p.id_number, TODAY) for p in people]
    assert len({p.id_number for p in people}) == len(people)  # all different, all valid
    assert [i.birth_date for i in ids].count(day) == SEQUENCES_PER_DAY
    assert [p.birth_date for p in people[-3:]] == [i.birth_date for i in ids[-3:]] == [day - timedelta(days=1)] * 3


@pytest.fixture(scope="module")
def district() -> Population:
    """Large enough for a few births a month."""
    return generate(20000, seed=11, today=TODAY)


def test_births_spread_evenly_over_the_recent_past_instead_of_piling_up_before_today(district):
    ages = [(TODAY - p.birth_date).days for p in district.persons]
    recent = sum(a < 60 for a in ages) / 60  # births a day in the last two months
    before = sum(365 <= a < 3 * 365 for a in ages) / (2 * 365)  # and one to three years ago (it was 3.2x before)
    assert before > 0
    assert recent <= 2 * before, (recent, before)


def test_some_newborns_of_the_last_month_are_not_registered_yet_and_carry_their_birth_certificate(district):
    newborns = [p for p in district.persons if p.id_number is None]
    assert newborns
    held = {(m.holder_id, m.kind): m for m in district.materials}
    parents = {r.to_id for r in district.relations if r.type in ("PARENT_OF", "GUARDIAN_OF")}
    births = {e.subject_id for e in district.events if e.kind == "birth"}
    for p in newborns:
        assert (TODAY - p.birth_date).days <= 30 and p.region is None and p.phone is None
        assert held[(p.pid, "birth_certificate")].number == p.birth_certificate_number
        assert (p.pid, "hukou") not in held and (p.pid, "id_card") not in held
        assert p.pid in parents and p.pid not in births


def test_recent_deaths_closures_and_hirings_as_the_events_declare_them(district):
    persons = {p.pid: p for p in district.persons}
    entities = {e.eid: e for e in district.entities}
    deaths = {e.subject_id: e for e in district.events if e.kind == "death"}
    assert deaths and {pid for pid, p in persons.items() if p.deceased_on} == set(deaths)
    for pid, e in deaths.items():
        assert persons[pid].deceased_on == e.occurred_on and TODAY - timedelta(days=60) <= e.occurred_on <= TODAY
        assert age_on(persons[pid].birth_date, e.occurred_on) >= 70
    reps = {r.from_id for r in district.relations if r.type == "LEGAL_REP_OF"}
    assert not reps & set(deaths)  # a business's representative is drawn from the living
    closures = {e.subject_id: e for e in district.events if e.kind == "closure"}
    assert closures and {eid for eid, e in entities.items() if e.status == "closed"} == set(closures)
    for eid, e in closures.items():
        assert entities[eid].closed_on == e.occurred_on > entities[eid].established_on
        assert all(x.occurred_on <= e.occurred_on for x in district.events if x.subject_id == eid)
    employed = {(r.from_id, r.to_id) for r in district.relations if r.type == "EMPLOYED_BY"}
    hirings = [e for e in district.events if e.kind == "hiring"]
    assert hirings
    for e in hirings:
        assert (e.details["employee_pid"], e.subject_id) in employed and entities[e.subject_id].status == "active"
        assert TODAY - timedelta(days=42) <= e.occurred_on <= TODAY
    kinds = load_catalog().events
    for e in district.events:  # every detail is what events.yaml declares for the kind
        declared = {d.name: d.type for d in kinds[e.kind].details}
        for name, value in e.details.items():
            assert name in declared, (e.kind, name)
            assert isinstance(value, int) if declared[name] == "integer" else isinstance(value, str), (e.kind, name)
