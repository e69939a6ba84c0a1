"""Applications (办件): file one for a person or entity reusing materials on file (one open application per matter),
read it with its card and its history, decide it, withdraw it. Each action is a use case (web/usecases/)."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from profiles.applications import card
from profiles.matters import MatterOpen
from profiles.models import Application
from profiles.prefill import prefill
from web.api.auth import actor, enforce, no_personal_data, reads_subject, record_read, roles
from web.api.schemas import (
    ApplicationIn,
    ApplicationOut,
    DecisionIn,
    PrefillIn,
    PrefillOut,
    WithdrawalIn,
    WithdrawalOut,
)
from web.api.subjects import services, today
from web.errors import error_body
from web.usecases import applications as usecases
from web.usecases.subjects import SubjectRef

blp = Blueprint("applications", __name__, url_prefix="/api/v1", description="Applications (办件) and prefill")
blp.before_request(enforce)

LABELS = {"person": "Person", "entity": "Entity"}


@blp.errorhandler(MatterOpen)
def _matter_open(exc: MatterOpen):
    """409 naming the open application, so the caller can follow it instead of filing twice."""
    return jsonify({**error_body(409, f"service: {exc.reason}", {"service": [exc.reason], "aid": [exc.aid]}),
                    "aid": exc.aid}), 409


def application_view(app: Application, history: bool = False) -> dict:
    as_of = today()
    shown_card = "none"
    if app.submitted_on is not None and app.status == "submitted":
        shown_card = card(app.submitted_on, app.time_limit_days, as_of, decided=app.decided_on is not None)
    view = {"aid": app.aid, "number": app.number, "service": app.service, "status": app.status,
            "created_on": app.created_on, "subject": {"type": app.subject_label.lower(), "id": app.subject_id},
            "submitted_on": app.submitted_on, "time_limit_days": app.time_limit_days, "decide_by": app.decide_by,
            "decided_on": app.decided_on, "card": shown_card, "fields_": app.fields, "reuse": list(app.reused)}
    if history:
        view["history"] = [{"at": t.at, "from": t.before or None, "to": t.after, "actor": t.actor, "role": t.role,
                            "note": t.note} for t in services().applications.history(app.aid)]
    return view


@blp.route("/applications")
class Applications(MethodView):
    @roles("officer", "system")
    @no_personal_data("the echo of the application the caller just filed")
    @blp.arguments(ApplicationIn)
    @blp.response(201, ApplicationOut)
    def post(self, body: dict):
        """File an application; materials listed in `reuse` are taken from the file, not handed in again. While an
        application for the same subject and service is open, 409 names it (`aid`); the scan's prefilled draft for
        the matter becomes the application (`draft` names it, or it is found)."""
        subject = SubjectRef.of(body["subject"]["type"], body["subject"]["id"])
        filed = usecases.file_application(services(), actor(), subject, body["service"], body["fields_"],
                                          body["reuse"], today(), draft=body.get("draft"))
        return application_view(filed)


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
        view = application_view(app, history=True)
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
        """Approve, reject or return for correction (the note says what to correct); once per submission. The
        answer shows the application's form, so the decision is a recorded read with a purpose (X-Purpose)."""
        app = usecases.decide(services(), actor(), aid, body["outcome"], body["note"], today())
        record_read(app.subject_label, app.subject_id, f"decision {body['outcome']} on application {app.service}")
        return application_view(app, history=True)


@blp.route("/applications/<string:aid>/withdrawal")
class Withdrawal(MethodView):
    @roles("officer", "system")
    @no_personal_data("the status of the application the caller just withdrew")
    @blp.arguments(WithdrawalIn)
    @blp.response(200, WithdrawalOut)
    def post(self, body: dict, aid: str):
        """The applicant takes an open application back (`reason`); status `withdrawn`, and the matter is open again:
        the due item and its reminders come back, and a new application may be filed. 409 once decided."""
        app = usecases.withdraw(services(), actor(), aid, body["reason"])
        return {"aid": app.aid, "number": app.number, "service": app.service, "status": app.status}


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
