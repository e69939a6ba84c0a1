"""The SMS sandbox as a provider under load and as strict as Twilio: jitter, the concurrency cap, many kept-alive
connections, Twilio's refusals and the DateSent list filters, through the official twilio client."""

from __future__ import annotations

import base64
import http.client
import json
import threading
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifier.sandbox import Sandbox
from tests.integration.test_sandbox import DEFAULTS, MESSAGES, SENDER, SID, TO, TOKEN, api, eventually


@pytest.fixture(autouse=True)
def _clean():
    """The sandbox needs neither Neo4j nor Redis: this replaces the integration suite's autouse clean-up."""


@pytest.fixture(scope="module")
def sandbox():
    server = Sandbox(port=0, account_sid=SID, auth_token=TOKEN, callback_delay_ms=10).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(request):
    if "sandbox" in request.fixturenames:
        box = request.getfixturevalue("sandbox")
        box.configure(DEFAULTS)
        box.clear()


@pytest.fixture
def twilio(sandbox) -> Client:
    client = Client(SID, TOKEN, http_client=TwilioHttpClient(timeout=5))
    client.api.base_url = sandbox.url
    return client


def refused(twilio: Client, **fields) -> tuple[int, int, str]:
    """(HTTP status, Twilio code, Twilio's message) of a send the sandbox refused."""
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(**{"to": TO, "from_": SENDER, "body": "hi", **fields})
    error = caught.value
    prefix = "Unable to create record: "  # the client puts this before the answer's message
    assert error.msg.startswith(prefix)
    return error.status, error.code, error.msg.removeprefix(prefix)


