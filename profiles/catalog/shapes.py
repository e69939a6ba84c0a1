"""The catalog's shared marshmallow shapes: a strict schema (unknown keys refused), bilingual text, a cited source."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, post_load, validate

from profiles.catalog import model


class Strict(Schema):
    class Meta:
        unknown = RAISE


class TextSchema(Strict):
    zh = fields.String(required=True, validate=validate.Length(min=1))
    en = fields.String(required=True, validate=validate.Length(min=1))

    @post_load
    def make(self, data, **_):
        return model.Text(**data)


class SourceSchema(Strict):
    title = fields.String(required=True, validate=validate.Length(min=2))
    url = fields.Url(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True)

    @post_load
    def make(self, data, **_):
        return model.Source(**data)
