"""Domain errors every layer understands; the web layer maps them to 404, 409 and 422 with the field named."""

from __future__ import annotations


class NotFound(LookupError):
    def __init__(self, what: str, key: str, field: str | None = None):
        super().__init__(f"no {what} with id {key!r}")
        self.what, self.key, self.field = what, key, field


class Conflict(ValueError):
    """The thing already exists (same ID number, same credit code)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class Rejected(ValueError):
    """A value the domain rules refuse; `field` names the request field at fault."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason
