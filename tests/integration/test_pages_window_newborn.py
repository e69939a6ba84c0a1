"""A newborn at the officer window (issue 16), through the pages with CSRF, on real Neo4j and Redis: registered from the
mother's profile by its medical birth certificate (no ID number yet; the mother, and the father when chosen, its
parents and guardians; its household registration due), each bad value refused naming its field with nothing
written, a duplicate certificate said on its field; then the ID number household registration assigned attached on
the newborn's profile (a number of another sex or birth date refused on the field), which then shows it masked."""

from __future__ import annotations

import re
from datetime import date, timedelta

from profiles.identifiers import resident_id_check_digit
from profiles.models import Relation
from profiles.privacy import mask_id_number
from profiles.rules import due_items
from tests.integration.api_helpers import id_number
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_person, post
from tests.integration.test_pages_officer import TODAY, officer, search, whats
from web.usecases.register import register_newborn

CERTIFICATE = "Q440612345"
BORN = TODAY - timedelta(days=6)


def parents(svc):
    """A married couple on file: the mother (an even sequence digit: female) and the father."""
    mother = make_person(svc, name="林小红", born=date(1994, 7, 15), seq=202, phone="+8613712340161")
    father = make_person(svc, name="陈大文", born=date(1992, 4, 2), seq=201)
    svc.subjects.relate(Relation(mother.pid, father.pid, "SPOUSE_OF"))
    return mother, father


def persons(svc) -> int:
    return svc.driver.execute_query("MATCH (p:Person) RETURN count(p) AS n")[0][0]["n"]


