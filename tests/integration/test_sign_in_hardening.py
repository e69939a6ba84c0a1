"""What an outside probe found in signing in, each closed and kept closed (issue 14): open redirects through `next`,
per-account limits bought off by respelling a number, counters reset by posting junk or asking for a new code, a
code page and cookie that told known numbers from unknown ones, and sessions left alive by the next sign-in."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from flask.sessions import SecureCookieSessionInterface

from tests.conftest import CLOSED
from tests.integration.api_helpers import id_number, redis_contents
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import (
    OFFICER_PASSWORD,
    last_code,
    make_entity,
    make_officer,
    make_person,
    pages_app,
    post,
    send_codes,
    sign_in_citizen,
    sign_in_officer,
)

PHONE = "+8613712349001"
# What browsers turn into another host: a tab / CR / LF they drop, a backslash they read as a slash, a scheme.
CRAFTED_NEXT = ["/%09/evil.example/", "/%0D%0ASet-Cookie:%20evil=1", "/%0A/evil.example", "//evil.example/",
                "/%5Cevil.example", "%5C%5Cevil.example", "https://evil.example/", "javascript:alert(1)",
                "/%09%09//evil.example", "%09//evil.example", "http:%2F%2Fevil.example"]


def off_site(location: str) -> bool:
    """Whether a browser following this Location would leave the site (it drops tabs and line breaks and reads a
    backslash as a slash before it parses)."""
    as_read = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    parts = urlsplit(as_read)
    return bool(parts.scheme or parts.netloc or as_read.startswith("//") or not as_read.startswith("/"))


@pytest.mark.parametrize("target", CRAFTED_NEXT)
def test_the_language_switch_never_leads_off_the_site(app, target):
    answer = app.test_client().get(f"/lang/en?next={target}")
    assert answer.status_code == 303, answer.status_code  # never a 500 on a crafted header
    assert not off_site(answer.headers["Location"]) and "\n" not in answer.headers["Location"]
    assert not [v for k, v in answer.headers if k.lower() == "set-cookie" and "evil" in v]  # no header smuggled in


@pytest.mark.parametrize("target", CRAFTED_NEXT)
def test_signing_in_never_leads_off_the_site(app, svc, sandbox, target):
    me = make_person(svc, phone=PHONE)
    answer = sign_in_citizen(app.test_client(), sandbox, me.id_number, PHONE, next_path=target)
    assert answer.status_code == 303 and not off_site(answer.headers["Location"])
    make_officer(svc, "window9")
    client = app.test_client()
    client.get("/login")
    answer = post(client, f"/officer/login?next={target}", {"username": "window9", "password": OFFICER_PASSWORD})
    assert answer.status_code == 303 and not off_site(answer.headers["Location"])


def test_a_path_on_the_site_is_still_followed(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    answer = sign_in_citizen(app.test_client(), sandbox, me.id_number, PHONE, next_path="/me/preferences")
    assert answer.headers["Location"] == "/me/preferences"
    assert app.test_client().get("/lang/en?next=/login%3Fx%3D1").headers["Location"] == "/login?x=1"


# --- limits per account, whatever the spelling ------------------------------------------------------------------
def seq_ending_in_x() -> int:
    """A sequence number whose ID number (born 1990-05-17) has the check digit X."""
    return next(s for s in range(100, 999) if id_number(seq=s).endswith("X"))


def spellings(number: str) -> list[str]:
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
    return [number, f"{number[:6]}-{number[6:14]}-{number[14:]}", f" {number[:6]} {number[6:]} ", full_width,
            number.lower()]


@pytest.fixture
def limited(live_environ, sandbox, clean):
    sandbox.clear()
    app = pages_app(live_environ, sandbox.url, LOGIN_LIMIT_ACCOUNT="2 per 10 minutes")
    yield app
    app.extensions["lifecycle"].close()


def test_respelling_a_number_buys_no_fresh_codes(limited, sandbox):
    svc = limited.extensions["lifecycle"]
    seq = seq_ending_in_x()
    number = make_person(svc, phone=PHONE, seq=seq, born=date(1990, 5, 17)).id_number
    assert number == id_number(seq=seq) and number.endswith("X")
    statuses = []
    for n, typed in enumerate(spellings(number)):  # each from an address of its own: the account's limit, not theirs
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.9.0.{n + 1}"
        statuses.append(post(client, "/login", {"id_number": typed}).status_code)
    send_codes(limited)
    assert statuses == [303, 303, 429, 429, 429]
    assert len(sandbox.messages(to=PHONE)) == 2


def test_junk_posted_with_a_code_does_not_reset_the_wrong_code_count(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    post(client, "/login", {"id_number": me.id_number})
    send_codes(app)
    code = last_code(sandbox, PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for n in range(5):
        assert post(client, "/login/code", {"code": wrong, "id_number": f"junk{n}", "uscc": "junk"}).status_code == 422
    assert post(client, "/login/code", {"code": code}).status_code == 422  # the five counted: the code is gone


def test_a_new_code_does_not_reset_the_wrong_code_count(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    post(client, "/login", {"id_number": me.id_number})
    send_codes(app)
    first = last_code(sandbox, PHONE)
    for _ in range(3):
        assert post(client, "/login/code", {"code": f"{(int(first) + 1) % 1_000_000:06d}"}).status_code == 422
    post(client, "/login", {"id_number": me.id_number})  # a new code for the same account
    send_codes(app)
    second = last_code(sandbox, PHONE)
    for _ in range(2):
        assert post(client, "/login/code", {"code": f"{(int(second) + 1) % 1_000_000:06d}"}).status_code == 422
    assert post(client, "/login/code", {"code": second}).status_code == 422  # 3 + 2 wrong: no sixth try
    post(client, "/login", {"id_number": me.id_number})
    send_codes(app)
    assert len(sandbox.messages(to=PHONE)) == 2  # and no code is sent while the tries are used up


def test_code_attempts_are_limited_per_pending_account_not_per_posted_field(live_environ, sandbox, clean):
    sandbox.clear()
    app = pages_app(live_environ, sandbox.url, LOGIN_LIMIT_ACCOUNT="3 per 10 minutes")
    svc = app.extensions["lifecycle"]
    try:
        me = make_person(svc, phone=PHONE)
        client = app.test_client()
        post(client, "/login", {"id_number": me.id_number})
        statuses = [post(client, "/login/code", {"code": "000000", "id_number": id_number(seq=400 + n)}).status_code
                    for n in range(4)]
        assert statuses == [422, 422, 422, 429]
    finally:
        svc.close()


# --- a known number and an unknown one look the same ------------------------------------------------------------
def cookie_payload(app, client) -> dict:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.loads(client.get_cookie("lifecycle_session").value)


def without_token(page: str) -> str:
    """The page without what differs by the second it was asked for, not by the number: the CSRF token, and when a
    new code may be asked for (the countdown's seconds and the clock time)."""
    page = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
    return re.sub(r'data-resend-in="\d+"|\d\d:\d\d:\d\d', "", page)


def test_a_known_and_an_unknown_number_get_the_same_answer_page_and_cookie(app, svc, sandbox):
    known = make_person(svc, phone=PHONE)
    seen = {}
    for which, number in (("known", known.id_number), ("unknown", id_number(seq=778))):
        client = app.test_client()
        answer = post(client, "/login", {"id_number": number})
        page = client.get("/login/code")
        payload = cookie_payload(app, client)
        seen[which] = (answer.status_code, answer.headers["Location"], page.status_code,
                       without_token(page.get_data(as_text=True)), sorted(payload),
                       len(client.get_cookie("lifecycle_session").value), len(payload["pending"]))
        assert known.pid not in str(payload) and "citizen" not in str(payload) and "unknown" not in str(payload)
    assert seen["known"] == seen["unknown"]
    send_codes(app)
    assert len(sandbox.messages(to=PHONE)) == 1  # only the known number got a code


def test_the_same_for_a_business_with_and_without_a_legal_representative_on_file(app, svc, sandbox):
    rep = make_person(svc, phone=PHONE, name="黄老板")
    company = make_entity(svc, legal_rep=rep)
    nobody = make_entity(svc, name="无人公司有限公司")
    seen = []
    for code in (company.uscc, nobody.uscc):
        client = app.test_client()
        answer = post(client, "/biz/login", {"uscc": code})
        payload = cookie_payload(app, client)
        seen.append((answer.status_code, without_token(client.get("/login/code").get_data(as_text=True)),
                     sorted(payload), len(client.get_cookie("lifecycle_session").value)))
        assert company.eid not in str(payload) and rep.pid not in str(payload)
    assert seen[0] == seen[1]


def test_asking_for_a_code_never_looks_the_number_up(live_environ, sandbox, svc):
    """The request's time cannot depend on whether the number is on file when it never asks the graph: an app
    whose Neo4j address is closed still answers every request for a code (the job looks up, after the answer)."""
    known = make_person(svc, phone=PHONE)
    blind = pages_app(live_environ, sandbox.url, NEO4J_URI=f"bolt://{CLOSED}")
    try:
        for number in (known.id_number, id_number(seq=779)):
            client = blind.test_client()
            answer = post(client, "/login", {"id_number": number})
            assert answer.status_code == 303 and answer.headers["Location"] == "/login/code"
            assert client.get("/login/code").status_code == 200
    finally:
        blind.extensions["lifecycle"].close()


# --- sessions ---------------------------------------------------------------------------------------------------
def test_signing_in_as_someone_else_ends_the_previous_session(app, svc, sandbox):
    first = make_person(svc, phone=PHONE, name="甲先生")
    second = make_person(svc, phone="+8613712349002", name="乙女士")
    client = app.test_client()
    sign_in_citizen(client, sandbox, first.id_number, PHONE)
    old_cookie = client.get_cookie("lifecycle_session").value
    before = set(svc.redis.scan_iter("pages:session:*"))
    assert len(before) == 1
    sign_in_citizen(client, sandbox, second.id_number, "+8613712349002")
    after = set(svc.redis.scan_iter("pages:session:*"))
    assert len(after) == 1 and not after & before
    stolen = app.test_client()
    stolen.set_cookie("lifecycle_session", old_cookie)
    assert stolen.get("/me").status_code == 303
    make_officer(svc, "window8")
    assert sign_in_officer(client, "window8").status_code == 303  # an officer at the same browser, too
    assert not set(svc.redis.scan_iter("pages:session:*")) & after


def test_a_page_session_keeps_no_name_or_number_in_redis(app, svc, sandbox):
    me = make_person(svc, phone=PHONE, name="司马懿")
    client = app.test_client()
    sign_in_citizen(client, sandbox, me.id_number, PHONE)
    assert "司马懿" in client.get("/me").get_data(as_text=True)  # the name still reaches the page header
    make_officer(svc, "window7", name="诸葛亮")
    officer = app.test_client()
    sign_in_officer(officer, "window7")
    for key, value in redis_contents(svc.redis):
        for secret in ("司马懿", "诸葛亮", me.id_number, PHONE, PHONE[3:]):
            assert secret.encode() not in key and secret.encode() not in value, (key, secret)

