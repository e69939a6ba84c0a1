"""`catalog check`: a sound catalog loads; each kind of breakage is refused with its file, key path and reason."""

from __future__ import annotations

import copy

import pytest
import yaml

from profiles.catalog import DEFAULT_DIR, CatalogError, check_catalog, load_catalog
from profiles.catalog.loader import load_catalog_once
from profiles.catalog.model import AgeTrigger, ExpiryTrigger, MonthDay, YearlyTrigger

TEXT = {"zh": "文字", "en": "Text"}
MATERIALS = {"version": 1, "materials": [
    {"code": "id_card", "name": TEXT, "issuer": TEXT, "holder": "person", "expires": "optional"},
    {"code": "hukou", "name": TEXT, "issuer": TEXT, "holder": "person", "expires": "never"},
    {"code": "business_licence", "name": TEXT, "issuer": TEXT, "holder": "entity", "expires": "optional"},
]}
GUIDE = {  # every service says how to do it (profiles/catalog/guide.py); test_catalog_guide.py breaks it
    "purpose": TEXT, "who": TEXT, "where": {"department": TEXT, "place": TEXT}, "in_person": [TEXT],
    "fee": {"yuan": 20, "source": {"title": "收费依据"}}, "online": {"available": False},
}
RENEWAL = {
    "code": "id_card_renewal", "version": 1, "name": TEXT, "department": TEXT, "audience": "person",
    "time_limit_days": 20, "sources": [{"title": "居民身份证法 第五条", "url": "https://www.gov.cn/x", "note": "n"}],
    "scenarios": [{"code": "expiry", "name": TEXT, "materials": [{"kind": "id_card", "valid_on_decision": False},
                                                                  {"kind": "hukou", "valid_on_decision": True}]}],
    "fields": [{"name": "applicant_name", "label": TEXT, "source": "person.name"},
               {"name": "address", "label": TEXT, "source": "material[hukou].fields.address"},
               {"name": "reason", "label": TEXT, "source": None}],
    "triggers": [{"kind": "expiry", "material": "id_card", "window_days": 90, "offsets": [90, 30, 7]}],
    "stage": "living",
    "guide": GUIDE,
}
SCHOOL = {
    "code": "primary_school_entry", "version": 1, "name": TEXT, "department": TEXT, "audience": "person",
    "time_limit_days": 30, "sources": [{"title": "义务教育法 第十一条"}],
    "scenarios": [{"code": "default", "name": TEXT, "materials": [{"kind": "hukou", "valid_on_decision": True}]}],
    "triggers": [{"kind": "age", "age": 6, "reached_by": {"month": 8, "day": 31}, "notify_from": {"month": 3, "day": 1},
                  "notify": "guardians", "offsets": [30, 7]}],
    "stage": "教育",  # a stage by the document's own name works as well as by key
    "guide": GUIDE,
}
REPORT = {
    "code": "enterprise_annual_report", "version": 1, "name": TEXT, "department": TEXT, "audience": "entity",
    "time_limit_days": 1, "sources": [{"title": "企业信息公示暂行条例 第八条"}],
    "scenarios": [{"code": "default", "name": TEXT}],
    "fields": [{"name": "legal_rep_name", "label": TEXT, "source": "entity.legal_rep.name"}],
    "triggers": [{"kind": "yearly", "window": {"from": {"month": 1, "day": 1}, "to": {"month": 6, "day": 30}},
                  "done_event": "annual_report", "offsets": [60, 30, 7]}],
    "bundle": [],
    "stage": "operation",
    "nature": "deadline",
    "guide": GUIDE,
}
STAGES = (DEFAULT_DIR / "stages.yaml").read_text(encoding="utf-8")


EVENTS = yaml.safe_load((DEFAULT_DIR / "events.yaml").read_text(encoding="utf-8"))


