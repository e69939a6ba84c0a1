"""The citizen's two forms: reviewing and submitting a prefilled application (issued values locked, numbers shown
masked and never sent back in clear), and their notification preferences (checked like the API checks them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from flask import flash, redirect, render_template, request
from flask_babel import gettext as _

from profiles.errors import NotFound, Rejected
from profiles.matters import MatterOpen
from profiles.notices import LANGUAGES, PUSH_CHANNELS, Preferences, parse_quiet_hours
from profiles.prefill import FROM_ID_NUMBER, PrefilledField, PrefilledForm, prefill
from profiles.privacy import mask_birth_certificate_number, mask_email, mask_id_number, mask_phone, mask_text
from web.pages import citizen_words as words
from web.pages.applying import check_declared, snapshots_for, submit
from web.pages.citizen_view import page_url, review_url, split_checklist
from web.pages.guards import services, today, visitor
from web.pages.i18n import is_chinese
from web.usecases.notices import set_preferences

CONFIRM = "yes"


def masker(source: str | None) -> Callable[[str], str] | None:
    """How a value from this catalog source is shown: ID numbers, phones, e-mails and material numbers masked."""
    source = source or ""
    if source.endswith(".id_number"):
        return mask_id_number
    if source.endswith(".birth_certificate_number"):
        return mask_birth_certificate_number
    if source.endswith(".phone"):
        return mask_phone
    if source.endswith(".email"):
        return mask_email
    if source.startswith("material[") and source.endswith("].number"):
        return lambda value: mask_text(value, 2, 2)
    return None


def shown(value: str | None, source: str | None) -> str:
    if not value:
        return ""
    mask = masker(source)
    return mask(value) if mask else value


def unmasked(fields: tuple[PrefilledField, ...], posted: Mapping[str, str]) -> dict[str, str]:
    """The posted values to file: a masked value sent back unchanged stands for the value on file."""
    values = {k: v for k, v in posted.items() if k not in ("csrf_token", "confirm")}
    for f in fields:
        if f.value and masker(f.source) and (posted.get(f.name) or "").strip() == shown(f.value, f.source):
            values[f.name] = f.value
    return values


# --- reviewing and submitting ----------------------------------------------------------------------------------
def apply_form(pid: str, code: str, draft: str | None):
    """GET: the prefilled form. POST: check and submit it (the confirmation is required), then back to the page."""
    snapshot, related = snapshots_for("Person", pid)
    form = prefill(snapshot, services().catalog, [code], today(), related)
    if request.method == "GET":
        return _render(pid, code, draft, form, snapshot, related, {}, {})
    raw = {k: request.form.get(k, "") for k in request.form}
    values = unmasked(form.fields, raw)
    errors = {} if request.form.get("confirm") == CONFIRM else {"confirm": _("Please confirm the above is true")}
    if errors:
        errors.update(check_declared(form, values)[1])
        return _render(pid, code, draft, form, snapshot, related, raw, errors, 422)
    try:
        app, form, errors = submit("Person", pid, code, values, draft=draft)
    except MatterOpen as exc:  # filed meanwhile, here or at the window: the one open application is shown instead
        flash(_("An application for %(service)s is already being handled, so it cannot be filed again. Here it is.",
                service=words.service_name(code)), "error")
        return redirect(review_url(pid, exc.aid), code=303)
    except (Rejected, NotFound):  # the draft was submitted meanwhile (another tab), or a material was replaced
        flash(_("This application could not be submitted as it stands; please review it again."), "error")
        return redirect(page_url(pid), code=303)
    if app is None:
        return _render(pid, code, draft, form, snapshot, related, raw, errors, 422)
    flash(_("Submitted: %(service)s. The decision is due by %(day)s.", service=words.service_name(code),
            day=words.long_date(app.decide_by)), "success")
    return redirect(page_url(pid), code=303)


def _render(pid, code, draft, form, snapshot, related, raw, errors, status=200):
    service = services().catalog.services[code]
    rows = field_rows(form, snapshot, related, raw)
    errors = explained(errors, rows)
    page = render_template("citizen/review.html", pid=pid, service=service, name=words.service_name(code),
                           department=words.text(service.department), draft=draft,
                           fields=rows, materials=checklist(form),
                           promise=decision_promise(service.time_limit_days, form.decision_date), errors=errors,
                           confirmed=raw.get("confirm") == CONFIRM, back=page_url(pid),
                           provenances=[(p, words.provenance_explained(p))
                                        for p in ("issued", "verified", "declared", "missing")])
    return page, status


def field_rows(form: PrefilledForm, snapshot, related, raw: Mapping[str, str]) -> list[dict]:
    """The form's fields as the page shows them: locked ones as on file (masked), the others as typed or filled."""
    known = {m.mid: m for s in (snapshot, *related.values()) for m in s.materials}
    fields = []
    for f in form.fields:
        value = raw.get(f.name, shown(f.value, f.source)) if not f.locked else shown(f.value, f.source)
        if f.locked:
            value = words.as_shown(value, f.source)
        fields.append({"name": f.name, "label": f.label_zh if is_chinese() else f.label_en, "value": value,
                       "locked": f.locked, "provenance": f.provenance,
                       "provenance_said": words.provenance(f.provenance),
                       "origin": _origin(f, known)})
    return fields


