"""The local SMS sandbox driven by the official twilio client, directly and through notifier.sms (no Neo4j or Redis)."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from notifier.sandbox import Sandbox
from notifier.sms import SmsClient, SmsError, scrub

SID = "AC" + "5" * 32
TOKEN = "sandbox-test-token"
SENDER = "+15017122661"
TO = "+8613812345678"
DEFAULTS = {"latency_ms": 0, "jitter_ms": 0, "max_concurrency": 0, "fail_rate": 0.0, "fail_codes": [500, 20429],
            "slow_seconds": 3.0, "callback_delay_ms": 10, "duplicate_callbacks": False, "reverse_callbacks": False}
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean():
    """The sandbox needs neither Neo4j nor Redis: this replaces the integration suite's autouse clean-up."""


@pytest.fixture(scope="module")
def sandbox():
    server = Sandbox(port=0, account_sid=SID, auth_token=TOKEN, callback_delay_ms=10, slow_seconds=3.0).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(request):
    if "sandbox" in request.fixturenames:
        box = request.getfixturevalue("sandbox")
        box.configure(DEFAULTS)
        box.clear()


@pytest.fixture
def sms(sandbox):
    client = SmsClient(SID, TOKEN, SENDER, base_url=sandbox.url, timeout=5)
    yield client
    client.close()


@pytest.fixture
def twilio(sandbox) -> Client:
    client = Client(SID, TOKEN, http_client=TwilioHttpClient(timeout=5))
    client.api.base_url = sandbox.url
    return client


