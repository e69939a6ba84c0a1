"""The SMS provider's limits shared through a real Redis (notifier.throttle): the rate's reservations and their
bound, the slots of SMS_MAX_CONCURRENCY, and a dead holder's slot freed when its lease ends."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest
import redis

from notifier.throttle import SLOTS_KEY, Throttle, Throttled


@pytest.fixture
def connection(settings):
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    client.close()


def test_the_rate_gives_each_send_the_next_moment_and_refuses_one_past_the_bound(connection):
    """0.5/s, at most 5 s of waiting: reservations made at once get 0 s, ~2 s, ~4 s; the fourth (~6 s) is refused
    and told when to come back. A second Throttle (another worker) shares the same schedule."""
    mine = Throttle(connection, rate=0.5, max_concurrency=0, send_timeout_s=1, max_wait_s=5)
    other = Throttle(connection, rate=0.5, max_concurrency=0, send_timeout_s=1, max_wait_s=5)
    waits = [mine.reserve(), other.reserve(), mine.reserve()]
    with pytest.raises(Throttled) as refused:
        other.reserve()
    assert waits[0] == 0 and 1.0 < waits[1] <= 2.0 and 3.0 < waits[2] <= 4.0, waits
    assert refused.value.retry_after > 5.0 and refused.value.retryable and not refused.value.permanent


def test_slots_are_shared_and_a_send_past_the_cap_waits_then_gives_up(connection):
    async def scenario() -> None:
        a = Throttle(connection, rate=0, max_concurrency=2, send_timeout_s=1, max_wait_s=0.3)
        b = Throttle(connection, rate=0, max_concurrency=2, send_timeout_s=1, max_wait_s=0.3)
        async with AsyncExitStack() as held:
            await held.enter_async_context(a.turn())
            await held.enter_async_context(b.turn())
            assert connection.zcard(SLOTS_KEY) == 2
            with pytest.raises(Throttled):
                async with b.turn():
                    pass
        assert connection.zcard(SLOTS_KEY) == 0  # both given back on the way out
        async with a.turn():
            assert connection.zcard(SLOTS_KEY) == 1

    asyncio.run(scenario())


def test_a_slot_whose_holder_died_is_free_again_when_its_lease_ends(connection):
    """A holder that never gives its slot back (its worker was SIGKILLed mid-send) blocks the cap only until the
    lease it took runs out; then the next send gets the slot."""
    async def scenario() -> None:
        dead = Throttle(connection, rate=0, max_concurrency=1, send_timeout_s=0, max_wait_s=0.1, lease_margin_s=0.9)
        await dead.turn().__aenter__()  # entered, never left
        assert connection.zcard(SLOTS_KEY) == 1
        alive = Throttle(connection, rate=0, max_concurrency=1, send_timeout_s=1, max_wait_s=10)
        async with alive.turn():
            assert connection.zcard(SLOTS_KEY) == 1  # the dead holder's lease is gone, ours is the one held

    asyncio.run(scenario())


def test_no_limits_touch_nothing_in_redis(connection):
    throttle = Throttle(connection, rate=0, max_concurrency=0, send_timeout_s=1)

    async def scenario() -> None:
        async with throttle.turn():
            pass

    asyncio.run(scenario())
    assert not throttle.active and connection.keys("lifecycle:sms:*") == []


def test_a_single_sms_outside_a_batch_takes_its_turn_under_the_rate_limit(live_environ):
    """Sign-in codes go out one at a time (notifier.sending.send_one_sms) yet within the same shared rate: at one
    message per 100 s, the first is sent at once and the second, 100 s away, is refused as Throttled before it
    reaches the provider (which would have answered 20429)."""
    from notifier.sandbox import Sandbox
    from notifier.sending import send_one_sms
    from tests.integration.notify_helpers import SID, TOKEN, notify_services

    box = Sandbox("127.0.0.1", 0, SID, TOKEN).start()
    services = notify_services(live_environ, box.url, SMS_RATE_LIMIT="0.01")
    try:
        assert send_one_sms(services, "+8613800138000", "【禅城区政务服务】验证码 123456").startswith("SM")
        with pytest.raises(Throttled):
            send_one_sms(services, "+8613800138001", "【禅城区政务服务】验证码 654321")
        assert [m["to"] for m in box.messages()] == ["+8613800138000"]
    finally:
        services.close()
        box.stop()
