"""Sign-in that does not strand people (issue 18), over HTTP with real Redis, Neo4j and the SMS sandbox: the 429
page says how long to wait and leads back, the code page says the tries left and refuses a resend before its time,
`next` stays on the site, a form posted after the session ended leads through sign-in back to its page, signing
out is confirmed, the session clock can be read without being restarted, and the favicon is answered."""

from __future__ import annotations

import re

import pytest

from notifier import login_codes
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import (
    csrf_token,
    last_code,
    make_person,
    pages_app,
    post,
    send_codes,
    sign_in_citizen,
)
from web.pages import sessions

PHONE = "+8613712348001"
OFF_SITE = ["//evil.com", "https://evil.com", "/\\evil.com", "/%5Cevil.com", "%2F%2Fevil.com"]


def text(answer) -> str:
    return re.sub(r"\s+", " ", answer.get_data(as_text=True))


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_with_a_next_off_the_site_lands_on_the_home_page(app, svc, sandbox, target):
    me = make_person(svc, phone=PHONE)
    answer = sign_in_citizen(app.test_client(), sandbox, me.id_number, PHONE, next_path=target)
    assert answer.status_code == 303 and answer.headers["Location"] == "/me"


def test_a_page_that_needs_sign_in_is_where_the_person_lands_after_it(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    sent_to = client.get("/me/preferences").headers["Location"]
    assert sent_to == "/login?next=/me/preferences"
    assert post(client, sent_to, {"id_number": me.id_number}).status_code == 303
    send_codes(app)
    assert post(client, "/login/code", {"code": last_code(sandbox, PHONE)}).headers["Location"] == "/me/preferences"


def test_the_sign_in_page_says_a_prefilled_application_waits_only_for_a_reminder_link(app):
    client = app.test_client()
    waiting = "An application we filled in for you is waiting"
    client.get("/lang/en")
    assert waiting in text(client.get("/login?next=/n/abc123"))
    assert waiting in text(client.get("/biz/login?next=/n/abc123"))
    for other in ("/login", "/login?next=/me", "/login?next=//evil.com/n/x", "/login?next=/n/a/b"):
        assert waiting not in text(client.get(other)), other


def test_a_resend_before_its_time_is_refused_and_sends_nothing(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    client.get("/lang/en")
    assert post(client, "/login?next=/me/preferences", {"id_number": me.id_number}).status_code == 303
    send_codes(app)
    first = last_code(sandbox, PHONE)
    page = text(client.get("/login/code"))
    assert "You can ask for a new one from" in page
    assert 50 <= int(re.search(r'data-resend-in="(\d+)"', page).group(1)) <= 60  # a minute after the code was asked
    early = post(client, "/login/code/resend")
    assert early.status_code == 429 and 1 <= int(early.headers["Retry-After"]) <= 60
    assert "It is too early for a new code" in text(early)
    send_codes(app)
    assert len(sandbox.messages(to=PHONE)) == 1  # nothing more was sent

    for key in svc.redis.keys("pages:resend-at:*"):  # the wait is over (as if a minute had passed)
        svc.redis.set(key, 0)
    again = post(client, "/login/code/resend")
    assert again.status_code == 303 and again.headers["Location"] == "/login/code"
    assert "A new code is on its way" in text(client.get("/login/code"))
    send_codes(app)
    second = last_code(sandbox, PHONE)
    assert len(sandbox.messages(to=PHONE)) == 2
    if second != first:
        assert post(client, "/login/code", {"code": first}).status_code == 422  # the earlier code no longer works
    assert post(client, "/login/code", {"code": second}).headers["Location"] == "/me/preferences"  # next kept


def test_a_resend_counts_against_the_same_limit_as_the_first_code(live_environ, sandbox, clean):
    app = pages_app(live_environ, sandbox.url, LOGIN_LIMIT_ACCOUNT="2 per minute")
    app.config["LOGIN_RESEND_AFTER_S"] = 0
    svc = app.extensions["lifecycle"]
    try:
        me = make_person(svc, phone=PHONE)
        client = app.test_client()
        assert post(client, "/login", {"id_number": me.id_number}).status_code == 303
        assert post(client, "/login/code/resend").status_code == 303
        refused = post(client, "/login/code/resend")
        assert refused.status_code == 429 and "Retry-After" in refused.headers
    finally:
        svc.close()


def test_a_wrong_code_says_how_many_tries_are_left(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    client.get("/lang/en")
    post(client, "/login", {"id_number": me.id_number})
    send_codes(app)
    right = last_code(sandbox, PHONE)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for left in range(login_codes.MAX_ATTEMPTS - 1, 0, -1):
        answer = post(client, "/login/code", {"code": wrong})
        assert answer.status_code == 422 and f"Tries left: {left}." in text(answer)
    last = text(post(client, "/login/code", {"code": wrong}))
    assert "that was the last try" in last
    assert "You can ask for a new one from" in last  # not now: no code is sent until the wrong tries are forgotten


def test_the_429_page_says_how_long_to_wait_and_leads_back(live_environ, sandbox, clean):
    app = pages_app(live_environ, sandbox.url, LOGIN_LIMIT_ADDRESS="1 per 5 minutes")
    svc = app.extensions["lifecycle"]
    try:
        client = app.test_client()
        client.get("/lang/en")
        number = make_person(svc, phone=PHONE).id_number
        assert post(client, "/login?next=/n/abc", {"id_number": number}).status_code == 303
        refused = post(client, "/login?next=/n/abc", {"id_number": number})
        page = text(refused)
        assert refused.status_code == 429 and 240 < int(refused.headers["Retry-After"]) <= 300
        assert re.search(r"Try again in [45] minutes\.", page), page
        assert 'href="/login?next=/n/abc"' in page and ">Back to sign-in<" in page and 'href="/"' in page
        client.get("/lang/zh_CN")
        assert re.search(r"请在[45]分钟后再试", text(post(client, "/login", {"id_number": number})))
        api = post(client, "/login", {"id_number": number}, headers={"Accept": "application/json"})
        assert api.status_code == 429 and api.get_json()["code"] == 429 and "Retry-After" in api.headers
    finally:
        svc.close()


def test_a_form_posted_after_the_session_ended_leads_through_sign_in_back_to_its_page(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    client.get("/lang/en")
    sign_in_citizen(client, sandbox, me.id_number, PHONE)
    token = csrf_token(client)
    assert svc.redis.delete(*svc.redis.keys(sessions._PREFIX + "*")) == 1  # the session idled out on the server
    form_page = "http://localhost/me/preferences"
    answer = client.post("/me/preferences", data={"csrf_token": token, "channel_1": "sms"},
                         headers={"Referer": form_page})
    assert answer.status_code == 303 and answer.headers["Location"] == "/login?next=/me/preferences"
    assert "Your session had ended, so what you sent was not saved" in text(client.get(answer.headers["Location"]))
    assert post(client, answer.headers["Location"], {"id_number": me.id_number}).status_code == 303
    send_codes(app)
    assert post(client, "/login/code", {"code": last_code(sandbox, PHONE)}).headers["Location"] == "/me/preferences"


def test_a_form_posted_without_its_cookie_leads_to_sign_in_not_a_bare_400(app):
    client = app.test_client()  # no cookie at all: the CSRF token is gone with the session
    answer = client.post("/me/preferences", data={"csrf_token": "stale"},
                         headers={"Referer": "http://localhost/me/preferences"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/login?next=/me/preferences"
    officer = app.test_client().post("/officer/admin/keys", data={}, headers={"Referer": "http://localhost/officer/queue"})
    assert officer.status_code == 303 and officer.headers["Location"] == "/officer/login?next=/officer/queue"
    for referer in ("https://evil.com/me/preferences", "http://evil.com//evil.com/x"):  # another site's page: home
        answer = app.test_client().post("/biz/applications/x", data={}, headers={"Referer": referer})
        assert answer.headers["Location"] == "/biz/login?next=/biz"


def test_signing_out_is_confirmed_on_the_sign_in_page(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    client.get("/lang/en")
    sign_in_citizen(client, sandbox, me.id_number, PHONE)
    out = post(client, "/logout")
    assert out.status_code == 303 and out.headers["Location"] == "/login"
    page = text(client.get("/login"))
    assert "You have signed out." in page and 'name="id_number"' in page


def test_the_session_clock_is_read_without_being_restarted_and_extended_on_request(app, svc, sandbox):
    me = make_person(svc, phone=PHONE)
    client = app.test_client()
    assert client.get("/session").get_json() == {"seconds_left": 0}
    sign_in_citizen(client, sandbox, me.id_number, PHONE)
    key = next(iter(svc.redis.keys(sessions._PREFIX + "*")))
    svc.redis.expire(key, 100)
    assert 90 <= client.get("/session").get_json()["seconds_left"] <= 100  # asking did not restart it
    extended = client.post("/session/extend", headers={"X-CSRFToken": csrf_token(client)})
    assert extended.get_json()["seconds_left"] > 1000
    assert 'data-session-left="' in text(client.get("/me"))
    assert client.post("/session/extend").status_code == 400  # the ping is a form post like any other


def test_the_favicon_is_answered(app):
    client = app.test_client()
    assert client.get("/favicon.ico").headers["Location"] == "/static/favicon.svg"
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert 'rel="icon" href="/static/favicon.svg"' in text(client.get("/"))
