"""The subjects and what hangs off them: persons, entities, relations, materials, life events, applications, access
records.

Plain frozen dataclasses holding clear values; encryption happens at the repository boundary (`graph/`), masking at
the presentation boundary (`web/`). Repositories take and return these, never driver records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

EXPIRING_WITHIN_DAYS = 90  # a material "expiring" within this many days is shown amber and feeds the due rules

PERSON_RELATIONS = ("PARENT_OF", "GUARDIAN_OF", "SPOUSE_OF")
PERSON_ENTITY_RELATIONS = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "EMPLOYED_BY")
RELATION_TYPES = PERSON_RELATIONS + PERSON_ENTITY_RELATIONS
PROVENANCES = ("issued", "verified", "declared")  # by the authority's system / checked at a window / the holder's word

ENTITY_KINDS = {
    "limited_company": ("有限责任公司", "Limited liability company"),
    "joint_stock_company": ("股份有限公司", "Joint-stock company"),
    "sole_proprietorship": ("个人独资企业", "Sole proprietorship"),
    "partnership": ("合伙企业", "Partnership"),
    "individual_business": ("个体工商户", "Individual business"),
    "farmer_cooperative": ("农民专业合作社", "Farmers' cooperative"),
    "branch": ("分公司", "Branch"),
}

# Life event kinds (their subject kind, details and effects) are catalog data: profiles/catalog/events.yaml.


@dataclass(frozen=True)
class Person:
    """A natural person. A newborn is put on file before household registration gives it an ID number: then
    `id_number` and `region` are None and `birth_certificate_number` (出生医学证明编号) identifies it until the number
    is attached (`id_attached_on`: the day it was, which records that the household registration is done)."""

    pid: str
    id_number: str | None
    name: str
    birth_date: date
    sex: str
    region: str | None
    phone: str | None = None
    email: str | None = None
    deceased_on: date | None = None
    birth_certificate_number: str | None = None
    id_attached_on: date | None = None


@dataclass(frozen=True)
class Entity:
    eid: str
    uscc: str
    name: str
    kind: str
    established_on: date
    region: str | None = None
    status: str = "active"
    closed_on: date | None = None  # set with status "closed" by a closure (注销) event


@dataclass(frozen=True)
class Relation:
    from_id: str
    to_id: str
    type: str


@dataclass(frozen=True)
class Material:
    mid: str
    holder_id: str
    kind: str
    number: str
    issued_on: date
    expires_on: date | None  # None: long-term (长期)
    issuer: str
    provenance: str
    fields: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    superseded: bool = False
    created_at: datetime | None = None

    def status(self, as_of: date) -> str:
        """valid / expiring (within 90 days) / expired / superseded, as of a date."""
        if self.superseded:
            return "superseded"
        if self.expires_on is None:
            return "valid"
        if self.expires_on < as_of:
            return "expired"
        if self.expires_on <= as_of + timedelta(days=EXPIRING_WITHIN_DAYS):
            return "expiring"
        return "valid"


@dataclass(frozen=True)
class LifeEvent:
    evid: str
    subject_id: str
    kind: str
    occurred_on: date
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Actor:
    """Who is reading: an API key (a department system, an officer's script) or, later, a signed-in officer."""

    name: str
    role: str


# The service's own readers, as the access log names them (web.pages.access_words says them in words). An API key's name
# is the reader a citizen sees, so no key may take one of these (graph.apikeys).
OPERATOR = Actor("operator (command line)", "admin")
DEPARTMENT_FEED = Actor("department feed (command-line import)", "system")
REMINDER_DELIVERY = Actor("reminder delivery", "system")
OWN_READERS = frozenset(a.name for a in (OPERATOR, DEPARTMENT_FEED, REMINDER_DELIVERY))


@dataclass(frozen=True)
class AccessRecord:
    rid: str
    seq: int
    at: datetime
    actor: str
    role: str
    purpose: str
    what: str
    subject_id: str
    prev_hash: str
    hash: str  # HMAC-SHA256 under `key_id` (profiles.audit); a plain SHA-256 with key_id "" before the log was keyed
    key_id: str
    chain: str = ""  # the subject's own chain (its id); "access" for the sealed single chain, "" before it was sealed


@dataclass(frozen=True)
class Application:
    """An application (办件) for a subject and a service: a draft the daily scan prepared, or one filed anywhere.

    `number` is the human application number (受理编号) printed on the receipt; `note` the decision's note or the
    applicant's reason for withdrawing. Its life is `profiles.matters`'.
    """

    aid: str
    subject_label: str  # Person | Entity
    subject_id: str
    service: str
    status: str  # draft | submitted | needs_correction | approved | rejected | withdrawn | settled
    created_on: date
    submitted_on: date | None
    time_limit_days: int
    decide_by: date | None
    fields: dict
    reused: tuple[str, ...]
    decided_on: date | None = None
    note: str | None = None
    number: str | None = None


@dataclass(frozen=True)
class Transition:
    """One move of an application, as its applicant is shown it: when, from what to what, by whom, with what note."""

    at: datetime
    before: str  # "" for a filing that opened the matter
    after: str
    actor: str
    role: str
    note: str | None = None
