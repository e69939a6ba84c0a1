"""A reminder links to its service's guide (where to go, fee, time) in the inbox and the e-mail, in both languages;
the SMS stays as it was."""

from __future__ import annotations

import dataclasses

import pytest

from notifier.templates import render
from tests.unit.test_templates import ENDORSEMENT, reminder_for

GUIDE = "https://zc.gov.cn/services/residence_permit_endorsement"
WORDS = {"zh-CN": "办事指南", "en": "How to do it"}


def cases():
    yield "reminder", dataclasses.replace(ENDORSEMENT, guide=GUIDE)
    yield "offer", dataclasses.replace(reminder_for("senior_allowance_claim", nature="offer"), guide=GUIDE)
    yield "bereavement", dataclasses.replace(reminder_for("after_death_bundle", kind="bereavement"), guide=GUIDE)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize(("what", "reminder"), list(cases()), ids=[c[0] for c in cases()])
def test_the_inbox_and_the_email_link_the_guide(what, reminder, language):
    inbox = render("inbox", language, reminder)
    line = next(x for x in inbox.text.splitlines() if GUIDE in x)
    assert line.startswith(WORDS[language])
    email = render("email", language, reminder)
    assert f"\n{GUIDE}\n" in email.text and WORDS[language] in email.text
    assert f'<a href="{GUIDE}">{WORDS[language]}' in email.html
    assert render("inbox", language, dataclasses.replace(reminder, guide=None)).text in inbox.text


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize(("what", "reminder"), list(cases()), ids=[c[0] for c in cases()])
def test_the_sms_does_not_grow(what, reminder, language):
    sms = render("sms", language, reminder).text
    assert GUIDE not in sms and sms == render("sms", language, dataclasses.replace(reminder, guide=None)).text


def test_without_a_guide_there_is_no_guide_line():
    for language in ("zh-CN", "en"):
        for channel in ("inbox", "email"):
            assert WORDS[language] not in render(channel, language, ENDORSEMENT).text


def test_a_relative_guide_link_is_refused():
    with pytest.raises(ValueError, match="absolute http"):
        render("inbox", "en", dataclasses.replace(ENDORSEMENT, guide="/services/x"))
