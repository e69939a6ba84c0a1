"""A service's "how to do it" guide (办事指南) as catalog data: where to go, what happens in person, the fee and whether
it can be done online — its model and its marshmallow schema. The promised time is the service's time_limit_days and
the materials are its scenarios': the guide does not repeat them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from profiles.catalog import model
from profiles.catalog.shapes import SourceSchema, Strict, TextSchema


@dataclass(frozen=True)
class Where:
    department: model.Text  # the office that handles it
    place: model.Text  # the hall and window a person goes to
    address: model.Text | None = None


@dataclass(frozen=True)
class Fee:
    yuan: Decimal  # 0: free
    source: model.Source  # where the amount (or that it is free) comes from; UNVERIFIED in its note when unchecked
    detail: model.Text | None = None  # what the amount covers, when it is not obvious (e.g. per certificate)

    @property
    def free(self) -> bool:
        return self.yuan == 0

    @property
    def amount(self) -> str:
        """The amount as people write it: 20, 12.5 (no trailing zeros)."""
        return f"{self.yuan.normalize():f}"


@dataclass(frozen=True)
class Online:
    available: bool
    where: model.Text | None = None  # the portal or app, when available
    url: str | None = None
    detail: model.Text | None = None  # e.g. "book online, then come in person"


@dataclass(frozen=True)
class Guide:
    purpose: model.Text  # what the service is for
    who: model.Text  # who it is for
    where: Where
    in_person: tuple[model.Text, ...]  # what happens at the window (photo and fingerprints, signing...)
    fee: Fee
    online: Online
    note: str | None = None  # for maintainers: what was checked and what is UNVERIFIED; never shown


class WhereSchema(Strict):
    department = fields.Nested(TextSchema, required=True)
    place = fields.Nested(TextSchema, required=True)
    address = fields.Nested(TextSchema, load_default=None)

    @post_load
    def make(self, data, **_):
        return Where(**data)


class FeeSchema(Strict):
    yuan = fields.Decimal(required=True, validate=validate.Range(min=0), places=2)
    source = fields.Nested(SourceSchema, required=True)
    detail = fields.Nested(TextSchema, load_default=None)

    @post_load
    def make(self, data, **_):
        return Fee(**data)


class OnlineSchema(Strict):
    available = fields.Boolean(required=True)
    where = fields.Nested(TextSchema, load_default=None)
    url = fields.Url(load_default=None)
    detail = fields.Nested(TextSchema, load_default=None)

    @validates_schema
    def where_when_online(self, data, **_):
        if data.get("available") and data.get("where") is None:
            raise ValidationError("say where it can be done online", "where")
        if data.get("available") is False and data.get("url"):
            raise ValidationError("a service not available online has no url", "url")

    @post_load
    def make(self, data, **_):
        return Online(**data)


class GuideSchema(Strict):
    purpose = fields.Nested(TextSchema, required=True)
    who = fields.Nested(TextSchema, required=True)
    where = fields.Nested(WhereSchema, required=True)
    in_person = fields.List(fields.Nested(TextSchema), load_default=list)
    fee = fields.Nested(FeeSchema, required=True)
    online = fields.Nested(OnlineSchema, required=True)
    note = fields.String(load_default=None)

    @post_load
    def make(self, data, **_):
        return Guide(**{**data, "in_person": tuple(data["in_person"])})
