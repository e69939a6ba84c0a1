"""The SMS provider's limits, shared by every worker through Redis: a rate (messages per second, GCRA) and a cap on
requests open at once (a semaphore whose slots are leases, so a worker killed mid-send frees its slots on expiry).

Both are Lua scripts, so each check-and-take is one atomic step on the server's clock (`TIME`): workers on several
machines agree without synchronised clocks. 0 turns a limit off, and then nothing here touches Redis.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis

RATE_KEY = "lifecycle:sms:rate"  # the theoretical arrival time of the next send, in µs (GCRA's TAT)
SLOTS_KEY = "lifecycle:sms:slots"  # sorted set: a lease token per open request, scored by its expiry in ms
MAX_WAIT_S = 10.0  # a send waits this long at most for its turn; past it the notice is retried later
POLL_S = (0.005, 0.1)  # first and longest pause between tries for a free slot

# GCRA with reservation: a send takes the next free moment, if it is within max_wait, and sleeps until then; sends
# are thus spaced 1/rate apart across all workers, never bunched into the start of a second. Returns {taken, wait µs}.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > max_wait then return {0, wait} end
redis.call('SET', KEYS[1], string.format('%.0f', tat + interval), 'PX', math.ceil((wait + interval) / 1000) + 1000)
return {1, wait}
"""

# Drop expired leases, then take one if fewer than `limit` are held. Returns 1 if taken.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return 1
"""


class Throttled(Exception):
    """No turn within MAX_WAIT_S: the provider's limit is taken by other sends. Not the provider's refusal, so it is
    not an attempt at the provider: the notice goes back to pending until `retry_after` seconds from now."""

    retryable, permanent, code, status = True, False, None, None

    def __init__(self, what: str, retry_after: float):
        super().__init__(f"no {what} within {MAX_WAIT_S:.0f} s")
        self.retry_after = retry_after


def interval_us(rate: float) -> int:
    """GCRA's emission interval: the µs between two sends at `rate` per second."""
    return math.ceil(1_000_000 / rate)


class Throttle:
    """`async with throttle.turn(): send`: waits for a slot and then for the rate's next moment, or raises
    Throttled. A slot's lease outlasts the longest a holder keeps it (the rate wait, then a send that ends at the
    client's `send_timeout_s`), so only a dead holder's slot expires."""

    def __init__(self, connection: redis.Redis, rate: float, max_concurrency: int, send_timeout_s: float,
                 max_wait_s: float = MAX_WAIT_S, lease_margin_s: float = 5.0):
        self.rate, self.max_concurrency, self.max_wait_s = rate, max_concurrency, max_wait_s
        self.lease_ms = math.ceil((max_wait_s + send_timeout_s + lease_margin_s) * 1000)
        self._redis = connection
        self._reserve = connection.register_script(_RESERVE) if rate > 0 else None
        self._acquire = connection.register_script(_ACQUIRE) if max_concurrency > 0 else None

    @property
    def active(self) -> bool:
        return self._reserve is not None or self._acquire is not None

    # The Redis calls below are blocking ones on the loop's thread: each is one short round trip (well under a
    # millisecond on a LAN), made only when a limit is configured, and the loop has nothing else to do meanwhile
    # but wait for the provider, which the limits are there to slow down anyway.
    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        token = await self._slot() if self._acquire is not None else None
        try:
            if self._reserve is not None:
                wait = self.reserve()
                if wait:
                    await asyncio.sleep(wait)
            yield
        finally:
            if token is not None:
                self._redis.zrem(SLOTS_KEY, token)

    def reserve(self) -> float:
        """Take the next moment the rate allows: the seconds until it comes, or Throttled if past the bound."""
        taken, wait_us = self._reserve(keys=[RATE_KEY], args=[interval_us(self.rate), int(self.max_wait_s * 1e6)])
        if not taken:
            raise Throttled("turn at the SMS rate limit", wait_us / 1_000_000)
        return wait_us / 1_000_000

    async def _slot(self) -> str:
        token, pause = uuid.uuid4().hex, POLL_S[0]
        deadline = time.monotonic() + self.max_wait_s
        while not self._acquire(keys=[SLOTS_KEY], args=[self.max_concurrency, self.lease_ms, token]):
            if time.monotonic() >= deadline:
                raise Throttled("free slot under SMS_MAX_CONCURRENCY", pause)
            # jittered, growing pauses: many waiting sends do not poll Redis in step
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, POLL_S[1])
        return token
