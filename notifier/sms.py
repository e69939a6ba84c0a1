"""The SMS provider client the delivery code uses (the only twilio.rest user): send (one at a time, or many in flight
on an asyncio loop), find, failures as SmsError."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import requests
import structlog
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from profiles.privacy import mask_phone

log = structlog.get_logger(__name__)

PERMANENT = frozenset({21211, 21610, 21614, 21612, 21408, 21604, 21602})  # the recipient, not the moment, is wrong
RATE_LIMITED = 20429
FIND_LIMIT = 200  # reconciliation reads at most this many of the recipient's newest messages

# twilio's HTTP client logs each request at INFO, a list's URL with To=<number> in clear; its logger here stays quiet
_HTTP_LOG = logging.getLogger("notifier.sms.http")
_HTTP_LOG.setLevel(logging.WARNING)
# twilio reads TWILIO_* from os.environ when given no mapping or an empty one (`environment or os.environ`); a
# TWILIO_REGION or TWILIO_EDGE there would rewrite base_url's host. Settings are read in one place, so nothing here.
_NO_ENVIRONMENT = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}
_NUMBER = re.compile(r"(?<![\w%])(?:\+|%2B)?\d{7,15}(?!\w)")


def scrub(text: str) -> str:
    """Mask phone numbers in a provider message or URL: Twilio's own messages quote the 'To' number."""
    return _NUMBER.sub(lambda m: mask_phone(m.group().replace("%2B", "+")), text)


