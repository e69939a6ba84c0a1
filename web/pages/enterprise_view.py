"""What the enterprise page shows, worked out from the business's snapshot: the annual report's state, the items
coming up with the draft or form that settles each, the reasons in words, and a form's fields as the page shows them
(values masked)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from flask_babel import gettext as _

from profiles.catalog import model
from profiles.models import Material
from profiles.prefill import PrefilledField, PrefilledForm
from profiles.privacy import mask_email, mask_id_number, mask_phone, mask_text
from profiles.rules import DueItem, Snapshot
from web.pages import enterprise_words as words
from web.pages.i18n import is_chinese

ANNUAL_REPORT = "enterprise_annual_report"  # profiles/catalog/services/enterprise_annual_report.yaml
REPORT_YEAR = "report_year"  # its form field naming the year the report is about
FILING_PERIOD = "filing.report_year"  # the source shown for that field when the page fixes it
WITHIN_DAYS = 365


@dataclass(frozen=True)
class Overdue:
    """A report whose filing window closed without it. Late filing (补报) is still accepted, and it is what lets
    the business ask to leave the list of businesses with abnormal operations (经营异常名录)."""

    report_year: int
    opens_on: date
    due_on: date


@dataclass(frozen=True)
class AnnualReport:
    """Where this business stands with its annual report (年报).

    state: due (the window is open and it is not filed), filed (filed in this year's window), filed_late (filed
    after this year's window closed), missed (this year's window closed without it), first (established this
    year: the first report is due next year), waiting (the window has not opened yet), closed (deregistered on
    `filed_on`: nothing is owed any more, overdue reports included).
    overdue: the reports of the last two years whose window closed without them, newest first."""

    state: str
    report_year: int  # the year the report is about
    opens_on: date
    due_on: date
    days_left: int | None = None
    filed_on: date | None = None
    next_opens_on: date | None = None  # the following window, when this one is settled or closed
    overdue: tuple[Overdue, ...] = ()

    @property
    def late(self) -> Overdue | None:
        """The overdue report the business can file now: while this year's report is due it goes first (a filing
        in the window settles this year's report, profiles/rules.py), so one annual report is filed at a time."""
        return self.overdue[0] if self.overdue and self.state != "due" else None

    @property
    def queued(self) -> Overdue | None:
        """An overdue report that waits for the one to file first (this year's while it is due, else the newer
        overdue one)."""
        rest = self.overdue if self.state == "due" else self.overdue[1:]
        return rest[0] if rest else None


def yearly_trigger(service: model.Service) -> model.YearlyTrigger:
    return next(t for t in service.triggers if isinstance(t, model.YearlyTrigger))


def annual_report(snapshot: Snapshot, catalog: model.Catalog, items: list[DueItem], today: date
                  ) -> AnnualReport | None:
    service = catalog.services.get(ANNUAL_REPORT)
    entity = snapshot.entity
    if service is None or entity is None:
        return None
    t = yearly_trigger(service)
    opens, closes = t.window_from.in_year(today.year), t.window_to.in_year(today.year)
    if entity.status == "closed":  # a deregistered business reports no more (profiles/rules.py: nothing is owed)
        return AnnualReport("closed", today.year - 1, opens, closes, filed_on=entity.closed_on)
    item = next((i for i in items if i.service == ANNUAL_REPORT), None)
    following = t.window_from.in_year(today.year + 1)
    if entity.established_on.year >= today.year:  # 企业信息公示暂行条例 第八条: from the year after it was set up
        first = entity.established_on.year + 1
        return AnnualReport("first", entity.established_on.year, t.window_from.in_year(first),
                            t.window_to.in_year(first))
    current = today.year - 1
    filed = filed_reports(snapshot, t, today)
    overdue = tuple(Overdue(year, t.window_from.in_year(year + 1), t.window_to.in_year(year + 1))
                    for year in (current, current - 1)
                    if year >= entity.established_on.year and year not in filed
                    and t.window_to.in_year(year + 1) < today)
    if current in filed:
        state = "filed" if filed[current] <= closes else "filed_late"
        return AnnualReport(state, current, opens, closes, filed_on=filed[current], next_opens_on=following,
                            overdue=overdue)
    if today < opens:
        return AnnualReport("waiting", current, opens, closes, days_left=(closes - today).days, overdue=overdue)
    if today <= closes:
        return AnnualReport("due", current, opens, closes, days_left=(closes - today).days, overdue=overdue)
    return AnnualReport("missed", current, opens, closes, next_opens_on=item.opens_on if item else following,
                        overdue=overdue)


def filed_reports(snapshot: Snapshot, t: model.YearlyTrigger, today: date) -> dict[int, date]:
    """Which of the last two years' reports were filed, and when: the register's events and the applications
    submitted here, each taken as the report of the newest year whose window had opened by its day and that no
    earlier filing was for. So the first filing in a window is that window's report, as profiles/rules.py settles
    it, and a later one (a late filing, 补报) is the older report's."""
    years = (today.year - 2, today.year - 1)
    days = sorted([e.occurred_on for e in snapshot.events if e.kind == t.done_event] +
                  [a.submitted_on for a in snapshot.applications
                   if a.service == ANNUAL_REPORT and a.submitted_on is not None])
    filed: dict[int, date] = {}
    for day in days:
        open_years = [y for y in years if y not in filed and t.window_from.in_year(y + 1) <= day <= today]
        if open_years:
            filed[max(open_years)] = day
    return filed


