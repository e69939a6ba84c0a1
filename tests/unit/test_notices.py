"""The pure notice rules: dedupe key, owed offset, channels and escalation, quiet hours, the daily cap's next day."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.notices import (
    Contact,
    Preferences,
    backoff,
    channels_for,
    dedupe_key,
    next_day_start,
    owed_offset,
    quiet_until,
)

TZ = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 4, 1)
NOTIFY = (DUE - timedelta(days=90), DUE - timedelta(days=30), DUE - timedelta(days=7))


def test_the_dedupe_key_names_exactly_recipient_subject_service_due_offset_and_channel():
    base = ("mum", "child", "passport_renewal", DUE, 30, "sms")
    key = dedupe_key(*base)
    assert key == dedupe_key(*base) and len(key) == 64
    for i, other in enumerate(("dad", "child2", "id_card_renewal", DUE + timedelta(days=1), 7, "email")):
        changed = list(base)
        changed[i] = other
        assert dedupe_key(*changed) != key


@pytest.mark.parametrize(("as_of", "owed"), [
    (DUE - timedelta(days=91), None),  # before the first reminder date
    (DUE - timedelta(days=90), 90),
    (DUE - timedelta(days=89), 90),  # a scan missed yesterday: made good today
    (DUE - timedelta(days=30), 30),  # the next offset has come: only that one
    (DUE - timedelta(days=1), 7),
    (DUE, 7),  # due today: still owed
    (DUE + timedelta(days=1), None),  # past due: never after the matter
])
def test_the_owed_offset_is_the_latest_reminder_date_not_after_the_day(as_of, owed):
    assert owed_offset(DUE, NOTIFY, as_of) == owed


def test_channels_inbox_always_then_one_push_channel_more_per_unread_offset():
    both = Contact("p", "+8613800138000", "a@example.cn")
    assert channels_for(both, 0) == ("inbox", "sms")
    assert channels_for(both, 1) == ("inbox", "sms", "email")
    assert channels_for(both, 5) == ("inbox", "sms", "email")
    email_first = Contact("p", "+8613800138000", "a@example.cn", Preferences(channels=("email", "sms")))
    assert channels_for(email_first, 0) == ("inbox", "email")
    assert channels_for(Contact("p", None, "a@example.cn"), 0) == ("inbox", "email")  # no phone: e-mail first
    opted_out = Contact("p", "+8613800138000", None, Preferences(sms_opted_out=True))
    assert channels_for(opted_out, 3) == ("inbox",)
    assert channels_for(Contact("p", "+8613800138000", "a@x.cn", Preferences(channels=())), 2) == ("inbox",)


def test_preferences_refuse_unknown_channels_and_languages():
    with pytest.raises(ValueError, match="fax"):
        Preferences(channels=("fax",))
    with pytest.raises(ValueError, match="fr"):
        Preferences(language="fr")


def local(h: int, m: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, h, m, tzinfo=TZ)


@pytest.mark.parametrize(("now", "until"), [
    (local(21, 59), None),
    (local(22, 0), local(8, 0, day=3)),
    (local(23, 30), local(8, 0, day=3)),
    (local(0, 0), local(8, 0)),
    (local(7, 59), local(8, 0)),
    (local(8, 0), None),
    (local(12, 0), None),
])
def test_quiet_hours_across_midnight(now, until):
    assert quiet_until(now, "22:00-08:00") == until


def test_quiet_hours_within_a_day_and_an_empty_window():
    assert quiet_until(local(12, 30), "12:00-14:00") == local(14, 0)
    assert quiet_until(local(14, 0), "12:00-14:00") is None
    assert quiet_until(local(3, 0), "00:00-00:00") is None


def test_the_daily_cap_waits_for_the_next_day_outside_quiet_hours():
    assert next_day_start(local(10, 0), "22:00-08:00") == local(8, 0, day=3)
    assert next_day_start(local(23, 0), "22:00-08:00") == local(8, 0, day=3)
    assert next_day_start(local(10, 0), "00:00-00:00") == datetime.combine(date(2026, 3, 3), time(0), tzinfo=TZ)


def test_backoff_doubles_from_the_base_and_is_capped():
    assert [backoff(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30, 30) == 6 * 3600


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
       st.sampled_from(["22:00-08:00", "12:00-14:00", "23:30-06:15"]))
def test_a_deferred_push_lands_outside_quiet_hours_and_later(naive, window):
    now = naive.replace(tzinfo=TZ)
    until = quiet_until(now, window)
    if until is not None:
        assert until > now and quiet_until(until, window) is None
