"""marshmallow schemas for the catalog's YAML: shapes, types, one-field rules (cross-references: loader.py)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from profiles.catalog import model
from profiles.catalog.guide import GuideSchema
from profiles.catalog.shapes import SourceSchema, Strict, TextSchema

CODE = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="must be lower-case letters, digits and _ starting with a letter")


def _offsets(value: list[int]) -> None:
    if any(v < 0 for v in value):
        raise ValidationError("offsets are days before the date and cannot be negative")
    if any(a <= b for a, b in itertools.pairwise(value)):
        raise ValidationError("offsets must be strictly descending, e.g. [90, 30, 7]")


OFFSETS = fields.List(fields.Integer(strict=True), required=True, validate=[validate.Length(min=1), _offsets])


class MonthDaySchema(Strict):
    month = fields.Integer(required=True, strict=True, validate=validate.Range(1, 12))
    day = fields.Integer(required=True, strict=True, validate=validate.Range(1, 31))

    @validates_schema
    def real_day(self, data, **_):
        if "month" in data and "day" in data:
            try:
                date(2024, data["month"], data["day"])  # a leap year: 29 February is allowed
            except ValueError:
                raise ValidationError(f"{data['month']}-{data['day']} is not a day of the year", "day") from None

    @post_load
    def make(self, data, **_):
        return model.MonthDay(**data)


class MaterialKindSchema(Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.Nested(TextSchema, required=True)
    issuer = fields.Nested(TextSchema, required=True)
    holder = fields.String(required=True, validate=validate.OneOf(["person", "entity"]))
    expires = fields.String(required=True, validate=validate.OneOf(["always", "never", "optional"]))


class MaterialsFileSchema(Strict):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    materials = fields.List(fields.Nested(MaterialKindSchema), required=True, validate=validate.Length(min=1))


class RequiredMaterialSchema(Strict):
    kind = fields.String(required=True)
    valid_on_decision = fields.Boolean(required=True)

    @post_load
    def make(self, data, **_):
        return model.RequiredMaterial(**data)


class ScenarioSchema(Strict):
    code = fields.String(required=True, validate=CODE)
    name = fields.Nested(TextSchema, required=True)
    materials = fields.List(fields.Nested(RequiredMaterialSchema), load_default=list)

    @post_load
    def make(self, data, **_):
        return model.Scenario(data["code"], data["name"], tuple(data["materials"]))


class FieldSchema(Strict):
    name = fields.String(required=True, validate=CODE)
    label = fields.Nested(TextSchema, required=True)
    source = fields.String(required=True, allow_none=True)

    @post_load
    def make(self, data, **_):
        return model.FormField(**data)


class AgeStepSchema(Strict):
    id = fields.String(required=True, validate=validate.Length(min=1))
    sex = fields.String(required=True, validate=validate.OneOf(["M", "F", "any"]))
    category = fields.String(load_default=None, allow_none=True)
    effective_from = fields.Date(required=True)
    base_age_months = fields.Integer(required=True, strict=True, validate=validate.Range(1, 1200))
    first_birth = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                                        error="must be YYYY-MM"))
    step_every_months = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    max_age_months = fields.Integer(required=True, strict=True, validate=validate.Range(1, 1200))

    @validates_schema
    def ceiling(self, data, **_):
        if data.get("max_age_months", 0) < data.get("base_age_months", 0):
            raise ValidationError("the ceiling is below the base age", "max_age_months")

    @post_load
    def make(self, data, **_):
        year, month = map(int, data["first_birth"].split("-"))
        return model.AgeStep(**{**data, "first_birth": date(year, month, 1)})


# kind -> (required keys, optional keys); ONE_OF: exactly one of the pair
TRIGGER_KEYS = {
    "expiry": ({"material", "window_days", "offsets"}, set()),
    "age": ({"notify", "offsets"}, {"reached_by", "notify_from", "satisfied_by"}),
    "yearly": ({"window", "offsets"}, {"done_event"}),
    "after_event": ({"event", "offsets"}, {"satisfied_by"}),
    "after_kin_event": ({"event", "kin", "offsets"}, set()),
    "processing": ({"yellow_at"}, set()),
}
ONE_OF = {"age": ("age", "schedule"), "after_event": ("within_days", "within_months"),
          "after_kin_event": ("within_days", "within_months")}
ANY_KIND = {"kind", "unless"}  # keys every trigger kind may have


class SatisfiedBySchema(Strict):
    material = fields.String()
    event = fields.String()
    id_number_attached = fields.Boolean(validate=validate.Equal(True))

    @validates_schema
    def one(self, data, **_):
        held = len({"material", "event"} & set(data))
        if held > 1 or (held == 0 and "id_number_attached" not in data):
            raise ValidationError("give one of material and event, or id_number_attached: true, or one with it")

    @post_load
    def make(self, data, **_):
        return model.SatisfiedBy(**data)


class TriggerSchema(Strict):
    """One schema for every trigger kind; which keys a kind needs is checked in `kind_keys`."""

    kind = fields.String(required=True, validate=validate.OneOf(list(TRIGGER_KEYS)))
    material = fields.String()
    window_days = fields.Integer(strict=True, validate=validate.Range(1, 3650))
    offsets = fields.List(fields.Integer(strict=True), validate=[validate.Length(min=1), _offsets])
    age = fields.Integer(strict=True, validate=validate.Range(0, 120))
    schedule = fields.List(fields.Nested(AgeStepSchema), validate=validate.Length(min=1))
    reached_by = fields.Nested(MonthDaySchema)
    notify_from = fields.Nested(MonthDaySchema)
    notify = fields.String(validate=validate.OneOf(["self", "guardians"]))
    window = fields.Dict(keys=fields.String(validate=validate.OneOf(["from", "to"])),
                         values=fields.Nested(MonthDaySchema))
    done_event = fields.String()
    event = fields.String()
    within_days = fields.Integer(strict=True, validate=validate.Range(1, 3650))
    within_months = fields.Integer(strict=True, validate=validate.Range(1, 120))
    satisfied_by = fields.Nested(SatisfiedBySchema)
    yellow_at = fields.Float(validate=validate.Range(0, 1, min_inclusive=False, max_inclusive=False))
    kin = fields.List(fields.String(validate=validate.OneOf(model.KIN)), validate=validate.Length(min=1))
    unless = fields.String(validate=validate.OneOf(model.UNLESS))

    @validates_schema
    def kind_keys(self, data, **_):
        kind = data.get("kind")
        if kind not in TRIGGER_KEYS:
            return
        required, optional = TRIGGER_KEYS[kind]
        choice = set(ONE_OF.get(kind, ()))
        for key in sorted(required - set(data)):
            raise ValidationError(f"a {kind} trigger needs {key}", key)
        for key in sorted(set(data) - required - optional - choice - ANY_KIND):
            raise ValidationError(f"not used by a {kind} trigger", key)
        if kind == "processing" and "unless" in data:
            raise ValidationError("not used by a processing trigger", "unless")
        if choice and len(choice & set(data)) != 1:
            a, b = ONE_OF[kind]
            raise ValidationError(f"a {kind} trigger needs exactly one of {a} and {b}", a)
        if kind == "yearly":
            window = data["window"]
            if set(window) != {"from", "to"}:
                raise ValidationError("needs both from and to", "window")
            if (window["from"].month, window["from"].day) >= (window["to"].month, window["to"].day):
                raise ValidationError("from must come before to within the year", "window")

    @post_load
    def make(self, data, **_):
        kind, unless = data["kind"], data.get("unless")
        offsets = tuple(data.get("offsets", ()))
        if kind == "after_kin_event":
            return model.AfterKinEventTrigger(data["event"], tuple(data["kin"]), data.get("within_days"),
                                              data.get("within_months"), offsets, unless=unless)
        if unless is not None:  # every kind but processing (kind_keys) may name a state that exempts the subject
            return replace(self.make({k: v for k, v in data.items() if k != "unless"}), unless=unless)
        if kind == "expiry":
            return model.ExpiryTrigger(data["material"], data["window_days"], offsets)
        if kind == "age":
            return model.AgeTrigger(data.get("age"), tuple(data.get("schedule", ())), data.get("reached_by"),
                                    data.get("notify_from"), data["notify"], offsets, data.get("satisfied_by"))
        if kind == "yearly":
            return model.YearlyTrigger(data["window"]["from"], data["window"]["to"], data.get("done_event"), offsets)
        if kind == "after_event":
            return model.AfterEventTrigger(data["event"], data.get("within_days"), data.get("within_months"),
                                           offsets, data.get("satisfied_by"))
        return model.ProcessingTrigger(data["yellow_at"])


class ServiceSchema(Strict):
    code = fields.String(required=True, validate=CODE)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    name = fields.Nested(TextSchema, required=True)
    department = fields.Nested(TextSchema, required=True)
    audience = fields.String(required=True, validate=validate.OneOf(["person", "entity"]))
    time_limit_days = fields.Integer(required=True, strict=True, validate=validate.Range(1, 365))
    sources = fields.List(fields.Nested(SourceSchema), required=True, validate=validate.Length(min=1))
    scenarios = fields.List(fields.Nested(ScenarioSchema), required=True, validate=validate.Length(min=1))
    fields_ = fields.List(fields.Nested(FieldSchema), data_key="fields", load_default=list)
    triggers = fields.List(fields.Nested(TriggerSchema), load_default=list)
    bundle = fields.List(fields.String(validate=CODE), load_default=list)
    stage = fields.String(required=True, validate=validate.Length(min=1))  # checked against stages.yaml (loader)
    nature = fields.String(load_default="deadline", validate=validate.OneOf(model.NATURES))
    guide = fields.Nested(GuideSchema, required=True)


# --- stages.yaml: the two lifecycles (国办发〔2025〕24号) -----------------------------------------------------------
class StageSchema(Strict):
    key = fields.String(required=True, validate=CODE)
    name = fields.Nested(TextSchema, required=True)

    @post_load
    def make(self, data, **_):
        return model.Stage(**data)


class LifecycleSchema(Strict):
    audience = fields.String(required=True, validate=validate.OneOf(["person", "entity"]))
    name = fields.Nested(TextSchema, required=True)
    stages = fields.List(fields.Nested(StageSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def unique(self, data, **_):
        said = [x for st in data.get("stages", []) for x in (st.key, st.name.zh)]
        if len(said) != len(set(said)):
            raise ValidationError("stage keys and names must be unique", "stages")


class StagesFileSchema(Strict):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sources = fields.List(fields.Nested(SourceSchema), required=True, validate=validate.Length(min=1))
    lifecycles = fields.List(fields.Nested(LifecycleSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def one_each(self, data, **_):
        audiences = [life["audience"] for life in data.get("lifecycles", [])]
        if len(audiences) != len(set(audiences)):
            raise ValidationError("one lifecycle per audience", "lifecycles")


class EventDetailSchema(Strict):
    name = fields.String(required=True, validate=CODE)
    type = fields.String(required=True, validate=validate.OneOf(model.DETAIL_TYPES))
    required = fields.Boolean(required=True)

    @post_load
    def make(self, data, **_):
        return model.EventDetail(**data)


class EventKindSchema(Strict):
    code = fields.String(required=True, validate=CODE)
    subject = fields.String(required=True, validate=validate.OneOf(["person", "entity"]))
    name = fields.Nested(TextSchema, required=True)
    effect = fields.String(required=True, validate=validate.OneOf(model.EFFECTS))
    once = fields.Boolean(load_default=False)
    details = fields.List(fields.Nested(EventDetailSchema), load_default=list)
    sources = fields.List(fields.Nested(SourceSchema), required=True, validate=validate.Length(min=1))

    @post_load
    def make(self, data, **_):
        return model.EventKind(data["code"], data["subject"], data["name"], data["effect"], data["once"],
                               tuple(data["details"]), tuple(data["sources"]))


class EventsFileSchema(Strict):
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    events = fields.List(fields.Nested(EventKindSchema), required=True, validate=validate.Length(min=1))
