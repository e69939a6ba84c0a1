"""A local Twilio-compatible SMS provider (Messages resource, signed status callbacks, faults): dev, tests, benchmarks.

It speaks Twilio's REST API as the official `twilio` client uses it, on the standard library's HTTP server (the notifier
package may not import Flask). Point a client at it with `client.api.base_url = sandbox.url`.

Magic recipient numbers (any other valid number is accepted and its callbacks go `sent`, then `delivered`):

| To           | Answer                                                                                       |
|--------------|----------------------------------------------------------------------------------------------|
| +15005550001 | 400, code 21211: invalid 'To' number                                                         |
| +15005550004 | 400, code 21610: unsubscribed recipient                                                      |
| +15005550009 | 400, code 21614: 'To' number is not SMS-capable                                              |
| +15005550429 | 429, code 20429: too many requests                                                           |
| +15005550500 | 500, code 20500: internal server error                                                       |
| +15005550555 | 201 after `slow_seconds`; stored at once, so a client that times out leaves a sent message  |
| +15005550666 | 201, but the callbacks end in `undelivered` with ErrorCode 30003 (unreachable handset)       |

Checks, in order: Basic auth and the path's AccountSid (401, 20003); To missing 21604; Body missing 21602; From
and MessagingServiceSid missing 21603; To not '+' and 8-15 digits 21211; magic numbers; then `fail_rate` answers that
share of the remaining sends with one of `fail_codes` (500 -> HTTP 500 code 20500, 503 -> HTTP 503 code 20503,
20429 -> HTTP 429). Rejected sends are counted, never stored. `latency_ms` delays every /2010-04-01 answer.

Inspection (no auth; the server binds to loopback by default): GET /sandbox/messages?to=, DELETE /sandbox/messages,
GET /sandbox/stats, GET and PUT /sandbox/config, GET /sandbox/health.

    python -m notifier.sandbox --host 127.0.0.1 --port 8026 --account-sid AC... --auth-token ... [--latency-ms N]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import heapq
import hmac
import itertools
import json
import logging
import math
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.client import HTTPException
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

from twilio.request_validator import RequestValidator

from profiles.sms_segments import segments

log = logging.getLogger(__name__)

API = "2010-04-01"
MAX_BODY = 64 * 1024
MAGIC = {
    "+15005550001": (400, 21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550004": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (400, 21614, "'To' number {to} is not SMS-capable"),
    "+15005550429": (429, 20429, "Too Many Requests"),
    "+15005550500": (500, 20500, "Internal Server Error"),
}
SLOW, UNDELIVERED = "+15005550555", "+15005550666"
FAULTS = {500: (500, 20500, "Internal Server Error"), 503: (503, 20503, "Service Unavailable"),
          20429: (429, 20429, "Too Many Requests")}
E164 = re.compile(r"\+[1-9]\d{7,14}")
RANK = {"queued": 0, "sent": 1, "delivered": 2, "undelivered": 2}
_LIST = re.compile(rf"/{API}/Accounts/([^/]+)/Messages\.json")
_ONE = re.compile(rf"/{API}/Accounts/([^/]+)/Messages/([^/]+)\.json")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # callbacks go straight to the app


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


CHECKS = {  # field -> (test, what a good value is); used by the constructor and PUT /sandbox/config alike
    "latency_ms": (lambda v: _number(v) and 0 <= v <= 600_000, "a number of milliseconds from 0 to 600000"),
    "fail_rate": (lambda v: _number(v) and 0 <= v <= 1, "a number from 0 to 1"),
    "fail_codes": (lambda v: isinstance(v, list | tuple) and bool(v) and all(
        isinstance(c, int) and not isinstance(c, bool) and c in FAULTS for c in v), "a non-empty list of 500, 503 and "
                   "20429"),
    "slow_seconds": (lambda v: _number(v) and 0 <= v <= 3600, "a number of seconds from 0 to 3600"),
    "callback_delay_ms": (lambda v: _number(v) and 0 <= v <= 600_000, "a number of milliseconds from 0 to 600000"),
    "duplicate_callbacks": (lambda v: isinstance(v, bool), "true or false"),
    "reverse_callbacks": (lambda v: isinstance(v, bool), "true or false"),
}


class ConfigError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def twilio_error(status: int, code: int, message: str) -> dict:
    more = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more, "status": status}


_last_stamp: tuple[int, str] = (0, "")


def _rfc2822(moment: datetime | None) -> str | None:
    """RFC 2822 as Twilio writes dates; whole seconds, so the last one is kept (most messages share it)."""
    global _last_stamp
    if moment is None:
        return None
    second, stamp = int(moment.timestamp()), _last_stamp  # one read: another thread may swap it meanwhile
    if stamp[0] != second:
        stamp = _last_stamp = (second, format_datetime(moment.replace(microsecond=0)))
    return stamp[1]


class Sandbox:
    """One sandbox: its state behind one lock, the HTTP server, and the callback scheduler."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8026, account_sid: str = "", auth_token: str = "", *,
                 latency_ms: float = 0, fail_rate: float = 0.0, fail_codes: tuple[int, ...] = (500, 20429),
                 slow_seconds: float = 15.0, callback_delay_ms: float = 50, duplicate_callbacks: bool = False,
                 reverse_callbacks: bool = False, seed: int | None = None, max_messages: int = 200_000):
        if not account_sid or not auth_token:
            raise ValueError("the sandbox needs an account SID and an auth token")
        self.host, self.port, self.account_sid, self.auth_token = host, port, account_sid, auth_token
        self._lock = threading.Lock()
        self._config: dict = {}
        self.configure({"latency_ms": latency_ms, "fail_rate": fail_rate, "fail_codes": list(fail_codes),
                        "slow_seconds": slow_seconds, "callback_delay_ms": callback_delay_ms,
                        "duplicate_callbacks": duplicate_callbacks, "reverse_callbacks": reverse_callbacks})
        self._rng = random.Random(seed)
        self._sids = random.Random()  # unique, not secret: cheaper than os.urandom per message
        self._max = max_messages
        self._messages: deque[dict] = deque()
        self._by_sid: dict[str, dict] = {}
        self._by_to: dict[str, deque[dict]] = {}
        self._accepted, self._rejected, self._posted, self._failed = 0, Counter(), 0, 0
        self._generation = 0  # bumped by clear(), so callbacks scheduled before it are dropped
        self._stopping = threading.Event()
        self._callbacks = _Callbacks(self)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def _bind(self) -> None:
        if self._server is None:
            self._server = _Server((self.host, self.port), type("Handler", (_Handler,), {"sandbox": self}))
            self.port = self._server.server_address[1]
            self._callbacks.start()

    def start(self) -> Sandbox:
        """Serve in a background thread; returns once the socket listens."""
        self._bind()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sms-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line)."""
        self._bind()
        print(f"SMS sandbox listening on {self.url}", flush=True)
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._close()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._close()

    def _close(self) -> None:
        self._stopping.set()  # wakes slow and latency waits
        self._callbacks.stop()
        if self._server is not None:
            self._server.server_close()
            self._server.drop_connections()  # keep-alive connections would otherwise outlive the server

    # -- configuration and inspection -------------------------------------------------------------------------------
    def configure(self, changes: dict) -> dict:
        """Check every field first, then apply them all (nothing changes on a bad value); returns the new config."""
        for field, value in changes.items():
            if field not in CHECKS:
                raise ConfigError(field, "is not a setting (" + ", ".join(CHECKS) + ")")
            test, what = CHECKS[field]
            if not test(value):
                raise ConfigError(field, f"must be {what}")
        with self._lock:
            self._config.update({k: list(v) if k == "fail_codes" else v for k, v in changes.items()})
            return dict(self._config)

    def config(self) -> dict:
        with self._lock:
            return {k: list(v) if k == "fail_codes" else v for k, v in self._config.items()}

    def messages(self, to: str | None = None) -> list[dict]:
        with self._lock:
            found = self._messages if to is None else self._by_to.get(to, ())
            return [{"sid": m["sid"], "to": m["to"], "from": m["from"], "body": m["body"], "status": m["status"],
                     "created_at": m["created"].isoformat(), "status_callback": m["callback"]} for m in found]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._by_sid.clear()
            self._by_to.clear()
            self._accepted, self._rejected, self._posted, self._failed = 0, Counter(), 0, 0
            self._generation += 1

    def stats(self) -> dict:
        with self._lock:
            return {"accepted": self._accepted, "rejected": dict(self._rejected), "callbacks_posted": self._posted,
                    "callbacks_failed": self._failed}

    # -- the Messages resource ----------------------------------------------------------------------------------------
    def authorized(self, header: str | None, account: str) -> bool:
        if not header:
            return False
        try:  # decode and compare the pair rather than the header bytes: base64 padding and case may vary
            scheme, _, encoded = header.partition(" ")
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        good = hmac.compare_digest(user.encode(), self.account_sid.encode())
        good &= hmac.compare_digest(password.encode(), self.auth_token.encode())
        return good and scheme.lower() == "basic" and account == self.account_sid

    def reject(self, status: int, code: int) -> None:
        with self._lock:
            self._rejected[str(status) if status >= 500 else str(code)] += 1

    def create(self, form: dict[str, str]) -> tuple[int, dict, float]:
        """(HTTP status, JSON answer, seconds to wait before answering) for one send."""
        to, body = form.get("To", "").strip(), form.get("Body", "")
        sender, service = form.get("From") or None, form.get("MessagingServiceSid") or None
        if not to:
            status, code, text = 400, 21604, "A 'To' phone number is required."
        elif not body:
            status, code, text = 400, 21602, "Message body is required."
        elif not sender and not service:
            status, code, text = 400, 21603, "A 'From' phone number is required."
        elif not E164.fullmatch(to):
            status, code, text = 400, 21211, "The 'To' number {to} is not a valid phone number."
        else:
            status, code, text = MAGIC.get(to, (201, 0, ""))
        with self._lock:
            if status == 201 and self._config["fail_rate"] and self._rng.random() < self._config["fail_rate"]:
                status, code, text = FAULTS[self._rng.choice(self._config["fail_codes"])]
            if status != 201:
                self._rejected[str(status) if status >= 500 else str(code)] += 1
                return status, twilio_error(status, code, text.format(to=to)), 0.0
            now = datetime.now(UTC)
            message = {"sid": f"SM{self._sids.getrandbits(128):032x}", "to": to, "from": sender, "service": service,
                       "body": body, "status": "queued", "created": now, "updated": now, "sent": None,
                       "error_code": None, "callback": form.get("StatusCallback") or None, "segments": segments(body)}
            if len(self._messages) >= self._max:
                old = self._messages.popleft()
                del self._by_sid[old["sid"]]
                same = self._by_to[old["to"]]
                same.popleft()  # the oldest message overall is the oldest to its number too
                if not same:
                    del self._by_to[old["to"]]
            self._messages.append(message)
            self._by_sid[message["sid"]] = message
            self._by_to.setdefault(to, deque()).append(message)
            self._accepted += 1
            answer, config, generation = self.resource(message), dict(self._config), self._generation
        self._callbacks.plan(message, config, generation)
        return 201, answer, config["slow_seconds"] if to == SLOW else 0.0

    def resource(self, m: dict) -> dict:
        """Twilio's JSON for one message (call with the lock held)."""
        uri = f"/{API}/Accounts/{self.account_sid}/Messages/{m['sid']}"
        return {"account_sid": self.account_sid, "api_version": API, "body": m["body"],
                "date_created": _rfc2822(m["created"]), "date_sent": _rfc2822(m["sent"]),
                "date_updated": _rfc2822(m["updated"]), "direction": "outbound-api", "error_code": m["error_code"],
                "error_message": "Unreachable destination handset" if m["error_code"] else None, "from": m["from"],
                "messaging_service_sid": m["service"], "num_media": "0", "num_segments": str(m["segments"]),
                "price": None, "price_unit": "USD", "sid": m["sid"], "status": m["status"], "to": m["to"],
                "uri": uri + ".json", "subresource_uris": {"media": uri + "/Media.json",
                                                          "feedback": uri + "/Feedback.json"}}

    def fetch(self, sid: str) -> dict | None:
        with self._lock:
            message = self._by_sid.get(sid)
            return None if message is None else self.resource(message)

    def page(self, query: dict[str, str]) -> dict:
        """Twilio's list page: newest first, filtered by To, From, DateSent>, DateSent<."""
        def number(name: str, default: int, top: int) -> int:
            value = query.get(name, "")
            return min(max(int(value), 0), top) if value.isdigit() else default
        size, index = number("PageSize", 50, 1000) or 50, number("Page", 0, 10**9)
        after, before = _moment(query.get("DateSent>")), _moment(query.get("DateSent<"))
        with self._lock:
            pool = self._by_to.get(query["To"], ()) if query.get("To") else self._messages
            chosen = [m for m in reversed(pool) if (not query.get("From") or m["from"] == query["From"])
                      and (after is None or (m["sent"] is not None and m["sent"] >= after))
                      and (before is None or (m["sent"] is not None and m["sent"] <= before))]
            records = [self.resource(m) for m in chosen[index * size:(index + 1) * size]]
        base = f"/{API}/Accounts/{self.account_sid}/Messages.json"
        keep = {k: v for k, v in query.items() if k in ("To", "From", "DateSent>", "DateSent<")}
        link = lambda n: f"{base}?{urlencode({**keep, 'PageSize': size, 'Page': n})}"  # noqa: E731
        more = len(chosen) > (index + 1) * size
        return {"messages": records, "page": index, "page_size": size, "start": index * size,
                "end": index * size + max(len(records) - 1, 0), "first_page_uri": link(0), "uri": link(index),
                "next_page_uri": link(index + 1) + f"&PageToken=PA{index + 1}" if more else None,
                "previous_page_uri": link(index - 1) if index else None}

    def advance(self, generation: int, sid: str, status: str, error_code: int | None) -> bool:
        """Move a message forward (never back, so reversed callbacks leave the final status); False if it is gone."""
        with self._lock:
            message = self._by_sid.get(sid)
            if generation != self._generation or message is None:
                return False
            if RANK[status] > RANK[message["status"]]:
                message["status"], message["updated"] = status, datetime.now(UTC)
                message["sent"] = message["sent"] or message["updated"]
                message["error_code"] = error_code
            return True

    def count_callback(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self._posted += 1
            else:
                self._failed += 1


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Callbacks:
    """Status changes and their signed callbacks on a timer heap and a few posting threads, so no request waits."""

    def __init__(self, sandbox: Sandbox, workers: int = 4, max_pending: int = 100_000):
        self._sandbox, self._workers, self._max = sandbox, workers, max_pending
        self._validator = RequestValidator(sandbox.auth_token)
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="sandbox-callback")
        threading.Thread(target=self._run, name="sandbox-callback-timer", daemon=True).start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def plan(self, message: dict, config: dict, generation: int) -> None:
        """`sent`, then the final status `callback_delay_ms` later; duplicates follow at once; reversed: final first."""
        final = ("undelivered", 30003) if message["to"] == UNDELIVERED else ("delivered", None)
        order = [("sent", None), final][:: -1 if config["reverse_callbacks"] else 1]
        delay = config["callback_delay_ms"] / 1000
        steps = [(status, code, gap) for status, code in order
                 for gap in ((delay, 0.0) if config["duplicate_callbacks"] and message["callback"] else (delay,))]
        params = {"MessageSid": message["sid"], "SmsSid": message["sid"], "AccountSid": self._sandbox.account_sid,
                  "From": message["from"] or "", "To": message["to"], "ApiVersion": API}
        if message["service"]:
            params["MessagingServiceSid"] = message["service"]
        self._push((generation, message["sid"], message["callback"], params, tuple(steps)))

    def _push(self, job: tuple) -> None:
        with self._cond:
            if self._stopped:
                return
            if len(self._heap) >= self._max:
                log.warning("sandbox: %d status changes pending, dropping one", len(self._heap))
                self._sandbox.count_callback(False)
                return
            heapq.heappush(self._heap, (time.monotonic() + job[4][0][2], next(self._seq), job))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                job = heapq.heappop(self._heap)[2]
            if job[2]:
                try:
                    self._pool.submit(self._fire, job)
                except RuntimeError:  # the pool shut down under us: the sandbox is stopping
                    return
            else:
                self._fire(job)  # nothing to post: only the stored status moves, cheap enough for this thread

    def _fire(self, job: tuple) -> None:
        generation, sid, url, params, steps = job
        status, code, _ = steps[0]
        if not self._sandbox.advance(generation, sid, status, code):
            return
        if url:
            self._post(url, {**params, "MessageStatus": status, "SmsStatus": status,
                             **({"ErrorCode": str(code)} if code else {})})
        if len(steps) > 1:
            self._push((generation, sid, url, params, steps[1:]))

    def _post(self, url: str, params: dict[str, str]) -> None:
        request = urllib.request.Request(url, data=urlencode(params).encode(), method="POST", headers={
            "X-Twilio-Signature": self._validator.compute_signature(url, params),
            "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"})
        try:
            with _NO_PROXY.open(request, timeout=5) as answer:
                answer.read()
            self._sandbox.count_callback(True)
        except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:  # HTTPError is a URLError
            log.info("sandbox: status callback to %s failed: %s", url.split("?")[0], exc)
            self._sandbox.count_callback(False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        self.connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request_thread(self, request, client_address):
        with self._connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self.connections.discard(request)

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # a client that resets a kept-alive connection is routine, not a fault
            log.debug("sandbox: connection from %s ended: %s", client_address, error)
        else:
            log.exception("sandbox: request from %s failed", client_address)

    def drop_connections(self) -> None:
        with self._connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Answer(Exception):
    """Ends a request early with this answer (bad framing, oversized body)."""

    def __init__(self, status: int, payload: dict):
        super().__init__(status)
        self.status, self.payload = status, payload


def _problem(status: int, message: str, errors: dict | None = None) -> dict:
    """The project's error shape (API.md) for the /sandbox endpoints, which are ours, not Twilio's."""
    return {"code": status, "status": HTTPStatus(status).phrase, "message": message, "errors": errors or {}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the twilio client's pooled connection is reused
    disable_nagle_algorithm = True  # with one write per answer, Nagle would only add delayed-ACK stalls
    sandbox: Sandbox

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args) -> None:
        pass  # the base class writes every request to stderr; _handle logs at debug instead

    def parse_request(self) -> bool:
        """The request line and headers into a dict with lower-case names.

        The base class runs every header block through the email package, a sixth of the time an answer takes.
        """
        words = self.raw_requestline.decode("latin-1").split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.close_connection = True
            self._send(400, _problem(400, "Bad request line."), ())
            return False
        self.command, self.path, self.request_version = words
        self.close_connection = words[2] == "HTTP/1.0"
        self.headers = headers = {}
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, colon, value = line.decode("latin-1").partition(":")
            if len(line) > 65536 or len(headers) > 100 or not colon:
                self.close_connection = True
                self._send(431 if colon else 400, _problem(431 if colon else 400, "Bad headers."), ())
                return False
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        if connection in ("close", "keep-alive"):
            self.close_connection = connection == "close"
        return True

    def _handle(self, method: str) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        headers: tuple = ()
        try:
            status, payload, headers, wait = self._answer(method, path, query, self._read_body())
            if wait:
                self.sandbox._stopping.wait(wait)
        except _Answer as answer:
            status, payload = answer.status, answer.payload
        except OSError:  # the client went away in the middle of its request
            self.close_connection = True
            return
        except Exception:
            log.exception("sandbox: %s %s failed", method, path)
            status, payload = 500, twilio_error(500, 20500, "Internal Server Error")
        self._send(status, payload, headers)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("sandbox: %s %s -> %d in %.1f ms", method, path, status, (time.perf_counter() - started) * 1e3)

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding"):  # the twilio client always sends a length; chunked is not worth it
            self.close_connection = True
            raise _Answer(411, _problem(411, "Send a Content-Length."))
        length = self.headers.get("content-length", "0").strip() or "0"
        if not length.isdigit():
            self.close_connection = True
            raise _Answer(400, _problem(400, "Bad Content-Length."))
        size = int(length)
        if size > MAX_BODY:
            # Read and drop a moderately big body: closing with unread data makes the kernel send a reset, which can
            # reach the client before it reads the 413. A huge one is not worth reading: the connection just closes.
            self.close_connection = size > 16 * MAX_BODY
            while not self.close_connection and size > 0:
                chunk = self.rfile.read(min(size, MAX_BODY))
                self.close_connection, size = not chunk, size - len(chunk)
            raise _Answer(413, _problem(413, f"The body is over {MAX_BODY} bytes."))
        return self.rfile.read(size) if size else b""

    def _answer(self, method: str, path: str, query: str, body: bytes) -> tuple[int, dict | None, tuple, float]:
        if path.startswith("/sandbox/"):
            return (*self._inspect(method, path, query, body), 0.0)
        sandbox = self.sandbox
        if not path.startswith(f"/{API}/"):
            return 404, twilio_error(404, 20404, f"The requested resource {path} was not found"), (), 0.0
        delay = sandbox._config["latency_ms"] / 1000
        listing, one = _LIST.fullmatch(path), _ONE.fullmatch(path)
        parts = path.split("/")
        if not sandbox.authorized(self.headers.get("authorization"), parts[3] if len(parts) > 3 else ""):
            if listing and method == "POST":
                sandbox.reject(401, 20003)
            return (401, twilio_error(401, 20003, "Authenticate"), (("WWW-Authenticate", 'Basic realm="Twilio API"'),),
                    delay)
        if listing and method == "POST":
            status, payload, wait = sandbox.create(dict(parse_qsl(body.decode("utf-8", "replace"),
                                                                  keep_blank_values=True)))
            return status, payload, (), delay + wait
        if listing and method == "GET":
            return 200, sandbox.page(dict(parse_qsl(query))), (), delay
        if one and method == "GET":
            found = sandbox.fetch(one.group(2))
            if found is None:
                return 404, twilio_error(404, 20404, f"The requested resource {path} was not found"), (), delay
            return 200, found, (), delay
        if listing or one:
            return 405, twilio_error(405, 20004, "Method not allowed"), (), delay
        return 404, twilio_error(404, 20404, f"The requested resource {path} was not found"), (), delay

    def _inspect(self, method: str, path: str, query: str, body: bytes) -> tuple[int, dict | list | None, tuple]:
        sandbox = self.sandbox
        allowed = {"/sandbox/health": ("GET",), "/sandbox/messages": ("GET", "DELETE"), "/sandbox/stats": ("GET",),
                   "/sandbox/config": ("GET", "PUT")}.get(path)
        if allowed is None:
            return 404, _problem(404, f"No such path: {path}"), ()
        if method not in allowed:
            return 405, _problem(405, f"{path} answers {', '.join(allowed)}."), (("Allow", ", ".join(allowed)),)
        if path == "/sandbox/health":
            return 200, {"status": "ok"}, ()
        if path == "/sandbox/stats":
            return 200, sandbox.stats(), ()
        if path == "/sandbox/messages" and method == "DELETE":
            sandbox.clear()
            return 204, None, ()
        if path == "/sandbox/messages":
            return 200, sandbox.messages(dict(parse_qsl(query)).get("to") or None), ()
        if method == "GET":
            return 200, sandbox.config(), ()
        try:
            changes = json.loads(body or b"null")
        except ValueError:
            return 400, _problem(400, "The body is not JSON."), ()
        if not isinstance(changes, dict):
            return 400, _problem(400, "Send a JSON object of settings."), ()
        try:
            sandbox.configure(changes)
        except ConfigError as exc:
            return 422, _problem(422, f"{exc.field} {exc.message}.", {exc.field: [exc.message]}), ()
        return 200, sandbox.config(), ()

    def _send(self, status: int, payload: dict | list | None, headers: tuple) -> None:
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
        body = b""
        if status != 204:
            body = json.dumps(payload).encode()
            lines += ["Content-Type: application/json; charset=utf-8", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if self.close_connection:
            lines.append("Connection: close")
        try:  # one write: headers and body in one segment
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        except OSError:
            self.close_connection = True  # the client gave up waiting (a timeout on the slow number)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier.sandbox", description="A local Twilio-compatible SMS "
                                     "provider.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID"))
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--slow-seconds", type=float, default=15.0)
    parser.add_argument("--callback-delay-ms", type=float, default=50.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--debug", action="store_true", help="log one line per request")
    args = parser.parse_args(argv)
    if not args.account_sid or not args.auth_token:
        print("sandbox: give --account-sid and --auth-token (or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format="%(asctime)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so a plain kill also closes the socket tidily
    try:
        Sandbox(args.host, args.port, args.account_sid, args.auth_token, latency_ms=args.latency_ms,
                fail_rate=args.fail_rate, slow_seconds=args.slow_seconds, callback_delay_ms=args.callback_delay_ms,
                seed=args.seed).serve_forever()
    except ValueError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
