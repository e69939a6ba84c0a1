"""Materials, life events and the access log of one person or entity (`{kind}` is `persons` or `entities`)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from profiles.errors import NotFound
from profiles.models import Material
from profiles.privacy import mask_text
from profiles.rules import due_items
from web.api.auth import actor, enforce, no_personal_data, reads_subject, record_read, roles
from web.api.schemas import AccessRecordOut, DueItemOut, DueQuery, EventIn, EventOut, MaterialIn, MaterialOut
from web.api.subjects import services, today
from web.usecases.holdings import record_event, record_material
from web.usecases.subjects import SubjectRef

blp = Blueprint("holdings", __name__, url_prefix="/api/v1", description="Materials, life events and access logs")
blp.before_request(enforce)

LABELS = {"persons": "Person", "entities": "Entity"}
HOLDER = {"persons": "person", "entities": "entity"}
WRITERS = ("system", "officer")
READERS = ("system", "officer")


def label_of(kind: str) -> str:
    if kind not in LABELS:
        raise NotFound("collection", kind, field="kind")
    return LABELS[kind]


def ensure_exists(kind: str, sid: str) -> None:
    s = services().subjects
    s.get_person(sid) if kind == "persons" else s.get_entity(sid)


def material_view(m: Material, as_of) -> dict:
    return {"mid": m.mid, "kind": m.kind, "number_masked": mask_text(m.number, 2, 2), "issued_on": m.issued_on,
            "expires_on": m.expires_on, "issuer": m.issuer, "provenance": m.provenance, "fields_": m.fields,
            "version": m.version, "superseded": m.superseded, "status": m.status(as_of)}


@blp.route("/<string:kind>/<string:sid>/materials")
class Materials(MethodView):
    @roles(*WRITERS)
    @no_personal_data("the echo of what the caller just wrote (numbers masked)")
    @blp.arguments(MaterialIn)
    @blp.response(201, MaterialOut)
    def post(self, body: dict, kind: str, sid: str):
        """Record a material; an older one of the same kind becomes superseded."""
        label_of(kind)
        material = record_material(services(), actor(), SubjectRef.of(kind, sid), body["kind"], body["number"],
                                   body["issued_on"], body["expires_on"], body["issuer"], body["provenance"],
                                   body["fields_"], today())
        return material_view(material, today())

    @roles(*READERS)
    @reads_subject
    @blp.response(200, MaterialOut(many=True))
    def get(self, kind: str, sid: str):
        """Every material on file, newest version first within a kind, with its status today."""
        label = label_of(kind)
        ensure_exists(kind, sid)
        materials = services().holdings.materials(label, sid)
        record_read(label, sid, "materials")
        as_of = today()
        return [material_view(m, as_of) for m in materials]


@blp.route("/<string:kind>/<string:sid>/events")
class Events(MethodView):
    @roles(*WRITERS)
    @no_personal_data("the echo of what the caller just wrote (numbers masked)")
    @blp.arguments(EventIn)
    @blp.response(201, EventOut)
    def post(self, body: dict, kind: str, sid: str):
        """Record a life event (birth, marriage, ...; for entities founding, annual report, ...)."""
        label_of(kind)
        return record_event(services(), actor(), SubjectRef.of(kind, sid), body["kind"], body["occurred_on"],
                            body["details"], today())

    @roles(*READERS)
    @reads_subject
    @blp.response(200, EventOut(many=True))
    def get(self, kind: str, sid: str):
        label = label_of(kind)
        ensure_exists(kind, sid)
        events = services().holdings.events(label, sid)
        record_read(label, sid, "events")
        return events


@blp.route("/<string:kind>/<string:sid>/due")
class Due(MethodView):
    @roles(*READERS)
    @reads_subject
    @blp.arguments(DueQuery, location="query")
    @blp.response(200, DueItemOut(many=True))
    def get(self, query: dict, kind: str, sid: str):
        """What is becoming due for this subject, when reminders go out, and why (rule, source, parameter)."""
        label = label_of(kind)
        snapshot = services().snapshots.load(label, sid)
        record_read(label, sid, "due items")
        catalog = services().catalog
        items = due_items(snapshot, catalog, query.get("as_of") or today(), query["within"])
        return [{"service": i.service, "due_on": i.due_on, "notify_on": list(i.notify_on),
                 "nature": catalog.services[i.service].nature, "opens_on": i.opens_on,
                 "recipients": list(i.recipients),
                 "reason": {"rule": i.reason.rule, "source": i.reason.source, "detail": i.reason.detail,
                            "parameter": i.reason.parameter}} for i in items]


@blp.route("/<string:kind>/<string:sid>/access-log")
class AccessLogView(MethodView):
    @roles(*READERS)
    @reads_subject
    @blp.response(200, AccessRecordOut(many=True))
    def get(self, kind: str, sid: str):
        """Who looked at this subject's data, when and why — newest first. Reading it is itself recorded."""
        label = label_of(kind)
        ensure_exists(kind, sid)
        record_read(label, sid, "access-log")
        return services().access_log.for_subject(sid)