class SmsError(Exception):
    """A send or lookup the provider refused or never answered; `retryable`: the same request may succeed later."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.message, self.code, self.status, self.retryable = message, code, status, retryable

    @property
    def permanent(self) -> bool:
        """The recipient cannot get this SMS (invalid, unsubscribed, not capable): fail it and use the inbox.

        Not retryable and not permanent (a 401, say) means our configuration is wrong, not the recipient.
        """
        return self.code in PERMANENT

    def __repr__(self) -> str:
        return f"SmsError({self.message!r}, code={self.code}, status={self.status}, retryable={self.retryable})"


def _classify(status: int | None, code: int | None, text: str) -> SmsError:
    retryable = code not in PERMANENT and (code == RATE_LIMITED or status == 429 or (status or 0) >= 500)
    detail = f"code {code}" if code else "no code"
    return SmsError(f"the SMS provider answered {status} ({detail}): {scrub(text)}", code=code, status=status,
                    retryable=retryable)


def _twilio_code(value: object) -> int | None:
    # without a JSON body the client puts the HTTP status where the code goes; Twilio's own codes have 5 digits
    return value if isinstance(value, int) and value >= 10_000 else None


def _rest_error(exc: TwilioRestException) -> SmsError:
    return _classify(exc.status, _twilio_code(exc.code), str(exc.msg))


def _page_error(exc: TwilioException) -> SmsError:
    """A list page that was not 200 surfaces as a bare TwilioException carrying the response."""
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    try:
        payload = json.loads(getattr(response, "text", "") or "{}")
    except ValueError:
        payload = {}
    payload = payload if isinstance(payload, dict) else {}
    return _classify(status, _twilio_code(payload.get("code")), str(payload.get("message") or exc.args[0]))


def _transport_error(exc: Exception) -> SmsError:
    timed_out = isinstance(exc, requests.Timeout | asyncio.TimeoutError | aiohttp.ServerTimeoutError)
    kind = "timed out" if timed_out else "could not be reached"
    return SmsError(f"the SMS provider {kind}: {type(exc).__name__}: {scrub(str(exc))}", retryable=True)


class SmsClient:
    """Sends through Twilio, or through anything that speaks its API at `base_url` (the local sandbox)."""

    def __init__(self, account_sid: str, auth_token: str, sender: str, *, base_url: str = "", timeout: float = 10.0):
        if not account_sid or not auth_token or not sender:
            raise ValueError("the SMS client needs an account SID, an auth token and a sender")
        self.sender, self.timeout = sender, timeout
        self._account = (account_sid, auth_token, base_url.rstrip("/"))
        self._http = TwilioHttpClient(timeout=timeout, pool_connections=True, logger=_HTTP_LOG)
        self._client = self._rest(self._http)

    def _rest(self, http) -> Client:
        sid, token, base_url = self._account
        client = Client(sid, token, http_client=http, environment=_NO_ENVIRONMENT)
        if base_url:
            # the Api domain joins base_url and the path itself; the client's edge/region logic only touches hosts
            client.api.base_url = base_url
        return client

    def _fields(self, to: str, body: str, status_callback: str | None) -> dict[str, str]:
        fields: dict[str, str] = {"to": to, "body": body}
        # a Messaging Service sid (MG...) lets Twilio pick the number; otherwise the sender is the From number
        fields["messaging_service_sid" if self.sender.startswith("MG") else "from_"] = self.sender
        if status_callback:
            fields["status_callback"] = status_callback
        return fields

    def send(self, to: str, body: str, status_callback: str | None = None) -> str:
        """The message sid Twilio gave; SmsError if it refused or did not answer in time."""
        try:
            message = self._client.messages.create(**self._fields(to, body, status_callback))
        except TwilioRestException as exc:
            error = _rest_error(exc)
        except requests.RequestException as exc:
            error = _transport_error(exc)
        else:
            return _sent(to, message)
        raise _failed(to, error)

    @asynccontextmanager
    async def sending(self, in_flight: int) -> AsyncIterator[AsyncSender]:
        """Many sends at once on the running loop: the official client's aiohttp transport, one connection per
        request in flight (aiohttp's default pool stops at 100). Enter it inside the loop: aiohttp binds its session
        to the loop that creates it."""
        http = AsyncTwilioHttpClient(pool_connections=False, logger=_HTTP_LOG)
        http.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight))
        try:
            yield AsyncSender(self, self._rest(http))
        finally:
            await http.close()

    def find(self, to: str, contains: str, since: datetime) -> str | None:
        """The sid of a message sent to `to` since `since` whose body contains `contains`, else None.

        For reconciliation after a crash between send and record. The recipient's newest messages are read (at most
        FIND_LIMIT) and filtered by date_created here: a DateSent filter would miss messages still queued.
        """
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        since = since.replace(microsecond=0)  # Twilio's dates have whole seconds
        try:
            for message in self._client.messages.stream(to=to, page_size=50, limit=FIND_LIMIT):
                created = message.date_created
                if created is not None and created >= since and contains in (message.body or ""):
                    return message.sid
        except TwilioRestException as exc:
            error = _rest_error(exc)
        except TwilioException as exc:
            error = _page_error(exc)
        except requests.RequestException as exc:
            error = _transport_error(exc)
        else:
            return None
        log.warning("sms_find_failed", to=mask_phone(to), code=error.code, status=error.status)
        raise error

    def close(self) -> None:
        if self._http.session is not None:
            self._http.session.close()


class AsyncSender:
    """SmsClient.send for an asyncio loop: the same fields, the same SmsError for every failure."""

    def __init__(self, sms: SmsClient, client: Client):
        self._sms, self._client = sms, client

    async def send(self, to: str, body: str, status_callback: str | None = None) -> str:
        try:
            # the client's own timeout is not handed to aiohttp by the async transport: bound the whole request here
            async with asyncio.timeout(self._sms.timeout):
                message = await self._client.messages.create_async(**self._sms._fields(to, body, status_callback))
        except TwilioRestException as exc:
            error = _rest_error(exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = _transport_error(exc)
        else:
            return _sent(to, message)
        raise _failed(to, error)


def _sent(to: str, message) -> str:
    log.debug("sms_sent", to=mask_phone(to), sid=message.sid, segments=message.num_segments)
    return message.sid


def _failed(to: str, error: SmsError) -> SmsError:
    # raised outside the except clause so the original, which quotes the number, is not chained into tracebacks
    log.warning("sms_failed", to=mask_phone(to), code=error.code, status=error.status, retryable=error.retryable)
    return error
