"""The access log's phrases, as a citizen reads them: translated, with service names; unknown phrases kept."""

from __future__ import annotations

import pytest

from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from web.pages.access_words import what_said


@pytest.mark.parametrize(("what", "zh", "en"), [
    ("search", "通过检索查找", "found by a search"),
    ("prefill birth_bundle", "预填表单：新生儿出生“一件事”", "a form prefilled for"),
    ("prefill birth_bundle,id_card_renewal (as parent of 1234)", "（作为父母）", "(as a parent)"),
    ("application id_card_renewal", "办件：居民身份证有效期满换领", "the application for"),
    ("revealed ID number (reason: 核对户籍)", "完整身份证号码（理由：核对户籍）", "the full ID number (reason: 核对"),
    ("recorded material birth_certificate at the window", "窗口登记证照材料", "a material recorded at the window"),
    ("something new", "something new", "something new"),
])
def test_each_phrase_is_said_in_the_readers_language(app, what, zh, en):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert zh in what_said(what)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert en in what_said(what)
