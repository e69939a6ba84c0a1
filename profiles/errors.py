"""Domain errors every layer understands; the web layer maps them to 404, 409, 422 (the field named) and 503."""

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


class Unavailable(Exception):
    """A backing service (`which`: "neo4j" or "redis") could not be reached in time; trying again shortly may work.
    The package that owns the client raises it, so the layers above never handle a driver's own errors."""

    def __init__(self, which: str):
        super().__init__(f"{which} is unavailable")
        self.which = which
