"""One officer's visit is one line of the access log: same reader, same purpose, each record at most half an hour
after the one before; another purpose ends a visit, another reader in between does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from profiles.access_visits import GAP, visits
from profiles.models import AccessRecord

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
LI = "李工作 · 禅城区行政服务中心 (window1)"
WANG = "王办事 · 禅城区行政服务中心 (window2)"


def rec(seq: int, minutes: float, what: str, actor: str = LI, purpose: str = "办理身份证换领",
        role: str = "officer") -> AccessRecord:
    return AccessRecord(f"r{seq}", seq, T0 + timedelta(minutes=minutes), actor, role, purpose, what, "p1", "", "",
                        "k1", "p1")


def shape(found):
    return [(v.actor, v.purpose, v.whats, v.records) for v in found]


def test_a_search_the_profile_and_a_reveal_within_minutes_are_one_visit_saying_each_thing_once_in_order():
    records = [rec(1, 0, "search"), rec(2, 1, "profile"), rec(3, 4, "revealed phone number (reason: 核对)"),
               rec(4, 6, "profile")]
    (visit,) = visits(reversed(records))  # the log reads newest first; the order given does not matter
    assert visit.whats == ("search", "profile", "revealed phone number (reason: 核对)") and visit.records == 4
    assert (visit.first, visit.last) == (T0, T0 + timedelta(minutes=6))


def test_exactly_half_an_hour_between_two_records_is_still_the_same_visit():
    assert timedelta(minutes=30) == GAP
    assert shape(visits([rec(1, 0, "search"), rec(2, 30, "profile"), rec(3, 60, "materials")])) == [
        (LI, "办理身份证换领", ("search", "profile", "materials"), 3)]  # the pause is between consecutive records


def test_a_moment_more_than_half_an_hour_starts_a_new_visit():
    found = visits([rec(1, 0, "search"), rec(2, 30 + 1 / 60_000, "profile")])  # 30 min and 1 ms
    assert shape(found) == [(LI, "办理身份证换领", ("profile",), 1), (LI, "办理身份证换领", ("search",), 1)]


def test_a_different_purpose_in_between_ends_the_visit_and_the_first_purpose_again_starts_another():
    found = visits([rec(1, 0, "search"), rec(2, 2, "profile", purpose="核对材料"), rec(3, 4, "materials")])
    assert shape(found) == [(LI, "办理身份证换领", ("materials",), 1), (LI, "核对材料", ("profile",), 1),
                            (LI, "办理身份证换领", ("search",), 1)]


def test_two_officers_interleaved_each_keep_one_visit_newest_last_record_first():
    found = visits([rec(1, 0, "search"), rec(2, 1, "search", actor=WANG, purpose="Following up a reminder"),
                    rec(3, 2, "profile"), rec(4, 3, "profile", actor=WANG, purpose="Following up a reminder"),
                    rec(5, 5, "revealed phone number (reason: 核对)")])
    assert shape(found) == [(LI, "办理身份证换领", ("search", "profile", "revealed phone number (reason: 核对)"), 3),
                            (WANG, "Following up a reminder", ("search", "profile"), 2)]


def test_the_same_name_in_another_role_is_another_reader():
    found = visits([rec(1, 0, "materials", actor="公安局户籍系统", role="system"),
                    rec(2, 1, "due items", actor="公安局户籍系统", role="officer")])
    assert len(found) == 2


def test_records_in_the_same_millisecond_keep_their_chain_order_and_no_records_no_visits():
    (visit,) = visits([rec(2, 0, "profile"), rec(1, 0, "search")])
    assert visit.whats == ("search", "profile")
    assert visits([]) == []
