"""The accounts of the console and the API: an officer signing in (a stale password hash is renewed then), and what
an administrator does to officer accounts and API keys, each action recorded (graph/officers.py AdminAction)."""

from __future__ import annotations

from profiles.errors import Rejected
from profiles.models import Actor


def sign_in_officer(services, username: str, password: str):
    """The officer, or None for a wrong name or password (the same time either way: graph/officers.py)."""
    return services.officers.sign_in(username, password)


def create_api_key(services, actor: Actor, name: str, role: str) -> str:
    """A new key, returned once: only its hash is kept."""
    key = services.api_keys.create(name, role)
    services.officers.record_action(actor, "created_key", f"{key.split('_')[1]} {name} ({role})")
    return key


def revoke_api_key(services, actor: Actor, kid: str):
    """End a key at once: its next request gets 401."""
    done = services.api_keys.revoke(kid)
    if not done.already:
        services.officers.record_action(actor, "revoked_key", f"{kid} {done.key.name}")
    return done


def create_officer(services, actor: Actor, username: str, name: str, role: str, department: str, password: str):
    """A new officer account; the password obeys profiles.passwords (Rejected names the field otherwise)."""
    officer = services.officers.create(username, name, role, department, password)
    services.officers.record_action(actor, "created_officer", f"{officer.username} ({officer.role})")
    return officer


def set_officer_active(services, actor: Actor, username: str, active: bool, own_username: str) -> None:
    """Disable an account (it cannot sign in again; its records stay) or enable it again. An administrator does
    not disable their own account: the console could be left with no administrator."""
    if not active and username == own_username:
        raise Rejected("username", "you cannot disable your own account")
    services.officers.set_active(username, active)
    services.officers.record_action(actor, "enabled_officer" if active else "disabled_officer", username)


def reset_officer_password(services, actor: Actor, username: str, password: str) -> None:
    """A new password set by an administrator, told to the officer in person; the old one stops working."""
    services.officers.reset_password(username, password)
    services.officers.record_action(actor, "reset_password", username)
