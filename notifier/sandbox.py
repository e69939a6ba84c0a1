"""A local Twilio-compatible SMS provider (Messages resource, signed status callbacks, faults): dev, tests, benchmarks.

It speaks Twilio's REST API as the official `twilio` client uses it, on the standard library's HTTP server (the notifier
package may not import Flask). Point a client at it with `client.api.base_url = sandbox.url`.

Magic recipient numbers (any other valid number is accepted and its callbacks go `sent`, then `delivered`):

| To           | Answer                                                                                       |
|--------------|----------------------------------------------------------------------------------------------|
| +15005550001 | 400, code 21211: invalid 'To' number                                                         |
| +15005550002 | 400, code 21612: Twilio cannot route to this number                                          |
| +15005550003 | 400, code 21408: no permission to send to the number's region                                |
| +15005550004 | 400, code 21610: unsubscribed recipient                                                      |
| +15005550009 | 400, code 21614: 'To' number is not a mobile number (not SMS-capable)                        |
| +15005550429 | 429, code 20429: too many requests                                                           |
| +15005550500 | 500, code 20500: internal server error                                                       |
| +15005550555 | 201 after `slow_seconds`; stored at once, so a client that times out leaves a sent message  |
| +15005550666 | 201, but the callbacks end in `undelivered` with ErrorCode 30003 (unreachable handset)       |

Checks, in order: Basic auth and the path's AccountSid (401, 20003); `max_concurrency` sends already being answered
(429, 20429, at once); To missing 21604; Body missing 21602; From and MessagingServiceSid missing 21603; To not '+'
and 8-15 digits 21211; To equal to From 21266; Body over 1600 characters 21617 (GSM-7 escapes and characters outside
the BMP count two); StatusCallback not an http(s) URL with a host 21609; magic numbers; then `fail_rate` answers that
share of the remaining sends with one of `fail_codes` (500 -> HTTP 500 code 20500, 503 -> HTTP 503 code 20503,
20429 -> HTTP 429). Rejected sends are counted, never stored. Every other /2010-04-01 answer waits `latency_ms`,
plus or minus up to `jitter_ms` (uniformly, never below 0), and a send holds its concurrency slot until answered.
The list reads To, From, and DateSent, DateSent< and DateSent> as Twilio's spec describes them (`sent_window`).

Inspection (no auth; the server binds to loopback by default): GET /sandbox/messages?to=, DELETE /sandbox/messages,
GET /sandbox/stats (with the sends in flight now and at most since the last clear), GET and PUT /sandbox/config,
GET /sandbox/health.

    python -m notifier.sandbox --host 127.0.0.1 --port 8026 --account-sid AC... --auth-token ... [--latency-ms N]
        [--jitter-ms N] [--max-concurrency N]

This module owns the sandbox's state, settings and command line; `sandbox_http` serves it, `sandbox_callbacks` posts
its status callbacks, and `sandbox_wire` holds the Twilio rules and JSON they share.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import sys
import threading
from collections import Counter, deque
from datetime import UTC, datetime

from notifier import sandbox_wire as wire
from notifier.sandbox_callbacks import Callbacks
from notifier.sandbox_http import Server, make_server
from notifier.sandbox_wire import ConfigError
from profiles.sms_segments import segments


class Sandbox:
    """One sandbox: its state behind one lock, the HTTP server, and the callback scheduler."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8026, account_sid: str = "", auth_token: str = "", *,
                 latency_ms: float = 0, jitter_ms: float = 0, max_concurrency: int = 0, fail_rate: float = 0.0,
                 fail_codes: tuple[int, ...] = (500, 20429),
                 slow_seconds: float = 15.0, callback_delay_ms: float = 50, duplicate_callbacks: bool = False,
                 reverse_callbacks: bool = False, seed: int | None = None, max_messages: int = 200_000):
        if not account_sid or not auth_token:
            raise ValueError("the sandbox needs an account SID and an auth token")
        self.host, self.port, self.account_sid, self.auth_token = host, port, account_sid, auth_token
        self._lock = threading.Lock()
        self._config: dict = {}
        self.configure({"latency_ms": latency_ms, "jitter_ms": jitter_ms, "max_concurrency": max_concurrency,
                        "fail_rate": fail_rate, "fail_codes": list(fail_codes),
                        "slow_seconds": slow_seconds, "callback_delay_ms": callback_delay_ms,
                        "duplicate_callbacks": duplicate_callbacks, "reverse_callbacks": reverse_callbacks})
        self._rng = random.Random(seed)
        self._sids = random.Random()  # unique, not secret: cheaper than os.urandom per message
        self._max = max_messages
        self._messages: deque[dict] = deque()
        self._by_sid: dict[str, dict] = {}
        self._by_to: dict[str, deque[dict]] = {}
        self._accepted, self._rejected, self._posted, self._failed = 0, Counter(), 0, 0
        self._in_flight, self._peak, self._busy = 0, 0, 0  # sends being answered now, most at once, refused for it
        self._generation = 0  # bumped by clear(), so callbacks scheduled before it are dropped
        self._stopping = threading.Event()
        self._callbacks = Callbacks(self)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def _bind(self) -> None:
        if self._server is None:
            self._server = make_server(self)
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
            if field not in wire.CHECKS:
                raise ConfigError(field, "is not a setting (" + ", ".join(wire.CHECKS) + ")")
            test, what = wire.CHECKS[field]
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
            self._peak, self._busy = self._in_flight, 0  # sends still being answered are in flight after it too
            self._generation += 1

    def stats(self) -> dict:
        with self._lock:
            return {"accepted": self._accepted, "rejected": dict(self._rejected), "callbacks_posted": self._posted,
                    "callbacks_failed": self._failed, "in_flight": self._in_flight, "peak_in_flight": self._peak,
                    "over_concurrency": self._busy}

    # -- the Messages resource ----------------------------------------------------------------------------------------
    def authorized(self, header: str | None, account: str) -> bool:
        return wire.authorized(header, account, self.account_sid, self.auth_token)

    def reject(self, status: int, code: int) -> None:
        with self._lock:
            self._rejected[str(status) if status >= 500 else str(code)] += 1

    def delay(self) -> float:
        """Seconds to hold an API answer: latency_ms, plus or minus up to jitter_ms, never below 0."""
        with self._lock:
            latency, jitter = self._config["latency_ms"], self._config["jitter_ms"]
            return max(0.0, latency + (self._rng.uniform(-jitter, jitter) if jitter else 0.0)) / 1000

    def admit(self) -> bool:
        """Take a slot for a send until `leave()`; False (counted as a 20429 refusal) if max_concurrency are taken."""
        with self._lock:
            cap = self._config["max_concurrency"]
            if cap and self._in_flight >= cap:
                self._busy += 1
                self._rejected[str(wire.BUSY[1])] += 1
                return False
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def create(self, form: dict[str, str]) -> tuple[int, dict, float]:
        """(HTTP status, JSON answer, seconds to wait before answering) for one send."""
        to, body = form.get("To", "").strip(), form.get("Body", "")
        sender, service = form.get("From") or None, form.get("MessagingServiceSid") or None
        callback = form.get("StatusCallback") or None
        status, code, text = wire.refusal(to, body, sender, service, callback)
        with self._lock:
            if status == 201 and self._config["fail_rate"] and self._rng.random() < self._config["fail_rate"]:
                status, code, text = wire.FAULTS[self._rng.choice(self._config["fail_codes"])]
            if status != 201:
                self._rejected[str(status) if status >= 500 else str(code)] += 1
                return status, wire.twilio_error(status, code, text.format(to=to, sender=sender or service)), 0.0
            now = datetime.now(UTC)
            message = {"sid": f"SM{self._sids.getrandbits(128):032x}", "to": to, "from": sender, "service": service,
                       "body": body, "status": "queued", "created": now, "updated": now, "sent": None,
                       "error_code": None, "callback": callback, "segments": segments(body)}
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
        return 201, answer, config["slow_seconds"] if to == wire.SLOW else 0.0

    def resource(self, m: dict) -> dict:
        """Twilio's JSON for one message (call with the lock held)."""
        return wire.message_json(self.account_sid, m)

    def fetch(self, sid: str) -> dict | None:
        with self._lock:
            message = self._by_sid.get(sid)
            return None if message is None else self.resource(message)

    def page(self, query: dict[str, str]) -> tuple[int, dict]:
        """(200, Twilio's list page): newest first, filtered by To, From and DateSent; (400, 20001) for a bad date."""
        try:
            kept = wire.list_filter(query)
        except wire.FilterError as exc:
            return 400, wire.twilio_error(400, 20001, f"Invalid value for {exc.name}")
        size, index = wire.page_numbers(query)
        with self._lock:
            pool = self._by_to.get(query["To"], ()) if query.get("To") else self._messages
            chosen = [m for m in reversed(pool) if kept(m)]
            records = [self.resource(m) for m in chosen[index * size:(index + 1) * size]]
        return 200, wire.list_page(self.account_sid, query, records, len(chosen) > (index + 1) * size)

    def advance(self, generation: int, sid: str, status: str, error_code: int | None) -> bool:
        """Move a message forward (never back, so reversed callbacks leave the final status); False if it is gone."""
        with self._lock:
            message = self._by_sid.get(sid)
            if generation != self._generation or message is None:
                return False
            if wire.RANK[status] > wire.RANK[message["status"]]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier.sandbox", description="A local Twilio-compatible SMS "
                                     "provider.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID"))
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="each answer waits latency plus or minus up to "
                        "this, uniformly")
    parser.add_argument("--max-concurrency", type=int, default=0, help="sends answered at once; more get 429 "
                        "(20429) at once; 0: no cap")
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
                jitter_ms=args.jitter_ms, max_concurrency=args.max_concurrency, fail_rate=args.fail_rate,
                slow_seconds=args.slow_seconds, callback_delay_ms=args.callback_delay_ms,
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
