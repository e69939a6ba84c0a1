"""What the enterprise page says in words instead of codes: why an item is due (never a rule id), a yearly window as
"every year from 1 January to 30 June", coded form values as their labels, the materials checklist as what to bring
and what is on file, and each form error as a sentence naming its field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import format_date
from flask_babel import gettext as _

from profiles.catalog import model
from profiles.models import ENTITY_KINDS, Material
from profiles.prefill import ChecklistItem
from profiles.rules import DueItem
from web.pages.i18n import is_chinese

ON_FILE = "reusable"  # the checklist state of a material reused from the file; every other state means "bring it"


def named(text: model.Text) -> str:
    return text.zh if is_chinese() else text.en


def month_day(md: model.MonthDay) -> str:
    """A day of every year, without a year: 1月1日, 1 January."""
    day = md.in_year(2000)  # a leap year, so 29 February is kept
    return f"{day.month}月{day.day}日" if is_chinese() else format_date(day, "d MMMM")


def yearly_window(trigger: model.YearlyTrigger) -> str:
    return _("every year from %(start)s to %(end)s", start=month_day(trigger.window_from),
             end=month_day(trigger.window_to))


def reason_text(item: DueItem, catalog: model.Catalog, by_mid: Mapping[str, Material]) -> str:
    """Why the item is due, in the visitor's language and from catalog names: the evaluator's own reason carries the
    rule id and codes, for the logs and the API only."""
    service = catalog.services.get(item.service)
    kind, _sep, ref = item.reason.source.partition(":")
    if kind == "material":
        m = by_mid.get(ref)
        spec = catalog.materials.get(m.kind) if m is not None else None
        if m is not None and spec is not None and m.expires_on is not None:
            return _("%(material)s expires on %(day)s", material=spec.name_zh if is_chinese() else spec.name_en,
                     day=m.expires_on.isoformat())
        return _("A licence or permit on file is about to expire")
    if kind == "year" and service is not None:
        trigger = next((t for t in service.triggers if isinstance(t, model.YearlyTrigger)), None)
        if trigger is not None:
            return _("Filed %(window)s; this time from %(opens)s to %(due)s", window=yearly_window(trigger),
                     opens=item.opens_on.isoformat(), due=item.due_on.isoformat())
    if kind == "event" and service is not None:
        trigger = next((t for t in service.triggers if isinstance(t, model.AfterEventTrigger)), None)
        event = catalog.events.get(trigger.event) if trigger is not None else None
        if event is not None:
            return _("Follows an event: %(event)s on %(day)s", event=named(event.name), day=item.opens_on.isoformat())
    return _("Due under the rules for this service")


def kind_word(kind: str) -> str:
    names = ENTITY_KINDS.get(kind)
    return (names[0] if is_chinese() else names[1]) if names else kind


def worded(source: str | None, value: str) -> str:
    """A coded value as its label, as the form showed it (有限责任公司, not limited_company)."""
    if source == "entity.kind":
        return kind_word(value)
    return value


def to_bring(materials: Iterable[ChecklistItem]) -> list[ChecklistItem]:
    """What the applicant hands in: not on file, or on file but expiring before the decision date."""
    return [m for m in materials if m.state != ON_FILE]


def on_file(materials: Iterable[ChecklistItem]) -> list[ChecklistItem]:
    """What is reused from the file and need not be handed in."""
    return [m for m in materials if m.state == ON_FILE]


def field_errors(errors: Mapping[str, str], labels: Mapping[str, model.Text | str]) -> dict[str, str]:
    """Each error as a sentence naming its field ("Postal address: required" is not a sentence): the same words at
    the field and in the summary at the top of the page."""
    out = {}
    for name, error in errors.items():
        label = labels.get(name)
        if label is None:
            out[name] = error
            continue
        text = label if isinstance(label, str) else named(label)
        if error == _("required"):
            out[name] = _("Fill in “%(field)s”", field=text)
        else:
            out[name] = _("“%(field)s”: %(problem)s", field=text, problem=error)
    return out
