"""Every pure read runs in a read transaction, so a Neo4j cluster's secondaries can serve it: the driver's
transaction log records the access mode and query types of every transaction a walk through the API, the pages, a
scan, a delivery and a provider callback opens, and of the operators' commands, and no write transaction may hold
only reads. A recorded read stays
a write: it appends the access record."""

from __future__ import annotations

from datetime import date, timedelta

from twilio.request_validator import RequestValidator

from graph.transactions import TransactionLog
from notifier.scan import start_scan
from notifier.services import install
from profiles.privacy import FieldCipher
from tests.integration.api_helpers import id_number, keys, uscc
from tests.integration.notify_helpers import at, run_jobs
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import (
    TOKEN,
    make_officer,
    post,
    sign_in_business,
    sign_in_citizen,
    sign_in_officer,
)

PURPOSE = {"X-Purpose": "窗口受理 / at the window"}
BORN = date(1984, 2, 29)
CITIZEN_PHONE, REP_PHONE = "13912345681", "13912345682"


def test_no_write_transaction_in_a_full_walk_holds_only_reads(app, svc, sandbox):
    log = svc.driver.transactions = TransactionLog()
    today = date.today()
    auth = keys(app)
    api = app.test_client()

    def created(path: str, body: dict, role: str = "system", headers: dict | None = None) -> dict:
        answer = api.post(path, headers={**auth[role], **(headers or {})}, json=body)
        assert answer.status_code in (200, 201), (path, answer.get_json())
        return answer.get_json()

    def read(path: str, role: str = "officer") -> None:
        answer = api.get(path, headers={**auth[role], **PURPOSE})
        assert answer.status_code == 200, (path, answer.get_json())

    # a citizen, a spouse and a business on file through the API, with their materials and events
    citizen = created("/api/v1/persons", {"id_number": id_number(seq=521, born=BORN), "name": "欧阳娜娜",
                                          "phone": CITIZEN_PHONE})["pid"]
    rep = created("/api/v1/persons", {"id_number": id_number(seq=522, born=BORN), "name": "司马光明",
                                      "phone": REP_PHONE})["pid"]
    created("/api/v1/relations", {"from": citizen, "to": rep, "type": "SPOUSE_OF"})
    created(f"/api/v1/persons/{citizen}/materials", {
        "kind": "id_card", "number": id_number(seq=521, born=BORN),
        "issued_on": (today - timedelta(days=3620)).isoformat(), "expires_on": (today + timedelta(days=30)).isoformat(),
        "issuer": "佛山市公安局禅城分局", "provenance": "issued", "fields": {"address": "禅城区祖庙路521号"}})
    created(f"/api/v1/persons/{citizen}/events", {"kind": "marriage", "occurred_on": "2012-05-20",
                                                  "details": {"spouse": "司马光明", "place": "禅城区民政局"}})
    code = uscc(org="MA4W52152")
    eid = created("/api/v1/entities", {"uscc": code, "name": "佛山市欧阳贸易有限公司", "kind": "limited_company",
                                       "established_on": "2019-03-01"})["eid"]
    created("/api/v1/relations", {"from": rep, "to": eid, "type": "LEGAL_REP_OF"})
    created(f"/api/v1/entities/{eid}/materials", {
        "kind": "food_business_permit", "number": "JY14406040052152", "issued_on": "2021-06-01",
        "expires_on": (today + timedelta(days=60)).isoformat(), "issuer": "佛山市禅城区市场监督管理局",
        "provenance": "issued", "fields": {}})
    created(f"/api/v1/entities/{eid}/events", {"kind": "change", "occurred_on": "2024-01-05", "details": {}})

    # what the API reads: the subjects, their materials, events, due items, notices, access log; a prefill; a filing
    for path in (f"/api/v1/persons/{citizen}", f"/api/v1/persons?id_number={id_number(seq=521, born=BORN)}",
                 f"/api/v1/persons/{citizen}/materials", f"/api/v1/persons/{citizen}/events",
                 f"/api/v1/persons/{citizen}/due", f"/api/v1/persons/{citizen}/notices",
                 f"/api/v1/persons/{citizen}/access-log", f"/api/v1/entities/{eid}", f"/api/v1/entities?uscc={code}",
                 f"/api/v1/entities/{eid}/materials", f"/api/v1/entities/{eid}/due", "/api/v1/catalog/services"):
        read(path)
    created("/api/v1/prefill", {"subject": {"type": "person", "id": citizen}, "services": ["passport_renewal"]},
            role="officer", headers=PURPOSE)
    aid = created("/api/v1/applications", {"subject": {"type": "person", "id": citizen}, "service": "passport_renewal",
                                           "fields": {"contact_phone": CITIZEN_PHONE, "reason": "护照将到期"},
                                           "reuse": []}, role="officer")["aid"]
    read(f"/api/v1/applications/{aid}")
    created(f"/api/v1/applications/{aid}/decision", {"outcome": "approved", "note": "材料齐全"}, role="officer",
            headers=PURPOSE)

    # the daily scan, its delivery by SMS, and the provider's signed status callback
    install(svc)
    scan_id = start_scan(svc, today, at=at(today, 10))
    run_jobs(svc)
    read(f"/api/v1/scans/{scan_id}", role="admin")
    sms = next(n for n in svc.notices.for_recipient("Person", citizen) if n.channel == "sms" and n.provider_id)
    callback = {"MessageSid": sms.provider_id, "MessageStatus": "delivered",
                "AccountSid": svc.settings.twilio_account_sid}
    url = f"{svc.settings.public_url}/webhooks/twilio/status?nid={sms.nid}"
    answer = api.post(f"/webhooks/twilio/status?nid={sms.nid}", data=callback,
                      headers={"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, callback)})
    assert answer.status_code == 204

    # the citizen's page, inbox and access log; the reminder's link; reading it
    page = app.test_client()
    assert sign_in_citizen(page, sandbox, id_number(seq=521, born=BORN), "+86" + CITIZEN_PHONE).status_code == 303
    assert "欧阳娜娜" in page.get("/me").get_data(as_text=True)
    for path in (f"/me/p/{citizen}/access-log", "/me/preferences", f"/n/{sms.nid}"):
        assert page.get(path).status_code in (200, 302, 303), path
    assert post(page, f"/me/notices/{sms.nid}/read").status_code in (200, 302, 303)

    # the enterprise page
    business = app.test_client()
    assert sign_in_business(business, sandbox, code, "+86" + REP_PHONE).status_code == 303
    assert "佛山市欧阳贸易有限公司" in business.get("/biz").get_data(as_text=True)
    assert business.get("/biz/access-log").status_code == 200

    # the officer at the window: search, profile, unified form, recordings, the desk
    make_officer(svc, "window5", name="李窗口")
    officer = app.test_client()
    assert sign_in_officer(officer, "window5").status_code == 303
    assert post(officer, "/officer/search", {"number": id_number(seq=522, born=BORN),
                                             "purpose": "窗口受理"}).status_code == 303
    for path in (f"/officer/persons/{rep}", f"/officer/persons/{rep}/prefill?services=passport_renewal",
                 f"/officer/persons/{rep}/record", "/officer/queue"):
        assert officer.get(path).status_code == 200, path
    assert post(officer, "/officer/search", {"number": code, "purpose": "窗口受理"}).status_code == 303
    assert officer.get(f"/officer/entities/{eid}").status_code == 200
    assert post(officer, f"/officer/persons/{rep}/materials", {
        "kind": "hukou", "number": "HK44060400522", "issued_on": "2001-05-01", "expires_on": "",
        "issuer": "佛山市公安局", "detail.hukou.address": "禅城区岭南大道522号"}).status_code == 303
    assert post(officer, f"/officer/persons/{rep}/events", {
        "kind": "household_move", "occurred_on": "2020-01-01", "address": "佛山市禅城区岭南大道522号",
        "note": "迁入禅城区岭南大道522号"}).status_code == 303
    make_officer(svc, "chief5", role="supervisor", name="王科长")
    supervisor = app.test_client()
    assert sign_in_officer(supervisor, "chief5").status_code == 303
    assert supervisor.get("/officer/dashboard").status_code == 200

    seen = log.transactions
    assert {t.mode for t in seen} == {"READ", "WRITE"}, "the walk must open both kinds of transaction"
    assert any("graph/audit" in t.origin and t.mode == "WRITE" for t in seen), "no recorded read ran"
    misplaced = log.pure_reads_in_write()
    assert misplaced == [], f"{len(misplaced)} pure reads in write transactions:\n" + "\n".join(
        sorted({str(t) for t in misplaced}))


def test_no_write_transaction_in_the_operators_commands_holds_only_reads(app, svc):
    """A bulk load, the key and access-log commands, the sweeper: batch jobs a cluster's leader should not read for."""
    log = svc.driver.transactions = TransactionLog()
    runner = app.test_cli_runner()
    for args in (["demo", "seed", "--persons", "40"], ["graph", "status"], ["apikey", "list"], ["audit", "verify"],
                 ["notify", "sweep"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    svc.cipher = FieldCipher({**svc.settings.data_keys, "k2": b"n" * 32}, "k2")
    rotated = runner.invoke(args=["keys", "rotate", "--batch", "25"])
    assert rotated.exit_code == 0 and " 0 left" in rotated.output, rotated.output

    assert {t.mode for t in log.transactions} == {"READ", "WRITE"}
    misplaced = log.pure_reads_in_write()
    assert misplaced == [], f"{len(misplaced)} pure reads in write transactions:\n" + "\n".join(
        sorted({str(t) for t in misplaced}))
