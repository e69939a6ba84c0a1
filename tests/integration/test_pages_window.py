"""一表通 at the window as an experienced officer fills it (issue 15), with real Neo4j and Redis: the services due now
are pre-ticked; a service not due (a passport valid for years, a pension at 46, the birth bundle at 15) warns with
its reason and is filed only once confirmed (422 and nothing filed without); the officer chooses who is at the window
(which parent, which legal representative) and every applicant field comes from that person; the ticked services are
filed at once under one receipt."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, timedelta

from profiles.models import LifeEvent, Relation
from profiles.privacy import mask_id_number
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_person, post
from tests.integration.test_pages_officer import PURPOSE, TODAY, family, material, officer, search, whats

EDITABLE = re.compile(r'name="field\.(\w+)" type="text" value="([^"]*)"')


def typed(page: str, **values: str) -> dict:
    """The editable fields as the page shows them, the empty ones filled in as the applicant says."""
    out = {}
    for name, shown in EDITABLE.findall(page):
        out[f"field.{name}"] = values.get(name, html.unescape(shown) or "窗口填写")
    return out


def shown(page: str, name: str) -> str:
    """The value a field of the unified form shows, editable or locked."""
    found = re.search(rf'<input id="p-{name}"[^>]*value="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def checked(page: str, input_id: str) -> bool:
    found = re.search(rf'<input[^>]*id="{re.escape(input_id)}"[^>]*>', page)
    assert found, input_id
    return " checked" in found.group(0)


def warning(page: str, code: str) -> str | None:
    found = re.search(rf'id="w-{code}">(.*?)</p>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else None


def adult(svc, born: date = date(1980, 5, 6)):
    """A citizen whose ID card expires in a month (due) and whose passport is valid until 2029 (not due)."""
    person = make_person(svc, name="周敏", born=born, phone="+8613712340021")
    material(svc, person.pid, "id_card", "ID0001", expires_on=TODAY + timedelta(days=30))
    material(svc, person.pid, "passport", "E12345678", expires_on=date(2029, 5, 1), issued_on=date(2019, 5, 2))
    material(svc, person.pid, "hukou", "HK0001", fields={"address": "禅城区祖庙路1号"})
    return person


# --- pre-ticked --------------------------------------------------------------------------------------------------
def test_the_services_due_now_are_pre_ticked_and_filled_unless_the_officer_chose_otherwise(app, svc):
    _father, _mother, baby = family(svc)
    person = adult(svc)
    client = officer(app, svc)
    search(client, baby.id_number)
    search(client, person.id_number)
    page = client.get(f"/officer/persons/{baby.pid}/prefill").get_data(as_text=True)
    assert checked(page, "s-birth_bundle")  # the bundle, in place of its four due services
    assert not checked(page, "s-newborn_hukou_registration") and not checked(page, "s-id_card_first")
    assert 'id="h-pretick"' in page and "当前到期" in page and 'id="h-fields"' in page  # filled in at once
    mine = client.get(f"/officer/persons/{person.pid}/prefill").get_data(as_text=True)
    assert checked(mine, "s-id_card_renewal") and not checked(mine, "s-passport_renewal")
    assert not checked(mine, "s-retirement_pension_claim")
    chosen = client.get(f"/officer/persons/{person.pid}/prefill?pick=1").get_data(as_text=True)
    assert not checked(chosen, "s-id_card_renewal") and 'id="h-fields"' not in chosen  # the officer chose nothing
    other = client.get(f"/officer/persons/{person.pid}/prefill?services=passport_renewal").get_data(as_text=True)
    assert checked(other, "s-passport_renewal") and not checked(other, "s-id_card_renewal")


def test_nothing_due_ticks_nothing_and_the_look_is_recorded(app, svc):
    person = make_person(svc, name="欧阳修", born=date(1990, 1, 1))
    paid = LifeEvent(str(uuid.uuid4()), person.pid, "medical_insurance_paid", date(TODAY.year, 9, 1), {})
    svc.holdings.add_event("Person", paid)  # this year's contribution (due from September) is paid
    client = officer(app, svc)
    search(client, person.id_number)
    page = client.get(f"/officer/persons/{person.pid}/prefill").get_data(as_text=True)
    assert " checked" not in page and 'id="h-fields"' not in page
    assert ("services due at the window", PURPOSE) in whats(svc, person.pid)


# --- not due: a warning with the reason, and a confirmation --------------------------------------------------------
def test_a_service_not_due_warns_with_its_reason_and_is_filed_only_once_confirmed(app, svc):
    person = adult(svc)
    client = officer(app, svc)
    search(client, person.id_number)
    path = f"/officer/persons/{person.pid}/prefill?services=id_card_renewal&services=passport_renewal"
    page = client.get(path).get_data(as_text=True)
    reason = warning(page, "passport_renewal")
    assert reason and "2029-05-01" in reason and "有效期至" in reason and "2028-10-30" in reason  # 183 days before
    assert warning(page, "id_card_renewal") is None  # due: no warning
    assert 'id="f-confirm-passport_renewal"' in page and 'id="f-confirm-id_card_renewal"' not in page
    form = {**typed(page), "selected": ["id_card_renewal", "passport_renewal"],
            "service": ["id_card_renewal", "passport_renewal"]}
    refused = post(client, f"/officer/persons/{person.pid}/apply", form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="e-confirm-passport_renewal"' in text
    assert 'id="e-confirm-id_card_renewal"' not in text and checked(text, "f-service-passport_renewal")
    assert svc.portal.applications_of("Person", person.pid) == []  # nothing filed, not even the due one
    filed = post(client, f"/officer/persons/{person.pid}/apply", {**form, "confirm": "passport_renewal"})
    assert filed.status_code == 303 and "also=" in filed.headers["Location"]
    rows = {r["service"]: r for r in svc.portal.applications_of("Person", person.pid)}
    assert set(rows) == {"id_card_renewal", "passport_renewal"}
    receipt = client.get(filed.headers["Location"]).get_data(as_text=True)
    assert all(r["number"] in receipt for r in rows.values())  # one receipt, both numbers
    again = client.get(path).get_data(as_text=True)  # both open now: said so, nothing to confirm
    assert "不会重复受理" in again and 'id="f-confirm-passport_renewal"' not in again


def test_the_pension_at_46_and_the_birth_bundle_at_15_say_why_not(app, svc):
    person = make_person(svc, name="黄志强", born=date(1980, 5, 6))
    parent = make_person(svc, name="黄大明", born=date(1980, 1, 1), phone="+8613712340031")
    teen = make_person(svc, name="黄小明", born=date(2011, 3, 4))
    svc.subjects.relate(Relation(parent.pid, teen.pid, "PARENT_OF"))
    client = officer(app, svc)
    search(client, person.id_number)
    search(client, teen.id_number)
    page = client.get(f"/officer/persons/{person.pid}/prefill?services=retirement_pension_claim")
    reason = warning(page.get_data(as_text=True), "retirement_pension_claim")
    assert reason and "46 岁" in reason and "法定退休年龄" in reason
    page = client.get(f"/officer/persons/{teen.pid}/prefill?services=birth_bundle").get_data(as_text=True)
    reason = warning(page, "birth_bundle")
    assert reason and "15 岁" in reason and "新生儿" in reason
    english = client.get(f"/officer/persons/{teen.pid}/prefill?services=birth_bundle",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "the child is 15; this is for newborns" in warning(english, "birth_bundle")  # in the page's language


# --- who is at the window ----------------------------------------------------------------------------------------
def test_the_parent_chosen_at_the_window_fills_every_applicant_field_and_is_the_one_recorded(app, svc):
    father, mother, baby = family(svc)
    client = officer(app, svc)
    search(client, baby.id_number)
    first, other = sorted((father, mother), key=lambda p: p.pid)
    default = client.get(f"/officer/persons/{baby.pid}/prefill?services=newborn_hukou_registration")
    text = default.get_data(as_text=True)
    assert checked(text, f"a-{first.pid}") and not checked(text, f"a-{other.pid}")  # the first by default
    assert first.name in text and other.name in text and "窗口办事人" in text
    path = f"/officer/persons/{baby.pid}/prefill?services=newborn_hukou_registration&applicant={other.pid}"
    page = client.get(path).get_data(as_text=True)
    assert checked(page, f"a-{other.pid}") and f'name="applicant" value="{other.pid}"' in page
    assert shown(page, "guardian_name") == other.name
    assert shown(page, "guardian_id_number") == mask_id_number(other.id_number) != mask_id_number(first.id_number)
    assert any(f"(as parent of {baby.pid})" in what for what, _ in whats(svc, other.pid))
    reads_of_first = len(whats(svc, first.pid))
    form = {**typed(page, address="禅城区祖庙路1号"), "applicant": other.pid,
            "selected": "newborn_hukou_registration", "service": "newborn_hukou_registration"}
    assert post(client, f"/officer/persons/{baby.pid}/apply", form).status_code == 303
    (row,) = svc.portal.applications_of("Person", baby.pid)
    application = svc.applications.get(row["aid"])
    assert application.fields["guardian_name"] == other.name
    assert application.fields["guardian_id_number"] == other.id_number
    assert application.fields["guardian_phone"] == other.phone  # the masked phone sent back meant "as on file": theirs
    theirs = {m.mid for m in svc.holdings.materials("Person", other.pid)}
    assert set(application.reused) & theirs  # their ID card and household register, not the other parent's
    assert not set(application.reused) & {m.mid for m in svc.holdings.materials("Person", first.pid)}
    assert ("filed application newborn_hukou_registration at the window (as parent of " + baby.pid + ")",
            PURPOSE) in whats(svc, other.pid)
    assert len(whats(svc, first.pid)) == reads_of_first  # the other parent was not read for the filing


def test_someone_who_is_not_a_parent_cannot_be_chosen_and_is_not_read(app, svc):
    _father, _mother, baby = family(svc)
    stranger = make_person(svc, name="路人甲", born=date(1985, 1, 1))
    client = officer(app, svc)
    search(client, baby.id_number)
    path = f"/officer/persons/{baby.pid}/prefill?services=newborn_hukou_registration&applicant={stranger.pid}"
    answer = client.get(path)
    assert answer.status_code == 422 and 'id="e-applicant"' in answer.get_data(as_text=True)
    assert stranger.name not in answer.get_data(as_text=True)
    form = {"applicant": stranger.pid, "service": "newborn_hukou_registration", "field.address": "x"}
    assert post(client, f"/officer/persons/{baby.pid}/apply", form).status_code == 422
    assert svc.portal.applications_of("Person", baby.pid) == []
    assert whats(svc, stranger.pid) == []


def test_a_business_with_two_legal_representatives_takes_the_one_at_the_window(app, svc):
    first = make_person(svc, name="黄老板", born=date(1975, 2, 3), phone="+8613712340041")
    second = make_person(svc, name="李经理", born=date(1982, 8, 9), phone="+8613712340042")
    company = make_entity(svc, name="佛山市禅城区双代表贸易有限公司", established=date(2019, 3, 1), legal_rep=first)
    svc.subjects.relate(Relation(second.pid, company.eid, "LEGAL_REP_OF"))
    client = officer(app, svc)
    search(client, company.uscc)
    default, other = sorted((first, second), key=lambda p: p.pid)
    path = f"/officer/entities/{company.eid}/prefill?services=enterprise_annual_report&applicant={other.pid}"
    page = client.get(path).get_data(as_text=True)
    assert checked(page, f"a-{other.pid}") and not checked(page, f"a-{default.pid}")
    assert shown(page, "legal_rep_name") == other.name
    reason = warning(page, "enterprise_annual_report")  # December: the next report's window opens on 1 January
    assert (reason is None) == (TODAY.month <= 6)
    form = {**typed(page, postal_address="禅城区季华五路1号", report_year=str(TODAY.year)), "applicant": other.pid,
            "service": "enterprise_annual_report", "confirm": "enterprise_annual_report"}
    assert post(client, f"/officer/entities/{company.eid}/apply", form).status_code == 303
    (row,) = svc.portal.applications_of("Entity", company.eid)
    fields = svc.applications.get(row["aid"]).fields
    assert fields["legal_rep_name"] == other.name and fields["phone"] == other.phone
