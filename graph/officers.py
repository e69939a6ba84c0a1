"""Officers of the one-stop window: their accounts (argon2 hash, role, department), signing in, and the record of
what administrators did to accounts and API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import neo4j

from graph.driver import constraint_errors
from profiles.errors import Conflict, NotFound, Rejected
from profiles.models import Actor
from profiles.passwords import hash_password, needs_rehash, verify
from profiles.text import RefusedText, clean_text

ROLES = ("officer", "supervisor", "admin")


@dataclass(frozen=True)
class Officer:
    username: str
    name: str
    role: str
    department: str
    active: bool = True

    @property
    def actor(self) -> Actor:
        """How this officer appears in the access log the citizen reads: name, department and account."""
        return Actor(name=f"{self.name} · {self.department} ({self.username})", role=self.role)


class Officers:
    def __init__(self, driver: neo4j.Driver, database: str):
        self.driver, self.database = driver, database

    def create(self, username: str, name: str, role: str, department: str, password: str) -> Officer:
        username = username.strip().lower()
        if role not in ROLES:
            raise Rejected("role", f"one of {', '.join(ROLES)}")
        if not username.replace("-", "").replace("_", "").replace(".", "").isalnum() or len(username) > 64:
            raise Rejected("username", "letters, digits, '.', '-' and '_' only, at most 64")
        # The name and department are what citizens read in their access log: no bidi override may disguise them.
        cleaned = {}
        for field_name, text in (("name", name), ("department", department)):
            try:
                cleaned[field_name] = clean_text(text)
            except RefusedText as exc:
                raise Rejected(field_name, exc.reason) from None
        name, department = cleaned["name"], cleaned["department"]
        digest = hash_password(password)
        try:
            with constraint_errors():
                self.driver.execute_query(
                    "CREATE (:Officer {username: $u, name: $n, role: $r, department: $d, pw_hash: $h, active: true, "
                    "                  created_at: datetime()})",
                    u=username, n=name.strip(), r=role, d=department.strip(), h=digest, database_=self.database)
        except neo4j.exceptions.ConstraintError as exc:
            raise Conflict("username", f"{username} already exists") from exc
        return Officer(username, name.strip(), role, department.strip())

    def get(self, username: str) -> Officer:
        records = self.driver.execute_query(
            "MATCH (o:Officer {username: $u}) RETURN o", u=username, database_=self.database,
            routing_=neo4j.RoutingControl.READ)[0]
        if not records:
            raise NotFound("officer", username)
        return _officer(records[0]["o"])

    def sign_in(self, username: str, password: str) -> Officer | None:
        """The officer when the password is right and the account active; None otherwise (same time either way)."""
        username = username.strip().lower()
        records = self.driver.execute_query(
            "MATCH (o:Officer {username: $u}) RETURN o", u=username, database_=self.database,
            routing_=neo4j.RoutingControl.READ)[0]
        node = records[0]["o"] if records else None
        if not verify(node["pw_hash"] if node else None, password) or not node["active"]:
            return None
        if needs_rehash(node["pw_hash"]):  # parameters were raised since this hash was made
            self.driver.execute_query("MATCH (o:Officer {username: $u}) SET o.pw_hash = $h", u=username,
                                      h=hash_password(password), database_=self.database)
        return _officer(node)

    def set_active(self, username: str, active: bool) -> None:
        records = self.driver.execute_query(
            "MATCH (o:Officer {username: $u}) SET o.active = $a RETURN o.username", u=username, a=active,
            database_=self.database)[0]
        if not records:
            raise NotFound("officer", username)


    # --- added for the admin page: listing, password reset, the administrators' record ---------------------------
    def all(self) -> list[Officer]:
        """Every account, active ones first, then by user name."""
        rows = self.driver.execute_query(
            "MATCH (o:Officer) RETURN o ORDER BY o.active DESC, o.username", database_=self.database,
            routing_=neo4j.RoutingControl.READ)[0]
        return [_officer(r["o"]) for r in rows]

    def reset_password(self, username: str, password: str) -> None:
        """A new password (checked by profiles.passwords, like at creation); the old one stops working at once."""
        digest = hash_password(password)
        records = self.driver.execute_query(
            "MATCH (o:Officer {username: $u}) SET o.pw_hash = $h RETURN o.username", u=username, h=digest,
            database_=self.database)[0]
        if not records:
            raise NotFound("officer", username)

    def record_action(self, actor: Actor, action: str, target: str) -> None:
        """What an administrator did (created, disabled, reset an account; created, revoked a key), kept for good."""
        self.driver.execute_query(
            "CREATE (:AdminAction {aaid: $id, at: $at, actor: $actor, role: $role, action: $action, target: $target})",
            id=str(uuid.uuid4()), at=datetime.now(UTC), actor=actor.name, role=actor.role, action=action,
            target=target, database_=self.database)

    def actions(self, limit: int = 50) -> list[AdminAction]:
        rows = self.driver.execute_query(
            "MATCH (a:AdminAction) RETURN a ORDER BY a.at DESC LIMIT $limit", limit=limit, database_=self.database,
            routing_=neo4j.RoutingControl.READ)[0]
        return [AdminAction(r["a"]["at"].to_native(), r["a"]["actor"], r["a"]["action"], r["a"]["target"])
                for r in rows]


@dataclass(frozen=True)
class AdminAction:
    at: datetime
    actor: str
    action: str  # created_officer | disabled_officer | enabled_officer | reset_password | created_key | revoked_key
    target: str


def _officer(node) -> Officer:
    return Officer(node["username"], node["name"], node["role"], node["department"], node["active"])
