"""One visit per line of the access log a citizen or a business reads: the records one reader (an officer, a
department's system) wrote with the same purpose, each within half an hour of the one before, become one visit.

A search, the profile and a revealed phone number are one look at a person's data to the person reading the log;
twenty lines for it hide the one that matters. Pure: records in, visits out; the words are the pages'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from profiles.models import AccessRecord

# The longest pause between two records of one visit (inclusive): an officer at the window who looks something up,
# talks with the applicant and comes back to the record is still on the same errand.
GAP = timedelta(minutes=30)


@dataclass(frozen=True)
class Visit:
    actor: str
    role: str
    purpose: str
    first: datetime  # the earliest record's time
    last: datetime  # the latest record's time
    whats: tuple[str, ...]  # each thing done once, in the order first done
    records: int


def visits(records: Iterable[AccessRecord], gap: timedelta = GAP) -> list[Visit]:
    """The records as visits, newest first (by the visit's last record).

    A reader's records are taken in time order; a record joins the reader's current visit when its purpose is the
    same and it comes at most `gap` after that visit's latest record. A record with another purpose ends the
    visit (the same purpose again afterwards starts a new one), while another reader's records in between do not:
    two officers working on one record at once each keep their own visit.
    """
    ordered = sorted(records, key=lambda r: (r.at, r.seq))
    current: dict[tuple[str, str], list[AccessRecord]] = {}
    done: list[list[AccessRecord]] = []
    for r in ordered:
        reader = (r.actor, r.role)
        group = current.get(reader)
        if group and group[-1].purpose == r.purpose and r.at - group[-1].at <= gap:
            group.append(r)
            continue
        if group:
            done.append(group)
        current[reader] = [r]
    done.extend(current.values())
    done.sort(key=lambda g: (g[-1].at, g[-1].seq), reverse=True)
    return [Visit(g[0].actor, g[0].role, g[0].purpose, g[0].at, g[-1].at, tuple(dict.fromkeys(r.what for r in g)),
                  len(g)) for g in done]