def write(tmp_path, materials=MATERIALS, services=(RENEWAL, SCHOOL, REPORT), raw: dict[str, str] | None = None,
          events=EVENTS):
    (tmp_path / "services").mkdir(exist_ok=True)
    (tmp_path / "events.yaml").write_text(yaml.safe_dump(events, allow_unicode=True), encoding="utf-8")
    (tmp_path / "materials.yaml").write_text(yaml.safe_dump(materials, allow_unicode=True), encoding="utf-8")
    (tmp_path / "stages.yaml").write_text(STAGES, encoding="utf-8")
    for s in services:
        (tmp_path / "services" / f"{s['code']}.yaml").write_text(yaml.safe_dump(s, allow_unicode=True),
                                                                 encoding="utf-8")
    for name, text in (raw or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_sound_catalog_loads(tmp_path):
    catalog = load_catalog(write(tmp_path))
    assert set(catalog.services) == {"id_card_renewal", "primary_school_entry", "enterprise_annual_report"}
    # stages are kept by key, whether the file names the key or the document's name; nature defaults to deadline
    assert {c: (s.stage, s.nature) for c, s in catalog.services.items()} == {
        "id_card_renewal": ("living", "deadline"), "primary_school_entry": ("education", "deadline"),
        "enterprise_annual_report": ("operation", "deadline")}
    assert catalog.materials["hukou"].expires == "never"
    renewal = catalog.services["id_card_renewal"]
    assert renewal.triggers == (ExpiryTrigger("id_card", 90, (90, 30, 7)),)
    assert [f.source for f in renewal.fields] == ["person.name", "material[hukou].fields.address", None]
    school = catalog.services["primary_school_entry"].triggers[0]
    assert isinstance(school, AgeTrigger) and school.reached_by == MonthDay(8, 31) and school.notify == "guardians"
    report = catalog.services["enterprise_annual_report"].triggers[0]
    assert isinstance(report, YearlyTrigger) and report.window_to == MonthDay(6, 30)


def changed(service: dict, path: str, value) -> dict:
    """A deep copy of `service` with the value at a dotted path (list indexes as numbers) replaced, or removed."""
    result = copy.deepcopy(service)
    *parents, last = path.split(".")
    node = result
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    key = int(last) if last.isdigit() else last
    if value is REMOVE:
        del node[key]
    else:
        node[key] = value
    return result


REMOVE = object()

# (what breaks, the service files, file named, key path, words in the reason)
BROKEN = [
    ("missing required key", [changed(RENEWAL, "time_limit_days", REMOVE)], "services/id_card_renewal.yaml",
     "time_limit_days", "Missing data"),
    ("unknown key", [changed(RENEWAL, "colour", "red")], "services/id_card_renewal.yaml", "colour", "Unknown field"),
    ("wrong type", [changed(RENEWAL, "time_limit_days", "twenty")], "services/id_card_renewal.yaml",
     "time_limit_days", "Not a valid integer"),
    ("unknown audience", [changed(RENEWAL, "audience", "alien")], "services/id_card_renewal.yaml", "audience",
     "Must be one of"),
    ("zero time limit", [changed(RENEWAL, "time_limit_days", 0)], "services/id_card_renewal.yaml", "time_limit_days",
     "greater than or equal to 1"),
    ("no sources", [changed(RENEWAL, "sources", [])], "services/id_card_renewal.yaml", "sources", "Shorter than"),
    ("code is not the file name", [changed(RENEWAL, "code", "id_card_renewal")], None, None, None),
    ("unknown material in a scenario", [changed(RENEWAL, "scenarios.0.materials.1.kind", "scroll")],
     "services/id_card_renewal.yaml", "scenarios[0].materials[1].kind", "unknown material kind 'scroll'"),
    ("expiry trigger on a kind that never expires", [changed(RENEWAL, "triggers.0.material", "hukou")],
     "services/id_card_renewal.yaml", "triggers[0].material", "never expires"),
    ("expiry trigger on another holder's material", [changed(RENEWAL, "triggers.0.material", "business_licence")],
     "services/id_card_renewal.yaml", "triggers[0].material", "held by a entity"),
    ("unknown trigger kind", [changed(RENEWAL, "triggers.0.kind", "whim")], "services/id_card_renewal.yaml",
     "triggers[0].kind", "Must be one of"),
    ("offsets not descending", [changed(RENEWAL, "triggers.0.offsets", [7, 30, 90])],
     "services/id_card_renewal.yaml", "triggers[0].offsets", "strictly descending"),
    ("negative offset", [changed(RENEWAL, "triggers.0.offsets", [30, -1])], "services/id_card_renewal.yaml",
     "triggers[0].offsets", "cannot be negative"),
    ("trigger missing its keys", [changed(RENEWAL, "triggers.0.window_days", REMOVE)],
     "services/id_card_renewal.yaml", "triggers[0].window_days", "needs window_days"),
    ("key another trigger kind uses", [changed(RENEWAL, "triggers.0.event", "birth")],
     "services/id_card_renewal.yaml", "triggers[0].event", "not used by a expiry trigger"),
    ("impossible day", [changed(SCHOOL, "triggers.0.reached_by", {"month": 2, "day": 30})],
     "services/primary_school_entry.yaml", "triggers[0].reached_by.day", "not a day of the year"),
    ("age and schedule both", [changed(SCHOOL, "triggers.0.schedule", [{
        "id": "a", "sex": "M", "effective_from": "2025-01-01", "base_age_months": 720, "first_birth": "1965-01",
        "step_every_months": 4, "max_age_months": 756}])], "services/primary_school_entry.yaml", "triggers[0].age",
     "exactly one of age and schedule"),
    ("age for an entity", [changed(SCHOOL, "audience", "entity")], "services/primary_school_entry.yaml",
     "triggers[0].kind", "only persons have an age"),
    ("window backwards", [changed(REPORT, "triggers.0.window", {"from": {"month": 7, "day": 1},
                                                                "to": {"month": 6, "day": 30}})],
     "services/enterprise_annual_report.yaml", "triggers[0].window", "from must come before to"),
    ("unknown done event", [changed(REPORT, "triggers.0.done_event", "party")],
     "services/enterprise_annual_report.yaml", "triggers[0].done_event", "unknown entity event kind 'party'"),
    ("malformed field source", [changed(RENEWAL, "fields.0.source", "person..name")],
     "services/id_card_renewal.yaml", "fields[0].source", "not a source path"),
    ("field source of an unknown attribute", [changed(RENEWAL, "fields.0.source", "person.shoe_size")],
     "services/id_card_renewal.yaml", "fields[0].source", "a person has no 'shoe_size'"),
    ("field source of an unknown material", [changed(RENEWAL, "fields.1.source", "material[scroll].number")],
     "services/id_card_renewal.yaml", "fields[1].source", "unknown material kind 'scroll'"),
    ("duplicate field", [changed(RENEWAL, "fields.2.name", "applicant_name")], "services/id_card_renewal.yaml",
     "fields[2].name", "appears twice"),
    ("bundle of an unknown service", [changed(REPORT, "bundle", ["ghost_service"])],
     "services/enterprise_annual_report.yaml", "bundle[0]", "no service 'ghost_service'"),
    ("unknown stage", [changed(RENEWAL, "stage", "adolescence")], "services/id_card_renewal.yaml", "stage",
     "unknown stage 'adolescence'; a person service takes one of: birth (出生)"),
    ("no stage", [changed(RENEWAL, "stage", REMOVE)], "services/id_card_renewal.yaml", "stage",
     "Missing data for required field"),
    ("a business stage for a person", [changed(RENEWAL, "stage", "注销退出")], "services/id_card_renewal.yaml",
     "stage", "'注销退出' (注销退出) is a stage of a business's lifecycle"),
    ("a person stage for a business", [changed(REPORT, "stage", "after_death")],
     "services/enterprise_annual_report.yaml", "stage", "the service is for a entity"),
    ("unknown nature", [changed(REPORT, "nature", "gift")], "services/enterprise_annual_report.yaml", "nature",
     "Must be one of: deadline, offer"),
    ("bundle promising less than its slowest member", [changed(changed(REPORT, "bundle", ["slow_report"]),
                                                              "time_limit_days", 5),
                                                      changed(changed(REPORT, "code", "slow_report"),
                                                              "time_limit_days", 20)],
     "services/enterprise_annual_report.yaml", "time_limit_days",
     "5 working days is shorter than its member 'slow_report' (20)"),
    ("retirement ceiling below base", [changed(SCHOOL, "triggers.0", {"kind": "age", "notify": "self",
     "offsets": [90], "schedule": [{"id": "m", "sex": "M", "effective_from": "2025-01-01", "base_age_months": 720,
                                    "first_birth": "1965-13", "step_every_months": 4, "max_age_months": 700}]})],
     "services/primary_school_entry.yaml", "triggers[0].schedule[0].first_birth", "must be YYYY-MM"),
]


@pytest.mark.parametrize(("what", "services", "file", "key", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_each_breakage_is_named(tmp_path, what, services, file, key, words):
    codes = {s["code"] for s in services}
    keep = [s for s in (RENEWAL, SCHOOL, REPORT) if s["code"] not in codes or what == "code is not the file name"]
    directory = write(tmp_path, services=[*keep, *services])
    if what == "code is not the file name":
        (directory / "services" / "id_card_renewal.yaml").rename(directory / "services" / "renew.yaml")
        file, key, words = "services/renew.yaml", "code", "must match the file name ('renew')"
    catalog, problems = check_catalog(directory)
    assert catalog is None
    assert any(p.file == file and p.path == key and words in p.reason for p in problems), problems
    with pytest.raises(CatalogError, match=file.replace(".", r"\.")):
        load_catalog(directory)


@pytest.mark.parametrize(("name", "text", "key", "words"), [
    ("materials.yaml", "version: 1\nmaterials: [\n  - code: x\n", "line", "not valid YAML"),
    ("services/id_card_renewal.yaml", "code: id_card_renewal\n  version: 1\n bad indent", "line", "not valid YAML"),
    ("services/id_card_renewal.yaml", "", "", "empty file"),
    ("services/id_card_renewal.yaml", "- just\n- a list\n", "", "not list"),
])
def test_unreadable_files_are_named_with_their_line(tmp_path, name, text, key, words):
    _, problems = check_catalog(write(tmp_path, raw={name: text}))
    assert any(p.file == name and p.path.startswith(key) and words in p.reason for p in problems), problems


def test_duplicate_material_kinds_and_missing_files(tmp_path):
    doubled = {**MATERIALS, "materials": [*MATERIALS["materials"], MATERIALS["materials"][0]]}
    _, problems = check_catalog(write(tmp_path, materials=doubled))
    assert any(p.path == "materials[3].code" and "declared twice" in p.reason for p in problems)
    (tmp_path / "materials.yaml").unlink()
    _, problems = check_catalog(tmp_path)
    assert any(p.file == "materials.yaml" and p.reason == "file is missing" for p in problems)


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    broken = changed(changed(RENEWAL, "audience", "alien"), "triggers.0.offsets", [1, 2])
    _, problems = check_catalog(write(tmp_path, services=[broken, changed(SCHOOL, "version", 0)]))
    assert {(p.file, p.path) for p in problems} >= {
        ("services/id_card_renewal.yaml", "audience"), ("services/id_card_renewal.yaml", "triggers[0].offsets"),
        ("services/primary_school_entry.yaml", "version")}


def test_the_stage_list_is_checked_too(tmp_path):
    doubled = STAGES.replace("{key: education, name: {zh: 教育", "{key: education, name: {zh: 出生")
    _, problems = check_catalog(write(tmp_path, raw={"stages.yaml": doubled}))
    assert any(p.file == "stages.yaml" and "unique" in p.reason for p in problems), problems
    (tmp_path / "stages.yaml").unlink()
    _, problems = check_catalog(tmp_path)
    assert any(p.file == "stages.yaml" and p.reason == "file is missing" for p in problems), problems


def test_a_catalog_is_read_once_per_process_until_a_file_changes_even_within_one_clock_tick(tmp_path):
    first = load_catalog_once(write(tmp_path))
    assert load_catalog_once(tmp_path) is first  # every app a process builds shares the one reading
    renewal = tmp_path / "services" / "id_card_renewal.yaml"
    text = renewal.read_text(encoding="utf-8")
    assert "window_days: 90" in text
    renewal.write_text(text.replace("window_days: 90", "window_days: 95"), encoding="utf-8")  # the same size
    again = load_catalog_once(tmp_path)
    assert again is not first and again.services["id_card_renewal"].triggers[0].window_days == 95
    renewal.write_text("code: [", encoding="utf-8")
    with pytest.raises(CatalogError):
        load_catalog_once(tmp_path)
    with pytest.raises(CatalogError):  # a broken catalog is not kept: it is read, and refused, again
        load_catalog_once(tmp_path)
