"""Every string the pages show is translated into Chinese, with the same placeholders; catalogues agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from web.pages.i18n import I18N_DIR, load_catalog

WEB = Path(__file__).resolve().parents[2] / "web"
KEYWORDS = {"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


AREAS = ("citizen", "enterprise", "officer")


def area_of(path: Path) -> str:
    """templates/citizen/… and pages/citizen*.py are the citizen area's; everything else is common."""
    name = path.parent.name if path.suffix == ".html" else path.stem.split("_")[0]
    return name if name in AREAS else "common"


def _extracted() -> list[tuple[str, tuple[str, ...], Path, int]]:
    """(msgid, every source form, file, line): an ngettext message is keyed by its singular, as catalogues key it."""
    sources = [(p, babel_extract) for p in sorted((WEB / "templates").rglob("*.html"))]
    sources += [(p, "python") for p in sorted((WEB / "pages").glob("*.py"))]
    found = []
    for path, method in sources:
        with path.open("rb") as f:
            for line, message, _comments, _context in extract(method, f, keywords=KEYWORDS,
                                                               options={"extensions": "jinja2.ext.i18n"}):
                forms = tuple(m for m in (message if isinstance(message, tuple) else (message,)) if m)
                if forms:
                    found.append((forms[0], forms, path, line))
    return found


def page_messages() -> dict[str, tuple[tuple[str, ...], str]]:
    """msgid -> (its source forms, where it is used), from the page templates and the page modules (the REST API is
    not translated)."""
    found: dict[str, tuple[tuple[str, ...], str]] = {}
    for msgid, forms, path, line in _extracted():
        found.setdefault(msgid, (forms, f"{path.relative_to(WEB)}:{line}"))
    return found


def page_messages_by_area() -> dict[str, set[str]]:
    areas: dict[str, set[str]] = {}
    for msgid, _forms, path, _line in _extracted():
        areas.setdefault(msgid, set()).add(area_of(path))
    return areas


def test_the_pages_have_strings_to_translate():
    assert len(page_messages()) > 50


def test_every_page_string_has_a_chinese_translation_with_the_same_placeholders():
    catalog = load_catalog()
    missing, mismatched = [], []
    for msgid, (forms, where) in page_messages().items():
        message = catalog.get(msgid)
        translated = message.string if message else None
        translated = translated if isinstance(translated, tuple) else (translated,)
        if message is None or not all(translated) or (len(forms) > 1) != isinstance(message.id, tuple):
            missing.append(f"{where}: {forms!r}")
            continue
        wanted = {name for form in forms for name in PLACEHOLDER.findall(form)}
        if any(set(PLACEHOLDER.findall(text)) != wanted for text in translated):
            mismatched.append(f"{where}: {forms!r} -> {message.string!r}")
    assert not missing, "untranslated (or singular/plural not as the code asks):\n" + "\n".join(missing)
    assert not mismatched, "placeholders differ:\n" + "\n".join(mismatched)


def test_words_two_areas_share_are_translated_once_in_the_common_file():
    """So an area can reword its own strings without changing another's pages (or stopping the app)."""
    defined: dict[str, set[str]] = {}
    for path in I18N_DIR.glob("*.zh_CN.po"):
        with path.open("rb") as f:
            for message in read_po(f):
                if message.id:
                    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                    defined.setdefault(msgid, set()).add(path.name.split(".")[0])
    misplaced = []
    for msgid, areas in page_messages_by_area().items():
        home = "common" if len(areas) > 1 or "common" in areas else next(iter(areas))
        if defined.get(msgid, {home}) != {home}:
            misplaced.append(f"{msgid!r}: used by {sorted(areas)}, translated in {sorted(defined[msgid])}")
    assert not misplaced, "\n".join(misplaced)


def test_a_message_translated_two_ways_in_two_areas_is_refused(tmp_path):
    for area, text in (("a", "登录"), ("b", "签到")):
        header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        (tmp_path / f"{area}.zh_CN.po").write_text(header + f'msgid "Sign in"\nmsgstr "{text}"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="Sign in"):
        load_catalog(tmp_path)


def test_the_area_catalogues_load():
    assert list(I18N_DIR.glob("*.zh_CN.po")) and len(load_catalog()) > 50


@pytest.mark.parametrize("typed", ["44060419900517123X", "440604199002301234", "4406041990", "12345619900517123X"])
def test_why_an_id_number_is_refused_is_said_in_chinese(typed):
    from datetime import date

    from profiles.identifiers import InvalidIdentifier, parse_resident_id

    with pytest.raises(InvalidIdentifier) as refused:
        parse_resident_id(typed, date(2026, 1, 1))
    message = load_catalog().get(refused.value.reason)
    assert message is not None and message.string, refused.value.reason
