"""Prefill (一表通, DESIGN §6): one form for several services, each field asked once, with where its value came from.

Pure: no I/O. The caller loads the subject's snapshot and the related persons' snapshots (`related`, keyed by role:
"parent" = the first guardian, "spouse", "legal_rep") and renders the result; masking happens at that boundary.

Decisions, each visible in the result:
- Bundles (`bundle: [...]`) are expanded depth-first after the bundle itself; each service counts once. The form's
  `services` is that expanded list, and a field's `services` names every one of them that asks for it.
- A field name is asked once. When services give it different sources, the first source (in expanded order) that
  yields a value wins, else the first non-null source; its label is used.
- Person fields derived from the ID number (id_number, birth_date, sex, region) are "issued"; the name takes the
  provenance of a current ID card when there is one (it is read off the card), else "declared", as do phone and email.
- A newborn put on file before household registration has no ID number: its birth date and sex were read off the
  medical birth certificate ("issued", linked to the certificate when it is on file), its id_number and region are
  "missing" (the number is assigned at that registration). `person.birth_certificate_number` is the current
  birth_certificate material's number when one is on file (its provenance), else the number the newborn was put on
  file by ("issued": a department system's record).
  Entity fields come from the register: "issued". A material field takes that material's provenance.
- Only current (unsuperseded) materials are used; of several, the latest issued.
- No value means provenance "missing": asked of the applicant. A material on file without an expiry date is
  long-term (长期, as the card itself says): its expiry field reads "长期" with the material's provenance, not missing.
- Scenario: the one named "default", else the first. The decision date: as_of plus the largest time limit among the
  services the caller chose (a bundle's own promise governs the services filed with it).
- Checklist: the subject's own materials; for a service filed by a parent (it has `parent.*` fields) a kind the
  subject does not hold is taken from the parent, because the catalog asks for the parent's ID card and household
  register there (a newborn holds neither). A kind asked by several services must be valid on the decision date if
  any of them requires it; an already expired one that must be valid is reported as "expiring_before_decision".
- A child under 16 on `as_of` is not asked for a resident ID card of their own (居民身份证法 第二条: applying under 16
  is voluntary; 第五条: such a card is valid five years): where a service the child applies for (not one filed by a
  parent, whose ID card is the parent's) asks for `id_card` and the child holds none, the household register
  (`hukou`) serves instead. A card the child does hold is reused as usual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from profiles.applications import decide_by
from profiles.catalog.model import Catalog, FormField, Scenario, Service
from profiles.errors import Rejected
from profiles.models import Material
from profiles.rules import Snapshot, birthday

FROM_ID_NUMBER = frozenset({"id_number", "birth_date", "sex", "region"})
LONG_TERM = "长期"  # the expiry a long-term card carries (有效期限 …-长期)
ID_CARD_AGE = 16  # 居民身份证法 第二条: from 16 a citizen must hold an ID card; under 16 it is voluntary
ROLES = {"parent": "parent", "spouse": "spouse", "entity.legal_rep": "legal_rep"}  # source prefix -> related key
_PLURAL = {"person": "persons", "entity": "entities"}


@dataclass(frozen=True)
class PrefilledField:
    name: str
    label_zh: str
    label_en: str
    value: str | None  # ISO dates as YYYY-MM-DD strings
    provenance: str  # issued / verified / declared / missing
    source: str | None  # the catalog source path, e.g. "material[hukou].fields.address"
    material_id: str | None  # the material it came from, if any
    material_date: date | None  # that material's issued_on
    locked: bool  # issued values are shown locked, not editable
    services: tuple[str, ...]  # every selected service that asks for this field


@dataclass(frozen=True)
class ChecklistItem:
    kind: str
    name_zh: str
    name_en: str
    state: str  # reusable / expiring_before_decision / missing
    mid: str | None
    expires_on: date | None
    services: tuple[str, ...]


@dataclass(frozen=True)
class PrefilledForm:
    services: tuple[str, ...]
    decision_date: date
    fields: tuple[PrefilledField, ...]
    materials: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class _Value:
    value: str | None
    provenance: str
    material: Material | None = None


_MISSING = _Value(None, "missing")


def prefill(snapshot: Snapshot, catalog: Catalog, services: list[str], as_of: date,
            related: Mapping[str, Snapshot] | None = None, decision_date: date | None = None) -> PrefilledForm:
    if not services:
        raise Rejected("services", "choose at least one service")
    related = related or {}
    expanded = _expand(services, catalog, snapshot.audience)
    if decision_date is None:
        decision_date = decide_by(as_of, max(catalog.services[code].time_limit_days for code in services))
    return PrefilledForm(
        services=tuple(s.code for s in expanded),
        decision_date=decision_date,
        fields=_fields(expanded, snapshot, related),
        materials=_checklist(expanded, snapshot, related, catalog, decision_date, _under_id_card_age(snapshot, as_of)),
    )


def _expand(codes: list[str], catalog: Catalog, audience: str) -> list[Service]:
    seen: dict[str, Service] = {}

    def visit(code: str) -> None:
        if code in seen:
            return
        service = catalog.services.get(code)
        if service is None:
            raise Rejected("services", f"unknown service code {code!r}")
        if service.audience != audience:
            raise Rejected("services", f"service {code!r} is for {_PLURAL.get(service.audience, service.audience)}, "
                                       f"not {_PLURAL.get(audience, audience)}")
        seen[code] = service
        for child in service.bundle:
            visit(child)

    for code in codes:
        visit(code)
    return list(seen.values())


def _fields(expanded: list[Service], snapshot: Snapshot, related: Mapping[str, Snapshot]
            ) -> tuple[PrefilledField, ...]:
    asked: dict[str, list[tuple[str, FormField]]] = {}
    for service in expanded:
        for field in service.fields:
            asked.setdefault(field.name, []).append((service.code, field))
    out = []
    for name, asks in asked.items():
        tried = [(field, _resolve(field.source, snapshot, related)) for _, field in asks]
        field, got = next((t for t in tried if t[1].value is not None), None) or next(
            (t for t in tried if t[0].source is not None), tried[0])
        m = got.material
        out.append(PrefilledField(
            name=name, label_zh=field.label.zh, label_en=field.label.en, value=got.value, provenance=got.provenance,
            source=field.source, material_id=m.mid if m else None, material_date=m.issued_on if m else None,
            locked=got.provenance == "issued", services=tuple(dict.fromkeys(code for code, _ in asks))))
    return tuple(out)


def _resolve(source: str | None, snapshot: Snapshot, related: Mapping[str, Snapshot]) -> _Value:
    if source is None:
        return _MISSING
    if source.startswith("material["):
        kind, _, rest = source.removeprefix("material[").partition("].")
        m = current(snapshot.materials, kind)
        if kind == "hukou" and rest == "fields.address":
            moved = _moved_address(snapshot, m.issued_on if m else date.min)
            if moved is not None:
                return moved
        if m is None:
            return _MISSING
        raw = m.fields.get(rest.removeprefix("fields.")) if rest.startswith("fields.") else getattr(m, rest, None)
        if rest == "expires_on" and raw is None:
            raw = LONG_TERM  # on file with no end date: long-term, not missing
        return _found(raw, m.provenance, m)
    head, _, attr = source.rpartition(".")
    if head == "entity":
        return _found(getattr(snapshot.entity, attr, None), "issued") if snapshot.entity else _MISSING
    return _person_attr(snapshot if head == "person" else related.get(ROLES.get(head, "")), attr)


def _moved_address(snapshot: Snapshot, since: date) -> _Value | None:
    """The address of a household move (户口迁移, events.yaml `household_move`) recorded on or after the household
    register page on file was issued: the register on file is out of date, so the form takes the current address,
    as declared (the officer checks it; it is not locked)."""
    moves = [e for e in snapshot.events if e.kind == "household_move" and e.details.get("address")
             and e.occurred_on >= since]
    if not moves:
        return None
    return _found(max(moves, key=lambda e: e.occurred_on).details["address"], "declared")


def _person_attr(snap: Snapshot | None, attr: str) -> _Value:
    if snap is None or snap.person is None:
        return _MISSING
    value = getattr(snap.person, attr, None)
    if attr == "birth_certificate_number":
        certificate = current(snap.materials, "birth_certificate")
        return _found(certificate.number, certificate.provenance, certificate) if certificate else \
            _found(value, "issued")
    if attr in FROM_ID_NUMBER:
        certificate = current(snap.materials, "birth_certificate") if snap.person.id_number is None and \
            attr in ("birth_date", "sex") else None
        return _found(value, "issued", certificate)
    card = current(snap.materials, "id_card") if attr == "name" else None
    return _found(value, card.provenance, card) if card else _found(value, "declared")


def _found(raw: object, provenance: str, material: Material | None = None) -> _Value:
    if raw is None or raw == "":
        return _MISSING
    return _Value(raw.isoformat() if isinstance(raw, date) else str(raw), provenance, material)


def current(materials: tuple[Material, ...], kind: str) -> Material | None:
    """The holder's current material of a kind: not superseded; the latest issued if several."""
    return max((m for m in materials if m.kind == kind and not m.superseded),
               key=lambda m: (m.issued_on, m.version), default=None)