def twilio_error_json(answer, code: int) -> dict:
    assert answer.status_code == 400 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body == {"code": code, "message": body["message"], "status": 400,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    return body


# -- latency with jitter ------------------------------------------------------------------------------------------

def test_jitter_spreads_latency_and_never_goes_below_zero():
    box = Sandbox(port=0, account_sid=SID, auth_token=TOKEN, latency_ms=200, jitter_ms=50, seed=7)
    waits = [box.delay() for _ in range(500)]
    assert all(0.15 <= w <= 0.25 for w in waits)
    assert min(waits) < 0.16 and max(waits) > 0.24  # uniform over the whole band, not a constant
    box.configure({"latency_ms": 10, "jitter_ms": 50})
    waits = [box.delay() for _ in range(500)]
    assert all(0 <= w <= 0.06 for w in waits) and waits.count(0.0) > 100  # about 40 % would be negative
    box.configure({"jitter_ms": 0})
    assert {box.delay() for _ in range(20)} == {0.01}


def test_jitter_is_a_setting(sandbox):
    changed = api(sandbox, "PUT", "/sandbox/config", json={"latency_ms": 20, "jitter_ms": 5})
    assert changed.status_code == 200 and (changed.json()["latency_ms"], changed.json()["jitter_ms"]) == (20, 5)
    assert all(0.015 <= sandbox.delay() <= 0.025 for _ in range(50))


# -- the concurrency cap ------------------------------------------------------------------------------------------

def _client(sandbox) -> Client:
    client = Client(SID, TOKEN, http_client=TwilioHttpClient(timeout=30))
    client.api.base_url = sandbox.url
    return client


def test_past_max_concurrency_a_send_gets_20429_at_once(sandbox, twilio):
    sandbox.configure({"max_concurrency": 2, "latency_ms": 3000})
    sids: list[str] = []
    slow = [threading.Thread(target=lambda n=n: sids.append(_client(sandbox).messages.create(
        to=TO, from_=SENDER, body=f"slow {n}").sid)) for n in range(2)]
    for thread in slow:
        thread.start()
    eventually(lambda: sandbox.stats()["in_flight"] == 2)

    assert refused(twilio, body="one too many") == (429, 20429, "Too Many Requests")
    assert all(thread.is_alive() for thread in slow)  # answered while the two admitted sends still wait
    assert sandbox.stats()["in_flight"] == 2

    for thread in slow:
        thread.join(10)
    assert len(sids) == 2 and len(sandbox.messages()) == 2  # the refused one was never stored
    eventually(lambda: sandbox.stats()["in_flight"] == 0)  # a slot is given back just after its answer is written
    stats = sandbox.stats()
    assert (stats["in_flight"], stats["peak_in_flight"], stats["over_concurrency"]) == (0, 2, 1)
    assert stats["rejected"] == {"20429": 1} and stats["accepted"] == 2

    sandbox.configure({"latency_ms": 0})
    assert twilio.messages.create(to=TO, from_=SENDER, body="room again").status == "queued"
    sandbox.clear()
    stats = sandbox.stats()
    assert (stats["in_flight"], stats["peak_in_flight"], stats["over_concurrency"]) == (0, 0, 0)


def test_refused_sends_hold_a_slot_too_but_unauthorised_ones_do_not(sandbox):
    sandbox.configure({"max_concurrency": 1})
    assert api(sandbox, "POST", MESSAGES, auth=(SID, "wrong"), data={"To": TO, "From": SENDER, "Body": "x"}) \
        .status_code == 401
    twilio_error_json(api(sandbox, "POST", MESSAGES, data={"To": TO, "From": TO, "Body": "x"}), 21266)
    eventually(lambda: sandbox.stats()["in_flight"] == 0)  # a slot is given back just after its answer is written
    stats = sandbox.stats()
    assert (stats["in_flight"], stats["peak_in_flight"], stats["over_concurrency"]) == (0, 1, 0)


def test_hundreds_of_kept_alive_connections_wait_side_by_side():
    """300 clients on their own connections, each send held 2 s: all are in flight at once, none is refused, and
    each connection then carries a second request."""
    box = Sandbox(port=0, account_sid=SID, auth_token=TOKEN, latency_ms=2000, callback_delay_ms=10).start()
    count, statuses, sockets = 300, [], {}
    auth = {"Authorization": "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"}

    def one(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", box.port, timeout=30)
        try:
            connection.request("POST", MESSAGES, body=urlencode({"To": f"+86139{n:08d}", "From": SENDER,
                                                                 "Body": "load"}), headers=auth)
            answer = connection.getresponse()
            statuses.append(answer.status)
            sid = json.loads(answer.read())["sid"]
            first = connection.sock
            connection.request("GET", MESSAGES.replace(".json", f"/{sid}.json"), headers=auth)
            statuses.append(connection.getresponse().status)
            sockets[n] = first is connection.sock
        finally:
            connection.close()
    try:
        threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        stats = box.stats()
    finally:
        box.stop()
    assert statuses.count(201) == count and statuses.count(200) == count
    assert len(sockets) == count and all(sockets.values())
    assert stats["accepted"] == count and stats["rejected"] == {}
    assert stats["peak_in_flight"] >= 256, stats


# -- what Twilio refuses ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "ok"), [
    ("a" * 1600, True), ("a" * 1601, False),
    ("办" * 1600, True), ("办" * 1601, False),  # UCS-2: one unit each
    ("€" * 800, True), ("€" * 801, False),  # a GSM-7 escape: two septets each
    ("😀" * 800, True), ("😀" * 801, False),  # outside the BMP: a surrogate pair each
])
def test_body_over_1600_characters_is_21617(sandbox, twilio, body, ok):
    if ok:
        assert twilio.messages.create(to=TO, from_=SENDER, body=body).body == body
        return
    assert refused(twilio, body=body) == \
        (400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    assert sandbox.messages() == [] and sandbox.stats()["rejected"] == {"21617": 1}


def test_to_equal_to_from_is_21266(sandbox, twilio):
    assert refused(twilio, to=SENDER, from_=SENDER) == (400, 21266, "'To' and 'From' numbers cannot be the same")
    body = twilio_error_json(api(sandbox, "POST", MESSAGES, data={"To": TO, "From": TO, "Body": "x"}), 21266)
    assert body["more_info"] == "https://www.twilio.com/docs/errors/21266"
    # a Messaging Service picks its own sender, so there is no From to compare
    assert api(sandbox, "POST", MESSAGES, data={"To": TO, "MessagingServiceSid": "MG" + "1" * 32,
                                                "Body": "x"}).status_code == 201
    assert len(sandbox.messages()) == 1


@pytest.mark.parametrize("callback", [
    "not a url", "/webhooks/twilio/status", "ftp://127.0.0.1/cb", "mailto:ops@example.org", "http://",
    "http:///cb", "http://bad host/cb", "http://under_score.example/cb", "http://127.0.0.1:99999/cb",
    "http://[::1/cb", "https://127.0.0.1:9/" + "a" * 3981,  # one over Twilio's 4000 characters
])
def test_status_callback_that_is_no_http_url_is_21609(sandbox, twilio, callback):
    assert refused(twilio, status_callback=callback) == (400, 21609, "Invalid 'StatusCallback'")
    assert sandbox.messages() == [] and sandbox.stats()["rejected"] == {"21609": 1}


@pytest.mark.parametrize("callback", [
    "http://127.0.0.1:9/webhooks/twilio/status?nid=n-1", "https://localhost:9/cb", "HTTP://127.0.0.1:9/cb",
    "http://[::1]:9/cb", "https://127.0.0.1:9/" + "a" * 3980,
])
def test_a_status_callback_never_leaves_a_message_stuck(sandbox, twilio, callback):
    """Accepted callbacks that cannot be posted (nothing listens there) still let the message reach its end."""
    sid = twilio.messages.create(to=TO, from_=SENDER, body="x", status_callback=callback).sid
    eventually(lambda: sandbox.fetch(sid)["status"] == "delivered")
    eventually(lambda: sandbox.stats()["callbacks_failed"] + sandbox.stats()["callbacks_posted"] == 2, 15)


def test_a_callback_url_urllib_cannot_parse_is_a_failed_post_not_an_exception(sandbox):
    sandbox._callbacks._post("not a url", {"MessageStatus": "sent"})  # it used to raise and strand the message
    assert sandbox.stats()["callbacks_failed"] == 1


def test_magic_numbers_answer_twilios_texts(sandbox, twilio):
    assert refused(twilio, to="+15005550002") == (400, 21612, "The 'To' phone number: +15005550002, is not "
                                                  "currently reachable using the 'From' phone number: "
                                                  f"{SENDER} via SMS.")
    assert refused(twilio, to="+15005550003") == (400, 21408, "Permission to send an SMS has not been enabled for "
                                                  "the region indicated by the 'To' number: +15005550003.")
    assert refused(twilio, to="+15005550001") == (400, 21211, "The 'To' number +15005550001 is not a valid phone "
                                                  "number.")
    assert refused(twilio, to="+15005550004") == (400, 21610, "Attempt to send to unsubscribed recipient")
    assert refused(twilio, to="+15005550009") == (400, 21614, "To number: +15005550009, is not a mobile number")
    assert sandbox.messages() == []


# -- DateSent filters ---------------------------------------------------------------------------------------------

def test_date_sent_filters_through_the_official_client(sandbox, twilio):
    first = twilio.messages.create(to=TO, from_=SENDER, body="first").sid
    second = twilio.messages.create(to=TO, from_=SENDER, body="second").sid
    eventually(lambda: all(sandbox.fetch(sid)["status"] == "delivered" for sid in (first, second)))
    sandbox.configure({"callback_delay_ms": 600_000})
    queued = twilio.messages.create(to=TO, from_=SENDER, body="still queued").sid

    def listed(**filters) -> list[str]:
        return [m.sid for m in twilio.messages.list(page_size=1, **filters)]  # page_size=1: links keep filters
    sent_at = twilio.messages(first).fetch().date_sent
    assert sent_at is not None and twilio.messages(queued).fetch().date_sent is None
    today = sent_at.date()
    day = lambda d: d.isoformat()  # noqa: E731 -- the client sends a string as it is: Twilio's YYYY-MM-DD

    assert listed() == [queued, second, first]
    assert listed(date_sent=day(today)) == [second, first]  # the queued one has no date_sent: no filter keeps it
    assert listed(date_sent=day(today - timedelta(days=1))) == []
    assert listed(date_sent_before=day(today)) == [second, first]  # on or before that day
    assert listed(date_sent_after=day(today)) == [second, first]  # on or after that day
    assert listed(date_sent_before=day(today - timedelta(days=1))) == []
    assert listed(date_sent_after=day(today + timedelta(days=1))) == []
    assert listed(date_sent_after=day(today), date_sent_before=day(today)) == [second, first]

    # a datetime (the client sends YYYY-MM-DDTHH:MM:SSZ) compares to the second
    assert first in listed(date_sent=sent_at) and first in listed(date_sent_after=sent_at)
    assert first in listed(date_sent_before=sent_at)
    assert first not in listed(date_sent_after=sent_at + timedelta(seconds=1))
    assert first not in listed(date_sent_before=sent_at - timedelta(seconds=1))
    assert listed(date_sent_after=datetime.now(UTC) + timedelta(minutes=1)) == []
    # the client sends a date object as that day's midnight, a datetime, so it names that second, not the day
    assert listed(date_sent=datetime.combine(today, time(), UTC)) == []


@pytest.mark.parametrize(("name", "value"), [
    ("DateSent", "yesterday"), ("DateSent<", "2024-13-01"), ("DateSent>", "2024-02-30"), ("DateSent", "2024"),
    ("DateSent>", "2024-05-01T25:00:00Z"), ("DateSent<", "01/05/2024"),
])
def test_a_malformed_date_sent_is_400_naming_it(sandbox, twilio, name, value):
    answer = api(sandbox, "GET", MESSAGES, params={name: value})
    assert twilio_error_json(answer, 20001)["message"] == f"Invalid value for {name}"

    keyword = {"DateSent": "date_sent", "DateSent<": "date_sent_before", "DateSent>": "date_sent_after"}[name]
    with pytest.raises(TwilioException) as caught:  # a list page that is not 200 is a bare TwilioException
        twilio.messages.list(**{keyword: value})
    response = caught.value.args[1]
    assert response.status_code == 400 and json.loads(response.text)["code"] == 20001
