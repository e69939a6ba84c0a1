"""Reminder, card and decision rendering: every seeded service fits a two-part SMS, the fall-backs, escaping, both
languages; a decision says the officer's note and what to do next, soberly."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from notifier.templates import Reminder, en_date, render, zh_date
from profiles.catalog import load_catalog
from profiles.catalog.model import Catalog, Service
from profiles.sms_segments import encoding, segments

CATALOG = load_catalog()
DUE = date(2026, 12, 22)
LINK = "https://zc.example.gov.cn/apply/" + "x" * 28
SHORT_LINK = "https://zc.gov.cn/a/1"
SIGNATURE = "【禅城区政务服务】"
ENDORSEMENT = Reminder(
    kind="reminder", service_zh="居住证签注", service_en="Residence permit annual endorsement", due_on=DUE,
    days_left=30, bring=(("居住证", "Residence permit"), ("居民身份证", "Resident identity card")), link=SHORT_LINK,
)
YELLOW = Reminder(
    kind="yellow_card", service_zh="居民身份证有效期满换领", service_en="Resident ID card renewal on expiry",
    due_on=DUE, days_left=3, bring=(), link=LINK, reference="FS2026120001",
)
RED = dataclasses.replace(YELLOW, kind="red_card", days_left=-2)


def longest_bring(catalog: Catalog, service: Service) -> tuple[tuple[str, str], ...]:
    scenario = max(service.scenarios, key=lambda s: len(s.materials))
    return tuple((catalog.materials[m.kind].name_zh, catalog.materials[m.kind].name_en) for m in scenario.materials)


def reminder_for(code: str, **changes) -> Reminder:
    service = CATALOG.services[code]
    base = Reminder(kind="reminder", service_zh=service.name.zh, service_en=service.name.en, due_on=DUE, days_left=30,
                    bring=longest_bring(CATALOG, service), link=LINK, for_name="小宝")
    return dataclasses.replace(base, **changes)


def test_the_fixture_link_is_sixty_characters_and_the_catalog_is_seeded():
    assert len(LINK) == 60
    assert len(CATALOG.services) == 27


@pytest.mark.parametrize("for_name", ["小宝", "Xiaobao"])
@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("code", sorted(CATALOG.services))
def test_every_sms_fits_two_parts_and_keeps_the_link_and_the_date(code, language, for_name):
    text = render("sms", language, reminder_for(code, for_name=for_name)).text
    assert segments(text) <= 2, text
    assert text.endswith(LINK)
    assert (zh_date(DUE) if language == "zh-CN" else en_date(DUE)) in text
    assert "\n" not in text
    assert text.startswith(SIGNATURE) == (language == "zh-CN")


def test_dates_are_written_the_way_each_language_writes_them():
    assert zh_date(DUE) == "2026年12月22日"
    assert zh_date(date(2026, 1, 5)) == "2026年1月5日"
    assert en_date(DUE) == "22 Dec 2026"
    assert en_date(date(2026, 1, 5)) == "5 Jan 2026"


def test_a_short_reminder_keeps_the_full_sms_naming_the_materials():
    zh = render("sms", "zh-CN", ENDORSEMENT)
    assert zh.text == ("【禅城区政务服务】您好！居住证签注请于2026年12月22日前办理（还有30天）。"
                       "办理时请携带：居住证、居民身份证。已为您预填申请表：https://zc.gov.cn/a/1")
    assert zh.html is None
    en = render("sms", "en", ENDORSEMENT)
    assert en.text == ("Hello. Residence permit annual endorsement is due by 22 Dec 2026 (in 30 days). "
                       "Please bring: Residence permit, Resident identity card. "
                       "We have prefilled your application: https://zc.gov.cn/a/1")
    assert encoding(en.text) == "GSM-7"


def test_a_long_sms_counts_the_materials_instead_of_naming_them():
    text = render("sms", "zh-CN", reminder_for("passport_renewal", for_name=None)).text
    assert text == ("【禅城区政务服务】您好！普通护照换发（有效期不足六个月）请于2026年12月22日前办理（还有30天），"
                    "需携带3项材料，详见链接。已为您预填申请表：" + LINK)
    assert segments(text) == 2
    full = ("【禅城区政务服务】您好！普通护照换发（有效期不足六个月）请于2026年12月22日前办理（还有30天）。"
            "办理时请携带：普通护照、居民身份证、居民户口簿。已为您预填申请表：" + LINK)
    assert segments(full) == 3  # why the short form was chosen


def test_the_minimal_sms_when_even_the_count_does_not_fit():
    text = render("sms", "zh-CN", reminder_for("resident_medical_insurance_contribution")).text
    assert text == "【禅城区政务服务】小宝的城乡居民基本医疗保险年度参保缴费请于2026年12月22日前办理：" + LINK


def test_a_chinese_name_in_an_english_sms_is_dropped_last():
    with_name = render("sms", "en", reminder_for("residence_permit_endorsement")).text
    assert with_name == "Residence permit annual endorsement for 小宝 due by 22 Dec 2026: " + LINK
    # Even the minimal text with the name is three UCS-2 parts; without it the text is GSM-7 and fits one.
    without = render("sms", "en", reminder_for("resident_medical_insurance_contribution")).text
    assert without == "Yearly contribution to resident basic medical insurance due by 22 Dec 2026: " + LINK
    assert encoding(without) == "GSM-7"


def test_an_english_sms_is_signed_only_by_a_gsm_sender():
    assert "禅城" not in render("sms", "en", ENDORSEMENT).text
    signed = render("sms", "en", dataclasses.replace(ENDORSEMENT, sender="Chancheng Gov")).text
    assert signed.startswith("Chancheng Gov: Hello. Residence permit annual endorsement is due by 22 Dec 2026")
    other = dataclasses.replace(ENDORSEMENT, sender="禅城区政务")
    assert render("sms", "zh-CN", other).text.startswith("【禅城区政务】您好！")


@pytest.mark.parametrize(("language", "wording"), [
    ("zh-CN", "无需携带材料，我们已有存档。"),
    ("en", "Nothing to bring: we already have your documents on file."),
])
@pytest.mark.parametrize("channel", ["sms", "email", "inbox"])
def test_nothing_to_bring_is_said_when_everything_is_on_file(channel, language, wording):
    nothing = render(channel, language, dataclasses.replace(ENDORSEMENT, bring=()))
    assert wording in nothing.text
    if channel == "email":
        assert wording in nothing.html
    assert wording not in render(channel, language, ENDORSEMENT).text


def test_the_email_lists_the_materials_and_links_the_application():
    zh = render("email", "zh-CN", dataclasses.replace(ENDORSEMENT, for_name="小宝"))
    assert zh.subject == "办事提醒：小宝的居住证签注请于2026年12月22日前办理（还有30天）"
    assert ("小宝的居住证签注请于2026年12月22日前办理（还有30天）。\n\n"
            "办理时请携带以下材料：\n- 居住证\n- 居民身份证\n") in zh.text
    assert zh.text.startswith("您好！\n\n")
    assert '<a href="https://zc.gov.cn/a/1">' in zh.html
    assert "<li>居住证</li>" in zh.html and "<li>居民身份证</li>" in zh.html
    assert '<html lang="zh-CN">' in zh.html
    en = render("email", "en", ENDORSEMENT)
    assert en.subject == "Reminder: Residence permit annual endorsement is due by 22 Dec 2026 (in 30 days)"
    assert "Please bring:\n- Residence permit\n- Resident identity card\n" in en.text
    assert '<html lang="en">' in en.html


def test_the_inbox_has_a_title_and_a_body_but_no_html():
    inbox = render("inbox", "zh-CN", ENDORSEMENT)
    assert inbox.subject == "办事提醒：居住证签注请于2026年12月22日前办理（还有30天）"
    assert inbox.text == ("居住证签注请于2026年12月22日前办理（还有30天）。\n办理时请携带：居住证、居民身份证。\n"
                          "申请表已为您预填，请核对后提交：https://zc.gov.cn/a/1")
    assert inbox.html is None


def test_the_email_html_escapes_a_hostile_service_name_and_link():
    hostile = dataclasses.replace(ENDORSEMENT, service_zh="<script>alert(1)</script>&", service_en="<b onclick=x>",
                                  link='https://zc.gov.cn/a?x="><script>', for_name="<i>")
    zh = render("email", "zh-CN", hostile)
    assert "<script>" not in zh.html
    assert "&lt;i&gt;的&lt;script&gt;alert(1)&lt;/script&gt;&amp;请于" in zh.html
    assert 'href="https://zc.gov.cn/a?x=&#34;&gt;&lt;script&gt;"' in zh.html
    assert "&amp;lt;" not in zh.html  # escaped once, not twice
    assert "<i>的<script>alert(1)</script>&请于" in zh.text  # plain text is not HTML: left as written
    en = render("email", "en", hostile)
    assert "<b onclick" not in en.html
    assert "&lt;b onclick=x&gt; for &lt;i&gt; is due by" in en.html


@pytest.mark.parametrize(("days_left", "zh", "en"), [
    (1, "请于2026年12月22日前办理（明天截止）", "is due by 22 Dec 2026 (tomorrow)"),
    (0, "请于2026年12月22日前办理（今天截止）", "is due today, 22 Dec 2026"),
    (-3, "居住证签注的办理期限（2026年12月22日）已过3天，请尽快办理",
     "was due by 22 Dec 2026 (3 days ago): please apply as soon as you can"),
    (-1, "已过1天", "(1 day ago)"),
])
def test_the_days_left_are_worded_for_each_case(days_left, zh, en):
    reminder = dataclasses.replace(ENDORSEMENT, days_left=days_left)
    assert zh in render("inbox", "zh-CN", reminder).text
    assert en in render("inbox", "en", reminder).text


def test_a_yellow_card_in_both_languages():
    assert render("sms", "zh-CN", YELLOW).text == (
        "【禅城区政务服务】黄牌预警：居民身份证有效期满换领办件FS2026120001须于2026年12月22日前办结，"
        "剩余3个工作日。请及时处理：" + LINK)
    assert render("sms", "en", YELLOW).text == (
        "Yellow card: application FS2026120001 for Resident ID card renewal on expiry must be decided by "
        "22 Dec 2026 (3 working days left). Please act on it: " + LINK)
    assert render("email", "zh-CN", YELLOW).subject == (
        "黄牌预警：居民身份证有效期满换领办件FS2026120001须于2026年12月22日前办结，剩余3个工作日")
    assert "1 working day left" in render("inbox", "en", dataclasses.replace(YELLOW, days_left=1)).text
    assert "今天为最后期限" in render("inbox", "zh-CN", dataclasses.replace(YELLOW, days_left=0)).text


def test_a_red_card_in_both_languages():
    zh = render("email", "zh-CN", RED)
    assert zh.subject == "红牌警告：居民身份证有效期满换领办件FS2026120001已超期2个工作日（应于2026年12月22日前办结）"
    assert f'<a href="{LINK}">处理该办件</a>' in zh.html
    en = render("inbox", "en", RED)
    assert en.subject == ("Red card: application FS2026120001 for Resident ID card renewal on expiry is overdue: "
                          "it had to be decided by 22 Dec 2026 (2 working days late)")
    assert en.text.endswith("Please act on it: " + LINK)
    assert segments(render("sms", "zh-CN", RED).text) <= 2


def test_a_card_with_a_long_name_falls_back_and_still_fits():
    card = dataclasses.replace(RED, service_zh="普通护照换发（有效期不足六个月）", days_left=-1)
    text = render("sms", "zh-CN", card).text
    assert text == ("【禅城区政务服务】红牌警告：普通护照换发（有效期不足六个月）办件FS2026120001已超期1个工作日"
                    "（应于2026年12月22日前办结）。" + LINK)
    assert segments(text) == 2


def test_an_unknown_language_falls_back_to_chinese():
    assert render("sms", "fr", ENDORSEMENT) == render("sms", "zh-CN", ENDORSEMENT)
    assert render("email", "", YELLOW) == render("email", "zh-CN", YELLOW)


def test_an_unknown_channel_kind_or_a_relative_link_is_refused():
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        render("fax", "zh-CN", ENDORSEMENT)
    with pytest.raises(ValueError, match="unknown reminder kind 'green_card'"):
        render("sms", "zh-CN", dataclasses.replace(ENDORSEMENT, kind="green_card"))
    for link in ("/apply/1", "javascript:alert(1)", "https:///nohost"):
        with pytest.raises(ValueError, match="absolute http"):
            render("email", "en", dataclasses.replace(ENDORSEMENT, link=link))


# --- decisions, told to the applicant -----------------------------------------------------------------------------
OUTCOMES = ("decision_approved", "decision_rejected", "decision_needs_correction")
SHORT_NOTE = "照片不合格，请补交近期免冠照片"
LONG_NOTE = ("申请表第3栏“户籍地址”与居民户口簿记载不一致，请按户口簿首页地址更正；"
             "另需补交近6个月内的白底免冠彩色照片一张，规格为358像素乘441像素")
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
DECIDED = Reminder(kind="decision_needs_correction", service_zh="居民身份证有效期满换领",
                   service_en="Resident ID card renewal on expiry", due_on=DUE, days_left=0, bring=(), link=LINK,
                   reference="20261222-00017", note=SHORT_NOTE)


def decision_for(code: str, **changes) -> Reminder:
    service = CATALOG.services[code]
    return dataclasses.replace(DECIDED, service_zh=service.name.zh, service_en=service.name.en, **changes)


@pytest.mark.parametrize("note", [None, SHORT_NOTE, LONG_NOTE, "The photo is not acceptable: hand in a recent one"])
@pytest.mark.parametrize("for_name", [None, "小宝", "Xiaobao", "佛山市禅城区示例贸易有限公司"])
@pytest.mark.parametrize("kind", OUTCOMES)
@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("code", sorted(CATALOG.services))
def test_every_decision_sms_fits_two_parts_keeps_the_link_and_is_sober(code, language, kind, for_name, note):
    text = render("sms", language, decision_for(code, kind=kind, for_name=for_name, note=note)).text
    assert segments(text) <= 2, text
    assert text.endswith(LINK) and "\n" not in text
    assert text.startswith(SIGNATURE) == (language == "zh-CN")
    assert "!" not in text and "！" not in text and not EMOJI.search(text)


@pytest.mark.parametrize("kind", OUTCOMES)
@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("channel", ["sms", "email", "inbox"])
def test_a_decision_says_the_note_on_every_channel_without_exclamation_or_emoji(channel, language, kind):
    note = SHORT_NOTE if language == "zh-CN" else "The photo is not acceptable"  # a Chinese one makes it UCS-2
    said = render(channel, language, dataclasses.replace(DECIDED, kind=kind, note=note))
    for text in (said.subject, said.text, said.html or ""):
        assert "!" not in text.replace("<!DOCTYPE", "") and "！" not in text and not EMOJI.search(text)
    assert note in said.text and LINK in said.text
    if channel == "email":
        assert note in said.html and f'<a href="{LINK}">' in said.html
        assert said.text.startswith("您好：" if language == "zh-CN" else "Hello,")


def test_a_return_for_correction_says_what_to_correct_and_where_to_resubmit():
    assert render("sms", "zh-CN", DECIDED).text == (
        "【禅城区政务服务】居民身份证有效期满换领办件20261222-00017需要补正。需要补正的内容：照片不合格，请补交近期免冠照片。"
        "请修改后重新提交：" + LINK)
    inbox = render("inbox", "zh-CN", DECIDED)
    assert inbox.subject == "补正通知：居民身份证有效期满换领办件20261222-00017需要补正"
    assert inbox.text == ("居民身份证有效期满换领办件20261222-00017需要补正。\n"
                          "需要补正的内容：照片不合格，请补交近期免冠照片。\n"
                          "请按要求修改申请或补交材料，然后重新提交。\n修改并重新提交：" + LINK)
    en = render("sms", "en", dataclasses.replace(DECIDED, note="The photo is not acceptable"))
    assert en.text == ("The application 20261222-00017 for Resident ID card renewal on expiry was returned for "
                       "correction. What to correct: The photo is not acceptable. Please correct it and submit it "
                       "again: " + LINK)
    assert encoding(en.text) == "GSM-7"


def test_an_approval_says_the_matter_is_done_and_where_to_collect():
    approved = dataclasses.replace(DECIDED, kind="decision_approved", note="请于5个工作日后到窗口领取。")
    zh = render("inbox", "zh-CN", approved)
    assert zh.subject == "办理结果：居民身份证有效期满换领办件20261222-00017已审批通过"
    assert "办理说明：请于5个工作日后到窗口领取。\n" in zh.text  # the note's own stop is not doubled
    assert "本事项已办结。如有证照需要领取，领取时间和地点请查看办件详情。" in zh.text
    en = render("email", "en", approved)
    assert en.subject == ("Decision: The application 20261222-00017 for Resident ID card renewal on expiry has "
                          "been approved")
    assert "The matter is done. If there is a document to collect" in en.text
    assert render("sms", "zh-CN", dataclasses.replace(approved, note=None)).text == (
        "【禅城区政务服务】居民身份证有效期满换领办件20261222-00017已审批通过。本事项已办结，详见：" + LINK)


def test_a_rejection_says_why_and_that_one_may_apply_again_or_seek_review():
    rejected = dataclasses.replace(DECIDED, kind="decision_rejected", note="不符合换领条件")
    zh = render("email", "zh-CN", rejected)
    assert "未予批准。\n\n理由：不符合换领条件。" in zh.text
    assert "您可以重新申请" in zh.text and "依法申请行政复议" in zh.text
    assert "《中华人民共和国行政诉讼法》第四十六条" in zh.text and "六个月内" in zh.text
    assert "行政复议法》第" not in zh.text  # no article of 行政复议法: its 2023 numbering is unchecked here
    en = render("inbox", "en", rejected)
    assert "You may apply again" in en.text and "administrative review" in en.text
    assert "Administrative Litigation Law of the People's Republic of China, Article 46" in en.text
    sms = render("sms", "zh-CN", rejected).text
    assert "理由：不符合换领条件" in sms and "行政复议" in sms and "第四十六条" not in sms  # an SMS cites nothing
    without = render("sms", "en", dataclasses.replace(rejected, note=None)).text
    assert "The reason is at the link. You may apply again or ask for a review." in without


def test_a_long_note_gives_up_the_number_then_is_cut_with_an_ellipsis():
    text = render("sms", "zh-CN", dataclasses.replace(DECIDED, note=LONG_NOTE)).text
    assert segments(text) == 2 and "20261222-00017" not in text
    kept = text.split("需要补正的内容：")[1].split("…")[0]
    assert LONG_NOTE.startswith(kept) and len(kept) >= 20 and text.endswith("…。请修改后重新提交：" + LINK)


def test_an_english_sms_gives_up_a_chinese_name_before_the_note():
    text = render("sms", "en", dataclasses.replace(DECIDED, for_name="小宝", note="The photo is not acceptable")).text
    assert "小宝" not in text and "What to correct: The photo is not acceptable." in text
    assert encoding(text) == "GSM-7"


def test_a_note_is_one_line_and_escaped_in_html():
    hostile = dataclasses.replace(DECIDED, note="第一行\n第二行 <script>alert(1)</script>")
    said = render("email", "zh-CN", hostile)
    assert "第一行 第二行" in said.text and "<script>" not in said.html and "&lt;script&gt;" in said.html
    assert "\n" not in render("sms", "zh-CN", hostile).text
