"""End to end over real HTTP, with the real worker process, the SMS sandbox process, Neo4j and Redis, the scans run
at 10:00 on the day: a newborn put on file by its medical birth certificate (no ID number yet) and related to both
parents; the daily scan sends each parent exactly one household registration reminder whose link leads to a draft
prefilled from what the certificate put on file; once the ID number is attached the registration is no longer due,
and its next reminder date sends the parents nothing more about it (the vaccination certificate, still due, is)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from notifier.scan import start_scan
from profiles.rules import add_months
from tests.e2e.test_notification import call, deployment  # noqa: F401  (the processes' fixture)
from tests.integration.api_helpers import id_number
from tests.integration.notify_helpers import at
from tests.waiting import wait_until

FATHER, MOTHER = "+8613912345673", "+8613912345674"
HUKOU, VACCINATION = "newborn_hukou_registration", "vaccination_certificate_application"
CERTIFICATE = "Q440612345"


def test_a_newborn_gets_one_household_registration_reminder_per_parent_until_its_id_number(deployment):  # noqa: F811
    base, sandbox, app = deployment["base"], deployment["sandbox"], deployment["app"]
    services = app.extensions["lifecycle"]
    keys = {role: {"Authorization": f"Bearer {services.api_keys.create(role, role)}"}
            for role in ("system", "officer", "admin")}
    officer = {**keys["officer"], "X-Purpose": "e2e check of a newborn's household registration reminder"}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    born = today - timedelta(days=20)  # registration due a month after the birth: its 14-day reminder is owed today
    due = add_months(born, 1)
    paid = {"kind": "medical_insurance_paid", "occurred_on": today.isoformat(), "details": {"year": today.year}}

    def adult(name: str, birth: date, seq: int, phone: str) -> str:
        status, body = call("POST", f"{base}/api/v1/persons", {"id_number": id_number(born=birth, seq=seq),
                                                                "name": name, "phone": phone}, keys["system"])
        assert status == 201, body
        assert call("POST", f"{base}/api/v1/persons/{body['pid']}/events", paid, keys["system"])[0] == 201
        return body["pid"]

    parents = {FATHER: adult("陈大文", date(1990, 2, 3), 131, FATHER),
               MOTHER: adult("李美丽", date(1992, 3, 4), 124, MOTHER)}
    newborn = {"name": "陈小宝", "sex": "M", "birth_date": born.isoformat(), "birth_certificate_number": CERTIFICATE}
    status, child = call("POST", f"{base}/api/v1/persons", newborn, keys["system"])
    assert status == 201, child
    pid = child["pid"]
    assert child["id_number_masked"] is None
    # the year's resident medical insurance paid: the parents' reminders today stay within the daily cap (3)
    assert call("POST", f"{base}/api/v1/persons/{pid}/events", paid, keys["system"])[0] == 201
    for parent in parents.values():
        for link in ("PARENT_OF", "GUARDIAN_OF"):  # both links: still one guardian, one reminder
            status, body = call("POST", f"{base}/api/v1/relations", {"from": parent, "to": pid, "type": link},
                                keys["system"])
            assert status == 201, body

    def scan(day: date) -> dict:
        scan_id = start_scan(services, day, at=at(day, 10))  # the worker runs its jobs on this clock
        url = f"{base}/api/v1/scans/{scan_id}"
        return wait_until(lambda: (r := call("GET", url, headers=keys["admin"])[1])["state"] == "done" and r,
                          60, "the scan")

    def sms(service: str | None = None) -> dict[str, list[dict]]:
        """Each parent's SMS notices (of one service)."""
        return {phone: [n for n in call("GET", f"{base}/api/v1/persons/{p}/notices", headers=officer)[1]
                        if n["channel"] == "sms" and service in (None, n["service"])]
                for phone, p in parents.items()}

    def out() -> dict[str, list[dict]]:
        """Each parent's SMS notices, once none is waiting to be sent."""
        notices = sms()
        return all(n["status"] in ("sent", "delivered") for ns in notices.values() for n in ns) and notices

    def received(phone: str, nids: set[str] | None = None) -> list[dict]:
        """The sandbox messages to `phone` (whose link is one of those notices)."""
        return [m for m in call("GET", f"{sandbox}/sandbox/messages?to={phone.replace('+', '%2B')}")[1]
                if nids is None or ((link := re.search(r"/n/([0-9a-f]+)", m["body"])) and link.group(1) in nids)]

    assert scan(today)["failed"] == 0
    wait_until(out, 60, "the first reminders sent")
    told = sms(HUKOU)
    for phone in parents:
        (notice,) = told[phone]  # exactly one, though linked twice to the child
        assert notice["offset_days"] == 14 and notice["due_on"] == due.isoformat()
        (message,) = received(phone, {notice["nid"]})
        assert "None" not in message["body"] and "户口登记" in message["body"]
        assert "小宝" in message["body"] and f"{due.month}月{due.day}日" in message["body"]  # whose, and by when
        link = re.search(r"(http://\S+/n/([0-9a-f]+))", message["body"])
        assert link and link.group(1).startswith(base) and link.group(2) == notice["nid"]

        status, draft = call("GET", f"{base}/api/v1/applications/{notice['aid']}", headers=officer)
        assert status == 200 and (draft["status"], draft["service"]) == ("draft", HUKOU)
        assert "None" not in json.dumps(draft, ensure_ascii=False)
        form = {f["name"]: f for f in draft["form"]["fields"]}
        assert {name: form[name]["value"] for name in ("child_name", "child_sex", "child_birth_date",
                                                       "birth_certificate_number")} == {
            "child_name": "陈小宝", "child_sex": "M", "child_birth_date": born.isoformat(),
            "birth_certificate_number": CERTIFICATE}
        assert form["child_birth_date"]["locked"] and form["birth_certificate_number"]["locked"]
        assert form["guardian_name"]["value"] in ("陈大文", "李美丽") and form["guardian_phone"]["value"]
    assert told[FATHER][0]["aid"] == told[MOTHER][0]["aid"]  # one draft for the matter, both parents led to it
    hukou_nids = {n["nid"] for ns in told.values() for n in ns}

    number = id_number(born=born, seq=123)  # 440604 + the birth date + an odd sequence (a boy) + its check digit
    status, body = call("PUT", f"{base}/api/v1/persons/{pid}/id-number", {"id_number": number},
                        {**keys["system"], "X-Purpose": officer["X-Purpose"]})
    assert status == 200, body
    assert body["id_number_masked"].endswith(number[-2:])
    status, still_due = call("GET", f"{base}/api/v1/persons/{pid}/due?within=120", headers=officer)
    assert status == 200, still_due
    assert HUKOU not in {d["service"] for d in still_due} and VACCINATION in {d["service"] for d in still_due}

    assert scan(due - timedelta(days=3))["failed"] == 0  # the household registration's next reminder date
    # the scan did send: the vaccination certificate, still due, has its 3-day reminder to each parent
    wait_until(lambda: (n := out()) and all(any(v["service"] == VACCINATION and v["offset_days"] == 3 for v in ns)
                                            for ns in n.values()), 60, "the vaccination reminders sent")
    assert {phone: [n["nid"] for n in ns] for phone, ns in sms(HUKOU).items()} == {
        phone: [n["nid"] for n in ns] for phone, ns in told.items()}  # no new household registration notice
    for phone in parents:
        assert len(received(phone, hukou_nids)) == 1
        assert [m for m in received(phone) if "户口登记" in m["body"]] == received(phone, hukou_nids)
        assert len(received(phone, {n["nid"] for n in sms(VACCINATION)[phone] if n["offset_days"] == 3})) == 1
