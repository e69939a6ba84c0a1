"""The State Council's yearly holiday arrangements (放假调休安排) on file: one YAML per year in profiles/calendar/,
read and validated here; the counting that uses them is profiles.workdays.

The General Office of the State Council publishes next year's arrangement in October-December (国务院办公厅关于YYYY年
部分节假日安排的通知). Until `chinese-calendar` ships it, an operator copies it into `profiles/calendar/YYYY.yaml`
(format in docs/CATALOG.md, "Holiday arrangements"). A file is refused as a whole, with its name, the field and the
reason, if any date lies outside its year, a date is both a day off and a workday, an adjusted workday is not a
weekend day, or the notice is not cited (title, number and url; number and url may say UNVERIFIED). Files whose name
starts with `example` are documentation and never read as an arrangement.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

DEFAULT_DIR = Path(__file__).resolve().parent / "calendar"
UNVERIFIED = "UNVERIFIED"
_FILE_NAME = re.compile(r"^(\d{4})\.yaml$")
_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*$")
_KEYS = {"year", "source", "holidays", "workdays"}
_SOURCE_KEYS = {"title", "number", "url", "published_on", "note"}


class _Loader(yaml.SafeLoader):
    """Dates stay text, so that an impossible one (2027-02-30) is reported with its field, not as a YAML error."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class Source:
    title: str
    number: str  # 文号, e.g. 国办发明电〔2025〕N号, or UNVERIFIED
    url: str  # or UNVERIFIED
    published_on: date | None = None


@dataclass(frozen=True)
class Arrangement:
    """One year's official days off and adjusted workdays (weekend days that are worked)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: Source
    file: str


class ArrangementError(ValueError):
    """One or more arrangement files are broken; `problems` are "file: field: reason" lines."""

    def __init__(self, problems: list[str]):
        super().__init__("the holiday arrangements on file are broken:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


def load_arrangements(directory: Path = DEFAULT_DIR) -> dict[int, Arrangement]:
    """Every arrangement in `directory` by year (empty if there is none); ArrangementError if any file is broken."""
    found: dict[int, Arrangement] = {}
    problems: list[str] = []
    paths = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")) if directory.is_dir() else []
    for path in paths:
        if path.name.startswith("example"):
            continue
        if not _FILE_NAME.match(path.name):
            problems.append(f"{path.name}: the file name must be the year, e.g. 2027.yaml "
                            "(a file that only shows the format must start with 'example')")
            continue
        arrangement = read_arrangement(path, problems)
        if arrangement is not None:
            found[arrangement.year] = arrangement
    if problems:
        raise ArrangementError(problems)
    return found


def read_arrangement(path: Path, problems: list[str] | None = None) -> Arrangement | None:
    """One file's arrangement; its problems are appended to `problems` (or raised, if no list is given)."""
    own: list[str] = []
    arrangement = _read(path, own)
    if problems is None and own:
        raise ArrangementError(own)
    if problems is not None:
        problems.extend(own)
    return None if own else arrangement


def _read(path: Path, problems: list[str]) -> Arrangement | None:
    name = path.name

    def problem(field: str, reason: str) -> None:
        problems.append(f"{name}: {field}: {reason}")

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{name}: cannot be read: {exc}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{name}: must be a mapping with year, source, holidays and workdays")
        return None
    for key in sorted(set(data) - _KEYS, key=str):
        problem(str(key), f"unknown key (expected {', '.join(sorted(_KEYS))})")
    match = _FILE_NAME.match(name)
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        problem("year", "missing or not a year (e.g. 2027)")
        return None
    if match and int(match.group(1)) != year:
        problem("year", f"{year} does not match the file name ({match.group(1)})")
    source = _source(data.get("source"), problem)
    holidays = _dates(data.get("holidays"), "holidays", year, problem, required=True)
    workdays = _dates(data.get("workdays", []), "workdays", year, problem, required=False)
    for day in sorted(workdays):
        if day.weekday() < 5:
            problem("workdays", f"{day} is a {day.strftime('%A')}, already a working day: adjusted workdays (调休上班) "
                                "are the weekend days the notice says are worked")
    for day in sorted(holidays & workdays):
        problem("holidays/workdays", f"{day} is both a day off and a workday")
    if source is None or problems:
        return None
    return Arrangement(year, frozenset(holidays), frozenset(workdays), source, name)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _source(value: object, problem) -> Source | None:
    if not isinstance(value, dict):
        problem("source", "missing: cite the State Council notice (title, number, url; UNVERIFIED where not checked)")
        return None
    for key in sorted(set(value) - _SOURCE_KEYS, key=str):
        problem(f"source.{key}", f"unknown key (expected {', '.join(sorted(_SOURCE_KEYS))})")
    title, number, url = (_text(value.get(k)) for k in ("title", "number", "url"))
    for key, given in (("title", title), ("number", number), ("url", url)):
        if given is None:
            hint = "" if key == "title" else f" (or {UNVERIFIED})"
            problem(f"source.{key}", f"missing: the notice's {key}{hint}")
    if url is not None and url != UNVERIFIED and not url.startswith(("https://", "http://")):
        problem("source.url", f"{url!r} is not a web address (or {UNVERIFIED})")
    published = value.get("published_on")
    if published is not None:
        try:
            published = date.fromisoformat(str(published).strip())
        except ValueError:
            problem("source.published_on", f"{published!r} is not a date (YYYY-MM-DD)")
            published = None
    if title is None or number is None or url is None:
        return None
    return Source(title, number, url, published)


def _dates(value: object, field: str, year: int, problem, *, required: bool) -> set[date]:
    """A list of dates, each `YYYY-MM-DD` or an inclusive range `YYYY-MM-DD..YYYY-MM-DD`, all in `year`."""
    if not isinstance(value, list) or (required and not value):
        problem(field, "must be a list of dates (YYYY-MM-DD or first..last)" + (", not empty" if required else ""))
        return set()
    days: set[date] = set()
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        first = last = None
        if isinstance(item, date):
            first = last = item
        elif isinstance(item, str) and (m := _RANGE.match(item)):
            try:
                first, last = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
            except ValueError as exc:
                problem(where, f"{item!r}: {exc}")
                continue
        elif isinstance(item, str):
            with contextlib.suppress(ValueError):
                first = last = date.fromisoformat(item.strip())
        if first is None or last is None:
            problem(where, f"{item!r} is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)")
            continue
        if last < first:
            problem(where, f"the range ends ({last}) before it starts ({first})")
            continue
        if first.year != year or last.year != year:
            problem(where, f"{item} is not in {year}")
            continue
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return days
