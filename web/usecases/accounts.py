"""The accounts of the console and the API: an officer signing in (a stale password hash is renewed then), and the
API keys an administrator creates and revokes."""

from __future__ import annotations

from profiles.models import Actor


def sign_in_officer(services, username: str, password: str):
    """The officer, or None for a wrong name or password (the same time either way: graph/officers.py)."""
    return services.officers.sign_in(username, password)


def create_api_key(services, actor: Actor, name: str, role: str) -> str:
    """A new key, returned once: only its hash is kept."""
    return services.api_keys.create(name, role)


def revoke_api_key(services, actor: Actor, kid: str):
    """End a key at once: its next request gets 401."""
    return services.api_keys.revoke(kid)
