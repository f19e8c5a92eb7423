"""`assign`: never a broken rule or capacity, optimal on small queues, at least greedy."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_builders import POLICY, mentor, newcomer

from matching import MentorIndex, Policy, assign, check
from matching.assignment import candidate_graph, dense_values, waiting_bonus
from matching.index import NewcomerBatch
from matching.solvers import solve_exact, solve_greedy, solve_stable
from matching.synthetic import synthetic_program

programs = st.builds(
    synthetic_program,
    newcomers=st.integers(0, 24),
    mentors=st.integers(0, 8),
    seed=st.integers(0, 100_000),
)
policies = st.builds(
    Policy,
    min_shared_hours=st.sampled_from([0.0, 1.0, 3.0]),
    min_mentor_recovery_days=st.sampled_from([365, 730]),
    waiting_bonus=st.sampled_from([0.0, 2.0]),
)


@settings(max_examples=60, deadline=None)
@given(program=programs, base=policies)
def test_assignment_is_feasible_within_capacity_and_optimal_on_small_queues(program, base) -> None:
    policy = Policy(
        conflicts=program.conflicts,
        min_shared_hours=base.min_shared_hours,
        min_mentor_recovery_days=base.min_mentor_recovery_days,
        waiting_bonus=base.waiting_bonus,
    )
    result = assign(program.newcomers, program.mentors, policy)
    newcomers = {n.id: n for n in program.newcomers}
    mentors = {m.id: m for m in program.mentors}

    # Every newcomer is accounted for exactly once.
    seen = [m.newcomer_id for m in result.matches] + [u.newcomer_id for u in result.unmatched]
    assert sorted(seen) == sorted(newcomers)
    # No hard rule broken, no capacity exceeded.
    for match in result.matches:
        assert check(newcomers[match.newcomer_id], mentors[match.mentor_id], policy) == ()
    for mentor_id, count in Counter(m.mentor_id for m in result.matches).items():
        assert count <= mentors[mentor_id].remaining_capacity
    # Reasons are true.
    load = Counter(m.mentor_id for m in result.matches)
    for left in result.unmatched:
        feasible = [m for m in program.mentors if not check(newcomers[left.newcomer_id], m, policy)]
        if left.reason == "no_feasible_mentor":
            assert feasible == []
        else:
            assert feasible
            assert all(load[m.id] == m.remaining_capacity for m in feasible)

    # Equal to the exact optimum, and at least greedy and stable matching.
    index = MentorIndex.build(program.mentors, policy)
    batch = NewcomerBatch.build(program.newcomers, index)
    bonus = waiting_bonus(program.newcomers, policy)
    values = dense_values(batch, index, policy, bonus)
    capacity = np.maximum(index.remaining, 0)
    rows, cols = solve_exact(values, capacity)
    exact = float(values[rows, cols].sum())
    got = sum(
        values[i, index.position[m.mentor_id]]
        for i, n in enumerate(program.newcomers)
        for m in result.matches
        if m.newcomer_id == n.id
    )
    # The flow's costs are whole millionths of a point: optimal to within a millionth per match.
    tolerance = 1e-6 * max(len(rows), 1)
    assert got == pytest.approx(exact, rel=0, abs=tolerance)
    graph = candidate_graph(batch, index, policy, bonus)
    for baseline in (solve_greedy, solve_stable):
        chosen = baseline(graph.rows, graph.cols, graph.value, graph.capacity)
        assert float(graph.value[chosen].sum()) <= got + tolerance
    assert result.total_score == sum(m.score for m in result.matches)


@settings(max_examples=20, deadline=None)
@given(program=programs)
def test_same_input_same_output(program) -> None:
    policy = Policy(conflicts=program.conflicts)
    assert assign(program.newcomers, program.mentors, policy) == assign(
        program.newcomers, list(program.mentors), policy
    )


def test_the_person_who_waited_longest_gets_the_last_place() -> None:
    early = newcomer(id="n-early", waiting_since=dt.date(2025, 10, 1))
    late = newcomer(id="n-late", waiting_since=dt.date(2025, 12, 20))
    result = assign([late, early], [mentor(remaining_capacity=1)], POLICY)
    assert [(m.newcomer_id, m.mentor_id) for m in result.matches] == [("n-early", "m-1")]
    left = [(u.newcomer_id, u.reason) for u in result.unmatched]
    assert left == [("n-late", "capacity_exhausted")]


def test_a_newcomer_nobody_can_serve_is_told_so() -> None:
    result = assign([newcomer(languages=frozenset({"fr"}))], [mentor()], POLICY)
    assert result.matches == ()
    assert [u.reason for u in result.unmatched] == ["no_feasible_mentor"]


def test_more_people_matched_beats_a_slightly_better_single_pair() -> None:
    # n-1 fits m-1 best but can also take m-2; n-2 can only take m-1.
    both = newcomer(id="n-1", pathways=frozenset({"smart_recovery"}))
    only_first = newcomer(id="n-2", languages=frozenset({"es"}))
    first = mentor(
        id="m-1",
        languages=frozenset({"en", "es"}),
        remaining_capacity=1,
        pathways=frozenset({"smart_recovery"}),
    )
    second = mentor(id="m-2", remaining_capacity=1)
    result = assign([both, only_first], [first, second], POLICY)
    assert sorted((m.newcomer_id, m.mentor_id) for m in result.matches) == [
        ("n-1", "m-2"),
        ("n-2", "m-1"),
    ]


def test_an_empty_queue_or_no_mentors_is_fine() -> None:
    assert assign([], [mentor()], POLICY).matches == ()
    result = assign([newcomer()], [], POLICY)
    assert [u.reason for u in result.unmatched] == ["no_feasible_mentor"]
