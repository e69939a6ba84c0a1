"""The use cases of an application's life against in-memory fakes of the repositories (no Neo4j, no Redis): one
matter, one application; a draft adopted and others settled; withdrawn, decided, returned and resubmitted."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from notifier import outcomes
from profiles.catalog import load_catalog
from profiles.config import Settings
from profiles.errors import Conflict, NotFound, Rejected
from profiles.matters import OPEN, Matter, MatterOpen
from profiles.models import Actor, Application, Transition
from web.usecases import applications as usecases
from web.usecases.subjects import SubjectRef

ON = date(2026, 12, 2)
CITIZEN = Actor("citizen p1", "citizen")
OFFICER = Actor("李窗口 · 禅城区行政服务中心 (window1)", "officer")
PERSON = SubjectRef.of("person", "p1")


@dataclass
class FakeApplications:
    """The repository's contract in memory: the same matters rules, no locks needed in one thread."""

    by_aid: dict[str, Application] = field(default_factory=dict)
    moves: dict[str, list[Transition]] = field(default_factory=dict)

    def draft(self, subject: SubjectRef, service: str, aid: str) -> None:
        self.by_aid[aid] = Application(aid, subject.label, subject.id, service, "draft", ON, None, 20, None, {}, ())

    def file(self, app: Application, actor: Actor, draft: str | None = None) -> Application:
        mine = [a for a in self.by_aid.values() if (a.subject_id, a.service) == (app.subject_id, app.service)]
        matter = Matter(open_aid=next((a.aid for a in mine if a.status in OPEN), None),
                        drafts=tuple(a.aid for a in mine if a.status == "draft"))
        filed = replace(matter.file(app, draft), number=f"{ON:%Y%m%d}-{len(self.by_aid) + 1:05d}")
        for other in matter.settled_by_filing(filed):
            self.by_aid[other] = replace(self.by_aid[other], status="settled")
        self.by_aid[filed.aid] = filed
        self._record(filed.aid, "draft" if filed.aid in matter.drafts else "", filed.status, actor)
        return filed

    def move(self, aid: str, actor: Actor, change, note: str | None = None) -> Application:
        if aid not in self.by_aid:
            raise NotFound("application", aid)
        before = self.by_aid[aid]
        self.by_aid[aid] = moved = change(before)
        self._record(aid, before.status, moved.status, actor, note)
        return moved

    def history(self, aid: str) -> list[Transition]:
        return self.moves.get(aid, [])

    def _record(self, aid: str, before: str, after: str, actor: Actor, note: str | None = None) -> None:
        self.moves.setdefault(aid, []).append(Transition(datetime.now(UTC), before, after, actor.name, actor.role,
                                                         note))


@dataclass
class FakeServices:
    catalog: object
    applications: FakeApplications = field(default_factory=FakeApplications)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(Settings().catalog_dir)


@pytest.fixture
def services(catalog) -> FakeServices:
    return FakeServices(catalog)


@pytest.fixture(autouse=True)
def told(monkeypatch) -> list[str]:
    """The applicants told of a decision (the notifier's part is tested on the real graph: test_decision_notices)."""
    calls: list[str] = []
    monkeypatch.setattr(outcomes, "after_decision", lambda _services, aid: calls.append(aid))
    return calls


def file(services, actor=CITIZEN, subject=PERSON, code="id_card_renewal", draft=None) -> Application:
    return usecases.file_application(services, actor, subject, code, {"reason": "有效期满"}, ["m1", "m1"], ON,
                                     draft=draft)


def test_a_second_filing_of_an_open_matter_is_refused_naming_the_first(services):
    first = file(services, actor=OFFICER)  # at the window
    with pytest.raises(MatterOpen) as refused:
        file(services)  # the citizen, online
    assert refused.value.aid == first.aid and refused.value.field == "service"
    assert first.status == "submitted" and first.reused == ("m1",) and first.number
    assert file(services, code="passport_renewal").status == "submitted"  # another matter is free


def test_a_filing_anywhere_becomes_the_scans_draft_and_settles_the_others(services):
    services.applications.draft(PERSON, "id_card_renewal", "d-old")
    services.applications.draft(PERSON, "id_card_renewal", "d-new")
    filed = file(services, actor=OFFICER, draft="d-new")
    assert filed.aid == "d-new"
    assert services.applications.by_aid["d-old"].status == "settled"
    assert [(t.before, t.after, t.actor) for t in services.applications.history("d-new")] == [
        ("draft", "submitted", OFFICER.name)]


def test_a_filing_names_only_a_draft_of_its_own_matter(services):
    services.applications.draft(PERSON, "passport_renewal", "d-passport")
    with pytest.raises(Rejected) as refused:
        file(services, draft="d-passport")
    assert refused.value.field == "draft"


def test_a_withdrawn_application_frees_the_matter(services):
    first = file(services)
    withdrawn = usecases.withdraw(services, CITIZEN, first.aid, "搬家了，到新住址办理")
    assert withdrawn.status == "withdrawn" and withdrawn.note == "搬家了，到新住址办理"
    assert file(services).aid != first.aid
    with pytest.raises(Conflict):
        usecases.withdraw(services, CITIZEN, first.aid, "again")


