"""The service catalog, read-only: GET /api/v1/catalog/services and /catalog/services/{code}."""

from __future__ import annotations

import dataclasses

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from profiles.catalog.model import coverage
from profiles.errors import NotFound
from web.api.auth import enforce, no_personal_data, roles
from web.api.subjects import services

blp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog", description="The service catalog (事项目录)")
blp.before_request(enforce)

EVERYONE = ("system", "officer")


class ServiceSummary(Schema):
    code = fields.String()
    name = fields.Dict()
    audience = fields.String()
    department = fields.Dict()
    time_limit_days = fields.Integer()
    stage = fields.String(metadata={"description": "its stage of the audience's lifecycle (国办发〔2025〕24号), "
                                                   "a key of GET /api/v1/catalog/stages"})
    nature = fields.String(metadata={"description": "deadline (a duty with a date) or offer (a benefit one may claim)"})


def _plain(value):
    """Dataclasses -> JSON-ready dicts (dates as YYYY-MM-DD, tuples as lists)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@blp.route("/services")
class Services(MethodView):
    @roles(*EVERYONE)
    @no_personal_data("the public service catalog")
    @blp.response(200, ServiceSummary(many=True))
    def get(self):
        """Every service item: code, names, audience, department, statutory time limit (working days)."""
        catalog = services().catalog
        return [_plain(s) for s in sorted(catalog.services.values(), key=lambda s: s.code)]


@blp.route("/services/<string:code>")
class ServiceByCode(MethodView):
    @roles(*EVERYONE)
    @no_personal_data("the public service catalog")
    @blp.response(200)
    def get(self, code: str):
        """The full item: scenarios with their materials, form fields with their sources, triggers, sources."""
        service = services().catalog.services.get(code)
        if service is None:
            raise NotFound("service", code, field="code")
        return _plain(service)


@blp.route("/stages")
class Stages(MethodView):
    @roles(*EVERYONE)
    @no_personal_data("the public service catalog")
    @blp.response(200)
    def get(self):
        """The two lifecycles (a person from 出生 to 身后, a business from 开办 to 注销), each stage with the codes of
        the services that carry it, and the document they come from."""
        catalog = services().catalog
        return [{"audience": audience, "name": _plain(catalog.lifecycles[audience].name),
                 "sources": _plain(catalog.lifecycles[audience].sources),
                 "stages": [{**_plain(stage), "services": [s.code for s in carried]} for stage, carried in rows]}
                for audience, rows in coverage(catalog).items()]
