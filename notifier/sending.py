"""Sending one delivery batch's claimed notices: SMS on an asyncio loop, many requests open at once (latency-bound, not
core-bound) and within the provider's limits shared by all workers; e-mail on a small thread pool beside it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from notifier.email import EmailError
from notifier.services import Services
from notifier.sms import SmsError
from notifier.templates import Reminder, render
from notifier.throttle import Throttle, Throttled
from profiles.notices import Contact, Notice

T = TypeVar("T")

Result = tuple[bool, str | None, Exception | None]  # sent?, the provider's id, the error that stopped it


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, also from a thread whose own loop is running (a job run inside a program that has one, as a
    browser test driving Playwright does): there the coroutine gets a loop of its own in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as helper:
        return helper.submit(asyncio.run, coroutine).result()


def send_all(services: Services, notices: list[Notice], contacts: dict[str, Contact],
             reminder: Callable[[Notice], Reminder]) -> dict[str, Result]:
    """Each notice's result by nid. Errors are returned, never raised: the caller decides retry or failure."""
    texts = [n for n in notices if n.channel == "sms"]
    with ThreadPoolExecutor(max_workers=services.settings.delivery_threads) as pool:
        mailed = {n.nid: pool.submit(_mail_one, services, n, contacts[n.recipient_id], reminder)
                  for n in notices if n.channel != "sms"}
        sent = _run(_send_texts(services, texts, contacts, reminder)) if texts else {}
        return sent | {nid: future.result() for nid, future in mailed.items()}


async def _send_texts(services: Services, notices: list[Notice], contacts: dict[str, Contact],
                      reminder: Callable[[Notice], Reminder]) -> dict[str, Result]:
    """Up to `delivery_in_flight` requests open at once on this job's own loop (and within notifier.throttle's
    limits). Each SMS is rendered when its turn comes, so rendering one overlaps the provider's answer to others."""
    s = services.settings
    throttle = Throttle(services.redis, s.sms_rate_limit, s.sms_max_concurrency, services.sms.timeout)
    in_flight = min(s.delivery_in_flight, s.sms_max_concurrency or s.delivery_in_flight)
    gate = asyncio.Semaphore(in_flight)
    async with services.sms.sending(in_flight) as sender:
        async def one(n: Notice) -> Result:
            async with gate:
                contact = contacts[n.recipient_id]
                message = render("sms", contact.preferences.language, reminder(n))
                callback = f"{s.public_url}/webhooks/twilio/status?nid={n.nid}"
                try:
                    async with throttle.turn():
                        sid = await sender.send(contact.phone, message.text, callback)
                except (SmsError, Throttled) as exc:
                    return False, None, exc
                return True, sid, None

        results = await asyncio.gather(*(one(n) for n in notices))
    return {n.nid: result for n, result in zip(notices, results, strict=True)}


def _mail_one(services: Services, n: Notice, contact: Contact, reminder: Callable[[Notice], Reminder]) -> Result:
    try:
        message = render(n.channel, contact.preferences.language, reminder(n))
        return True, services.mail.send(contact.email, message.subject, message.text, message.html,
                                        f"<{n.nid}@lifecycle>"), None
    except EmailError as exc:
        return False, None, exc


def send_one_sms(services: Services, to: str, text: str) -> str:
    """One SMS outside a delivery batch (a sign-in code), within the same provider limits as the batches: the code
    waits its turn (at most notifier.throttle's bound) rather than be refused with 20429. SmsError or Throttled."""
    s = services.settings
    throttle = Throttle(services.redis, s.sms_rate_limit, s.sms_max_concurrency, services.sms.timeout)
    if not throttle.active:
        return services.sms.send(to, text)

    async def within_limits() -> str:
        async with throttle.turn():
            return services.sms.send(to, text)

    return _run(within_limits())
