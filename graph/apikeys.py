"""API keys for department systems and scripts: created once (the secret is shown once), stored only as a hash,
listed without secrets, revoked at once, and stamped with when they were last used (at most once a minute).

A key is `lk_<kid>_<secret>`; the graph keeps `kid`, name, role and SHA-256 of the secret. SHA-256 rather than argon2
on purpose: the secret is 256 random bits, so a slow hash adds no protection and would cost every API request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import neo4j

from profiles.errors import NotFound, Rejected
from profiles.models import OWN_READERS, Actor
from profiles.text import clean_text

ROLES = ("system", "officer", "admin")
# Every API request authenticates; a write per request would double the graph's load for a "last used" column,
# so the stamp is renewed only when the stored one is older than this.
LAST_USED_EVERY = timedelta(seconds=60)
log = logging.getLogger(__name__)
# What a listing reads of a key (a fixed projection, no value spliced in): deliberately not secret_sha256.
_SHOWN = "k {.kid, .name, .role, .created_at, .last_used_at, .revoked_at, .revoked} AS k"


@dataclass(frozen=True)
class ApiKeyInfo:
    """What may be shown of a key: never its secret nor the secret's hash."""

    kid: str
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class Revoked:
    key: ApiKeyInfo
    already: bool  # it was revoked before this call; revoked_at is the first revocation's time


class ApiKeys:
    def __init__(self, driver: neo4j.Driver, database: str):
        self.driver, self.database = driver, database

    def create(self, name: str, role: str) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        name = clean_text(name)  # the name is the actor citizens read in their access log; RefusedText is a ValueError
        if name.strip().casefold() in {reader.casefold() for reader in OWN_READERS}:
            raise Rejected("name", "is the name the service itself reads under; choose another")
        kid, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        self.driver.execute_query(
            "CREATE (:ApiKey {kid: $kid, name: $name, role: $role, secret_sha256: $digest, revoked: false, "
            "                 created_at: datetime()})",
            kid=kid, name=name, role=role, digest=_digest(secret), database_=self.database,
        )
        return f"lk_{kid}_{secret}"

    def authenticate(self, token: str) -> Actor | None:
        prefix, _, rest = token.partition("_")
        kid, _, secret = rest.partition("_")
        if prefix != "lk" or not kid or not secret or len(token) > 200:
            return None
        # Read on every request, never cached: a revocation must bite on the very next request.
        records = self.driver.execute_query(
            "MATCH (k:ApiKey {kid: $kid}) WHERE NOT k.revoked RETURN k.name AS name, k.role AS role, "
            "k.secret_sha256 AS digest, k.last_used_at AS last_used_at",
            kid=kid, database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        if not records or not hmac.compare_digest(records[0]["digest"], _digest(secret)):
            return None
        now = datetime.now(UTC)
        last = _native(records[0]["last_used_at"])
        if last is None or now - last >= LAST_USED_EVERY:
            self._stamp(kid, now)
        return Actor(name=records[0]["name"], role=records[0]["role"])

    def _stamp(self, kid: str, now: datetime) -> None:
        """Record the use. Bookkeeping: it must neither turn a valid key away nor hold its request up, so one
        auto-commit attempt (execute_query would retry for up to 30 s) and a failure is only logged."""
        try:
            with self.driver.session(database=self.database, default_access_mode=neo4j.WRITE_ACCESS) as session:
                # The stale test is repeated here so a burst of requests from one key writes once, not per request.
                session.run(
                    "MATCH (k:ApiKey {kid: $kid}) WHERE k.last_used_at IS NULL OR k.last_used_at <= $stale "
                    "SET k.last_used_at = $now",
                    kid=kid, now=now, stale=now - LAST_USED_EVERY,
                ).consume()
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
            log.warning("could not record the use of API key %s: %s", kid, exc)

    def all_keys(self) -> list[ApiKeyInfo]:
        """Every key, oldest first, revoked ones included (so an operator can see what was ended and when)."""
        records = self.driver.execute_query(
            "MATCH (k:ApiKey) RETURN " + _SHOWN + " ORDER BY k.created_at, k.kid",
            database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        return [_info(r) for r in records]

    def get(self, kid: str) -> ApiKeyInfo:
        records = self.driver.execute_query(
            "MATCH (k:ApiKey {kid: $kid}) RETURN " + _SHOWN, kid=kid, database_=self.database,
            routing_=neo4j.RoutingControl.READ,
        )[0]
        if not records:
            raise NotFound("API key", kid)
        return _info(records[0])

    def revoke(self, kid: str) -> Revoked:
        """Mark the key revoked (from the next request on it gets 401); revoking again changes nothing."""
        records = self.driver.execute_query(
            "MATCH (k:ApiKey {kid: $kid}) WITH k, k.revoked AS already "
            "SET k.revoked = true, k.revoked_at = coalesce(k.revoked_at, datetime()) "
            "RETURN already, " + _SHOWN,
            kid=kid, database_=self.database,
        )[0]
        if not records:
            raise NotFound("API key", kid)
        return Revoked(_info(records[0]), bool(records[0]["already"]))


def _info(record) -> ApiKeyInfo:
    k = record["k"]
    return ApiKeyInfo(kid=k["kid"], name=k["name"], role=k["role"], created_at=_native(k["created_at"]),
                      last_used_at=_native(k["last_used_at"]), revoked_at=_native(k["revoked_at"]),
                      revoked=bool(k["revoked"]))


def _native(value) -> datetime | None:
    return value.to_native() if value is not None else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
