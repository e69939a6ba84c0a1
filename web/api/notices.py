"""Notices of a person or entity, a person's notification preferences, and scan runs (start one, follow it)."""

from __future__ import annotations

from datetime import datetime

from flask.views import MethodView
from flask_smorest import Blueprint

from notifier.scan import start_scan
from profiles.errors import NotFound
from profiles.notices import Preferences
from web.api.auth import actor, enforce, no_personal_data, reads_subject, record_read, roles
from web.api.holdings import ensure_exists, label_of
from web.api.notify_schemas import NoticeOut, PreferencesIn, PreferencesOut, ScanCreated, ScanIn, ScanOut
from web.api.subjects import services, today
from web.usecases import notices as usecases

blp = Blueprint("notices", __name__, url_prefix="/api/v1", description="Notices, preferences and scans")
blp.before_request(enforce)

SENT = ("sent", "delivered", "undelivered")


@blp.route("/<string:kind>/<string:sid>/notices")
class Notices(MethodView):
    @roles("system", "officer")
    @reads_subject
    @blp.response(200, NoticeOut(many=True))
    def get(self, kind: str, sid: str):
        """Notices sent to this person (a guardian's include their children's) or entity, newest first."""
        label = label_of(kind)
        ensure_exists(kind, sid)
        record_read(label, sid, "notices")
        return services().notices.for_recipient(label, sid)


@blp.route("/notices/<string:nid>/read")
class NoticeRead(MethodView):
    @roles("system")
    @no_personal_data("the delivery state of the notice the caller names; no name, number or contact")
    @blp.response(200, NoticeOut)
    def post(self, nid: str):
        """The person opened this notice in their inbox (a department's app says so): an unread reminder is what
        escalates to the next channel at the next offset. Marking it twice keeps the first time."""
        notices = services().notices
        if notices.get(nid) is None:
            raise NotFound("notice", nid)
        usecases.mark_read(services(), actor(), nid, datetime.now(services().settings.zone))
        return notices.get(nid)


@blp.route("/persons/<string:pid>/preferences")
class PreferencesView(MethodView):
    @roles("system", "officer")
    @reads_subject
    @blp.response(200, PreferencesOut)
    def get(self, pid: str):
        prefs = services().preferences.get(pid)
        record_read("Person", pid, "notification preferences")
        return prefs

    @roles("system")
    @no_personal_data("the echo of the preferences the caller just sent")
    @blp.arguments(PreferencesIn)
    @blp.response(200, PreferencesOut)
    def put(self, body: dict, pid: str):
        """Replace how the person wants to be reached (consent per channel, language, quiet hours)."""
        prefs = Preferences(channels=tuple(body["channels"]), language=body["language"],
                            quiet_hours=body["quiet_hours"])
        return usecases.set_preferences(services(), actor(), pid, prefs, datetime.now(services().settings.zone))


@blp.route("/scans")
class ScansView(MethodView):
    @roles("admin")
    @no_personal_data("a scan's id")
    @blp.arguments(ScanIn)
    @blp.response(202, ScanCreated)
    def post(self, body: dict):
        """Start a scan for a date: one job per partition, then delivery in batches. Follow it at /scans/{id}."""
        return {"scan_id": start_scan(services(), body["as_of"] or today())}


@blp.route("/scans/<string:scan_id>")
class ScanView(MethodView):
    @roles("admin")
    @no_personal_data("a scan's counts")
    @blp.response(200, ScanOut)
    def get(self, scan_id: str):
        s = services()
        scan = s.scans.get(scan_id)
        counts = s.notices.counts(scan_id)
        return {**scan.__dict__, "notices_created": sum(counts.values()), "pending": counts.get("pending", 0)
                + counts.get("sending", 0), "sent": sum(counts.get(k, 0) for k in SENT),
                "failed": counts.get("failed", 0), "skipped": counts.get("skipped", 0)}
