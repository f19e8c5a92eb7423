"""The training rules as pure functions: grading, drawing, renewal arithmetic and retake state.

No database here: `tandem.training.rules` imports none (the first test holds it).
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from tandem.accounts.services import ProgramSettings
from tandem.training.content import Option, Question, current_track
from tandem.training.rules import (
    AnswerSheetError,
    AttemptRecord,
    MentorRecords,
    SeenVersion,
    VersionRule,
    add_months,
    compliance_state,
    draw_questions,
    evaluate_module,
    evaluate_track,
    grace_ends,
    grade,
    may_be_matched,
    option_order,
    read_answer_sheet,
    renewal_months,
    track_current_until,
    track_holds_until,
    version_rules,
    why_not,
)

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_the_rules_load_no_database_and_no_web_code() -> None:
    """Importing the rules (and the content types they use) pulls in no Piccolo, Litestar or
    HTTP client, so they run anywhere: a notebook, a batch job, this test without a server."""
    code = (
        "import sys, tandem.training.rules\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'piccolo', 'litestar', 'httpx', 'asyncpg', 'sqlite3'} or m.startswith("
        "('tandem.core', 'tandem.accounts', 'tandem.training.services')) "
        # The shared status enums are plain Python, written for exactly such modules.
        "and m not in {'tandem.core', 'tandem.core.statuses'})\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
    defaults = renewal_months(track, ProgramSettings(), ProgramSettings())
    assert defaults["overdose-response"] == 12
    assert defaults["boundaries"] == 24
    stricter = msgspec.structs.replace(ProgramSettings(), safety_module_renewal_months=6)
    assert renewal_months(track, stricter, ProgramSettings())["suicide-and-escalation"] == 6
    assert renewal_months(track, stricter, ProgramSettings())["mentor-role"] == 24


def _attempt(module: str, when: datetime, passed: bool, version: int = 1) -> AttemptRecord:
    return AttemptRecord(id=0, module_id=module, content_version=version, submitted_at=when,
                         passed=passed)  # fmt: skip


def test_failures_lead_to_review_then_wait_then_lock() -> None:
    module = current_track().module("mentor-role")
    assert module is not None
    one = MentorRecords(attempts=[_attempt("mentor-role", AT - timedelta(hours=1), False)])
    state = evaluate_module(module, 24, ANY_VERSION, one, set(), AT)
    assert (state.status, state.needs_review, state.can_take_quiz) == ("in_progress", True, False)
    one.visits["mentor-role"] = AT - timedelta(minutes=30)
    assert evaluate_module(module, 24, ANY_VERSION, one, set(), AT).can_take_quiz

    two = MentorRecords(
        attempts=[*one.attempts, _attempt("mentor-role", AT - timedelta(minutes=20), False)],
        visits={"mentor-role": AT - timedelta(minutes=10)},
    )
    state = evaluate_module(module, 24, ANY_VERSION, two, set(), AT)
    assert state.wait_until == AT - timedelta(minutes=20) + timedelta(hours=24)
    assert not state.can_take_quiz
    later = AT + timedelta(hours=24)
    assert evaluate_module(module, 24, ANY_VERSION, two, set(), later).can_take_quiz

    three = MentorRecords(
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
    records = MentorRecords(
        attempts=[_attempt("mentor-role", first + timedelta(days=d), False) for d in (0, 1, 3, 5)],
        visits={"mentor-role": first + timedelta(days=6)},  # read again after the fourth try
        unlocks={"mentor-role": first + timedelta(days=4)},  # reopened after the third
    )
    state = evaluate_module(module, 24, ANY_VERSION, records, set(), AT)
    assert (state.failures, state.locked_reason, state.needs_review) == (1, None, False)
    assert state.attempt_limit_until == first + timedelta(days=90)
    assert not state.can_take_quiz
    assert "4 times in 90 days" in why_not(state, current_track())
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
    records = MentorRecords(
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
    state = evaluate_module(module, 24, ANY_VERSION, MentorRecords(), set(), AT)
    assert (state.status, state.locked_reason) == ("locked", "prerequisites")
    state = evaluate_module(module, 24, ANY_VERSION, MentorRecords(), {"boundaries"}, AT)
    assert state.status == "not_started"
    assert state.can_take_quiz


def test_a_material_version_makes_older_passes_lapse_from_its_release() -> None:
    module = current_track().module("boundaries")
    assert module is not None
    released = AT - timedelta(days=3)
    records = MentorRecords(attempts=[_attempt("boundaries", AT - timedelta(days=40), True, 1)])
    state = evaluate_module(module, 24, VersionRule(2, released), records, {"mentor-role"}, AT)
    assert (state.status, state.retake_reason, state.lapsed_at) == (
        "expired", "new_version", released,
    )  # fmt: skip


def test_track_state_grace_and_compliance() -> None:
    track = current_track()
    months = renewal_months(track, ProgramSettings(), ProgramSettings())
    rules = {m.id: ANY_VERSION for m in track.modules}
    passed = MentorRecords(attempts=[_attempt(m.id, AT, True) for m in track.modules])
    states = evaluate_track(track, months, rules, passed, AT + timedelta(days=1))
    assert compliance_state(states, visited=True) == "complete"
    assert grace_ends(states, 30) is None
    assert may_be_matched("active", False, states)
    assert not may_be_matched("active", True, states)  # paused
    assert not may_be_matched("pending", False, states)  # not approved yet
    soon = evaluate_track(track, months, rules, passed, AT + timedelta(days=350))
    assert compliance_state(soon, visited=True) == "expiring_soon"
    lapsed = evaluate_track(track, months, rules, passed, AT + timedelta(days=400))
    assert compliance_state(lapsed, visited=True) == "expired"
    assert grace_ends(lapsed, 30) == add_months(AT, 12) + timedelta(days=30)
    nothing = evaluate_track(track, months, rules, MentorRecords(), AT)
    assert not may_be_matched("active", False, nothing)
    assert compliance_state(nothing, visited=False) == "not_started"
    assert compliance_state(nothing, visited=True) == "in_progress"
    assert grace_ends(nothing, 30) is None


def test_options_are_shuffled_per_attempt_and_answers_map_back() -> None:
    question = Question("q", "m", False, "stem", tuple(Option(t, t == "c") for t in "abcd"), "why")
    rng = random.Random(7)
    orders = [option_order(question, rng) for _ in range(60)]
    assert all(sorted(order) == [0, 1, 2, 3] for order in orders)
    assert len({tuple(order) for order in orders}) > 12  # most of the 24 orders appear
    # Where the best option was shown decides nothing: graded after mapping back to the file.
    for order in orders:
        shown_best = order.index(question.correct_index)
        chosen = read_answer_sheet([question], {"q": order}, {"q": shown_best})
        assert chosen == {"q": question.correct_index}
        assert grade([question], chosen, 0.8).passed
    # Attempts stored before shuffling have no order: the file's order applies.
    assert read_answer_sheet([question], {}, {"q": 2}) == {"q": 2}


def test_an_answer_sheet_must_be_complete_and_name_real_options() -> None:
    questions = [_question(f"q{i}") for i in range(3)]
    with pytest.raises(AnswerSheetError, match=r"Questions 2, 3 \(q1, q2\) have no answer yet"):
        read_answer_sheet(questions, {}, {"q0": 0})
    with pytest.raises(AnswerSheetError, match=r"Question 1 \(q0\) has no answer yet"):
        read_answer_sheet(questions, {}, {"q1": 0, "q2": 1})
    with pytest.raises(AnswerSheetError, match="has no option 3"):
        read_answer_sheet(questions, {}, {"q0": 3, "q1": 0, "q2": 0})
    with pytest.raises(AnswerSheetError, match="not a question of this quiz"):
        read_answer_sheet(questions, {}, {"q0": 0, "q1": 0, "q2": 0, "other": 0})


def _strategy_pass_rate(module_id: str, pick: object, attempts: int, seed: int) -> float:
    """Sit a module's quiz `attempts` times choosing by option length alone, through the same
    draw, shuffle, answer-sheet and grading functions the service uses."""
    module = current_track().module(module_id)
    assert module is not None
    rng = random.Random(seed)
    passed = 0
    for _ in range(attempts):
        drawn = draw_questions(module, rng)
        orders = {q.id: option_order(q, rng) for q in drawn}
        answers = {}
        for q in drawn:
            shown = [" ".join(q.options[i].text.split()) for i in orders[q.id]]
            lengths = [len(text) for text in shown]
            answers[q.id] = lengths.index(pick(lengths))  # type: ignore[operator]
        chosen = read_answer_sheet(drawn, orders, answers)
        passed += grade(drawn, chosen, module.pass_mark).passed
    return passed / attempts


@pytest.mark.parametrize("module_id", [m.id for m in current_track().modules])
@pytest.mark.parametrize("pick", [max, min], ids=["longest", "shortest"])
def test_choosing_by_option_length_does_not_pass(module_id: str, pick: object) -> None:
    """Before the rewrite, "always the longest" passed self-care-and-supervision 70% of tries."""
    rate = _strategy_pass_rate(module_id, pick, attempts=1000, seed=2026)
    assert rate <= 0.05, f"{pick.__name__}: {rate:.1%} of attempts pass {module_id}"  # type: ignore[attr-defined]


def test_version_rules_keep_the_history_of_material_changes() -> None:
    track = current_track()
    module = track.modules[0]
    released = AT - timedelta(days=2)
    seen = [
        SeenVersion(module.id, module.version - 1, True, AT - timedelta(days=400)),
        SeenVersion(module.id, module.version, True, released),
        SeenVersion(module.id, module.version + 1, True, AT),  # a newer file elsewhere
    ]
    rule = version_rules(track, seen)[module.id]
    assert rule == VersionRule(required_version=module.version, since=released)
    # A version nobody registered yet still counts with its own flag.
    unregistered = version_rules(track, [])[module.id]
    assert unregistered.required_version == (module.version if module.material_change else 0)
    assert unregistered.since is None


def test_track_current_until_agrees_with_each_module_state() -> None:
    """The gate's shortcut and `evaluate_track` say the same about currency, at every moment."""
    track = current_track()
    months = {module.id: module.renewal_months for module in track.modules}
    counted = {
        module.id: VersionRule(required_version=module.version, since=None)
        for module in track.modules
    }
    start = datetime(2025, 1, 10, tzinfo=UTC)
    records = MentorRecords()
    for step, module in enumerate(track.modules):
        records.attempts.append(
            AttemptRecord(id=step, module_id=module.id, content_version=module.version,
                          submitted_at=start + timedelta(days=step), passed=True)
        )  # fmt: skip
    # An old pass of a version that no longer counts changes nothing.
    first = track.modules[0]
    records.attempts.append(
        AttemptRecord(id=99, module_id=first.id, content_version=first.version - 1,
                      submitted_at=start + timedelta(days=300), passed=True)
    )  # fmt: skip
    latest = {(a.module_id, a.content_version): a.submitted_at for a in records.attempts}
    until = track_current_until(track, months, counted, latest)
    assert until is not None
    for at in (
        start + timedelta(days=10),
        until - timedelta(minutes=1),
        until,
        until + timedelta(days=1),
    ):
        states = evaluate_track(track, months, counted, records, at)
        assert all(s.current for s in states) is (at < until), at
    missing = {key: value for key, value in latest.items() if key[0] != track.modules[-1].id}
    assert track_current_until(track, months, counted, missing) is None