def test_returned_for_correction_resubmitted_then_approved_one_application_throughout(services, told):
    filed = file(services)
    returned = usecases.decide(services, OFFICER, filed.aid, "needs_correction", "照片不合格，请补交", ON)
    assert returned.status == "needs_correction"
    with pytest.raises(MatterOpen):  # still the one matter while the applicant corrects it
        file(services)
    later = date(2026, 12, 10)
    again = usecases.resubmit(services, CITIZEN, filed.aid, {"reason": "有效期满", "photo": "新照片"}, later)
    assert again.status == "submitted" and again.submitted_on == later and again.decide_by > filed.decide_by
    approved = usecases.decide(services, OFFICER, filed.aid, "approved", "准予换领", later)
    assert approved.status == "approved" and approved.aid == filed.aid
    assert [(t.before, t.after, t.role) for t in services.applications.history(filed.aid)] == [
        ("", "submitted", "citizen"), ("submitted", "needs_correction", "officer"),
        ("needs_correction", "submitted", "citizen"), ("submitted", "approved", "officer")]
    with pytest.raises(Conflict, match="already approved"):
        usecases.decide(services, OFFICER, filed.aid, "rejected", "改主意", later)
    assert told == [filed.aid, filed.aid]  # once per decision; not for the refused one, nor the resubmission
    assert file(services).status == "submitted"  # a decided matter is closed: a new period may be filed


@pytest.mark.parametrize(("code", "subject", "why"), [
    ("no_such_service", PERSON, "unknown service"),
    ("enterprise_annual_report", PERSON, "a service for a entity"),
    ("id_card_renewal", SubjectRef.of("entities", "e1"), "a service for a person"),
])
def test_a_service_the_catalog_does_not_offer_this_subject_is_refused(services, code, subject, why):
    with pytest.raises(Rejected, match=why) as refused:
        file(services, code=code, subject=subject)
    assert refused.value.field == "service" and services.applications.by_aid == {}


def test_only_a_submitted_application_can_be_resubmitted_or_decided(services):
    filed = file(services)
    with pytest.raises(Conflict):
        usecases.resubmit(services, CITIZEN, filed.aid, {}, ON)
    with pytest.raises(Rejected):
        usecases.decide(services, OFFICER, filed.aid, "maybe", "", ON)
    with pytest.raises(NotFound):
        usecases.withdraw(services, CITIZEN, "no-such-aid", "x")


def test_a_subject_is_named_the_same_whatever_the_channel_calls_it():
    assert SubjectRef.of("person", "p") == SubjectRef.of("persons", "p") == SubjectRef.of("Person", "p")
    assert SubjectRef.of("entities", "e").kind == "entity"
    with pytest.raises(Rejected):
        SubjectRef.of("planet", "x")


# --- recording a material or an event -------------------------------------------------------------------------------
@dataclass
class FakeHoldings:
    written: list = field(default_factory=list)

    def add_material(self, label: str, material):
        self.written.append((label, material))
        return material

    def add_event(self, label: str, event):
        self.written.append((label, event))
        return event


@dataclass
class FakeEffects:
    """graph.effects.Effects: runs the use case's check on a subject born (or founded) in 1980, alive, then records."""

    written: list = field(default_factory=list)

    def record(self, label, event, kind, check, actor, now):
        from profiles.events import SubjectState
        check(SubjectState("person" if label == "Person" else "entity", date(1980, 1, 1), None))
        self.written.append((label, event, kind.effect))
        return SimpleNamespace(event=event)


@dataclass
class FakeHolder:
    catalog: object
    holdings: FakeHoldings = field(default_factory=FakeHoldings)
    effects: FakeEffects = field(default_factory=FakeEffects)

    def now(self):
        return datetime(2026, 12, 2, 9, 0)


def test_a_material_is_recorded_as_the_catalog_allows_whoever_records_it(catalog):
    from profiles.materials import MaterialRejected
    from web.usecases.holdings import record_material

    services = FakeHolder(catalog)
    card = record_material(services, OFFICER, PERSON, "id_card", "c1234x", date(2016, 1, 1), date(2036, 1, 1),
                           "佛山市公安局", "verified", {}, ON)
    assert (card.number, card.provenance, services.holdings.written[0][0]) == ("C1234X", "verified", "Person")
    with pytest.raises(MaterialRejected) as refused:  # an ID card is a person's, not a business's
        record_material(services, OFFICER, SubjectRef.of("entity", "e1"), "id_card", "X1", date(2016, 1, 1),
                        date(2036, 1, 1), "佛山市公安局", "verified", {}, ON)
    assert refused.value.field == "kind" and len(services.holdings.written) == 1


