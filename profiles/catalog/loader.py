"""Loading the catalog: read the YAML, validate shapes (marshmallow) and cross-references, report every problem with
its file, key path and reason. A catalog with any problem is not loaded at all.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import yaml
from marshmallow import ValidationError

from profiles.catalog import model
from profiles.catalog.schemas import EventsFileSchema, MaterialsFileSchema, ServiceSchema, StagesFileSchema
from profiles.materials import MaterialKind

DEFAULT_DIR = Path(__file__).resolve().parent
PERSON_ATTRS = {"name", "id_number", "birth_certificate_number", "birth_date", "sex", "region", "phone", "email"}
ENTITY_ATTRS = {"name", "uscc", "kind", "established_on", "region"}
SOURCE = re.compile(r"^(?:(person|parent|spouse|entity\.legal_rep)\.(\w+)|entity\.(\w+)"
                    r"|material\[(\w+)\]\.(number|issued_on|expires_on|fields\.\w+))$")


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}" if self.path else f"{self.file}: {self.reason}"


class CatalogError(ValueError):
    def __init__(self, problems: list[Problem]):
        super().__init__("the catalog is broken:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


def load_catalog(directory: Path = DEFAULT_DIR) -> model.Catalog:
    catalog, problems = check_catalog(directory)
    if problems:
        raise CatalogError(problems)
    return catalog


def load_catalog_once(directory: Path = DEFAULT_DIR) -> model.Catalog:
    """`load_catalog`, read once per process while no file under `directory` changes: every app, worker and command a
    process builds shares it (nothing changes a catalog in memory; a file changed on disk is read and checked again)."""
    digest = hashlib.sha256()
    for f in sorted(f for f in directory.rglob("*") if f.is_file()):  # the bytes, not times: a write within a tick
        digest.update(f"{f.relative_to(directory)}\0{len(data := f.read_bytes())}\0".encode() + data)
    return _loaded(directory.resolve(), digest.hexdigest())


@lru_cache(maxsize=8)
def _loaded(directory: Path, _content: str) -> model.Catalog:
    return load_catalog(directory)  # a broken catalog raises, and is not kept


def check_catalog(directory: Path = DEFAULT_DIR) -> tuple[model.Catalog | None, list[Problem]]:
    """Every problem in the catalog at `directory` (empty when it is sound) and, if sound, the catalog."""
    problems: list[Problem] = []
    materials = _load_materials(directory, problems)
    lifecycles = _load_lifecycles(directory, problems)
    events = _load_events(directory, problems)
    services: dict[str, model.Service] = {}
    files = sorted((directory / "services").glob("*.yaml"))
    if not files:
        problems.append(Problem("services/", "", "no service files (services/*.yaml)"))
    for path in files:
        name = f"services/{path.name}"
        data = _read_yaml(path, name, problems)
        if data is None:
            continue
        try:
            loaded = ServiceSchema().load(data)
        except ValidationError as exc:
            problems.extend(Problem(name, key, reason) for key, reason in _flatten(exc.messages))
            continue
        service = model.Service(
            code=loaded["code"], version=loaded["version"], name=loaded["name"], department=loaded["department"],
            audience=loaded["audience"], time_limit_days=loaded["time_limit_days"], sources=tuple(loaded["sources"]),
            scenarios=tuple(loaded["scenarios"]), fields=tuple(loaded["fields_"]), triggers=tuple(loaded["triggers"]),
            bundle=tuple(loaded["bundle"]),
            stage=loaded["stage"], nature=loaded["nature"], guide=loaded["guide"],
        )
        if service.code != path.stem:
            problems.append(Problem(name, "code", f"must match the file name ({path.stem!r})"))
        if service.code in services:
            problems.append(Problem(name, "code", f"{service.code!r} is declared twice"))
        problems.extend(Problem(name, key, reason) for key, reason in _cross_check(service, materials, events))
        service, stage_problem = _with_stage(service, lifecycles)
        if stage_problem:
            problems.append(Problem(name, "stage", stage_problem))
        services[service.code] = service
    for code, service in services.items():
        for i, child in enumerate(service.bundle):
            if child not in services:
                problems.append(Problem(f"services/{code}.yaml", f"bundle[{i}]", f"no service {child!r}"))
            elif child == code:
                problems.append(Problem(f"services/{code}.yaml", f"bundle[{i}]", "a service cannot bundle itself"))
        problems.extend(Problem(f"services/{code}.yaml", key, reason)
                        for key, reason in _bundle_limit(service, services))
    if problems:
        return None, problems
    return model.Catalog(materials=materials, services=services, events=events, lifecycles=lifecycles), []


def load_material_kinds(directory: Path = DEFAULT_DIR) -> dict[str, MaterialKind]:
    problems: list[Problem] = []
    kinds = _load_materials(directory, problems)
    if problems:
        raise CatalogError(problems)
    return kinds


def load_event_kinds(directory: Path = DEFAULT_DIR) -> dict[str, model.EventKind]:
    problems: list[Problem] = []
    kinds = _load_events(directory, problems)
    if problems:
        raise CatalogError(problems)
    return kinds


def _load_events(directory: Path, problems: list[Problem]) -> dict[str, model.EventKind]:
    """events.yaml: the life event kinds, each with its subject kind, details and effect."""
    loaded = _load_file(directory, "events.yaml", EventsFileSchema(), problems)
    if loaded is None:
        return {}
    kinds: dict[str, model.EventKind] = {}
    for i, e in enumerate(loaded["events"]):
        if e.code in kinds:
            problems.append(Problem("events.yaml", f"events[{i}].code", f"{e.code!r} is declared twice"))
        names = [d.name for d in e.details]
        if len(names) != len(set(names)):
            problems.append(Problem("events.yaml", f"events[{i}].details", "detail names must be unique"))
        effect_subject = {"deceased": "person", "spouse": "person", "spouse_ended": "person", "address": "person",
                          "closed": "entity", "employed": "entity"}.get(e.effect)
        if effect_subject and effect_subject != e.subject:
            problems.append(Problem("events.yaml", f"events[{i}].effect",
                                    f"{e.effect!r} is an effect on a {effect_subject}, not a {e.subject}"))
        if e.effect == "employed" and not any(d.name == "employee_pid" and d.type == "person" and d.required
                                              for d in e.details):
            problems.append(Problem("events.yaml", f"events[{i}].details",
                                    "an employed effect needs a required person detail employee_pid"))
        kinds[e.code] = e
    return kinds


def _load_materials(directory: Path, problems: list[Problem]) -> dict[str, MaterialKind]:
    loaded = _load_file(directory, "materials.yaml", MaterialsFileSchema(), problems)
    if loaded is None:
        return {}
    kinds: dict[str, MaterialKind] = {}
    for i, m in enumerate(loaded["materials"]):
        if m["code"] in kinds:
            problems.append(Problem("materials.yaml", f"materials[{i}].code", f"{m['code']!r} is declared twice"))
        kinds[m["code"]] = MaterialKind(m["code"], m["name"].zh, m["name"].en, m["issuer"].zh, m["holder"],
                                        m["expires"])
    return kinds


def _load_file(directory: Path, name: str, schema, problems: list[Problem]) -> dict | None:
    """One of the catalog's own files, read and loaded by its schema; None (its problems noted) when it cannot be."""
    data = _read_yaml(directory / name, name, problems)
    if data is None:
        return None
    try:
        return schema.load(data)
    except ValidationError as exc:
        problems.extend(Problem(name, key, reason) for key, reason in _flatten(exc.messages))
        return None


