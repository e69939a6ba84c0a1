"""Every string the pages show is translated into Chinese, with the same placeholders; catalogues agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract
from jinja2.ext import babel_extract

from web.pages.i18n import I18N_DIR, load_catalog

WEB = Path(__file__).resolve().parents[2] / "web"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def page_messages() -> dict[str, str]:
    """msgid -> where it is used, from the page templates and the page modules (the REST API is not translated)."""
    found: dict[str, str] = {}
    sources = [(p, babel_extract) for p in sorted((WEB / "templates").rglob("*.html"))]
    sources += [(p, "python") for p in sorted((WEB / "pages").glob("*.py"))]
    for path, method in sources:
        with path.open("rb") as f:
            for line, message, _comments, _context in extract(method, f, keywords=KEYWORDS,
                                                               options={"extensions": "jinja2.ext.i18n"}):
                for msgid in (message if isinstance(message, tuple) else (message,)):
                    if msgid:
                        found.setdefault(msgid, f"{path.relative_to(WEB)}:{line}")
    return found


def test_the_pages_have_strings_to_translate():
    assert len(page_messages()) > 50


def test_every_page_string_has_a_chinese_translation_with_the_same_placeholders():
    catalog = load_catalog()
    missing, mismatched = [], []
    for msgid, where in page_messages().items():
        message = catalog.get(msgid)
        if message is None or not message.string:
            missing.append(f"{where}: {msgid!r}")
        elif set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(message.string)):
            mismatched.append(f"{where}: {msgid!r} -> {message.string!r}")
    assert not missing, "untranslated:\n" + "\n".join(missing)
    assert not mismatched, "placeholders differ:\n" + "\n".join(mismatched)


def test_a_message_translated_two_ways_in_two_areas_is_refused(tmp_path):
    for area, text in (("a", "登录"), ("b", "签到")):
        header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        (tmp_path / f"{area}.zh_CN.po").write_text(header + f'msgid "Sign in"\nmsgstr "{text}"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="Sign in"):
        load_catalog(tmp_path)


def test_the_area_catalogues_load():
    assert list(I18N_DIR.glob("*.zh_CN.po")) and len(load_catalog()) > 50
