"""Each service's guide (how to do it) is catalog data: parsed into where, in person, fee and online; a broken or
missing guide is refused naming the key; every seeded service has one, with its fee cited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from profiles.catalog import CatalogError, check_catalog, load_catalog
from profiles.catalog.guide import Fee, Online
from profiles.catalog.model import Text
from tests.unit.test_catalog_check import REMOVE, RENEWAL, REPORT, SCHOOL, TEXT, changed, write


def with_guide(path: str, value) -> dict:
    """RENEWAL with its guide changed at a dotted path (removed when value is REMOVE)."""
    return changed(RENEWAL, f"guide.{path}" if path else "guide", value)


def problems_of(tmp_path, renewal: dict):
    catalog, problems = check_catalog(write(tmp_path, services=(renewal, SCHOOL, REPORT)))
    assert catalog is None
    return [(p.file, p.path, p.reason) for p in problems]


def test_a_guide_is_parsed_fee_and_online_included(tmp_path):
    online = {"available": True, "where": {"zh": "粤省事", "en": "Yueshengshi"}, "url": "https://example.gov.cn/x",
              "detail": TEXT}
    fee = {"yuan": 12.5, "detail": {"zh": "每本", "en": "per book"},
           "source": {"title": "收费标准", "note": "UNVERIFIED"}}
    renewal = changed(changed(RENEWAL, "guide.online", online), "guide.fee", fee)
    catalog = load_catalog(write(tmp_path, services=(renewal, SCHOOL, REPORT)))
    guide = catalog.services["id_card_renewal"].guide
    assert guide.where.department == Text("文字", "Text") and guide.where.address is None
    assert guide.in_person == (Text("文字", "Text"),)
    assert guide.fee.yuan == Decimal("12.5") and guide.fee.amount == "12.5" and not guide.fee.free
    assert guide.fee.detail == Text("每本", "per book") and guide.fee.source.note == "UNVERIFIED"
    assert guide.online == Online(True, Text("粤省事", "Yueshengshi"), "https://example.gov.cn/x", Text("文字", "Text"))
    school = catalog.services["primary_school_entry"].guide
    assert school.fee.amount == "20" and school.online == Online(False)


def test_a_fee_of_nothing_is_free():
    assert Fee(Decimal("0.00"), source=None).free and not Fee(Decimal("20"), source=None).free


@pytest.mark.parametrize(("path", "value", "key", "words"), [
    ("where", REMOVE, "guide.where", "Missing data for required field"),
    ("where.place", REMOVE, "guide.where.place", "Missing data for required field"),
    ("", REMOVE, "guide", "Missing data for required field"),
    ("fee", REMOVE, "guide.fee", "Missing data for required field"),
    ("fee.source", REMOVE, "guide.fee.source", "Missing data for required field"),
    ("fee.yuan", -5, "guide.fee.yuan", "greater than or equal to 0"),
    ("fee.yuan", "twenty", "guide.fee.yuan", "Not a valid number"),
    ("online", REMOVE, "guide.online", "Missing data for required field"),
    ("online", {"available": True}, "guide.online.where", "say where it can be done online"),
    ("online", {"available": False, "url": "https://example.gov.cn/"}, "guide.online.url", "not available online"),
    ("in_person", [{"zh": "拍照"}], "guide.in_person[0].en", "Missing data for required field"),
    ("hours", "9-5", "guide.hours", "Unknown field"),
    ("time_limit_days", 20, "guide.time_limit_days", "Unknown field"),  # the service's own time limit, not repeated
])
def test_a_broken_guide_is_refused_naming_the_key(tmp_path, path, value, key, words):
    found = problems_of(tmp_path, with_guide(path, value))
    assert any(f == "services/id_card_renewal.yaml" and k == key and words in r for f, k, r in found), found
    with pytest.raises(CatalogError, match=r"services/id_card_renewal\.yaml: " + key.replace(".", r"\.")
                       .replace("[", r"\[").replace("]", r"\]")):
        load_catalog(write(tmp_path, services=(with_guide(path, value), SCHOOL, REPORT)))


def test_every_seeded_service_has_a_guide_with_a_cited_fee():
    catalog = load_catalog()
    for code, service in catalog.services.items():
        guide = service.guide
        assert guide is not None, code
        assert guide.where.department.zh and guide.where.place.en, code
        assert guide.fee.source.title, code
        # the catalog says which amounts it could not check: an unchecked amount is marked in its source's note
        assert guide.fee.source.url or guide.fee.source.note, code
        assert not guide.online.available or guide.online.where is not None, code


def test_the_seeded_id_card_renewal_and_annual_report_guides():
    catalog = load_catalog()
    renewal = catalog.services["id_card_renewal"].guide
    assert renewal.fee.amount == "20" and "2322" in renewal.fee.source.title
    assert not renewal.online.available
    assert any("指纹" in step.zh and "fingerprints" in step.en for step in renewal.in_person)
    assert any("相片" in step.zh and "photo" in step.en for step in renewal.in_person)
    assert "禅城" in renewal.where.place.zh
    report = catalog.services["enterprise_annual_report"].guide
    assert report.fee.free and report.online.available and report.online.url == "https://www.gsxt.gov.cn/"

