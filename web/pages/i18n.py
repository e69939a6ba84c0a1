"""Languages of the pages: zh-CN first, English second (Flask-Babel), from translation files kept per page area.

Message ids are English. The Chinese catalogue is the union of `web/i18n/*.zh_CN.po` (one file per area: common,
citizen, enterprise, officer), read once at start and compiled in memory, so nothing generated lives in the tree and
areas can be translated without touching each other's files. A message id in two files must be translated alike.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, request, session
from flask_babel import Babel, Domain, get_locale

I18N_DIR = Path(__file__).resolve().parent.parent / "i18n"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"


def load_catalog(directory: Path = I18N_DIR) -> Catalog:
    """Merge every area's Chinese translations; raise ValueError on a message translated two ways."""
    merged = Catalog(locale="zh_CN", domain="messages")
    for path in sorted(directory.glob("*.zh_CN.po")):
        with path.open("rb") as f:
            part = read_po(f, locale="zh_CN")
        for message in part:
            if not message.id:
                continue
            known = merged.get(message.id, message.context)
            if known is not None and known.string and message.string and known.string != message.string:
                raise ValueError(f"{path.name}: {message.id!r} is translated as {message.string!r} here and "
                                 f"{known.string!r} elsewhere")
            if known is None or not known.string:
                merged.add(message.id, message.string, context=message.context)
    return merged


def compile_catalog(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


@lru_cache(maxsize=2)
def _translations(directory: Path) -> Translations:
    """The shipped catalogue, read and compiled once per process (every app the process builds shares it)."""
    return compile_catalog(load_catalog(directory))


class _InMemoryDomain(Domain):
    """Flask-Babel's domain, served from the catalogue compiled at start instead of .mo files on disk."""

    def __init__(self, chinese: Translations):
        super().__init__(domain="messages")
        self._chinese = chinese

    def get_translations(self):
        return self._chinese if is_chinese() else NullTranslations()


def select_locale() -> str:
    """The visitor's choice (the language switch) first, then the browser's, else Chinese."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return "en" if request.accept_languages.best_match(["zh-CN", "zh", "en"]) == "en" else DEFAULT


def is_chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def html_lang() -> str:
    return "zh-CN" if is_chinese() else "en"


def init_app(app: Flask, timezone: str) -> None:
    babel = Babel()
    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_locale, default_timezone=timezone)
    domain = _InMemoryDomain(_translations(I18N_DIR))
    babel.__dict__["domain_instance"] = domain  # the cached_property Flask-Babel reads its domain from
    app.jinja_env.globals.update(html_lang=html_lang, languages=LANGUAGES)
