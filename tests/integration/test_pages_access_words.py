"""The access log as its subject reads it: each thing done in plain words in the reader's language (with service
and material names, never codes), who read (name and department, never the account), an offered purpose
translated and a typed one shown as typed with its language named; one line per visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from profiles.models import AccessRecord
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from web.pages.access_words import done_said, purpose_said, reader_said, visit_lines, written_in

ZH, EN = {"Accept-Language": "zh-CN"}, {"Accept-Language": "en"}
LI = "李工作 · 禅城区行政服务中心 (window1)"


@pytest.mark.parametrize(("what", "zh", "en"), [
    ("search", "通过检索找到了您的档案", "found your record in a search"),
    ("profile", "查看了您的档案", "looked at your profile"),
    ("revealed phone number (reason: 核对户籍)", "查看了您的完整手机号码（理由：核对户籍）",
     "saw your full phone number (reason: 核对户籍)"),
    ("revealed ID number (reason: check)", "查看了您的完整身份证号码（理由：check）", "saw your full ID number"),
    ("materials", "读取了您的证照材料", "read your materials"),
    ("prefill birth_bundle", "预填了新生儿出生“一件事”", "prepared a form prefilled for"),
    ("prefill birth_bundle,id_card_renewal (as parent of 1234)", "使用了父母的信息", "using the parent's details"),
    ("application id_card_renewal", "查看了办件：居民身份证有效期满换领", "looked at the application for"),
    ("application FS20261202-0001 (decision page)", "FS20261202-0001", "opened application FS20261202-0001 to"),
    ("decision needs_correction on application FS20261202-0001", "退回补正", "returned application FS20261202-0001"),
    ("filed application id_card_renewal at the window", "在窗口提交了居民身份证有效期满换领的申请",
     "filed an application for"),
    ("recorded material birth_certificate at the window", "在窗口登记了出生医学证明", "recorded Medical birth"),
    ("printed the application form with the full ID number and phone number",
     "打印了含您完整身份证号码和手机号码的申请表", "printed the application form with your full ID number and"),
    ("used the phone number to send a message about id_card_renewal",
     "使用您的手机号码向您发送关于居民身份证有效期满换领", "used your phone number to send you a message about"),
    ("used the e-mail address to send a message about id_card_renewal", "使用您的电子邮箱", "used your e-mail address"),
    ("something new", "something new", "something new"),
])
def test_each_thing_done_is_said_in_the_readers_language_without_codes(app, what, zh, en):
    with app.test_request_context("/", headers=ZH):
        assert zh in done_said(what)
        assert "birth_certificate" not in done_said(what) and "id_card_renewal" not in done_said(what)
    with app.test_request_context("/", headers=EN):
        assert en.lower() in done_said(what).lower()


def test_on_someone_elses_record_the_phrases_do_not_say_your(app):
    with app.test_request_context("/", headers=EN):
        assert done_said("profile", yours=False) == "looked at the profile"
        assert done_said("revealed phone number (reason: x)", yours=False) == "saw the full phone number (reason: x)"
        assert done_said("printed the receipt with the full ID number", yours=False) == \
            "printed the receipt with the full ID number"
    with app.test_request_context("/", headers=ZH):
        assert "您" not in done_said("search", yours=False)


def test_who_read_is_the_officers_name_and_department_never_the_account(app):
    with app.test_request_context("/", headers=EN):
        assert reader_said(LI, "officer") == {"name": "李工作", "department": "禅城区行政服务中心",
                                              "role": "an officer at the window"}
        assert reader_said("公安局户籍系统", "system") == {"name": "公安局户籍系统", "department": None,
                                                          "role": "a department's system"}
        assert reader_said("department feed (command-line import)", "system")["name"] == "a department's data feed"
        assert "p-123" not in str(reader_said("citizen p-123", "citizen"))
        assert reader_said("reminder delivery", "system") == {"name": "the reminder service", "department": None,
                                                              "role": "a department's system"}
        assert purpose_said("proactive notification")["text"] == "to tell you of a service that is due or decided"
    with app.test_request_context("/", headers=ZH):
        assert reader_said(LI, "officer")["role"] == "窗口工作人员"


def test_a_purpose_typed_in_the_other_language_is_shown_as_typed_and_labelled(app):
    assert (written_in("核对户籍 ID"), written_in("checking the address"), written_in("2026-12")) == ("zh", "en", None)
    with app.test_request_context("/", headers=EN):
        assert purpose_said("核对户籍") == {"text": "核对户籍", "lang": "zh-CN", "label": "typed in Chinese:"}
        assert purpose_said("checking the address") == {"text": "checking the address", "lang": None, "label": None}
    with app.test_request_context("/", headers=ZH):
        assert purpose_said("checking the address") == {"text": "checking the address", "lang": "en",
                                                        "label": "以英文填写："}
        assert purpose_said("核对户籍")["label"] is None


def test_a_purpose_chosen_from_the_offered_list_is_translated_whichever_language_it_was_chosen_in(app):
    with app.test_request_context("/", headers=ZH):
        chinese = purpose_said("Following up a reminder")["text"]
        assert chinese != "Following up a reminder" and written_in(chinese) == "zh"
    with app.test_request_context("/", headers=EN):
        assert purpose_said(chinese) == {"text": "Following up a reminder", "lang": None, "label": None}


def test_one_visit_is_one_line_from_to_with_each_thing_once(app):
    t0 = datetime(2026, 12, 2, 1, 58, tzinfo=UTC)  # 09:58 in Shanghai

    def rec(seq, minutes, what, actor=LI, purpose="办理身份证换领"):
        return AccessRecord(f"r{seq}", seq, t0 + timedelta(minutes=minutes), actor, "officer", purpose, what, "p",
                            "", "", "k", "p")

    records = [rec(1, 0, "search"), rec(2, 1, "profile"), rec(3, 5, "revealed phone number (reason: 核对)"),
               rec(4, 6, "profile"), rec(5, 90, "profile", "王办事 · 区政务中心 (w2)", "checking the address")]
    zone = ZoneInfo("Asia/Shanghai")
    with app.test_request_context("/", headers=EN):
        later, first = visit_lines(records, zone)
        assert first["when"] == "2026-12-02 09:58–10:04" and first["records"] == 4
        assert first["what"] == "Found your record in a search, looked at your profile, saw your full phone number " \
                                "(reason: 核对)"
        assert first["purpose"]["label"] == "typed in Chinese:" and later["when"] == "2026-12-02 11:28"
    with app.test_request_context("/", headers=ZH):
        _later, first = visit_lines(records, zone)
        assert first["what"] == "通过检索找到了您的档案，查看了您的档案，查看了您的完整手机号码（理由：核对）"
