"""Signing in to the pages with real Neo4j, Redis and the SMS sandbox: codes by SMS (expiring, single-use, limited),
officer passwords (argon2), CSRF on every form, sessions that really end, the language switch."""

from __future__ import annotations

import re
import time

import pytest

from notifier import login_codes
from tests.integration.api_helpers import id_number
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import (
    csrf_token,
    last_code,
    make_entity,
    make_officer,
    make_person,
    pages_app,
    post,
    send_codes,
    sign_in_business,
    sign_in_citizen,
    sign_in_officer,
)

PHONE = "+8613712340001"


def test_a_citizen_signs_in_with_the_code_from_the_sms_and_lands_on_their_page(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    assert client.get("/me").headers["Location"].startswith("/login?next=/me")
    answer = sign_in_citizen(client, sandbox, me.id_number, PHONE)
    assert answer.status_code == 303 and answer.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200
    (sms,) = sandbox.messages(to=PHONE)
    assert "验证码" in sms["body"] and me.id_number not in sms["body"]


def test_a_code_works_once_and_only_for_the_login_it_was_sent_for(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    other = make_person(svc, phone="+8613712340002", name="王五")
    first = app.test_client()
    post(first, "/login", {"id_number": me.id_number})
    send_codes(app)
    code = last_code(sandbox, PHONE)
    assert post(first, "/login/code", {"code": code}).status_code == 303
    again = app.test_client()  # someone who saw the same SMS
    post(again, "/login", {"id_number": other.id_number})
    send_codes(app)
    refused = post(again, "/login/code", {"code": code})
    assert refused.status_code == 422 and "code" in refused.get_data(as_text=True)


def test_a_used_code_cannot_be_used_again(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    post(client, "/login", {"id_number": me.id_number})
    send_codes(app)
    code = last_code(sandbox, PHONE)
    assert post(client, "/login/code", {"code": code}).status_code == 303
    replay = app.test_client()  # a sign-in of the same account pending elsewhere, before a new code is sent
    assert post(replay, "/login", {"id_number": me.id_number}).status_code == 303
    assert post(replay, "/login/code", {"code": code}).status_code == 422


def test_five_wrong_codes_throw_the_code_away(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    post(client, "/login", {"id_number": me.id_number})
    send_codes(app)
    code = last_code(sandbox, PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert post(client, "/login/code", {"code": wrong}).status_code == 422
    assert post(client, "/login/code", {"code": code}).status_code == 422  # even the right one, now


def test_an_expired_code_is_refused(live_environ, sandbox, clean):
    app = pages_app(live_environ, sandbox.url, LOGIN_CODE_TTL="30")
    svc = app.extensions["lifecycle"]
    try:
        me = make_person(svc, phone=PHONE)
        client = app.test_client()
        post(client, "/login", {"id_number": me.id_number})
        send_codes(app)
        code = last_code(sandbox, PHONE)
        key = login_codes.CODE + login_codes.citizen_account(svc, me.id_number)
        assert 0 < svc.redis.ttl(key) <= 30  # the code's life is Redis's TTL ...
        svc.redis.pexpire(key, 1)  # ... so running the clock forward is ending the TTL
        time.sleep(0.05)
        assert post(client, "/login/code", {"code": code}).status_code == 422
    finally:
        svc.close()


def test_an_unknown_id_number_looks_the_same_as_a_known_one_and_sends_nothing(app, svc, sandbox):
    client = app.test_client()
    answer = post(client, "/login", {"id_number": id_number(seq=777)})
    assert answer.status_code == 303 and answer.headers["Location"] == "/login/code"
    page = client.get("/login/code").get_data(as_text=True)
    send_codes(app)
    assert "+86" not in page and sandbox.messages() == []
    assert post(client, "/login/code", {"code": "123456"}).status_code == 422


@pytest.mark.parametrize("typed, reason", [
    ("44060419900517123X", "check digit"),
    ("440604199002301234", "birth date"),
    ("44060419900517", "18"),
    ("' OR 1=1 --", "18"),
])
def test_a_bad_id_number_is_refused_naming_the_field(app, sandbox, typed, reason):
    client = app.test_client()
    answer = post(client, "/login", {"id_number": typed})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="e-id_number"' in page
    send_codes(app)
    assert sandbox.messages() == []


def test_code_requests_are_limited_per_address_and_per_number(live_environ, sandbox, clean):
    app = pages_app(live_environ, sandbox.url, LOGIN_LIMIT_ADDRESS="3 per minute", LOGIN_LIMIT_ACCOUNT="2 per minute")
    svc = app.extensions["lifecycle"]
    try:
        me = make_person(svc, phone=PHONE)
        client = app.test_client()
        statuses = []
        for _ in range(3):  # the worker sends each code before the next is asked for
            statuses.append(post(client, "/login", {"id_number": me.id_number}).status_code)
            send_codes(app)
        assert statuses == [303, 303, 429]
        assert len(sandbox.messages(to=PHONE)) == 2  # the third was the number's limit, not the address's
        other = from_address(app, "10.1.1.1")  # a new address, the same number
        assert post(other, "/login", {"id_number": me.id_number}).status_code == 429
        fresh = from_address(app, "10.1.1.2")
        codes = [post(fresh, "/login", {"id_number": id_number(seq=s)}).status_code for s in (301, 302, 303, 304)]
        assert codes == [303, 303, 303, 429]  # the address's limit, whatever the number
    finally:
        svc.close()


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_every_form_needs_the_csrf_token(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    assert client.post("/login", data={"id_number": me.id_number}).status_code == 400
    assert client.post("/login", data={"id_number": me.id_number, "csrf_token": "forged"}).status_code == 400
    send_codes(app)
    assert sandbox.messages() == []
    assert client.post("/logout").status_code == 400


def test_signing_out_ends_the_session_on_the_server(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    sign_in_citizen(client, sandbox, me.id_number, PHONE)
    cookie = client.get_cookie("lifecycle_session").value
    assert post(client, "/logout").status_code == 303
    stolen = app.test_client()
    stolen.set_cookie("lifecycle_session", cookie)  # the cookie from before signing out
    assert stolen.get("/me").status_code == 303


def test_after_signing_in_only_a_path_on_this_site_is_followed(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    for target, expected in [("/me", "/me"), ("//evil.example/x", "/me"), ("https://evil.example/", "/me")]:
        client = app.test_client()
        answer = sign_in_citizen(client, sandbox, me.id_number, PHONE, next_path=target)
        assert answer.headers["Location"] == expected


def test_a_business_signs_in_with_a_code_sent_to_its_legal_representative(app, svc, sandbox):
    rep = make_person(svc, phone="+8613712340009", name="黄老板")
    company = make_entity(svc, legal_rep=rep)
    client = app.test_client()
    answer = sign_in_business(client, sandbox, company.uscc, "+8613712340009")
    assert answer.status_code == 303 and answer.headers["Location"] == "/biz"
    assert client.get("/me").status_code == 303  # a business session is not a citizen's


def test_officers_sign_in_with_a_password_and_a_wrong_one_is_refused(app, svc):
    make_officer(svc, "window1")
    client = app.test_client()
    assert sign_in_officer(client, "window1", "wrong password entirely").status_code == 422
    assert sign_in_officer(client, "nobody", "wrong password entirely").status_code == 422
    assert client.get("/officer").status_code == 303
    answer = sign_in_officer(client, "WINDOW1")
    assert answer.status_code == 303 and answer.headers["Location"] == "/officer"
    assert client.get("/officer").status_code == 200
    stored = svc.driver.execute_query("MATCH (o:Officer) RETURN o.pw_hash AS h")[0][0]["h"]
    assert stored.startswith("$argon2id$") and "battery" not in stored


def test_the_language_switch_is_remembered_and_pages_default_to_chinese(app):
    client = app.test_client()
    assert "居民身份证号码" in client.get("/login").get_data(as_text=True)
    assert client.get("/lang/en?next=/login").headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Resident ID number" in page and re.search(r'<html lang="en">', page)
    assert client.get("/lang/en?next=//evil.example").headers["Location"] == "/"
    assert csrf_token(client)
