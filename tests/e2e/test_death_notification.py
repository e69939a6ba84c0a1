"""End to end over real HTTP, with the real worker process, the SMS sandbox process, Neo4j and Redis, the scans run
at 10:00 on the day: a citizen whose ID card expires has an SMS waiting (his own quiet hours hold it); he dies (the
event through the API); his waiting SMS is cancelled, the next scan sends him nothing, and his adult son receives
exactly one 身后 reminder whose link leads to a prefilled form."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from notifier.scan import start_scan
from tests.e2e.test_notification import call, deployment  # noqa: F401  (the processes' fixture)
from tests.integration.api_helpers import id_number
from tests.integration.notify_helpers import at
from tests.waiting import wait_until

FATHER, SON = "+8613912345671", "+8613912345672"


def test_after_a_death_the_deceased_gets_nothing_and_the_son_one_after_death_reminder(deployment):  # noqa: F811
    base, sandbox, app = deployment["base"], deployment["sandbox"], deployment["app"]
    services = app.extensions["lifecycle"]
    keys = {role: {"Authorization": f"Bearer {services.api_keys.create(role, role)}"}
            for role in ("system", "officer", "admin")}
    officer = {**keys["officer"], "X-Purpose": "e2e check of a bereavement reminder"}
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()

    def person(name: str, born: date, phone: str) -> str:
        status, body = call("POST", f"{base}/api/v1/persons", {"id_number": id_number(born=born), "name": name,
                                                                "phone": phone}, keys["system"])
        assert status == 201, body
        paid = {"kind": "medical_insurance_paid", "occurred_on": today.isoformat(), "details": {"year": today.year}}
        assert call("POST", f"{base}/api/v1/persons/{body['pid']}/events", paid, keys["system"])[0] == 201
        return body["pid"]

    father, son = person("黄大山", date(1950, 3, 1), FATHER), person("黄小山", date(1980, 6, 2), SON)
    assert call("POST", f"{base}/api/v1/relations", {"from": father, "to": son, "type": "PARENT_OF"},
                keys["system"])[0] == 201
    expires = today + timedelta(days=30)
    card = {"kind": "id_card", "number": "440604195003011234", "expires_on": expires.isoformat(),
            "issued_on": (expires - timedelta(days=7305)).isoformat(), "issuer": "佛山市公安局禅城分局",
            "provenance": "issued"}
    assert call("POST", f"{base}/api/v1/persons/{father}/materials", card, keys["system"])[0] == 201
    # his own quiet hours hold the SMS past the end of the test: it waits, pending
    assert call("PUT", f"{base}/api/v1/persons/{father}/preferences",
                {"channels": ["sms"], "quiet_hours": "09:00-08:59"}, keys["system"])[0] == 200

    def scan() -> dict:
        scan_id = start_scan(services, today, at=at(today, 10))  # the worker runs its jobs on this clock
        url = f"{base}/api/v1/scans/{scan_id}"
        return wait_until(lambda: (r := call("GET", url, headers=keys["admin"])[1])["state"] == "done" and r,
                          60, "the scan")

    def notices(pid: str) -> list[dict]:
        return call("GET", f"{base}/api/v1/persons/{pid}/notices", headers=officer)[1]

    scan()
    sms = wait_until(lambda: next((n for n in notices(father) if n["channel"] == "sms" and n["service"] ==
                                   "id_card_renewal" and "quiet hours" in n["history"][-1]), None), 30,
                     "the father's SMS deferred to the end of his quiet hours")
    assert sms["status"] == "pending"

    before = notices(father)
    died = {"kind": "death", "occurred_on": (today - timedelta(days=1)).isoformat(), "details": {}}
    status, body = call("POST", f"{base}/api/v1/persons/{father}/events", died, keys["system"])
    assert status == 201, body
    cancelled = next(n for n in notices(father) if n["nid"] == sms["nid"])
    assert cancelled["status"] == "cancelled" and "the person has died" in cancelled["history"][-1]

    second = scan()
    assert second["failed"] == 0
    bundle = wait_until(lambda: [m for m in call("GET", f"{sandbox}/sandbox/messages?to={SON.replace('+', '%2B')}")[1]
                                 if "身后" in m["body"]], 60, "the son's reminder")
    time.sleep(2)  # anything else the worker would still send arrives by now
    received = call("GET", f"{sandbox}/sandbox/messages")[1]
    assert [m["to"] for m in received] == [SON] and len(bundle) == 1
    after = notices(father)  # the second scan made him nothing; nothing of his went out since the death
    assert sorted(n["nid"] for n in after) == sorted(n["nid"] for n in before)
    assert {n["status"] for n in after if n["channel"] != "inbox"} == {"cancelled"}

    link = re.search(r"(http://\S+/n/([0-9a-f]+))", bundle[0]["body"])
    assert link and link.group(1).startswith(base)
    (told,) = [n for n in notices(son) if n["channel"] == "sms" and n["service"] == "after_death_bundle"]
    assert told["nid"] == link.group(2) and told["offset_days"] == 28
    status, draft = call("GET", f"{base}/api/v1/applications/{told['aid']}", headers=officer)
    assert status == 200 and (draft["status"], draft["service"]) == ("draft", "after_death_bundle")
    form = {f["name"]: f for f in draft["form"]["fields"]}
    assert form["applicant_name"]["value"] == "黄小山" and form["phone"]["value"]
