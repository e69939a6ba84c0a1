"""Free text through the API and the bulk import (issue 14, item 9): kept NFC-normalised when clean; a row with an
invisible or control character is rejected with its line and column. (The API's refusals are in the corpus of
tests/integration/test_api_bad_requests.py; the pages' in test_pages_free_text.py.)"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.integration.api_helpers import id_number, keys
from tests.integration.test_bulk import invoke, rejects_of, rid, write

PURPOSE = {"X-Purpose": "核对材料 Cafe\u0301"}


def test_decomposed_text_is_stored_and_answered_nfc(app, client):
    auth = keys(app)
    pid = client.post("/api/v1/persons", json={"id_number": id_number(), "name": "Zoe\u0308"},
                      headers=auth["system"]).get_json()["pid"]
    body = {"kind": "passport", "number": "E12345678", "issued_on": "2020-01-01", "expires_on": "2030-01-01",
            "issuer": "Pre\u0301fecture", "provenance": "issued",
            "fields": {"adresse\u0301": "rue de l'e\u0301glise\r\n2e étage", "floor": 2}}
    created = client.post(f"/api/v1/persons/{pid}/materials", json=body, headers=auth["system"])
    assert created.status_code == 201, created.get_json()
    (material,) = client.get(f"/api/v1/persons/{pid}/materials", headers={**auth["officer"], **PURPOSE}).get_json()
    assert material["issuer"] == "Préfecture"
    assert material["fields"] == {"adressé": "rue de l'église\n2e étage", "floor": 2}
    event = client.post(f"/api/v1/persons/{pid}/events", headers=auth["system"],
                        json={"kind": "marriage", "occurred_on": "2020-01-01", "details": {"note": "Jose\u0301"}})
    assert event.status_code == 201 and event.get_json()["details"] == {"note": "José"}
    person = client.get(f"/api/v1/persons/{pid}", headers={**auth["officer"], **PURPOSE}).get_json()
    assert person["name"] == "Zoë"
    log = client.get(f"/api/v1/persons/{pid}/access-log", headers={**auth["officer"], **PURPOSE}).get_json()
    assert {r["purpose"] for r in log} == {"核对材料 Café"}


def test_an_import_row_with_a_control_or_bidi_character_is_rejected_naming_line_and_column(app, tmp_path: Path):
    a, b = rid("19900517", 123), rid("19851102", 456)
    persons = write(tmp_path / "p.csv", [["id_number", "name"], [a, "张三"], [b, "李\u202e四"]])
    result = invoke(app, "import", "persons", str(persons))
    assert "imported 1, rejected 1" in result.stdout
    assert rejects_of(tmp_path / "p.csv.rejects.csv") == [(3, "name", "contains an invisible control character "
                                                                       "(U+202E)")]
    header = ["holder_id_number", "kind", "number", "issued_on", "expires_on", "issuer", "provenance", "fields"]
    row = [a, "passport", "E1", "2020-01-01", "2030-01-01", "出入境管理局", "issued", ""]

    def changed(**change) -> list[str]:
        return [change.get(name, value) for name, value in zip(header, row, strict=True)]

    materials = write(tmp_path / "m.csv", [
        header,
        changed(issuer="出入境\x00管理局"),  # 2
        changed(kind="hukou", expires_on="", fields=json.dumps({"address": "祖庙路\u202e1号"}, ensure_ascii=False)),
        changed(kind="id_card", number="X1", fields=json.dumps({"addr\u200bess": "祖庙路"}, ensure_ascii=False)),
        changed(issuer="出入境管理局\u2028"),  # 5
        changed(issued_on="2021-01-01", expires_on="2031-01-01", issuer="Pre\u0301fecture"),  # 6: good, kept NFC
    ])
    result = invoke(app, "import", "materials", str(materials))
    assert "imported 1, rejected 4" in result.stdout
    rejects = rejects_of(tmp_path / "m.csv.rejects.csv")
    assert [(line, field) for line, field, _ in rejects] == [(2, "issuer"), (3, "fields"), (4, "fields"),
                                                             (5, "issuer")]
    reasons = [reason for _, _, reason in rejects]
    for reason, code in zip(reasons, ("U+0000", "U+202E", "U+200B", "U+2028"), strict=True):
        assert f"contains an invisible control character ({code})" in reason
    assert "address" in reasons[1]  # the key of the free-form column that holds it
    services = app.extensions["lifecycle"]
    (kept,) = services.holdings.materials("Person", services.subjects.find_person(a).pid)
    assert kept.issuer == "Préfecture"
    with (tmp_path / "m.csv.rejects.csv").open(encoding="utf-8") as f:
        assert all("\x00" not in cell for row_ in csv.reader(f) for cell in row_)