def _random_records(rng: random.Random, start: datetime) -> MentorRecords:
    """A mentor's history over two years: passes and failures (some of an older version, some
    still open), lessons read and supervisors' reopenings, at random moments."""
    track = current_track()

    def moment() -> datetime:
        # Most of them within days of `start`, where the retake waits and the cap turn.
        days = 2 * 365 if rng.random() < 0.3 else 4
        return start + timedelta(minutes=rng.randrange(days * 24 * 60))

    records = MentorRecords()
    for number in range(rng.randrange(30)):
        module = rng.choice(track.modules[:2])
        records.attempts.append(
            AttemptRecord(id=number, module_id=module.id,
                          content_version=module.version - rng.randrange(2),
                          submitted_at=None if rng.random() < 0.1 else moment(),
                          passed=rng.random() < 0.4)
        )  # fmt: skip
    for module in rng.sample(track.modules, rng.randrange(4)):
        records.visits[module.id] = moment()
    for module in rng.sample(track.modules, rng.randrange(3)):
        records.unlocks[module.id] = moment()
    return records


def test_a_track_holds_until_the_moment_track_holds_until_names() -> None:
    """Between `at` and `track_holds_until`, every moment shows the same track (what lets a
    mentor's track be cached until then); random histories, each looked at several times."""
    track = current_track()
    months = {module.id: module.renewal_months for module in track.modules}
    counted = {
        module.id: VersionRule(required_version=module.version, since=None)
        for module in track.modules
    }
    rng = random.Random(12)
    start = datetime(2025, 1, 10, tzinfo=UTC)
    for _ in range(500):
        records = _random_records(rng, start)
        at = start + timedelta(minutes=rng.randrange(rng.choice((5, 3 * 365)) * 24 * 60))
        states = evaluate_track(track, months, counted, records, at)
        until = track_holds_until(states, records, at)
        assert until is None or until > at
        last = until - timedelta(microseconds=1) if until else at + timedelta(days=3650)
        for later in (at + (last - at) * rng.random(), at + (last - at) / 2, last):
            assert evaluate_track(track, months, counted, records, later) == states, (at, later)