def api(sandbox, method: str, path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("auth", (SID, TOKEN))
    return requests.request(method, sandbox.url + path, timeout=5, **kwargs)


def eventually(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail(f"not true within {timeout} s: {check}")


@dataclass
class Call:
    path: str
    signature: str | None
    params: dict[str, str]


class Receiver:
    """A tiny status-callback endpoint: records each POST, answers `status` after `delay` seconds."""

    def __init__(self, status: int = 204, delay: float = 0.0):
        self.calls: list[Call] = []
        self.status, self.delay = status, delay
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                outer.calls.append(Call(self.path, self.headers.get("X-Twilio-Signature"), dict(parse_qsl(body))))
                time.sleep(outer.delay)
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a sender hanging up is not a test failure
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def statuses(self) -> list[str]:
        return [call.params["MessageStatus"] for call in self.calls]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def settle(sandbox, sid: str, status: str, receiver: Receiver | None = None, calls: int = 0) -> None:
    """Wait for the stored status and `calls` callbacks, then a little longer, so a stray extra one would show."""
    eventually(lambda: sandbox.fetch(sid)["status"] == status)
    if receiver is not None:
        eventually(lambda: len(receiver.calls) >= calls)
    time.sleep(0.1)


# -- sending --------------------------------------------------------------------------------------------------------

def test_accepts_a_message_with_twilio_shape(sandbox, twilio):
    before = datetime.now(UTC).replace(microsecond=0)
    message = twilio.messages.create(to=TO, from_=SENDER, body="您好，您的身份证将于下月到期")
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.account_sid, message.to, message.from_, message.status) == (SID, TO, SENDER, "queued")
    assert (message.num_segments, message.num_media, message.direction, message.api_version) == \
        ("1", "0", "outbound-api", "2010-04-01")
    assert message.date_sent is None and message.price is None and message.error_code is None
    assert before <= message.date_created <= datetime.now(UTC)
    assert message.uri == f"/2010-04-01/Accounts/{SID}/Messages/{message.sid}.json"

    raw = api(sandbox, "POST", MESSAGES, data={"To": TO, "From": SENDER, "Body": "a" * 161})
    assert raw.status_code == 201
    body = raw.json()
    assert set(body) == {"account_sid", "api_version", "body", "date_created", "date_sent", "date_updated",
                         "direction", "error_code", "error_message", "from", "messaging_service_sid", "num_media",
                         "num_segments", "price", "price_unit", "sid", "status", "subresource_uris", "to", "uri"}
    assert body["num_segments"] == "2" and body["error_message"] is None and body["messaging_service_sid"] is None
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000", body["date_created"])
    assert body["subresource_uris"]["media"] == f"/2010-04-01/Accounts/{SID}/Messages/{body['sid']}/Media.json"
    assert [m["sid"] for m in sandbox.messages()] == [message.sid, body["sid"]]
    assert sandbox.stats()["accepted"] == 2


@pytest.mark.parametrize(("body", "segments"), [("a" * 160, "1"), ("a" * 306, "2"), ("a" * 307, "3"),
                                                ("办" * 70, "1"), ("办" * 71, "2"), ("办" * 135, "3")])
def test_counts_segments(sandbox, body, segments):
    assert api(sandbox, "POST", MESSAGES, data={"To": TO, "From": SENDER, "Body": body}).json()["num_segments"] \
        == segments


def test_messaging_service_instead_of_from(sandbox):
    answer = api(sandbox, "POST", MESSAGES, data={"To": TO, "MessagingServiceSid": "MG" + "1" * 32, "Body": "hi"})
    assert answer.status_code == 201
    assert (answer.json()["messaging_service_sid"], answer.json()["from"]) == ("MG" + "1" * 32, None)


def test_send_through_the_client_returns_the_sid(sandbox, sms):
    body = "您的营业执照年报将于 6 月 30 日截止"
    sid = sms.send(TO, body)
    [stored] = sandbox.messages(TO)
    assert (stored["sid"], stored["to"], stored["from"], stored["body"], stored["status_callback"]) == \
        (sid, TO, SENDER, body, None)
    assert stored["status"] in {"queued", "sent", "delivered"}


@pytest.mark.parametrize(("form", "code"), [
    ({"From": SENDER, "Body": "hi"}, 21604),
    ({"To": TO, "From": SENDER}, 21602),
    ({"To": TO, "From": SENDER, "Body": ""}, 21602),
    ({"To": TO, "Body": "hi"}, 21603),
    ({"To": "13812345678", "From": SENDER, "Body": "hi"}, 21211),
    ({"To": "+1234567", "From": SENDER, "Body": "hi"}, 21211),
    ({"To": "+1234567890123456", "From": SENDER, "Body": "hi"}, 21211),
])
def test_rejects_bad_requests_with_twilio_codes(sandbox, form, code):
    answer = api(sandbox, "POST", MESSAGES, data=form)
    assert answer.status_code == 400
    assert answer.json() == {"code": code, "message": answer.json()["message"], "status": 400,
                             "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    assert sandbox.messages() == [] and sandbox.stats()["rejected"] == {str(code): 1}


def test_auth_failures(sandbox, twilio):
    wrong_token = api(sandbox, "POST", MESSAGES, auth=(SID, "wrong"), data={"To": TO, "From": SENDER, "Body": "x"})
    other_account = api(sandbox, "POST", MESSAGES.replace(SID, "AC" + "6" * 32), data={"To": TO, "From": SENDER,
                                                                                      "Body": "x"})
    no_auth = api(sandbox, "POST", MESSAGES, auth=None, data={"To": TO, "From": SENDER, "Body": "x"})
    for answer in (wrong_token, other_account, no_auth):
        assert answer.status_code == 401
        assert answer.json() == {"code": 20003, "message": "Authenticate", "status": 401,
                                 "more_info": "https://www.twilio.com/docs/errors/20003"}
    assert api(sandbox, "GET", MESSAGES, auth=(SID, "wrong")).status_code == 401
    assert api(sandbox, "GET", MESSAGES.replace(".json", "/SM00.json"), auth=None).status_code == 401
    assert sandbox.messages() == [] and sandbox.stats()["rejected"] == {"20003": 3}

    with pytest.raises(SmsError) as caught:
        SmsClient(SID, "wrong", SENDER, base_url=sandbox.url).send(TO, "x")
    assert (caught.value.code, caught.value.status, caught.value.retryable, caught.value.permanent) == \
        (20003, 401, False, False)


@pytest.mark.parametrize(("to", "code", "status", "retryable"), [
    ("+15005550001", 21211, 400, False),
    ("+15005550002", 21612, 400, False),
    ("+15005550003", 21408, 400, False),
    ("+15005550004", 21610, 400, False),
    ("+15005550009", 21614, 400, False),
    ("+15005550429", 20429, 429, True),
    ("+15005550500", 20500, 500, True),
])
def test_magic_numbers_through_the_client(sandbox, sms, to, code, status, retryable):
    with pytest.raises(SmsError) as caught:
        sms.send(to, "hello")
    error = caught.value
    assert (error.code, error.status, error.retryable, error.permanent) == (code, status, retryable, not retryable)
    assert to not in str(error)  # Twilio's messages quote the number; ours mask it
    assert sandbox.messages() == []
    assert sandbox.stats()["rejected"] == {"500" if status == 500 else str(code): 1}


def test_slow_number_times_out_retryably_but_was_sent(sandbox):
    sandbox.configure({"slow_seconds": 2.0})
    since = datetime.now(UTC)
    impatient = SmsClient(SID, TOKEN, SENDER, base_url=sandbox.url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(SmsError) as caught:
        impatient.send("+15005550555", "slow 42")
    assert time.monotonic() - started < 1.5
    assert (caught.value.code, caught.value.status, caught.value.retryable) == (None, None, True)
    assert "timed out" in caught.value.message
    # the provider did accept it: reconciliation finds it, so a retry would notify twice
    [stored] = sandbox.messages("+15005550555")
    assert impatient.find("+15005550555", "slow 42", since) == stored["sid"]


def test_connection_refused_is_retryable():
    with pytest.raises(SmsError) as caught:
        SmsClient(SID, TOKEN, SENDER, base_url="http://127.0.0.1:9", timeout=1).send(TO, "x")
    assert (caught.value.code, caught.value.status, caught.value.retryable) == (None, None, True)
    assert "could not be reached" in caught.value.message


def test_fail_rate_fails_about_that_share_and_stores_only_accepted():
    box = Sandbox(port=0, account_sid=SID, auth_token=TOKEN, fail_rate=0.3, seed=1234).start()
    client = SmsClient(SID, TOKEN, SENDER, base_url=box.url)
    try:
        failures = []
        for n in range(400):
            try:
                client.send(f"+86139{n:08d}", "load")
            except SmsError as error:
                failures.append(error)
        stats = box.stats()
    finally:
        client.close()
        box.stop()
    assert 90 <= len(failures) <= 150
    assert all(e.retryable and (e.code, e.status) in {(20500, 500), (20429, 429)} for e in failures)
    assert stats["accepted"] == 400 - len(failures) == len(box.messages())
    assert set(stats["rejected"]) == {"500", "20429"} and sum(stats["rejected"].values()) == len(failures)


def test_latency_delays_answers(sandbox, sms):
    sandbox.configure({"latency_ms": 400})
    started = time.monotonic()
    sms.send(TO, "late")
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    requests.get(sandbox.url + "/sandbox/health", timeout=5)
    assert time.monotonic() - started < 0.3  # inspection is not delayed


# -- status callbacks -----------------------------------------------------------------------------------------------

def test_callbacks_signed_and_in_order(sandbox, sms, receiver):
    url = receiver.url + "/hooks/twilio/status?notice=n-1&x=%E4%BD%A0"
    sid = sms.send(TO, "hello", status_callback=url)
    settle(sandbox, sid, "delivered", receiver, 2)
    assert receiver.statuses() == ["sent", "delivered"]
    validator = RequestValidator(TOKEN)
    for call in receiver.calls:
        assert call.path == "/hooks/twilio/status?notice=n-1&x=%E4%BD%A0"
        assert call.params == {"MessageSid": sid, "SmsSid": sid, "AccountSid": SID, "From": SENDER, "To": TO,
                               "MessageStatus": call.params["MessageStatus"], "SmsStatus": call.params["MessageStatus"],
                               "ApiVersion": "2010-04-01"}
        assert validator.validate(url, call.params, call.signature)
        assert not validator.validate(url, {**call.params, "MessageStatus": "failed"}, call.signature)
        assert not validator.validate(url.replace("n-1", "n-2"), call.params, call.signature)
        assert not RequestValidator("another-token").validate(url, call.params, call.signature)
    eventually(lambda: sandbox.stats()["callbacks_posted"] == 2)  # counted once the receiver has answered
    assert sandbox.stats()["callbacks_failed"] == 0
    assert sandbox.messages()[0]["status_callback"] == url


def test_stored_status_follows_without_a_callback(sandbox, twilio):
    message = twilio.messages.create(to=TO, from_=SENDER, body="x")
    eventually(lambda: twilio.messages(message.sid).fetch().status == "delivered")
    assert twilio.messages(message.sid).fetch().date_sent is not None


def test_undelivered_magic_number(sandbox, sms, receiver, twilio):
    sid = sms.send("+15005550666", "gone", status_callback=receiver.url + "/cb")
    settle(sandbox, sid, "undelivered", receiver, 2)
    assert receiver.statuses() == ["sent", "undelivered"]
    assert "ErrorCode" not in receiver.calls[0].params and receiver.calls[1].params["ErrorCode"] == "30003"
    fetched = twilio.messages(sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


def test_duplicate_callbacks(sandbox, sms, receiver):
    sandbox.configure({"duplicate_callbacks": True})
    sid = sms.send(TO, "twice", status_callback=receiver.url + "/cb")
    settle(sandbox, sid, "delivered", receiver, 4)
    assert receiver.statuses() == ["sent", "sent", "delivered", "delivered"]


def test_reversed_callbacks_keep_the_final_status(sandbox, sms, receiver):
    sandbox.configure({"reverse_callbacks": True})
    sid = sms.send(TO, "backwards", status_callback=receiver.url + "/cb")
    eventually(lambda: len(receiver.calls) == 2)
    time.sleep(0.1)
    assert receiver.statuses() == ["delivered", "sent"]
    assert sandbox.fetch(sid)["status"] == "delivered"


def test_failing_receivers_are_counted_and_ignored(sandbox, sms):
    broken = Receiver(status=500)
    try:
        first = sms.send(TO, "a", status_callback=broken.url + "/cb")
        second = sms.send(TO, "b", status_callback="http://127.0.0.1:9/cb")  # nothing listens there
        settle(sandbox, first, "delivered", broken, 2)
        eventually(lambda: sandbox.stats()["callbacks_failed"] == 4)
        settle(sandbox, second, "delivered")
    finally:
        broken.close()
    assert len(broken.calls) == 2  # no retries
    assert sandbox.stats()["callbacks_failed"] == 4 and sandbox.stats()["callbacks_posted"] == 0


def test_a_slow_receiver_does_not_slow_sends(sandbox, sms):
    slow = Receiver(delay=1.0)
    try:
        started = time.monotonic()
        sms.send(TO, "quick", status_callback=slow.url + "/cb")
        assert time.monotonic() - started < 0.5
        eventually(lambda: len(slow.calls) == 1)  # the callback is being posted (and answered slowly) meanwhile
    finally:
        slow.close()


# -- reads: Twilio's list and fetch, reconciliation, inspection ----------------------------------------------------

def test_list_and_fetch_with_the_official_client(sandbox, twilio):
    sids = [twilio.messages.create(to=TO, from_=SENDER, body=f"n{n}").sid for n in range(3)]
    other = twilio.messages.create(to="+8613900000000", from_=SENDER, body="other").sid
    assert [m.sid for m in twilio.messages.list(to=TO)] == sids[::-1]  # newest first
    assert [m.sid for m in twilio.messages.list(to=TO, page_size=2)] == sids[::-1]  # follows next_page_uri
    assert [m.sid for m in twilio.messages.list(limit=2)] == [other, sids[2]]
    fetched = twilio.messages(sids[1]).fetch()
    assert (fetched.sid, fetched.body, fetched.to) == (sids[1], "n1", TO)
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages("SM" + "0" * 32).fetch()
    assert (caught.value.status, caught.value.code) == (404, 20404)

    page = api(sandbox, "GET", MESSAGES, params={"To": TO, "PageSize": 2}).json()
    assert (page["page"], page["page_size"], page["previous_page_uri"]) == (0, 2, None)
    assert [m["sid"] for m in page["messages"]] == [sids[2], sids[1]]
    assert page["next_page_uri"].startswith(f"{MESSAGES}?To=%2B8613812345678&PageSize=2&Page=1")
    last = api(sandbox, "GET", page["next_page_uri"]).json()
    assert [m["sid"] for m in last["messages"]] == [sids[0]] and last["next_page_uri"] is None


def test_find_reconciles(sandbox, sms):
    since = datetime.now(UTC)
    assert sms.find(TO, "验证码 1234", since) is None
    sid = sms.send(TO, "您的验证码 1234，5 分钟内有效")
    sms.send(TO, "something else")
    assert sms.find(TO, "验证码 1234", since) == sid
    assert sms.find(TO, "验证码 1234", since.replace(tzinfo=None)) == sid  # naive means UTC
    assert sms.find(TO, "验证码 9999", since) is None
    assert sms.find("+8613900000000", "验证码 1234", since) is None
    assert sms.find(TO, "验证码 1234", since + timedelta(seconds=5)) is None
    with pytest.raises(SmsError) as caught:
        SmsClient(SID, "wrong", SENDER, base_url=sandbox.url).find(TO, "x", since)
    assert (caught.value.code, caught.value.status, caught.value.retryable) == (20003, 401, False)


def test_inspection_endpoints(sandbox, sms):
    first = sms.send(TO, "one")
    second = sms.send("+8613900000000", "two", status_callback="http://127.0.0.1:9/cb")
    with pytest.raises(SmsError):
        sms.send("+15005550004", "nope")
    listed = requests.get(sandbox.url + "/sandbox/messages", timeout=5).json()
    assert [(m["sid"], m["to"], m["body"]) for m in listed] == [(first, TO, "one"),
                                                                (second, "+8613900000000", "two")]
    assert set(listed[0]) == {"sid", "to", "from", "body", "status", "created_at", "status_callback"}
    assert datetime.fromisoformat(listed[0]["created_at"]).tzinfo is not None
    only = requests.get(sandbox.url + "/sandbox/messages", params={"to": "+8613900000000"}, timeout=5).json()
    assert [m["sid"] for m in only] == [second] and only[0]["status_callback"] == "http://127.0.0.1:9/cb"
    eventually(lambda: sandbox.stats()["callbacks_failed"] == 2)
    assert requests.get(sandbox.url + "/sandbox/stats", timeout=5).json() == {
        "accepted": 2, "rejected": {"21610": 1}, "callbacks_posted": 0, "callbacks_failed": 2, "in_flight": 0,
        "peak_in_flight": 1, "over_concurrency": 0}
    assert requests.get(sandbox.url + "/sandbox/health", timeout=5).json() == {"status": "ok"}

    cleared = requests.delete(sandbox.url + "/sandbox/messages", timeout=5)
    assert cleared.status_code == 204 and cleared.content == b""
    assert requests.get(sandbox.url + "/sandbox/messages", timeout=5).json() == []
    assert requests.get(sandbox.url + "/sandbox/stats", timeout=5).json() == {
        "accepted": 0, "rejected": {}, "callbacks_posted": 0, "callbacks_failed": 0, "in_flight": 0,
        "peak_in_flight": 0, "over_concurrency": 0}

    for path in ("/sandbox/nothing", "/elsewhere", "/2010-04-01/Accounts/" + SID + "/Calls.json"):
        missing = api(sandbox, "GET", path)
        assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("application/json")
    assert requests.post(sandbox.url + "/sandbox/stats", timeout=5).status_code == 405


def test_config_get_put_and_validation(sandbox):
    url = sandbox.url + "/sandbox/config"
    assert requests.get(url, timeout=5).json() == DEFAULTS
    changed = requests.put(url, json={"latency_ms": 5, "fail_codes": [20429], "reverse_callbacks": True}, timeout=5)
    assert changed.status_code == 200
    assert changed.json() == {**DEFAULTS, "latency_ms": 5, "fail_codes": [20429], "reverse_callbacks": True}
    assert requests.get(url, timeout=5).json() == changed.json()

    for field, value in [("latency_ms", -1), ("jitter_ms", -5), ("jitter_ms", "10"), ("max_concurrency", 2.5),
                         ("max_concurrency", -1), ("max_concurrency", True), ("fail_rate", 1.5), ("fail_rate", "0.3"),
                         ("fail_codes", [404]),
                         ("fail_codes", []), ("slow_seconds", "x"), ("callback_delay_ms", None),
                         ("duplicate_callbacks", "yes"), ("colour", "red")]:
        bad = requests.put(url, json={"fail_rate": 0.5, field: value}, timeout=5)
        assert bad.status_code == 422, (field, value)
        assert list(bad.json()["errors"]) == [field] and bad.json()["message"].startswith(field)
    assert requests.get(url, timeout=5).json() == changed.json()  # nothing applied from a rejected change
    assert requests.put(url, data="{not json", timeout=5).status_code == 400
    assert requests.put(url, json=[1], timeout=5).status_code == 400


def test_oversized_body_is_413(sandbox):
    big = api(sandbox, "POST", MESSAGES, data={"To": TO, "From": SENDER, "Body": "a" * 70_000})
    assert big.status_code == 413 and big.json()["code"] == 413
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    connection.request("PUT", "/sandbox/config", body=b"x" * 200_000)
    refused = connection.getresponse()
    assert refused.status == 413 and json.loads(refused.read())["code"] == 413
    connection.request("GET", "/sandbox/health")  # the body was read and dropped, so the connection goes on
    assert connection.getresponse().status == 200
    connection.close()
    assert sandbox.messages() == []
    # under the request limit the body is read, and then Twilio's own limit on the text applies
    read = api(sandbox, "POST", MESSAGES, data={"To": TO, "From": SENDER, "Body": "a" * 60_000})
    assert (read.status_code, read.json()["code"]) == (400, 21617)
    longest = {"To": TO, "From": SENDER, "Body": "a" * 1600, "StatusCallback": "http://127.0.0.1:9/" + "b" * 3981}
    assert api(sandbox, "POST", MESSAGES, data=longest).status_code == 201


@pytest.mark.parametrize(("raw", "status"), [
    (b"NONSENSE\r\n\r\n", 400),
    (b"GET /sandbox/health HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    (b"POST /sandbox/config HTTP/1.1\r\nContent-Length: many\r\n\r\n", 400),
    (b"POST /sandbox/config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
])
def test_malformed_requests_are_refused_and_closed(sandbox, raw, status):
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(4096):  # the server closes the connection after answering
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()) and b"Connection: close" in head
    assert json.loads(body)["code"] == status


def test_keep_alive_reuses_one_connection(sandbox):
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    sockets = []
    for _ in range(3):
        connection.request("GET", "/sandbox/health")
        answer = connection.getresponse()
        assert answer.status == 200 and json.loads(answer.read()) == {"status": "ok"}
        sockets.append(connection.sock)
    connection.close()
    assert sockets[0] is not None and sockets.count(sockets[0]) == 3


def test_old_messages_roll_off():
    box = Sandbox(port=0, account_sid=SID, auth_token=TOKEN, max_messages=3).start()
    try:
        client = Client(SID, TOKEN)
        client.api.base_url = box.url
        sids = [client.messages.create(to=TO if n % 2 else "+8613900000000", from_=SENDER, body=str(n)).sid
                for n in range(5)]
        assert [m["sid"] for m in box.messages()] == sids[2:]
        assert [m.sid for m in client.messages.list(to=TO)] == [sids[3]]
        assert box.fetch(sids[0]) is None and box.stats()["accepted"] == 5
    finally:
        box.stop()


def test_stop_closes_the_port_and_kept_alive_connections():
    box = Sandbox(port=0, account_sid=SID, auth_token=TOKEN).start()
    connection = http.client.HTTPConnection("127.0.0.1", box.port, timeout=2)
    connection.request("GET", "/sandbox/health")
    connection.getresponse().read()
    box.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        connection.request("GET", "/sandbox/health")
        connection.getresponse()
    with pytest.raises(requests.ConnectionError):
        requests.get(box.url + "/sandbox/health", timeout=2)


def test_scrub_masks_numbers_but_not_codes():
    assert scrub("To=%2B8613812345678&PageSize=50") == "To=+86 138****5678&PageSize=50"
    assert scrub("The 'To' number +15005550001 is invalid (21211)") == "The 'To' number +150****0001 is invalid (21211)"
    assert scrub(f"/Accounts/{SID}/Messages.json") == f"/Accounts/{SID}/Messages.json"


@pytest.mark.slow
def test_command_line():
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    missing = subprocess.run([sys.executable, "-m", "notifier.sandbox", "--port", "0"], env=environ,
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip().count("\n") == 0 and "TWILIO_ACCOUNT_SID" in missing.stderr

    process = subprocess.Popen([sys.executable, "-m", "notifier.sandbox", "--port", "0", "--latency-ms", "1",
                                "--jitter-ms", "0.5", "--max-concurrency", "7"],
                               env={**environ, "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        found = re.fullmatch(r"SMS sandbox listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert found, line
        client = SmsClient(SID, TOKEN, SENDER, base_url=found.group(1))
        assert re.fullmatch(r"SM[0-9a-f]{32}", client.send(TO, "from the command line"))
        client.close()
        config = requests.get(found.group(1) + "/sandbox/config", timeout=5).json()
        assert (config["latency_ms"], config["jitter_ms"], config["max_concurrency"]) == (1, 0.5, 7)
    finally:
        process.terminate()
        assert process.wait(10) == 0