def filing_year(report: AnnualReport | None) -> int | None:
    """The report year a filing made today is for: this year's report while it is due, else the overdue one the
    business can file now; None when there is nothing to file."""
    if report is None:
        return None
    if report.state == "due":
        return report.report_year
    return report.late.report_year if report.late else None


@dataclass(frozen=True)
class ComingUp:
    item: DueItem
    service: model.Service
    reason: str
    open: bool  # today is inside the item's window: an application now settles it
    draft_aid: str | None  # the scan's prefilled draft for it, if one was prepared


def coming_up(items: list[DueItem], catalog: model.Catalog, materials: Iterable[Material],
              applications: list[dict], today: date) -> list[ComingUp]:
    drafts = {(a["service"], a.get("due_on")): a["aid"] for a in applications if a["status"] == "draft"}
    by_mid = {m.mid: m for m in materials}
    return [ComingUp(i, catalog.services[i.service], words.reason_text(i, catalog, by_mid), i.opens_on <= today,
                     drafts.get((i.service, i.due_on)))
            for i in items if i.service in catalog.services]


def draft_for(applications: list[dict], code: str, due_on: date) -> str | None:
    return next((a["aid"] for a in applications
                 if a["status"] == "draft" and a["service"] == code and a.get("due_on") == due_on), None)


# --- form values as the page shows them ------------------------------------------------------------------------
def masker(name: str, source: str | None):
    """How a field's value is masked on the page, or None when it may be shown: ID numbers, phones, e-mail
    addresses and material numbers never appear in clear (DESIGN §7)."""
    src = source or ""
    if src.endswith(".id_number") or name.endswith("id_number"):
        return mask_id_number
    if src.endswith(".phone") or name.endswith("phone"):
        return mask_phone
    if src.endswith(".email") or name.endswith("email"):
        return mask_email
    if src.endswith("].number") or name.endswith("_number"):
        return mask_number
    return None


def mask_number(number: str) -> str:
    """A material's number as the API shows it (web/api/holdings.py): two characters either end."""
    return mask_text(number, 2, 2)


def shown(name: str, source: str | None, value: str | None) -> str:
    if not value:
        return ""
    mask = masker(name, source)
    return mask(value) if mask else value


def with_report_year(form: PrefilledForm, year: int | None) -> PrefilledForm:
    """The annual report's form with its year filled in and locked: the page, not the applicant, says which report
    a filing is (this year's, or an overdue one filed late), so two years' reports are never confused."""
    if year is None:
        return form
    return replace(form, fields=tuple(
        replace(f, value=str(year), provenance="period", source=FILING_PERIOD, locked=True)
        if f.name == REPORT_YEAR else f for f in form.fields))


def keep_on_file(fields: Iterable[PrefilledField], posted: dict[str, str]) -> dict[str, str]:
    """An editable value that is masked on the page (a phone on file) is not sent back in clear: left empty, it
    means "keep what is on file"."""
    out = dict(posted)
    for f in fields:
        if not f.locked and f.value and masker(f.name, f.source) and not (out.get(f.name) or "").strip():
            out[f.name] = f.value
    return out


@dataclass(frozen=True)
class FieldRow:
    """One form field as the review (and the correction after a return) shows it."""

    name: str
    label_zh: str
    label_en: str
    locked: bool
    provenance: str
    source: str  # in words
    material_date: str | None
    value: str  # locked: the (masked) value on file; editable: what goes in the input
    on_file: str | None  # editable and masked: the value on file, masked, kept when the input is left empty


def field_rows(form: PrefilledForm, catalog: model.Catalog, typed: dict[str, str] | None) -> list[FieldRow]:
    """The form's fields for the page: locked ones masked as on file; masked editable ones never echo the value on
    file in clear (left empty they keep it), only what the applicant typed; the others as typed, else as filled."""
    rows = []
    for f in form.fields:
        mask = masker(f.name, f.source)
        if f.locked:
            value, on_file = words.worded(f.source, shown(f.name, f.source, f.value)), None
        elif mask is not None:
            value, on_file = (typed or {}).get(f.name, ""), (mask(f.value) if f.value else None)
        else:
            value, on_file = (typed.get(f.name, "") if typed is not None else f.value or ""), None
        rows.append(FieldRow(f.name, f.label_zh, f.label_en, f.locked, f.provenance, source_text(f.source, catalog),
                             f.material_date.isoformat() if f.material_date else None, value, on_file))
    return rows


def labels(rows: Iterable[FieldRow]) -> dict[str, model.Text]:
    """Each field's label by its name: the error messages name the field they are about."""
    return {r.name: model.Text(r.label_zh, r.label_en) for r in rows}


def source_text(source: str | None, catalog: model.Catalog) -> str:
    """Where a prefilled value comes from, in words."""
    if source is None:
        return _("Asked of you")
    if source == FILING_PERIOD:
        return _("The report this filing is for")
    if source.startswith("material["):
        spec = catalog.materials.get(source.removeprefix("material[").partition("]")[0])
        if spec is not None:
            return spec.name_zh if is_chinese() else spec.name_en
    if source.startswith("entity.legal_rep."):
        return _("The legal representative's record")
    if source.startswith("entity."):
        return _("The business register")
    return _("The records on file")  # never the catalog's source path: it is a code
