"""The SMS sandbox's status-callback dispatcher: status changes on a timer heap, signed callbacks posted by a pool."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from notifier.sandbox_wire import API, UNDELIVERED

if TYPE_CHECKING:
    from notifier.sandbox import Sandbox

log = logging.getLogger("notifier.sandbox")  # one logger for the whole sandbox, as when it was one module
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # callbacks go straight to the app


class Callbacks:
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
        try:  # Request() itself raises on a URL it cannot parse: that too is a failed post, never a stuck message
            request = urllib.request.Request(url, data=urlencode(params).encode(), method="POST", headers={
                "X-Twilio-Signature": self._validator.compute_signature(url, params),
                "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"})
            with _NO_PROXY.open(request, timeout=5) as answer:
                answer.read()
            self._sandbox.count_callback(True)
        except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:  # HTTPError is a URLError
            log.info("sandbox: status callback to %s failed: %s", url.split("?")[0], exc)
            self._sandbox.count_callback(False)
