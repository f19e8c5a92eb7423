"""Check-in flags, gone quiet and the monthly wellbeing check-in, on a clock the test sets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tandem.safety import care_rules as rules
from tandem.safety.care_rules import CheckInFlag, QuietHours

# Monday to Sunday, 17:00-21:00 free for both (the mentor's zone).
EVENINGS = [[17, 18, 19, 20] for _ in range(7)]


def test_contact_inside_the_shared_hours_raises_nothing(frozen) -> None:
    today = frozen.today()
    assert rules.check_in_flags(today, 18, 0, 60, EVENINGS, None, []) == []


def test_contact_outside_the_shared_hours_is_flagged(frozen) -> None:
    today = frozen.today()
    assert rules.check_in_flags(today, 23, 30, 20, EVENINGS, None, []) == [
        CheckInFlag.OUTSIDE_AGREED_HOURS
    ]


def test_contact_running_past_the_agreed_hours_is_flagged(frozen) -> None:
    # 20:30 for an hour runs into 21:00, which nobody agreed to.
    assert rules.outside_agreed_hours(frozen.today(), 20, 30, 60, EVENINGS, None)
    assert not rules.outside_agreed_hours(frozen.today(), 20, 0, 60, EVENINGS, None)


def test_contact_past_midnight_is_judged_on_the_next_day() -> None:
    sunday = date(2026, 1, 11)
    grid = [[0] if day == 0 else [23] for day in range(7)]  # Monday 00:00, every other day 23:00
    assert not rules.outside_agreed_hours(sunday, 23, 30, 60, grid, None)
    saturday = date(2026, 1, 10)
    assert rules.outside_agreed_hours(saturday, 23, 30, 60, grid, None)


def test_the_mentors_quiet_hours_win_over_shared_availability(frozen) -> None:
    quiet = QuietHours(start=20, end=8)
    assert rules.outside_agreed_hours(frozen.today(), 20, 0, 30, EVENINGS, quiet)
    assert not rules.outside_agreed_hours(frozen.today(), 19, 0, 30, EVENINGS, quiet)
    assert rules.agreed_hours(EVENINGS, quiet)[0] == {17, 18, 19}


@pytest.mark.parametrize(
    ("start", "end", "inside", "outside"),
    [(21, 7, [21, 23, 0, 6], [7, 12, 20]), (12, 14, [12, 13], [11, 14]), (9, 9, [], [9, 0])],
)
def test_quiet_hours_cover_their_span_even_past_midnight(start, end, inside, outside) -> None:
    quiet = QuietHours(start, end)
    assert all(quiet.covers(hour) for hour in inside)
    assert not any(quiet.covers(hour) for hour in outside)


def test_a_match_with_no_shared_hours_is_judged_by_the_quiet_hours_alone(frozen) -> None:
    no_overlap = [[] for _ in range(7)]
    assert not rules.outside_agreed_hours(frozen.today(), 12, 0, 15, no_overlap, None)
    quiet = QuietHours(start=22, end=7)
    assert rules.outside_agreed_hours(frozen.today(), 23, 0, 15, no_overlap, quiet)
    assert not rules.outside_agreed_hours(frozen.today(), 12, 0, 15, [], quiet)


def test_a_sixth_contact_within_seven_days_is_unusually_frequent(frozen) -> None:
    today = frozen.today()
    five = [today - timedelta(days=d) for d in range(5)]
    assert rules.frequent_contact(today, five)
    assert not rules.frequent_contact(today, five[:4])
    # Contacts eight days ago are outside the window.
    older = [today - timedelta(days=7 + d) for d in range(5)]
    assert not rules.frequent_contact(today, older)
    flags = rules.check_in_flags(today, 23, 0, 30, EVENINGS, None, five)
    assert flags == [CheckInFlag.OUTSIDE_AGREED_HOURS, CheckInFlag.FREQUENT_CONTACT]


def test_a_match_goes_quiet_after_21_days_without_a_check_in(frozen) -> None:
    today = frozen.today()
    started = today - timedelta(days=60)
    assert not rules.gone_quiet(today - timedelta(days=20), started, today)
    assert rules.gone_quiet(today - timedelta(days=21), started, today)
    assert rules.days_quiet(today - timedelta(days=30), started, today) == 30
    frozen.advance(timedelta(days=1))
    assert rules.gone_quiet(today - timedelta(days=20), started, frozen.today())


def test_a_match_with_no_check_in_is_quiet_21_days_after_it_began(frozen) -> None:
    today = frozen.today()
    assert not rules.gone_quiet(None, today - timedelta(days=20), today)
    assert rules.gone_quiet(None, today - timedelta(days=21), today)
    assert rules.days_quiet(None, today - timedelta(days=25), today) == 25
    assert rules.quiet_since(today) == today - timedelta(days=21)


def test_check_in_dates_cannot_be_in_the_future_or_long_ago(frozen) -> None:
    today = frozen.today()
    assert rules.check_in_date_problem(today, today) is None
    assert "future" in (rules.check_in_date_problem(today + timedelta(days=1), today) or "")
    assert "60 days" in (rules.check_in_date_problem(today - timedelta(days=61), today) or "")


ALL_FINE = {"rested": 4, "load": 4, "supported": 5, "recovery": 3}


def test_low_wellbeing_answers_suggest_a_conversation() -> None:
    assert not rules.suggests_conversation(ALL_FINE)
    assert rules.suggests_conversation({**ALL_FINE, "load": 2})
    assert rules.suggests_conversation({**ALL_FINE, "recovery": 1})


def test_a_wellbeing_check_in_must_answer_every_question_on_the_scale() -> None:
    assert rules.wellbeing_problem(ALL_FINE) is None
    missing = {k: v for k, v in ALL_FINE.items() if k != "load"}
    assert "manageable" in (rules.wellbeing_problem(missing) or "")
    assert rules.wellbeing_problem({**ALL_FINE, "rested": 6}) is not None
    assert "mood" in (rules.wellbeing_problem({**ALL_FINE, "mood": 3}) or "")


def test_the_wellbeing_check_in_is_due_once_a_calendar_month(frozen) -> None:
    today = frozen.today()  # 5 January 2026
    assert rules.wellbeing_due(None, today)
    assert not rules.wellbeing_due(date(2026, 1, 1), today)
    assert rules.wellbeing_due(date(2025, 12, 31), today)
    assert rules.wellbeing_due(date(2025, 1, 5), today)  # same month, a year earlier
    assert rules.month_start(today) == date(2026, 1, 1)


def test_the_rules_module_stays_pure() -> None:
    source = rules.__loader__.get_source(rules.__name__) or ""  # type: ignore[union-attr]
    for word in ("piccolo", "litestar", "tandem.", "httpx"):
        assert f"import {word}" not in source
        assert f"from {word}" not in source