def scenario(service: Service) -> Scenario:
    """The scenario prefill lists materials for: the one named "default", else the first."""
    return next((s for s in service.scenarios if s.code == "default"), service.scenarios[0])


def _under_id_card_age(snapshot: Snapshot, as_of: date) -> bool:
    return snapshot.person is not None and birthday(snapshot.person.birth_date, ID_CARD_AGE) > as_of


def _checklist(expanded: list[Service], snapshot: Snapshot, related: Mapping[str, Snapshot], catalog: Catalog,
               decision_date: date, child: bool = False) -> tuple[ChecklistItem, ...]:
    needs: dict[str, dict] = {}  # kind -> {valid: bool, services: [...], parent_ok: bool}
    no_card = child and current(snapshot.materials, "id_card") is None
    for service in expanded:
        by_parent = any((f.source or "").startswith("parent.") for f in service.fields)
        for req in scenario(service).materials:
            kind = "hukou" if no_card and not by_parent and req.kind == "id_card" else req.kind
            need = needs.setdefault(kind, {"valid": False, "services": [], "parent_ok": False})
            need["valid"] |= req.valid_on_decision
            need["parent_ok"] |= by_parent
            need["services"].append(service.code)
    parent = related.get("parent")
    out = []
    for kind, need in needs.items():
        m = current(snapshot.materials, kind)
        if m is None and need["parent_ok"] and parent is not None:
            m = current(parent.materials, kind)
        if m is None:
            state = "missing"
        elif need["valid"] and m.expires_on is not None and m.expires_on < decision_date:
            state = "expiring_before_decision"
        else:
            state = "reusable"
        spec = catalog.materials[kind]  # the loader checks every required kind is declared
        out.append(ChecklistItem(kind=kind, name_zh=spec.name_zh, name_en=spec.name_en, state=state,
                                 mid=m.mid if m else None, expires_on=m.expires_on if m else None,
                                 services=tuple(dict.fromkeys(need["services"]))))
    return tuple(out)