@pytest.mark.parametrize(("subject", "kind", "day", "field_at_fault"), [
    (PERSON, "founding", date(2020, 1, 1), "kind"),
    (SubjectRef.of("entity", "e1"), "marriage", date(2020, 1, 1), "kind"),
    (PERSON, "marriage", date(2026, 12, 3), "occurred_on"),
])
def test_an_event_the_subject_cannot_have_or_in_the_future_is_refused(catalog, subject, kind, day, field_at_fault):
    from web.usecases.holdings import record_event

    services = FakeHolder(catalog)
    with pytest.raises(Rejected) as refused:
        record_event(services, OFFICER, subject, kind, day, {}, ON)
    assert refused.value.field == field_at_fault and services.effects.written == []
    assert record_event(services, OFFICER, PERSON, "marriage", ON, {"note": "登记"}, ON).kind == "marriage"


@pytest.mark.parametrize(("subject", "kind", "day", "details", "field_at_fault"), [
    (PERSON, "death", date(1979, 12, 31), {}, "occurred_on"),  # before the birth
    (PERSON, "death", date(2026, 12, 3), {}, "occurred_on"),  # in the future
    (SubjectRef.of("entity", "e1"), "closure", date(1979, 6, 1), {}, "occurred_on"),  # before the founding
    (SubjectRef.of("entity", "e1"), "hiring", date(2026, 1, 5), {}, "details.employee_pid"),  # who was hired?
    (SubjectRef.of("entity", "e1"), "hiring", date(2026, 1, 5), {"employee_pid": 7}, "details.employee_pid"),
    (PERSON, "household_move", date(2026, 1, 5), {"region": "440604"}, "details.address"),
    (PERSON, "medical_insurance_paid", date(2026, 1, 5), {"year": "2026"}, "details.year"),
])
def test_an_event_against_its_kind_or_the_subject_s_life_is_refused_naming_the_field(catalog, subject, kind, day,
                                                                                    details, field_at_fault):
    from web.usecases.holdings import record_event

    services = FakeHolder(catalog)
    with pytest.raises(Rejected) as refused:
        record_event(services, OFFICER, subject, kind, day, details, ON)
    assert refused.value.field == field_at_fault and services.effects.written == []


# --- putting subjects on file, notices, reads ---------------------------------------------------------------------
@dataclass
class Recorder:
    """Any repository: records each call by name, returns the first argument (what a repository echoes)."""

    calls: list = field(default_factory=list)

    def __getattr__(self, name: str):
        def call(*args, **kwargs):
            self.calls.append((name, args))
            return args[0] if args else None
        return call


@dataclass
class FakeAll:
    subjects: Recorder = field(default_factory=Recorder)
    preferences: Recorder = field(default_factory=Recorder)
    personal: Recorder = field(default_factory=Recorder)
    access_log: Recorder = field(default_factory=Recorder)
    portal: Recorder = field(default_factory=Recorder)


def test_a_person_is_put_on_file_from_the_parsed_number_or_refused_naming_it():
    from web.usecases.register import register_person

    services = FakeAll()
    person = register_person(services, OFFICER, "440604-19900517-1230", " 张三 ", "13812345678", None, ON)
    assert (person.id_number, person.name, person.phone, person.sex) == ("440604199005171230", "张三",
                                                                         "+8613812345678", "M")
    with pytest.raises(Rejected) as refused:
        register_person(services, OFFICER, "440604199005171234", "李四", None, None, ON)
    assert refused.value.field == "id_number" and len(services.subjects.calls) == 1


@pytest.mark.parametrize(("uscc", "founded", "region", "field_at_fault"), [
    ("91440604MA4W12345X", date(2018, 6, 1), None, "uscc"),
    (None, date(2027, 1, 1), None, "established_on"),
    (None, date(2018, 6, 1), "999999", "region"),
])
def test_an_entity_is_refused_naming_the_field(uscc, founded, region, field_at_fault):
    from profiles.identifiers import uscc_check_digit
    from web.usecases.register import register_entity

    good = "91440604MA4W12345" + uscc_check_digit("91440604MA4W12345")
    services = FakeAll()
    with pytest.raises(Rejected) as refused:
        register_entity(services, OFFICER, uscc or good, "佛山市示例有限公司", "limited_company", founded, region, ON)
    assert refused.value.field == field_at_fault and services.subjects.calls == []


@pytest.mark.parametrize(("opt_out", "expected"), [
    (True, ["set", "opt_out_sms"]), (False, ["set", "lift_sms_opt_out"]), (None, ["set"])])
def test_preferences_and_the_sms_opt_out(opt_out, expected):
    from profiles.notices import Preferences
    from web.usecases.notices import set_preferences

    services = FakeAll()
    set_preferences(services, CITIZEN, "p1", Preferences(channels=("sms",)), datetime.now(UTC), opt_out)
    assert [name for name, _args in services.preferences.calls + services.personal.calls] == expected


def test_a_read_is_recorded_with_its_actor_subject_and_purpose():
    from web.usecases.reads import read_subject

    services = FakeAll()
    read_subject(services, OFFICER, SubjectRef.of("persons", "p1"), "窗口受理", "profile")
    assert services.access_log.calls == [("record", (OFFICER, "Person", "p1", "窗口受理", "profile"))]
