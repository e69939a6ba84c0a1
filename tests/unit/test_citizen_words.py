"""The citizen pages' pure wording (web/pages/citizen_words.py) in both languages: dates in the reader's words, a
yearly window without a year, plurals, a relative's roles on one line, coded values as the form showed them."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from profiles.catalog.model import MonthDay
from web.pages import citizen_words as words
from web.pages.i18n import init_app


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    app.secret_key = "test"
    init_app(app, "Asia/Shanghai")
    return app


@pytest.fixture(params=["zh", "en"])
def lang(request, app):
    header = "zh-CN" if request.param == "zh" else "en"
    with app.test_request_context(headers={"Accept-Language": header}):
        yield request.param


def said(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def test_a_date_is_written_in_the_readers_language(lang):
    assert words.long_date(date(2026, 12, 31)) == said(lang, "2026年12月31日", "31 December 2026")
    assert words.long_date(None) == "—"


def test_every_year_names_the_window_with_no_year_in_it(lang):
    window = words.every_year(MonthDay(9, 1), MonthDay(12, 31))
    assert window == said(lang, "每年9月1日至12月31日", "Every year from 1 September to 31 December")
    assert words.month_day(MonthDay(2, 29)) == said(lang, "2月29日", "29 February")


@pytest.mark.parametrize("n", [1, 2, 15])
def test_working_days_and_days_left_take_the_right_plural(lang, n):
    assert words.working_days(n) == said(lang, f"{n}个工作日", f"{n} working day" + ("s" if n != 1 else ""))
    assert words.days_left(date(2026, 1, 1 + n), date(2026, 1, 1)) == \
        said(lang, f"剩余 {n} 天", f"{n} day{'s' if n != 1 else ''} left")


def test_due_today_is_said_so(lang):
    assert words.days_left(date(2026, 1, 1), date(2026, 1, 1)) == said(lang, "今天到期", "Due today")


def test_a_relative_with_two_roles_is_one_line(lang):
    roles = [words.relation("PARENT_OF", True), words.relation("GUARDIAN_OF", True)]
    assert words.roles(roles) == said(lang, "子女、被监护人", "Child, under your guardianship")
    assert words.roles([words.relation("SPOUSE_OF", True)]) == said(lang, "配偶", "Spouse")


def test_coded_values_are_shown_as_the_form_showed_them(lang):
    assert words.as_shown("F", "person.sex") == said(lang, "女", "Female")
    assert words.as_shown("M", "parent.sex") == said(lang, "男", "Male")
    assert words.as_shown("2031-05-01", "material[id_card].expires_on") == said(lang, "2031年5月1日", "1 May 2031")
    assert words.as_shown("长期", "material[id_card].expires_on") == "长期"
    assert words.as_shown("F", "person.name") == "F"  # only coded sources are translated
