"""marshmallow schemas for every API body: what a request may carry (unknown fields rejected) and what we answer."""

from __future__ import annotations

import re
from datetime import date

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from profiles.models import ENTITY_KINDS, PROVENANCES, RELATION_TYPES
from profiles.text import RefusedText, clean_text

# Names are letters (any script) in words joined by the separators real names use: 张三, 阿依古丽·买买提, O'Brien.
NAME = re.compile(r"^[^\W\d_]+(?:[·・ .'\-][^\W\d_]+)*$")
ENTITY_NAME = re.compile(r"^[\w（）()·&.,' \-]+$")
PHONE = re.compile(r"^(?:\+[1-9]\d{6,14}|1[3-9]\d{9})$")
REGION = re.compile(r"^\d{6}$")
MAX_FIELDS = 50
MAX_VALUE_CHARS = 1000


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Text(fields.String):
    """Text of a request (body or query): refused with an invisible or control character, loaded NFC-normalised.

    Every string a request schema takes is a Text, so a new field cannot forget the check (tests/unit/test_text.py
    walks the schemas); validators such as Length and Regexp see the normalised text."""

    def __init__(self, *, multiline: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return clean_text(text, multiline=self.multiline)
        except RefusedText as exc:
            raise ValidationError(exc.reason) from None


class Email(Text, fields.Email):
    """An e-mail address, checked as free text first (the OpenAPI document still says format: email)."""


class FreeForm(fields.Dict):
    """`fields` / `details` objects: a bounded number of flat, short, scalar values; keys and text values are free
    text as Text takes it. A bad value is reported under its key (`fields.address`)."""

    def _deserialize(self, value, attr, data, **kwargs) -> dict:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > MAX_FIELDS:
            raise ValidationError(f"at most {MAX_FIELDS} entries")
        out, errors = {}, {}
        for key, item in raw.items():
            if not isinstance(key, str):
                raise ValidationError("keys must be 1 to 64 characters")
            try:
                key = clean_text(key)
            except RefusedText as exc:
                raise ValidationError(f"a key {exc.reason}") from None
            if not 1 <= len(key) <= 64:
                raise ValidationError("keys must be 1 to 64 characters")
            if key in out:
                raise ValidationError(f"{key}: the key appears twice once normalised")
            if isinstance(item, (dict, list)):
                raise ValidationError(f"{key}: values must be text, numbers, true/false or null, not nested objects")
            if isinstance(item, str):
                try:
                    item = clean_text(item, multiline=True)  # an address or a remark may span lines
                except RefusedText as exc:
                    errors[key] = [exc.reason]
                    continue
                if len(item) > MAX_VALUE_CHARS:
                    raise ValidationError(f"{key}: values must be at most {MAX_VALUE_CHARS} characters")
            out[key] = item
        if errors:
            raise ValidationError(errors)
        return out


class NotFuture:
    def __init__(self, what: str):
        self.what = what

    def __call__(self, value: date) -> None:
        # "today" in UTC+14 at the latest: the exact local day is checked by the domain, this catches the absurd.
        if value > date.today().replace(year=date.today().year + 1):
            raise ValidationError(f"{self.what} is in the future")
        if value.year < 1900:
            raise ValidationError(f"{self.what} is before 1900")


class PersonIn(Strict):
    """A person by ID number; or a newborn before household registration by its medical birth certificate number,
    with the sex and birth date read off the certificate (with an ID number they are read off the number)."""

    id_number = Text(validate=validate.Length(max=40))
    birth_certificate_number = Text(validate=validate.Length(max=40))
    sex = Text(validate=validate.OneOf(["M", "F"]))
    birth_date = fields.Date(validate=NotFuture("the birth date"))
    name = Text(required=True, validate=[
        validate.Length(min=1, max=50), validate.Regexp(NAME, error="must be a person's name: letters only")])
    phone = Text(validate=validate.Regexp(PHONE, error="must be a mobile number such as 13812345678 "
                                                                "or +8613812345678"))
    email = Email(validate=validate.Length(max=254))

    @validates_schema
    def one_key(self, data, **_):
        if "id_number" in data and "birth_certificate_number" in data:
            raise ValidationError("give id_number or, for a newborn not yet registered, birth_certificate_number; "
                                  "not both", "birth_certificate_number")
        if "id_number" in data:
            for name in ("sex", "birth_date"):
                if name in data:
                    raise ValidationError("read off the ID number: do not send it with id_number", name)
        elif "birth_certificate_number" in data:
            for name in ("sex", "birth_date"):
                if name not in data:
                    raise ValidationError("required with birth_certificate_number (a newborn)", name)
        else:
            raise ValidationError("Missing data for required field: give id_number or, for a newborn not yet "
                                  "registered, birth_certificate_number with sex and birth_date", "id_number")


class PersonOut(Schema):
    pid = fields.String()
    id_number_masked = fields.String(allow_none=True)  # null: a newborn before household registration
    birth_certificate_number_masked = fields.String()
    name = fields.String()
    birth_date = fields.Date()
    sex = fields.String()
    region = fields.String(allow_none=True)
    phone_masked = fields.String()
    email_masked = fields.String()
    deceased_on = fields.Date()  # only when a death is on file


class PersonQuery(Strict):
    id_number = Text(validate=validate.Length(max=40))
    birth_certificate_number = Text(validate=validate.Length(max=40))

    @validates_schema
    def one_key(self, data, **_):
        if len(data) != 1:
            raise ValidationError("give one of id_number and birth_certificate_number",
                                  "birth_certificate_number" if data else "id_number")


class IdNumberIn(Strict):
    id_number = Text(required=True, validate=validate.Length(max=40))


class EntityIn(Strict):
    uscc = Text(required=True, validate=validate.Length(max=40))
    name = Text(required=True, validate=[
        validate.Length(min=2, max=100), validate.Regexp(ENTITY_NAME, error="contains characters a registered "
                                                                            "name cannot have")])
    kind = Text(required=True, validate=validate.OneOf(list(ENTITY_KINDS)))
    established_on = fields.Date(required=True, validate=NotFuture("the founding date"))
    region = Text(validate=validate.Regexp(REGION, error="must be a 6-digit administrative division code"))


class EntityOut(Schema):
    eid = fields.String()
    uscc = fields.String()
    name = fields.String()
    kind = fields.String()
    established_on = fields.Date()
    region = fields.String(allow_none=True)
    status = fields.String()
    closed_on = fields.Date(allow_none=True)  # with status closed, after a closure (注销)


class EntityQuery(Strict):
    uscc = Text(required=True, validate=validate.Length(max=40))


class RelationIn(Strict):
    from_id = Text(required=True, data_key="from", validate=validate.Length(min=1, max=64))
    to_id = Text(required=True, data_key="to", validate=validate.Length(min=1, max=64))
    type = Text(required=True, validate=validate.OneOf(RELATION_TYPES))


class RelationOut(Schema):
    from_id = fields.String(data_key="from")
    to_id = fields.String(data_key="to")
    type = fields.String()


class MaterialIn(Strict):
    # Whether the kind exists is the loaded catalog's to say: check_material, which every writer runs, refuses it.
    kind = Text(required=True, validate=validate.Length(min=1, max=40))
    number = Text(required=True, validate=[
        validate.Length(min=1, max=64), validate.Regexp(r"^[0-9A-Za-z\-/()（）]+$", error="must be letters, digits "
                                                                                          "and - / ( ) only")])
    issued_on = fields.Date(required=True, validate=NotFuture("the issue date"))
    expires_on = fields.Date(required=True, allow_none=True)
    issuer = Text(required=True, validate=validate.Length(min=1, max=100))
    provenance = Text(required=True, validate=validate.OneOf(PROVENANCES))
    fields_ = FreeForm(data_key="fields", load_default=dict)

    @validates_schema
    def _dates(self, data: dict, **_kwargs) -> None:
        if data.get("expires_on") and data.get("issued_on") and data["expires_on"] <= data["issued_on"]:
            raise ValidationError("the expiry date must be after the issue date", field_name="expires_on")


class MaterialOut(Schema):
    mid = fields.String()
    kind = fields.String()
    number_masked = fields.String()
    issued_on = fields.Date()
    expires_on = fields.Date(allow_none=True)
    issuer = fields.String()
    provenance = fields.String()
    fields_ = fields.Dict(data_key="fields")
    version = fields.Integer()
    superseded = fields.Boolean()
    status = fields.String()


class EventIn(Strict):
    kind = Text(required=True, validate=validate.Length(min=1, max=40))
    occurred_on = fields.Date(required=True, validate=NotFuture("the date"))
    details = FreeForm(load_default=dict)


class EventOut(Schema):
    evid = fields.String()
    kind = fields.String()
    occurred_on = fields.Date()
    details = fields.Dict()


class AccessRecordOut(Schema):
    at = fields.DateTime()
    actor = fields.String()
    role = fields.String()
    purpose = fields.String()
    what = fields.String()


class DueQuery(Strict):
    as_of = fields.Date()
    within = fields.Integer(load_default=365, validate=validate.Range(0, 3660))


class DueReasonOut(Schema):
    rule = fields.String()
    source = fields.String()
    detail = fields.String()
    parameter = fields.String(allow_none=True)


class DueItemOut(Schema):
    service = fields.String()
    due_on = fields.Date()
    notify_on = fields.List(fields.Date())
    recipients = fields.List(fields.String())
    reason = fields.Nested(DueReasonOut)
    nature = fields.String(metadata={"description": "deadline: due_on is the date the duty is due by; offer: a benefit "
                                                    "one may claim from opens_on, and due_on is only the end of the "
                                                    "period it is offered for, not a deadline"})
    opens_on = fields.Date(metadata={"description": "the first day of the matter (the period it belongs to)"})


class SubjectRef(Strict):
    type = Text(required=True, validate=validate.OneOf(["person", "entity"]))
    id = Text(required=True, validate=validate.Length(min=1, max=64))


class ApplicationIn(Strict):
    subject = fields.Nested(SubjectRef, required=True)
    service = Text(required=True, validate=validate.Length(min=1, max=64))
    fields_ = FreeForm(data_key="fields", load_default=dict)
    reuse = fields.List(Text(validate=validate.Length(min=1, max=64)), load_default=list,
                        validate=validate.Length(max=50))
    draft = Text(load_default=None, validate=validate.Length(min=1, max=64),
                          metadata={"description": "the aid of the prefilled draft a reminder linked to"})


class ApplicationOut(Schema):
    aid = fields.String()
    service = fields.String()
    status = fields.String()
    subject = fields.Dict()
    created_on = fields.Date()
    submitted_on = fields.Date(allow_none=True)
    time_limit_days = fields.Integer()
    decide_by = fields.Date(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    card = fields.String()
    number = fields.String(allow_none=True, metadata={"description": "受理编号, the application number on its receipt"})
    history = fields.List(fields.Dict(), metadata={"description": "each move: at, from, to, actor, role, note"})
    fields_ = fields.Dict(data_key="fields")
    reuse = fields.List(fields.String())
    form = fields.Nested("PrefillOut", metadata={"description": "drafts only: the prefilled unified form"})


class WithdrawalIn(Strict):
    reason = Text(required=True, multiline=True, validate=validate.Length(min=1, max=500))


class WithdrawalOut(Schema):
    aid = fields.String()
    number = fields.String(allow_none=True)
    service = fields.String()
    status = fields.String()


class DecisionIn(Strict):
    outcome = Text(required=True, validate=validate.OneOf(["approved", "rejected", "needs_correction"]))
    note = Text(load_default="", multiline=True, validate=validate.Length(max=2000))


class PrefillIn(Strict):
    subject = fields.Nested(SubjectRef, required=True)
    services = fields.List(Text(validate=validate.Length(min=1, max=64)), required=True,
                           validate=validate.Length(min=1, max=20))
    as_of = fields.Date()


class PrefilledFieldOut(Schema):
    name = fields.String()
    label = fields.Dict()
    value = fields.String(allow_none=True)
    provenance = fields.String()
    source = fields.String(allow_none=True)
    material_id = fields.String(allow_none=True)
    material_date = fields.Date(allow_none=True)
    locked = fields.Boolean()
    services = fields.List(fields.String())


class ChecklistItemOut(Schema):
    kind = fields.String()
    name = fields.Dict()
    state = fields.String()
    mid = fields.String(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    services = fields.List(fields.String())


class PrefillOut(Schema):
    services = fields.List(fields.String())
    decision_date = fields.Date()
    fields_ = fields.List(fields.Nested(PrefilledFieldOut), data_key="fields")
    materials = fields.List(fields.Nested(ChecklistItemOut))
