"""Applications (办件): file one for a person or entity reusing materials on file, read it with its card, decide it."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from graph.applications import Application
from profiles.applications import card, decide_by
from profiles.errors import Rejected
from profiles.prefill import prefill
from web.api.auth import enforce, no_personal_data, reads_subject, record_read, roles
from web.api.schemas import ApplicationIn, ApplicationOut, DecisionIn, PrefillIn, PrefillOut
from web.api.subjects import services, today

blp = Blueprint("applications", __name__, url_prefix="/api/v1", description="Applications (办件) and prefill")
blp.before_request(enforce)

LABELS = {"person": "Person", "entity": "Entity"}


def application_view(app: Application) -> dict:
    as_of = today()
    shown_card = "none"
    if app.submitted_on is not None:
        shown_card = card(app.submitted_on, app.time_limit_days, as_of, decided=app.decided_on is not None)
    return {"aid": app.aid, "service": app.service, "status": app.status, "created_on": app.created_on,
            "subject": {"type": app.subject_label.lower(), "id": app.subject_id},
            "submitted_on": app.submitted_on, "time_limit_days": app.time_limit_days, "decide_by": app.decide_by,
            "decided_on": app.decided_on, "card": shown_card, "fields_": app.fields, "reuse": list(app.reused)}


@blp.route("/applications")
class Applications(MethodView):
    @roles("officer", "system")
    @no_personal_data("the echo of the application the caller just filed")
    @blp.arguments(ApplicationIn)
    @blp.response(201, ApplicationOut)
    def post(self, body: dict):
        """File an application; materials listed in `reuse` are taken from the file, not handed in again."""
        service = services().catalog.services.get(body["service"])
        if service is None:
            raise Rejected("service", f"unknown service code {body['service']!r}")
        subject = body["subject"]
        if service.audience != subject["type"]:
            raise Rejected("service", f"{service.code} is a service for a {service.audience}")
        on = today()
        app = Application(aid=str(uuid.uuid4()), subject_label=LABELS[subject["type"]], subject_id=subject["id"],
                          service=service.code, status="submitted", created_on=on, submitted_on=on,
                          time_limit_days=service.time_limit_days,
                          decide_by=decide_by(on, service.time_limit_days), fields=body["fields_"],
                          reused=tuple(dict.fromkeys(body["reuse"])))
        return application_view(services().applications.file(app, draft=body.get("draft")))


@blp.route("/applications/<string:aid>")
class ApplicationById(MethodView):
    @roles("officer")
    @reads_subject
    @blp.response(200, ApplicationOut)
    def get(self, aid: str):
        """One application with its card: none, yellow (80 % of the limit used) or red (overdue). A draft the
        daily scan prepared (the link in a reminder leads to it) comes with its prefilled form."""
        app = services().applications.get(aid)
        record_read(app.subject_label, app.subject_id, f"application {app.service}")
        view = application_view(app)
        if app.status == "draft":  # prepared by the scan; prefilled now, from what is on file today
            view["form"] = prefilled(app.subject_label, app.subject_id, [app.service], today())
        return view


@blp.route("/applications/<string:aid>/decision")
class Decision(MethodView):
    @roles("officer")
    @reads_subject
    @blp.arguments(DecisionIn)
    @blp.response(200, ApplicationOut)
    def post(self, body: dict, aid: str):
        """Approve, reject or ask for correction; once only. The answer shows the application's form, so the
        decision is a recorded read with a purpose (X-Purpose), like opening the application."""
        services().applications.decide(aid, body["outcome"], body["note"], today())
        app = services().applications.get(aid)
        record_read(app.subject_label, app.subject_id, f"decision {body['outcome']} on application {app.service}")
        return application_view(app)


@blp.route("/prefill")
class Prefill(MethodView):
    @roles("officer", "system")
    @reads_subject
    @blp.arguments(PrefillIn)
    @blp.response(200, PrefillOut)
    def post(self, body: dict):
        """One unified form (一表通) for one or more services, filled from what is on file, with each value's
        provenance, and the materials checklist: reusable, expiring before the decision date, or missing.
        Reading the subject (and a parent or legal representative whose data fills the form) is recorded."""
        return prefilled(LABELS[body["subject"]["type"]], body["subject"]["id"], body["services"],
                         body.get("as_of") or today())


def prefilled(label: str, sid: str, codes: list[str], as_of) -> dict:
    """The unified form as the API shows it; every subject whose data fills it is recorded as read."""
    snapshot, related = services().snapshots.load_with_related(label, sid)
    form = prefill(snapshot, services().catalog, codes, as_of, related)
    record_read(label, sid, "prefill " + ",".join(form.services))
    for role, other in related.items():
        record_read("Person", other.subject_id, f"prefill {','.join(form.services)} (as {role} of {sid})")
    return {
        "services": list(form.services), "decision_date": form.decision_date,
        "fields_": [{"name": f.name, "label": {"zh": f.label_zh, "en": f.label_en}, "value": f.value,
                     "provenance": f.provenance, "source": f.source, "material_id": f.material_id,
                     "material_date": f.material_date, "locked": f.locked, "services": list(f.services)}
                    for f in form.fields],
        "materials": [{"kind": m.kind, "name": {"zh": m.name_zh, "en": m.name_en}, "state": m.state,
                       "mid": m.mid, "expires_on": m.expires_on, "services": list(m.services)}
                      for m in form.materials],
    }
