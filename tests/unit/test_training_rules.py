"""The training rules as pure functions: grading, drawing, renewal arithmetic and retake state."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from tandem.accounts.services import ProgramSettings
from tandem.training.content import Option, Question, current_track
from tandem.training.services import (
    AttemptRecord,
    Records,
    VersionRule,
    add_months,
    compliance_state,
    draw_questions,
    evaluate_module,
    evaluate_track,
    grace_ends,
    grade,
    renewal_months,
    why_not,
)

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
ANY_VERSION = VersionRule(required_version=0, since=None)


def _question(qid: str, critical: bool = False) -> Question:
    options = (Option("a", True), Option("b", False), Option("c", False))
    return Question(qid, "m", critical, "stem", options, "why")


def test_grade_needs_the_pass_mark_and_every_critical_item() -> None:
    questions = [_question(f"q{i}", critical=i == 0) for i in range(5)]
    all_right = {q.id: 0 for q in questions}
    assert grade(questions, all_right, 0.8).passed
    four_of_five = {**all_right, "q4": 1}
    result = grade(questions, four_of_five, 0.8)
    assert (result.right, result.score, result.passed) == (4, 0.8, True)
    three_of_five = {**four_of_five, "q3": 1}
    assert not grade(questions, three_of_five, 0.8).passed
    critical_wrong = {**all_right, "q0": 2}
    result = grade(questions, critical_wrong, 0.8)
    assert result.critical_missed == 1
    assert not result.passed
    assert not grade(questions, {}, 0.8).passed


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 5, 15, 9, tzinfo=UTC), 12, datetime(2027, 5, 15, 9, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), 24, datetime(2028, 11, 30, tzinfo=UTC)),
        (datetime(2026, 12, 1, tzinfo=UTC), 1, datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected) -> None:
    assert add_months(start, months) == expected


def test_a_draw_is_random_sized_right_and_meets_a_critical_item() -> None:
    module = current_track().module("overdose-response")
    assert module is not None
    draws = [draw_questions(module, random.Random(seed)) for seed in range(40)]
    assert all(len(d) == module.quiz_length == len({q.id for q in d}) for d in draws)
    assert all(any(q.critical for q in d) for d in draws)
    assert len({tuple(sorted(q.id for q in d)) for d in draws}) > 30


def test_renewal_defaults_come_from_front_matter_and_programs_may_override() -> None:
    track = current_track()
    defaults = renewal_months(track, ProgramSettings())
    assert defaults["overdose-response"] == 12
    assert defaults["boundaries"] == 24
    stricter = msgspec.structs.replace(ProgramSettings(), safety_module_renewal_months=6)
    assert renewal_months(track, stricter)["suicide-and-escalation"] == 6
    assert renewal_months(track, stricter)["mentor-role"] == 24


def _attempt(module: str, when: datetime, passed: bool, version: int = 1) -> AttemptRecord:
    return AttemptRecord(id=0, module_id=module, content_version=version, submitted_at=when,
                         passed=passed)  # fmt: skip


def test_failures_lead_to_review_then_wait_then_lock() -> None:
    module = current_track().module("mentor-role")
    assert module is not None
    one = Records(attempts=[_attempt("mentor-role", AT - timedelta(hours=1), False)])
    state = evaluate_module(module, 24, ANY_VERSION, one, set(), AT)
    assert (state.status, state.needs_review, state.can_take_quiz) == ("in_progress", True, False)
    one.visits["mentor-role"] = AT - timedelta(minutes=30)
    assert evaluate_module(module, 24, ANY_VERSION, one, set(), AT).can_take_quiz

    two = Records(
        attempts=[*one.attempts, _attempt("mentor-role", AT - timedelta(minutes=20), False)],
        visits={"mentor-role": AT - timedelta(minutes=10)},
    )
    state = evaluate_module(module, 24, ANY_VERSION, two, set(), AT)
    assert state.wait_until == AT - timedelta(minutes=20) + timedelta(hours=24)
    assert not state.can_take_quiz
    later = AT + timedelta(hours=24)
    assert evaluate_module(module, 24, ANY_VERSION, two, set(), later).can_take_quiz

    three = Records(
        attempts=[*two.attempts, _attempt("mentor-role", later, False)],
        visits={"mentor-role": later + timedelta(minutes=1)},
    )
    state = evaluate_module(module, 24, ANY_VERSION, three, set(), later + timedelta(days=9))
    assert (state.status, state.locked_reason) == ("locked", "failures")
    three.unlocks["mentor-role"] = later + timedelta(days=1)
    state = evaluate_module(module, 24, ANY_VERSION, three, set(), later + timedelta(days=9))
    assert state.failures == 0
    assert state.can_take_quiz


def test_no_more_than_four_tries_in_ninety_days_even_after_a_reopening() -> None:
    module = current_track().module("mentor-role")
    assert module is not None
    first = AT - timedelta(days=10)
    records = Records(
        attempts=[_attempt("mentor-role", first + timedelta(days=d), False) for d in (0, 1, 3, 5)],
        visits={"mentor-role": first + timedelta(days=6)},  # read again after the fourth try
        unlocks={"mentor-role": first + timedelta(days=4)},  # reopened after the third
    )
    state = evaluate_module(module, 24, ANY_VERSION, records, set(), AT)
    assert (state.failures, state.locked_reason, state.needs_review) == (1, None, False)
    assert state.attempt_limit_until == first + timedelta(days=90)
    assert not state.can_take_quiz
    assert "4 times in 90 days" in why_not(state.out())
    after = first + timedelta(days=90, minutes=1)  # the first try has left the window
    state = evaluate_module(module, 24, ANY_VERSION, records, set(), after)
    assert state.attempt_limit_until is None
    assert state.can_take_quiz
    # Tries before a pass do not count against the next round.
    records.attempts.insert(3, _attempt("mentor-role", first + timedelta(days=3, hours=1), True))
    state = evaluate_module(module, 24, ANY_VERSION, records, set(), AT)
    assert state.attempt_limit_until is None


def test_a_pass_resets_the_failure_count() -> None:
    module = current_track().module("mentor-role")
    assert module is not None
    records = Records(
        attempts=[
            _attempt("mentor-role", AT - timedelta(days=3), False),
            _attempt("mentor-role", AT - timedelta(days=2), False),
            _attempt("mentor-role", AT - timedelta(days=1), True),
        ]
    )
    state = evaluate_module(module, 24, ANY_VERSION, records, set(), AT)
    assert (state.status, state.failures, state.can_take_quiz) == ("passed", 0, True)


def test_prerequisites_lock_a_module_until_passed_once() -> None:
    module = current_track().module("self-disclosure")
    assert module is not None
    state = evaluate_module(module, 24, ANY_VERSION, Records(), set(), AT)
    assert (state.status, state.locked_reason) == ("locked", "prerequisites")
    state = evaluate_module(module, 24, ANY_VERSION, Records(), {"boundaries"}, AT)
    assert state.status == "not_started"
    assert state.can_take_quiz


def test_a_material_version_makes_older_passes_lapse_from_its_release() -> None:
    module = current_track().module("boundaries")
    assert module is not None
    released = AT - timedelta(days=3)
    records = Records(attempts=[_attempt("boundaries", AT - timedelta(days=40), True, 1)])
    state = evaluate_module(module, 24, VersionRule(2, released), records, {"mentor-role"}, AT)
    assert (state.status, state.retake_reason, state.lapsed_at) == (
        "expired", "new_version", released,
    )  # fmt: skip


def test_track_state_grace_and_compliance() -> None:
    track = current_track()
    months = renewal_months(track, ProgramSettings())
    rules = {m.id: ANY_VERSION for m in track.modules}
    passed = Records(attempts=[_attempt(m.id, AT, True) for m in track.modules])
    states = evaluate_track(track, months, rules, passed, AT + timedelta(days=1))
    assert compliance_state(states, visited=True) == "complete"
    assert grace_ends(states, 30) is None
    soon = evaluate_track(track, months, rules, passed, AT + timedelta(days=350))
    assert compliance_state(soon, visited=True) == "expiring_soon"
    lapsed = evaluate_track(track, months, rules, passed, AT + timedelta(days=400))
    assert compliance_state(lapsed, visited=True) == "expired"
    assert grace_ends(lapsed, 30) == add_months(AT, 12) + timedelta(days=30)
    nothing = evaluate_track(track, months, rules, Records(), AT)
    assert compliance_state(nothing, visited=False) == "not_started"
    assert compliance_state(nothing, visited=True) == "in_progress"
    assert grace_ends(nothing, 30) is None
