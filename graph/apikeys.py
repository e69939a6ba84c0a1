"""API keys for department systems and scripts: created once (the secret is shown once), stored only as a hash.

A key is `lk_<kid>_<secret>`; the graph keeps `kid`, name, role and SHA-256 of the secret. SHA-256 rather than argon2
on purpose: the secret is 256 random bits, so a slow hash adds no protection and would cost every API request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import neo4j

from profiles.models import Actor

ROLES = ("system", "officer", "admin")


class ApiKeys:
    def __init__(self, driver: neo4j.Driver, database: str):
        self.driver, self.database = driver, database

    def create(self, name: str, role: str) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
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
        records = self.driver.execute_query(
            "MATCH (k:ApiKey {kid: $kid}) WHERE NOT k.revoked RETURN k.name AS name, k.role AS role, "
            "k.secret_sha256 AS digest", kid=kid, database_=self.database, routing_=neo4j.RoutingControl.READ,
        )[0]
        if not records or not hmac.compare_digest(records[0]["digest"], _digest(secret)):
            return None
        return Actor(name=records[0]["name"], role=records[0]["role"])


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