def error(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="e-{field}"[^>]*>(.*?)</p>', page, re.S)
    assert found, f"no error on {field}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def described(page: str, field: str) -> bool:
    """The input (or the fieldset of radios) is tied to its error message."""
    return re.search(rf'aria-describedby="[^"]*e-{field}\b', page) is not None


def newborn(**changes: str) -> dict:
    return {"name": "陈小宝", "sex": "F", "birth_date": BORN.isoformat(), "birth_certificate_number": CERTIFICATE,
            **changes}


def guardians_of(svc, pid: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for link in svc.portal.links("Person", pid):
        if not link.outgoing:
            found.setdefault(link.type, set()).add(link.other_id)
    return found


# --- registering ------------------------------------------------------------------------------------------------
def test_a_newborn_is_registered_from_the_mothers_profile_with_the_father_chosen(app, svc):
    mother, father = parents(svc)
    client = officer(app, svc)
    search(client, mother.id_number)
    profile = client.get(f"/officer/persons/{mother.pid}").get_data(as_text=True)
    assert f'href="/officer/persons/{mother.pid}/newborn"' in profile and "为此人登记新生子女" in profile
    form = client.get(f"/officer/persons/{mother.pid}/newborn").get_data(as_text=True)
    assert father.name in form and f'value="{father.pid}"' in form  # the spouse on file, offered as the other parent
    assert "出生医学证明编号" in form
    answer = post(client, f"/officer/persons/{mother.pid}/newborn",
                  newborn(birth_certificate_number=" q440 612345 ", other_parent=father.pid))
    assert answer.status_code == 303, answer.get_data(as_text=True)
    child = svc.subjects.find_newborn(CERTIFICATE)
    assert answer.headers["Location"].endswith(f"/officer/persons/{child.pid}")
    assert (child.id_number, child.name, child.sex, child.birth_date) == (None, "陈小宝", "F", BORN)
    assert guardians_of(svc, child.pid) == {"PARENT_OF": {mother.pid, father.pid},
                                            "GUARDIAN_OF": {mother.pid, father.pid}}
    snapshot = svc.snapshots.load("Person", child.pid)
    assert set(snapshot.guardians) == {mother.pid, father.pid}  # the child's services are due to them
    assert "newborn_hukou_registration" in {d.service for d in due_items(snapshot, svc.catalog, TODAY, 120)}
    page = client.get(answer.headers["Location"]).get_data(as_text=True)  # under the purpose stated for the mother
    assert "陈小宝" in page and "Q4******45" in page and CERTIFICATE not in page
    assert 'id="f-id_number"' in page and "补录户口登记时分配的身份证号码" in page
    assert "为此人登记新生子女" not in page  # a newborn registers no child
    assert client.get(f"/officer/persons/{child.pid}/newborn").status_code == 404
    assert ("registered a newborn child at the window", "办理新生儿出生一件事") in whats(svc, mother.pid)
    assert any(what.startswith("named as the other parent") for what, _purpose in whats(svc, father.pid))


def test_with_no_other_parent_chosen_only_the_parent_at_the_window_is_related(app, svc):
    mother, father = parents(svc)
    client = officer(app, svc)
    search(client, mother.id_number)
    answer = post(client, f"/officer/persons/{mother.pid}/newborn", newborn(other_parent=""))
    assert answer.status_code == 303
    child = svc.subjects.find_newborn(CERTIFICATE)
    assert guardians_of(svc, child.pid) == {"PARENT_OF": {mother.pid}, "GUARDIAN_OF": {mother.pid}}
    assert whats(svc, father.pid) == []  # not named, not read


def test_each_bad_value_is_named_on_its_field_and_nothing_is_written(app, svc):
    mother, _father = parents(svc)
    stranger = make_person(svc, name="王路人", seq=207)
    client = officer(app, svc)
    search(client, mother.id_number)
    before = persons(svc)
    cases = {
        "name": newborn(name="   "),
        "sex": newborn(sex="X"),
        "birth_date": newborn(birth_date="2026-02-30"),
        "birth_certificate_number": newborn(birth_certificate_number="12345"),
        "other_parent": newborn(other_parent=stranger.pid),  # not the spouse on file
    }
    words = {"future": (newborn(birth_date=(TODAY + timedelta(days=1)).isoformat()), "日期晚于今天"),
             "too old": (newborn(birth_date=(TODAY - timedelta(days=400)).isoformat()), "未满一周岁"),
             "letters": (newborn(birth_certificate_number="4406123456"), "一个字母加九位数字")}
    for field, data in [*cases.items(), *(("birth_date" if k != "letters" else "birth_certificate_number", d)
                                          for k, (d, _w) in words.items())]:
        answer = post(client, f"/officer/persons/{mother.pid}/newborn", data)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422, (field, data)
        assert error(page, field) and described(page, field), (field, page)
        assert len(re.findall(r'class="error" id="e-', page)) == 1, field
        if field != "name":
            assert 'value="陈小宝"' in page  # what was typed is kept
        # kept as typed, so nothing is typed twice (issue 18), in a page no cache keeps
        assert f'value="{data["birth_certificate_number"]}"' in page and answer.headers["Cache-Control"] == "no-store"
    for _kind, (data, text) in words.items():
        page = post(client, f"/officer/persons/{mother.pid}/newborn", data).get_data(as_text=True)
        assert text in page
    assert persons(svc) == before
    assert not any(link.type in ("PARENT_OF", "GUARDIAN_OF") for link in svc.portal.links("Person", mother.pid))


def test_a_duplicate_birth_certificate_is_said_on_its_field(app, svc):
    mother, _father = parents(svc)
    register_newborn(svc, None, "另一个孩子", "M", BORN, CERTIFICATE, None, None, TODAY)
    client = officer(app, svc)
    search(client, mother.id_number)
    before = persons(svc)
    answer = post(client, f"/officer/persons/{mother.pid}/newborn", newborn())
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "已有持此出生医学证明编号" in error(page, "birth_certificate_number")
    assert described(page, "birth_certificate_number") and f'value="{CERTIFICATE}"' in page  # kept, to check it
    assert persons(svc) == before
    assert not any(link.type == "PARENT_OF" for link in svc.portal.links("Person", mother.pid))


def test_the_forms_need_a_purpose_and_the_csrf_token(app, svc):
    mother, _father = parents(svc)
    child = register_newborn(svc, None, "陈小宝", "F", BORN, CERTIFICATE, None, None, TODAY)
    client = officer(app, svc)
    before = persons(svc)
    assert client.get(f"/officer/persons/{mother.pid}/newborn").status_code == 403
    assert post(client, f"/officer/persons/{mother.pid}/newborn",
                newborn(birth_certificate_number="Q440600001")).status_code == 403
    assert post(client, f"/officer/persons/{child.pid}/id-number",
                {"id_number": id_number(born=BORN, seq=302)}).status_code == 403
    search(client, mother.id_number)
    search(client, CERTIFICATE)
    unsigned = client.post(f"/officer/persons/{mother.pid}/newborn",
                           data=newborn(birth_certificate_number="Q440600001"))
    assert unsigned.status_code == 400
    assert persons(svc) == before and svc.subjects.get_person(child.pid).id_number is None


# --- attaching the ID number -------------------------------------------------------------------------------------
def test_the_id_number_is_attached_on_the_newborns_profile_after_the_wrong_ones_are_refused(app, svc):
    mother, _father = parents(svc)
    client = officer(app, svc)
    search(client, mother.id_number)
    assert post(client, f"/officer/persons/{mother.pid}/newborn", newborn()).status_code == 303
    child = svc.subjects.find_newborn(CERTIFICATE)
    path = f"/officer/persons/{child.pid}/id-number"
    right = id_number(born=BORN, seq=302)  # even: female, as the child
    held = make_person(svc, name="同日生", born=BORN, seq=304)  # the same birth date and sex, on file already
    first17 = "440604" + f"{BORN:%Y%m%d}" + "306"
    wrong_digit = first17 + ("0" if resident_id_check_digit(first17) != "0" else "1")
    refused = {
        id_number(born=BORN, seq=301): (422, "性别"),  # odd: male
        id_number(born=BORN - timedelta(days=1), seq=302): (422, "出生日期"),
        wrong_digit: (422, "校验码"),
        "": (422, "必填"),
        held.id_number: (409, "他人持有"),
    }
    for number, (status, words) in refused.items():
        answer = post(client, path, {"id_number": number})
        page = answer.get_data(as_text=True)
        assert answer.status_code == status, (number, page)
        assert words in error(page, "id_number") and described(page, "id_number"), (number, page)
        assert not number or f'value="{number}"' in page  # kept as typed, to correct a digit (issue 18)
        assert answer.headers["Cache-Control"] == "no-store"
    assert svc.subjects.get_person(child.pid).id_number is None
    answer = post(client, path, {"id_number": right.lower()})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/officer/persons/{child.pid}")
    assert svc.subjects.get_person(child.pid).id_number == right
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert mask_id_number(right) in page and right not in page
    assert 'id="f-id_number"' not in page  # nothing left to attach
    assert ("attached the ID number at the window", "办理新生儿出生一件事") in whats(svc, child.pid)
    again = post(client, path, {"id_number": id_number(born=BORN, seq=308)})
    assert again.status_code == 422 and "已有身份证号码" in error(again.get_data(as_text=True), "id_number")
    assert svc.subjects.get_person(child.pid).id_number == right
