"""PROXY_HOPS: how many proxies' X-Forwarded-* headers the app believes. At 0 (no proxy) none; at n the last n
entries, so the client's own entries, which come first, never choose the address the login limits count, the scheme
or the host. Status webhooks stay checked against PUBLIC_URL whatever the forwarded headers say."""

from __future__ import annotations

import pytest
from flask import jsonify, request, url_for
from twilio.request_validator import RequestValidator

from tests.integration.api_helpers import id_number
from tests.integration.pages_helpers import SID, TOKEN, csrf_token, pages_app

CLOSED_URL = "http://127.0.0.1:9"
PUBLIC_URL = "https://lifecycle.example.gov.cn"
CLIENT, SPOOFED, PROXY = "203.0.113.5", "198.51.100.1", "10.0.0.2"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "lifecycle.example.gov.cn", "X-Forwarded-Port": "443"}


def site(live_environ, hops: int, **overrides: str):
    app = pages_app(live_environ, CLOSED_URL, PROXY_HOPS=str(hops), PUBLIC_URL=PUBLIC_URL, **overrides)

    def echo():  # what a view sees of the request
        return jsonify(address=request.remote_addr, url=url_for("health.healthz", _external=True))

    app.add_url_rule("/_seen", view_func=echo)
    return app


def seen(app, headers: dict[str, str]) -> dict[str, str]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY  # the peer gunicorn sees: the proxy
    return client.get("/_seen", headers=headers).get_json()


def test_without_proxy_hops_forwarded_headers_are_ignored(live_environ):
    app = site(live_environ, 0)
    try:
        assert seen(app, {"X-Forwarded-For": CLIENT, **FORWARDED}) == {
            "address": PROXY, "url": "http://localhost/healthz"}
    finally:
        app.extensions["lifecycle"].close()


@pytest.mark.parametrize("hops, forwarded", [
    (1, {"X-Forwarded-For": CLIENT, **FORWARDED}),
    # the client's own headers first, then what the proxy appended or set
    (1, {"X-Forwarded-For": f"{SPOOFED}, {CLIENT}", "X-Forwarded-Proto": "http, https",
         "X-Forwarded-Host": "evil.example, lifecycle.example.gov.cn", "X-Forwarded-Port": "80, 443"}),
    # a CDN appended the client's entries, the proxy behind it its own
    (2, {"X-Forwarded-For": f"{SPOOFED}, {CLIENT}, {PROXY}", "X-Forwarded-Proto": "http, https, http",
         "X-Forwarded-Host": "evil.example, lifecycle.example.gov.cn, cdn-origin.internal",
         "X-Forwarded-Port": "80, 443, 80"}),
])
def test_behind_proxies_the_last_hops_entries_are_believed(live_environ, hops, forwarded):
    app = site(live_environ, hops)
    try:
        assert seen(app, forwarded) == {"address": CLIENT, "url": "https://lifecycle.example.gov.cn/healthz"}
    finally:
        app.extensions["lifecycle"].close()


@pytest.mark.parametrize("hops, counted_alike", [(0, True), (1, False)])
def test_the_login_limit_counts_the_address_proxy_hops_believes(live_environ, clean, hops, counted_alike):
    """Two clients behind one proxy: one limit for both without PROXY_HOPS, one each with it. Whatever each puts first
    in X-Forwarded-For changes nothing."""
    app = site(live_environ, hops, LOGIN_LIMIT_ADDRESS="2 per minute")
    try:
        def ask(client_address: str, claimed: str, seq: int) -> int:
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = PROXY
            headers = {"X-Forwarded-For": f"{claimed}, {client_address}"}
            data = {"csrf_token": csrf_token(client), "id_number": id_number(seq=seq)}
            return client.post("/login", data=data, headers=headers).status_code

        first = [ask(CLIENT, f"192.0.2.{n}", 400 + n) for n in range(3)]
        assert first == [303, 303, 429]
        assert ask("203.0.113.6", "192.0.2.9", 409) == (429 if counted_alike else 303)
    finally:
        app.extensions["lifecycle"].close()


@pytest.mark.parametrize("hops", [0, 1])
def test_a_status_webhook_is_checked_against_public_url_whatever_is_forwarded(live_environ, clean, hops):
    app = site(live_environ, hops, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN)
    try:
        body = {"MessageSid": "SM" + "1" * 32, "AccountSid": SID, "MessageStatus": "delivered"}
        path = "/webhooks/twilio/status?nid=0123456789abcdef01"
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = PROXY
        forwarded = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "http", "X-Forwarded-Host": "10.0.0.7:8000"}

        def post(signed_url: str) -> int:
            signature = RequestValidator(TOKEN).compute_signature(signed_url, body)
            return client.post(path, data=body, headers={**forwarded, "X-Twilio-Signature": signature}).status_code

        assert post(PUBLIC_URL + path) == 204  # the URL Twilio was given; the notice is unknown, so nothing moves
        assert post("http://10.0.0.7:8000" + path) == 403  # what the forwarded headers would make of it
        assert post("http://localhost" + path) == 403  # what this process sees without them
    finally:
        app.extensions["lifecycle"].close()
