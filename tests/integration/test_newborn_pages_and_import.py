"""A newborn without an ID number on the pages and in the import: the parent's page and the child's page say it is not
yet registered (its birth certificate number masked, never "None"), the officer finds it by its birth certificate
number and sees its profile, the unified form fills the child's fields from the certificate, and the person import
takes rows keyed by the birth certificate number."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from profiles.models import Relation
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_officer, make_person, post, sign_in_citizen, sign_in_officer
from tests.integration.test_bulk import invoke, rejects_of, rid, write
from web.usecases.register import register_newborn

PHONE = "+8613712340155"
CERTIFICATE = "Q440698765"
NOT_YET = "Not yet registered in a household (birth certificate Q4******65)"


def a_newborn(svc, days: int = 12, certificate: str = CERTIFICATE):
    born = datetime.now(svc.settings.zone).date() - timedelta(days=days)
    return register_newborn(svc, None, "陈小宝", "F", born, certificate, None, None,
                            datetime.now(svc.settings.zone).date())


def test_the_parent_and_the_child_page_say_the_child_is_not_yet_registered(app, svc, sandbox):
    parent = make_person(svc, phone=PHONE, name="陈大文")
    child = a_newborn(svc)
    svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    client = app.test_client()
    assert sign_in_citizen(client, sandbox, parent.id_number, PHONE).status_code == 303
    assert "陈小宝" in client.get("/me").get_data(as_text=True)
    page = client.get(f"/me/p/{child.pid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert NOT_YET in page and CERTIFICATE not in page and "None" not in page
    assert "新生儿出生户口登记" in page or "Household registration of a newborn" in page  # due to the parent
    form = client.get(f"/me/p/{child.pid}/apply/newborn_hukou_registration").get_data(as_text=True)
    assert "Q4******65" in form and CERTIFICATE not in form and ">None<" not in form and '"None"' not in form


def test_the_officer_finds_the_newborn_by_its_certificate_and_sees_its_profile_and_form(app, svc):
    child = a_newborn(svc)
    make_officer(svc, "window7")
    officer = app.test_client()
    sign_in_officer(officer, "window7")
    found = post(officer, "/officer/search", {"number": CERTIFICATE.lower(), "purpose": "出生登记"})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/officer/persons/{child.pid}")
    profile = officer.get(f"/officer/persons/{child.pid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert NOT_YET in profile and CERTIFICATE not in profile and "None" not in profile
    assert 'value="id_number"' not in profile  # no ID number to reveal
    form = officer.get(f"/officer/persons/{child.pid}/prefill?services=birth_bundle").get_data(as_text=True)
    assert "Q4******65" in form and CERTIFICATE not in form and 'value="None"' not in form
    unknown = post(officer, "/officer/search", {"number": "R000000001", "purpose": "出生登记"})
    assert unknown.status_code == 404


def test_the_person_import_takes_newborns_by_birth_certificate(app, svc, tmp_path, driver, settings):
    born = (datetime.now(svc.settings.zone).date() - timedelta(days=5)).isoformat()
    old = (datetime.now(svc.settings.zone).date() - timedelta(days=400)).isoformat()
    a_newborn(svc, certificate="Q000000009")  # on file already
    rows = [{"name": "林一宝", "sex": "M", "birth_date": born, "birth_certificate_number": "r123456789"},
            {"name": "林二宝", "sex": "F", "birth_date": born, "birth_certificate_number": "R123456789"},  # dup
            {"name": "林三宝", "sex": "F", "birth_date": old, "birth_certificate_number": "R123456780"},
            {"name": "林四宝", "sex": "F", "birth_date": born, "birth_certificate_number": "Q000000009"},
            {"name": "林五宝", "sex": "F", "birth_date": born},
            {"name": "林六宝", "birth_date": born, "birth_certificate_number": "R123456781"},
            {"id_number": rid("19900517", 123), "name": "林大人"}]
    path = tmp_path / "persons.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = invoke(app, "import", "persons", str(path), "--rejects", str(tmp_path / "r.csv"))
    assert "imported 2, rejected 5" in result.output, result.output
    assert rejects_of(tmp_path / "r.csv") == [
        (2, "birth_certificate_number", "duplicate of line 1"),
        (3, "birth_date", "a person without an ID number is put on file only as a newborn, under one year old; "
                          "give the ID number"),
        (4, "birth_certificate_number", "a person with this birth certificate number is already on file"),
        (5, "id_number", "Missing data for required field: give id_number or, for a newborn not yet registered, "
                         "birth_certificate_number with sex and birth_date"),
        (6, "sex", "required with birth_certificate_number (a newborn)")]
    baby = svc.subjects.find_newborn("R123456789")
    assert (baby.name, baby.id_number, baby.sex) == ("林一宝", None, "M")
    assert [e.kind for e in svc.holdings.events("Person", baby.pid)] == ["birth"]

    csv_path = write(tmp_path / "p.csv", [["name", "sex", "birth_date", "birth_certificate_number"],
                                          ["林七宝", "F", born, "S000000001"]])
    assert "imported 1, rejected 0" in invoke(app, "import", "persons", str(csv_path)).output
    assert svc.subjects.find_newborn("S000000001").name == "林七宝"
    assert str(uuid.UUID(svc.subjects.find_newborn("S000000001").pid))
