"""The safety rules without a database or server: severities from the category and answers,
deadlines in business days on the program's own calendar, the step table, overdue, patterns."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tandem.core.clock import Clock
from tandem.core.severity import Severity
from tandem.safety import rules
from tandem.safety.rules import Category, ConcernStatus, Step

S1, S2, S3, S4 = Severity.S1, Severity.S2, Severity.S3, Severity.S4


@dataclass
class Times:
    time_zone: str = "America/New_York"
    s1_response_minutes: int = 15
    s2_response_hours: int = 4
    s3_response_business_days: int = 1
    s4_response_business_days: int = 3


def test_the_rules_module_imports_no_database_or_web() -> None:
    tree = ast.parse(Path(rules.__file__).read_text())
    names = {
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [node])  # type: ignore[attr-defined]
    }
    assert not {n for n in names if n.split(".")[0] in {"piccolo", "litestar", "httpx"}}
    assert not {n for n in names if n.startswith("tandem.") and n != "tandem.core.severity"}


def test_thirteen_categories_each_in_plain_words() -> None:
    assert len(rules.CATEGORIES) == 13
    for rule in rules.CATEGORIES.values():
        assert rule.label
        assert rule.description.endswith(".")
        text = f"{rule.label} {rule.description}".lower()
        for word in ("relapse", "addict", "clean", "mentee"):
            assert word not in text


@pytest.mark.parametrize(
    ("category", "answers", "expected"),
    [
        (Category.ROMANTIC, [], S2),
        (Category.ROMANTIC, ["sexual_contact"], S1),
        (Category.MONEY, [], S2),
        (Category.GIFTS, [], S4),
        (Category.GIFTS, ["over_cap"], S3),
        (Category.GIFTS, ["over_cap", "repeated_or_pressured"], S2),
        (Category.DUAL_RELATIONSHIP, ["power_hold"], S2),
        (Category.COMMUNICATION, [], S4),
        (Category.COMMUNICATION, ["after_coaching"], S3),
        (Category.MENTOR_WELLBEING, [], S3),
        (Category.HARASSMENT, ["violence"], S1),
        (Category.SAFETY, [], S2),
        (Category.SAFETY, ["imminent"], S1),
    ],
)
def test_severity_defaults_from_the_category_and_rises_with_answers(
    category: Category, answers: list[str], expected: Severity
) -> None:
    assert rules.severity_for(category, answers) is expected


def test_urgent_is_always_s1_and_answers_never_lower_a_severity() -> None:
    assert rules.severity_for(Category.GIFTS, urgent=True) is S1
    assert rules.severity_for(Category.ROMANTIC, ["not-a-question"]) is S2
    assert rules.unknown_answers(Category.ROMANTIC, ["sexual_contact", "x"]) == ["x"]


def test_s1_and_s2_deadlines_are_minutes_and_hours_around_the_clock() -> None:
    saturday_night = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    assert rules.due_at(S1, saturday_night, Times()) == saturday_night + timedelta(minutes=15)
    assert rules.due_at(S2, saturday_night, Times()) == saturday_night + timedelta(hours=4)
    assert rules.due_at(S1, saturday_night, Times(s1_response_minutes=5)) - saturday_night == (
        timedelta(minutes=5)
    )


def test_business_days_skip_the_weekend_on_the_programs_calendar() -> None:
    clock = Clock()
    with clock.frozen(datetime(2026, 1, 9, 20, 0, tzinfo=UTC)):  # Friday 15:00 in New York
        filed = clock.now()
        assert rules.due_at(S3, filed, Times()) == datetime(2026, 1, 12, 20, 0, tzinfo=UTC)
        # Three business days from Friday: Wednesday, same local time.
        assert rules.due_at(S4, filed, Times()) == datetime(2026, 1, 14, 20, 0, tzinfo=UTC)
    # 03:00 UTC Saturday is still Friday evening in New York (a business day) ...
    late_friday = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
    assert rules.due_at(S3, late_friday, Times()) == datetime(2026, 1, 13, 3, 0, tzinfo=UTC)
    # ... but already Saturday in Berlin: the count starts Monday 00:00, due end of Monday.
    berlin = rules.due_at(S3, late_friday, Times(time_zone="Europe/Berlin"))
    assert berlin == datetime(2026, 1, 12, 23, 0, tzinfo=UTC)


def test_business_days_keep_local_time_across_daylight_saving() -> None:
    # Friday 6 March 2026, 10:00 in New York (EST, UTC-5); clocks go forward on Sunday 8 March.
    filed = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    due = rules.due_at(S3, filed, Times())
    assert due == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # Monday 10:00 EDT (UTC-4)


def test_a_program_may_change_its_response_times() -> None:
    monday = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    assert rules.due_at(S4, monday, Times(s4_response_business_days=5)) == monday + timedelta(
        days=7
    )


def test_concern_steps_follow_the_table() -> None:
    assert rules.advance("open", Step.ACKNOWLEDGE) is ConcernStatus.ACKNOWLEDGED
    assert rules.advance("acknowledged", Step.ACT) is ConcernStatus.ACTING
    assert rules.advance("acting", Step.NOTE) is ConcernStatus.ACTING
    assert rules.advance("acting", Step.CLOSE) is ConcernStatus.CLOSED
    with pytest.raises(rules.InvalidStep, match="closed, so it cannot be acknowledged"):
        rules.advance("closed", Step.ACKNOWLEDGE)
    with pytest.raises(rules.InvalidStep):
        rules.advance("acknowledged", Step.ACKNOWLEDGE)
    with pytest.raises(rules.InvalidStep):
        rules.advance("nonsense", Step.NOTE)


def test_overdue_means_unacknowledged_past_its_deadline() -> None:
    due = datetime(2026, 1, 5, 9, 15, tzinfo=UTC)
    assert not rules.is_overdue("open", due, due)
    assert rules.is_overdue("open", due, due + timedelta(seconds=1))
    assert not rules.is_overdue("acknowledged", due, due + timedelta(days=1))
    assert not rules.is_overdue("closed", due, due + timedelta(days=1))


def test_three_small_concerns_in_90_days_raise_one_pattern() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    two = [now - timedelta(days=80), now - timedelta(days=1)]
    assert not rules.pattern_escalates(two, None, now)
    assert rules.pattern_escalates([*two, now], None, now)
    # The oldest fell outside the 90 days.
    assert not rules.pattern_escalates([now - timedelta(days=91), *two[1:], now], None, now)
    # Already counted by a pattern concern raised yesterday: they do not count again.
    assert not rules.pattern_escalates([*two, now], now - timedelta(hours=1), now)


def test_open_s1_and_s2_hold_new_matches() -> None:
    assert rules.holds_new_matches("S1", "open")
    assert rules.holds_new_matches("S2", "acting")
    assert not rules.holds_new_matches("S2", "closed")
    assert not rules.holds_new_matches("S3", "open")


def test_every_urgent_situation_has_first_steps() -> None:
    assert set(rules.URGENT_STEPS) == set(rules.UrgentSituation)
    assert all(steps for _, steps in rules.URGENT_STEPS.values())
