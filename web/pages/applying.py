"""Filling and submitting an application from the pages (citizen, business and officer alike): the unified form
from what is on file, issued values locked server-side, declared ones checked, materials on file reused; and the
free-text check every page form uses (form_text)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import gettext as _

from profiles.models import Application
from profiles.prefill import PrefilledForm, prefill
from profiles.rules import Snapshot
from profiles.text import RefusedText, clean_text
from web.pages.guards import services, today, visitor
from web.usecases import applications as usecases
from web.usecases.subjects import SubjectRef

MAX_VALUE = 200


def snapshots_for(label: str, sid: str) -> tuple[Snapshot, dict[str, Snapshot]]:
    """The subject's snapshot and those whose data fills its form: a minor's parent, a business's legal rep."""
    return services().snapshots.load_with_related(label, sid)


def unified_form(label: str, sid: str, codes: list[str], as_of: date | None = None) -> PrefilledForm:
    """One form (一表通) for these services; the caller records the read when an officer asks for it."""
    snapshot, related = snapshots_for(label, sid)
    return prefill(snapshot, services().catalog, codes, as_of or today(), related)


def form_text(raw: str | None, required: bool = True, limit: int = MAX_VALUE) -> tuple[str, str | None]:
    """(the text, NFC and trimmed; an error in the visitor's language or None): every free-text input of the pages
    (a declared value, an officer's purpose or reason, what the window records) is required unless said otherwise,
    at most `limit` characters, and refused with an invisible or control character (profiles/text.py)."""
    try:
        # checked before trimming: strip() would quietly drop a trailing U+2028 or \x1f instead of refusing it
        text = clean_text(raw or "").strip()
    except RefusedText as exc:
        return (raw or "").strip(), _("contains an invisible control character (%(code)s)", code=exc.code)
    if not text:
        return text, (_("required") if required else None)
    if len(text) > limit:
        return text, _("at most %(n)d characters", n=limit)
    return text, None


def check_declared(form: PrefilledForm, posted: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The values to file and the errors by field: a locked (issued) value is taken from the file whatever was
    posted; every other field is free text as form_text takes it."""
    values, errors = {}, {}
    for f in form.fields:
        if f.locked:
            values[f.name] = f.value or ""
            continue
        values[f.name], error = form_text(posted.get(f.name))
        if error:
            errors[f.name] = error
    return values, errors


def submit(label: str, sid: str, code: str, posted: Mapping[str, str], draft: str | None = None
           ) -> tuple[Application | None, PrefilledForm, dict[str, str]]:
    """File one service's application for the subject as the signed-in visitor: (application, form, {}) or (None,
    form, errors), nothing written when there are errors. Raises `MatterOpen` while the matter has an open
    application (the caller shows it); the scan's draft for the matter becomes the application."""
    form = unified_form(label, sid, [code])
    values, errors = check_declared(form, posted)
    if errors:
        return None, form, errors
    reuse = [m.mid for m in form.materials if m.state == "reusable" and m.mid]
    filed = usecases.file_application(services(), visitor().actor, SubjectRef.of(label, sid), code, values, reuse,
                                      today(), draft=draft)
    return filed, form, {}
