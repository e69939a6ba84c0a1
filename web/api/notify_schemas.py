"""Request and response schemas of the notification API: notices, preferences, scans."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from profiles.notices import LANGUAGES, PUSH_CHANNELS, parse_quiet_hours
from web.api.schemas import Strict, Text


class NoticeOut(Schema):
    nid = fields.String()
    kind = fields.String()
    service = fields.String()
    due_on = fields.Date()
    offset_days = fields.Integer()
    channel = fields.String()
    status = fields.String()
    sent_at = fields.DateTime(allow_none=True)
    read_at = fields.DateTime(allow_none=True)
    error_code = fields.String(allow_none=True)
    aid = fields.String(allow_none=True, metadata={"description": "the prefilled draft application"})
    history = fields.List(fields.String())


class PreferencesIn(Strict):
    channels = fields.List(Text(validate=validate.OneOf(PUSH_CHANNELS)), required=True,
                           metadata={"description": "push channels the person consents to, in order; [] = inbox only"})
    language = Text(load_default="zh-CN", validate=validate.OneOf(LANGUAGES))
    quiet_hours = Text(load_default=None, allow_none=True, metadata={"example": "22:00-08:00"})

    @validates("channels")
    def _distinct(self, value: list[str], **_) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("a channel appears twice")

    @validates("quiet_hours")
    def _quiet(self, value: str | None, **_) -> None:
        if value is None:
            return
        start, sep, end = value.partition("-")
        try:
            if not sep or len(start) != 5 or len(end) != 5:
                raise ValueError
            parse_quiet_hours(value)
        except ValueError:
            raise ValidationError("must be HH:MM-HH:MM, e.g. 22:00-08:00") from None


class PreferencesOut(Schema):
    channels = fields.List(fields.String())
    language = fields.String()
    quiet_hours = fields.String(allow_none=True)
    sms_opted_out = fields.Boolean()


class ScanIn(Strict):
    as_of = fields.Date(load_default=None, metadata={"description": "default: today in LIFECYCLE_TZ"})


class ScanCreated(Schema):
    scan_id = fields.String()


class ScanOut(Schema):
    scan_id = fields.String()
    as_of = fields.Date()
    state = fields.String()
    partitions = fields.Integer()
    partitions_done = fields.Integer()
    due_found = fields.Integer()
    notices_created = fields.Integer()
    pending = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    skipped = fields.Integer()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    error = fields.String(allow_none=True)