def checklist(form: PrefilledForm) -> dict:
    """{"bring": what to bring, "on_file": what is on file and need not be brought}."""
    return split_checklist(form.materials)


def decision_promise(limit: int, decision_date) -> str:
    return _("Decided within %(days)s; expected by %(day)s.", days=words.working_days(limit),
             day=words.long_date(decision_date))


def explained(errors: Mapping[str, str], rows: list[dict]) -> dict[str, str]:
    """Each field's error as a sentence naming the field, for the field and the summary at the top alike: "required"
    alone does not say which of several fields is meant once it is a link in the summary."""
    labels = {r["name"]: r["label"] for r in rows}
    out = {}
    for name in [*(r["name"] for r in rows if r["name"] in errors), *(n for n in errors if n not in labels)]:
        error = errors[name]  # in the order of the page, so the summary reads top to bottom like the form
        if name not in labels:
            out[name] = error
        elif error == _("required"):
            out[name] = _("Please fill in: %(field)s", field=labels[name])
        else:
            out[name] = _("%(field)s: %(error)s", field=labels[name], error=error)
    return out


def _origin(f: PrefilledField, known: dict) -> str | None:
    """Where a prefilled value came from, in words: a material and its date, the ID number, a parent's record."""
    if f.value is None:
        return None
    m = known.get(f.material_id) if f.material_id else None
    if m is not None:
        return _("From the %(material)s issued on %(day)s", material=words.material_name(m.kind),
                 day=words.long_date(m.issued_on))
    source = f.source or ""
    if source.startswith("parent."):
        return _("From the parent's record")
    if source.startswith("entity."):
        return _("From the business register")
    if source.startswith("person.") and source.removeprefix("person.") in FROM_ID_NUMBER:
        return _("From the resident ID number")
    return _("From the record on file")


# --- preferences -----------------------------------------------------------------------------------------------
def preferences():
    pid = visitor().pid
    store = services().preferences
    current = store.get(pid)
    if request.method == "GET":
        channels = [c for c in current.channels if not (c == "sms" and current.sms_opted_out)]
        shown_form = {"channel_1": channels[0] if channels else "", "channel_2": channels[1] if len(channels) > 1
                      else "", "language": current.language, "quiet_hours": current.quiet_hours or "",
                      "sms_opt_out": current.sms_opted_out}
        return _preferences_page(shown_form, {})
    typed = {k: (request.form.get(k) or "").strip() for k in ("channel_1", "channel_2", "language", "quiet_hours")}
    typed["sms_opt_out"] = request.form.get("sms_opt_out") == CONFIRM
    chosen, errors = check_preferences(typed)
    if errors:
        return _preferences_page(typed, errors, 422)
    # unticked after an opt-out: the person says SMS may come again (when SMS is among the channels)
    opt_out = True if typed["sms_opt_out"] else (False if current.sms_opted_out else None)
    set_preferences(services(), visitor().actor, pid, chosen, datetime.now(services().settings.zone), opt_out)
    flash(_("Your preferences are saved."), "success")
    return redirect(request.path, code=303)


def check_preferences(typed: dict) -> tuple[Preferences | None, dict[str, str]]:
    """The rules of PUT /api/v1/persons/{pid}/preferences: known channels, each once; a known language; quiet
    hours as HH:MM-HH:MM or empty for the service's default. Opting out of SMS takes SMS off the channels."""
    errors = {}
    if typed["channel_1"] not in ("", *PUSH_CHANNELS):
        errors["channel_1"] = _("Choose SMS, e-mail or none as your first choice")
    if typed["channel_2"] not in ("", *PUSH_CHANNELS):
        errors["channel_2"] = _("Choose SMS, e-mail or none as your second choice")
    if not errors and typed["channel_2"] and typed["channel_2"] == typed["channel_1"]:
        errors["channel_2"] = _("Your second choice is the same as your first: choose another channel or none")
    if typed["language"] not in LANGUAGES:
        errors["language"] = _("Choose Chinese or English as the language of reminders")
    quiet = typed["quiet_hours"]
    if quiet:
        start, sep, end = quiet.partition("-")
        try:
            if not sep or len(start) != 5 or len(end) != 5:
                raise ValueError
            parse_quiet_hours(quiet)
        except ValueError:
            errors["quiet_hours"] = _("Enter quiet hours as HH:MM-HH:MM, e.g. 22:00-08:00, or leave them empty")
    if errors:
        return None, errors
    channels = tuple(c for c in (typed["channel_1"], typed["channel_2"]) if c and not
                     (c == "sms" and typed["sms_opt_out"]))
    return Preferences(channels=channels, language=typed["language"], quiet_hours=quiet or None), {}


def _preferences_page(form: dict, errors: dict, status: int = 200):
    choices = [("", _("None")), ("sms", words.channel("sms")), ("email", words.channel("email"))]
    languages = [("zh-CN", "中文"), ("en", "English")]
    return render_template("citizen/preferences.html", form=form, errors=errors, choices=choices,
                           reminder_languages=languages, default_quiet=services().settings.quiet_hours), status