# libyaml's parser when PyYAML was built with it (its wheels are): the same safe constructors, several times faster;
# the catalog is read at every start of the web, the worker and each command.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, name: str, problems: list[Problem]):
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError:
        problems.append(Problem(name, "", "file is missing"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(name, "", "is not UTF-8 text"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(name, where, f"not valid YAML: {getattr(exc, 'problem', None) or exc}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(name, "", "must be a mapping of keys to values, not "
                                          f"{'an empty file' if data is None else type(data).__name__}"))
        return None
    return data


def _flatten(messages, prefix: str = ""):
    """marshmallow's nested error dict -> (key path, reason) pairs: triggers[0].offsets."""
    if isinstance(messages, dict):
        for key, inner in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            yield from _flatten(inner, path)
    elif isinstance(messages, list):
        for reason in messages:
            yield from _flatten(reason, prefix) if isinstance(reason, dict) else [(prefix, str(reason))]
    else:
        yield prefix, str(messages)


def _cross_check(s: model.Service, materials: dict[str, MaterialKind], kinds: dict[str, model.EventKind]):
    for i, sc in enumerate(s.scenarios):
        if sc.code in {o.code for o in s.scenarios[:i]}:
            yield f"scenarios[{i}].code", f"{sc.code!r} appears twice"
        for j, rm in enumerate(sc.materials):
            if rm.kind not in materials:
                yield f"scenarios[{i}].materials[{j}].kind", f"unknown material kind {rm.kind!r}"
    for i, f in enumerate(s.fields):
        if f.name in {o.name for o in s.fields[:i]}:
            yield f"fields[{i}].name", f"{f.name!r} appears twice"
        if f.source is not None:
            yield from (((f"fields[{i}].source", why)) for why in _source_problems(f.source, s.audience, materials))
    events = {code for code, e in kinds.items() if e.subject == s.audience}
    for i, t in enumerate(s.triggers):
        at = f"triggers[{i}]"
        if isinstance(t, model.ExpiryTrigger):
            kind = materials.get(t.material)
            if kind is None:
                yield f"{at}.material", f"unknown material kind {t.material!r}"
            elif kind.expires == "never":
                yield f"{at}.material", f"{t.material!r} never expires"
            elif kind.holder != s.audience:
                yield f"{at}.material", f"{t.material!r} is held by a {kind.holder}, the service is for a {s.audience}"
        elif isinstance(t, model.AgeTrigger) and s.audience != "person":
            yield f"{at}.kind", "only persons have an age"
        elif isinstance(t, model.YearlyTrigger) and t.done_event and t.done_event not in events:
            yield f"{at}.done_event", f"unknown {s.audience} event kind {t.done_event!r}"
        elif isinstance(t, model.AfterEventTrigger) and t.event not in events:
            yield f"{at}.event", f"unknown {s.audience} event kind {t.event!r}"
        elif isinstance(t, model.AfterKinEventTrigger):
            if s.audience != "person":
                yield f"{at}.kind", "only persons have kin"
            elif t.event not in kinds or kinds[t.event].effect != "deceased":
                yield f"{at}.event", "an after_kin_event follows an event kind whose effect is deceased (death)"
        by = getattr(t, "satisfied_by", None)
        if by is not None and by.material and by.material not in materials:
            yield f"{at}.satisfied_by.material", f"unknown material kind {by.material!r}"
        if by is not None and by.event and by.event not in events:
            yield f"{at}.satisfied_by.event", f"unknown {s.audience} event kind {by.event!r}"
        if by is not None and by.id_number_attached and s.audience != "person":
            yield f"{at}.satisfied_by.id_number_attached", "only persons are given an ID number"
        if isinstance(t, model.AgeTrigger):
            ids = [step.id for step in t.schedule]
            if len(ids) != len(set(ids)):
                yield f"{at}.schedule", "step ids must be unique"


def _source_problems(source: str, audience: str, materials: dict[str, MaterialKind]) -> list[str]:
    m = SOURCE.match(source)
    if m is None:
        return [f"{source!r} is not a source path (see docs/CATALOG.md)"]
    holder, attr, entity_attr, kind = m.group(1), m.group(2), m.group(3), m.group(4)
    if holder and attr not in PERSON_ATTRS:
        return [f"a person has no {attr!r}"]
    if entity_attr and entity_attr not in ENTITY_ATTRS:
        return [f"an entity has no {entity_attr!r}"]
    if (entity_attr or holder == "entity.legal_rep") and audience != "entity":
        return ["entity sources need an entity audience"]
    if kind and kind not in materials:
        return [f"unknown material kind {kind!r}"]
    return []


# --- stages (stages.yaml) and the checks that need the whole catalog ---------------------------------------------
def _load_lifecycles(directory: Path, problems: list[Problem]) -> dict[str, model.Lifecycle]:
    loaded = _load_file(directory, "stages.yaml", StagesFileSchema(), problems)
    if loaded is None:
        return {}
    sources = tuple(loaded["sources"])
    return {life["audience"]: model.Lifecycle(life["audience"], life["name"], tuple(life["stages"]), sources)
            for life in loaded["lifecycles"]}


def _with_stage(s: model.Service, lifecycles: dict[str, model.Lifecycle]) -> tuple[model.Service, str | None]:
    """The service with its stage written as the stage's key, or why the stage it names is not of its audience."""
    life = lifecycles.get(s.audience)
    if life is None:  # stages.yaml is broken or has no lifecycle for the audience: reported on its own
        return s, None
    found = life.find(s.stage or "")
    if found is not None:
        return replace(s, stage=found.key), None
    other = next((o for a, o in lifecycles.items() if a != s.audience and o.find(s.stage or "")), None)
    if other is not None:
        stage = other.find(s.stage or "")
        return s, (f"{s.stage!r} ({stage.name.zh}) is a stage of {other.name.en.lower()}; "
                   f"the service is for a {s.audience}")
    keys = ", ".join(f"{st.key} ({st.name.zh})" for st in life.stages)
    return s, f"unknown stage {s.stage!r}; a {s.audience} service takes one of: {keys}"


def _bundle_limit(bundle: model.Service, services: dict[str, model.Service]):
    """A bundle promises the whole matter done in its time limit: not sooner than its slowest member can be."""
    members = [services[c] for c in bundle.bundle if c in services and c != bundle.code]
    slowest = max(members, key=lambda m: m.time_limit_days, default=None)
    if slowest is not None and slowest.time_limit_days > bundle.time_limit_days:
        yield "time_limit_days", (f"{bundle.time_limit_days} working days is shorter than its member "
                                  f"{slowest.code!r} ({slowest.time_limit_days})")
