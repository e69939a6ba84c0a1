"""Recording a life event, pure: is it possible for this subject on this date, and are its details what its kind
declares (profiles/catalog/events.yaml)? Each refusal names the request field (422).

Decisions:
- Nothing happens to a person before their birth or after their death, nor to an entity before its founding
  (established_on) or after its closure: `occurred_on` is refused. A death or a closure dated in the future is
  refused like any other event.
- A kind marked `once` (birth, death, founding, closure, retirement) is refused a second time, on `kind`.
- Declared details are checked by type (string, integer, date as YYYY-MM-DD, person: the pid of a person on file,
  which the caller checks) and presence (`required`); undeclared keys are kept as free notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from profiles.catalog.model import EventKind
from profiles.errors import Rejected


@dataclass(frozen=True)
class SubjectState:
    """What recording an event depends on: the subject's life span on file and the once-only kinds it has had."""

    kind: str  # person / entity
    starts_on: date  # birth date / established_on
    ended_on: date | None  # deceased_on / closed_on
    had: frozenset[str] = frozenset()  # event kinds on file


def check_event(kinds: dict[str, EventKind], state: SubjectState, code: str, occurred_on: date, details: dict,
                on: date) -> EventKind:
    """The event kind, if the event can be recorded; else `Rejected` naming the field."""
    kind = kinds.get(code)
    if kind is None or kind.subject != state.kind:
        allowed = ", ".join(c for c, k in kinds.items() if k.subject == state.kind)
        raise Rejected("kind", f"unknown event kind for a {state.kind}; one of {allowed}")
    if occurred_on > on:
        raise Rejected("occurred_on", "the date is in the future")
    if occurred_on < state.starts_on:
        raise Rejected("occurred_on", f"before the {'birth' if state.kind == 'person' else 'founding'} "
                                      f"({state.starts_on.isoformat()})")
    if state.ended_on is not None:
        if kind.once and code in state.had:
            raise Rejected("kind", f"a {code} is already on file ({state.ended_on.isoformat()})")
        ended = "death" if state.kind == "person" else "closure"
        raise Rejected("occurred_on" if occurred_on > state.ended_on else "kind",
                       f"after the {ended} on {state.ended_on.isoformat()}" if occurred_on > state.ended_on else
                       f"the {ended} on {state.ended_on.isoformat()} is on file: nothing more can be recorded")
    if kind.once and code in state.had:
        raise Rejected("kind", f"a {code} is already on file for this {state.kind}")
    check_details(kind, details)
    return kind


def check_details(kind: EventKind, details: dict) -> None:
    for d in kind.details:
        value = details.get(d.name)
        where = f"details.{d.name}"
        if value is None or value == "":
            if d.required:
                raise Rejected(where, f"required for a {kind.code}")
            continue
        if d.type == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            raise Rejected(where, "must be a whole number")
        if d.type in ("string", "person") and not isinstance(value, str):
            raise Rejected(where, "must be text" if d.type == "string" else "must be the id of a person on file")
        if d.type == "date":
            try:
                date.fromisoformat(str(value))
            except ValueError:
                raise Rejected(where, "must be a date (YYYY-MM-DD)") from None
