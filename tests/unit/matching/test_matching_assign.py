"""`assign`: never a broken rule or capacity; the most people matched, then the best total.

The references here are computed independently of the engine's solvers: the largest number of
newcomers any assignment can match is scipy's `maximum_flow` over every feasible pair, and the
exact optimum of the documented objective (most matched, then the highest total of pair score
plus waiting priority) is scipy's `linear_sum_assignment` on the capacity-expanded matrix with a
premium per pair larger than any total. Instances include adversarial ones where each newcomer's
best-looking mentors fail a rule the shortlist once applied too late (minimum shared hours, an
exclusion, a recorded conflict).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching_builders import POLICY, mentor, newcomer
from scipy import optimize, sparse
from scipy.sparse import csgraph

from matching import Assignment, MentorIndex, Policy, Weights, assign, check
from matching.assignment import EXACT_PAIRS, dense_values, waiting_bonus
from matching.index import NewcomerBatch
from matching.synthetic import SyntheticProgram, synthetic_program


def values_of(program: SyntheticProgram, policy: Policy) -> tuple[np.ndarray, MentorIndex]:
    """Pair score plus waiting priority for every pair (-inf where a rule fails), rows in the
    program's newcomer order, columns in the index's."""
    index = MentorIndex.build(program.mentors, policy)
    batch = NewcomerBatch.build(program.newcomers, index)
    return dense_values(batch, index, policy, waiting_bonus(program.newcomers, policy)), index


def maximum_matching_size(feasible: np.ndarray, capacity: np.ndarray) -> int:
    """Source -> newcomer (1) -> mentor (feasible pairs, 1) -> sink (places): scipy's max flow."""
    n, m = feasible.shape
    rows, cols = np.nonzero(feasible)
    tails = np.concatenate([np.zeros(n, int), 1 + rows, 1 + n + np.arange(m)])
    heads = np.concatenate([1 + np.arange(n), 1 + n + cols, np.full(m, 1 + n + m)])
    caps = np.concatenate([np.ones(n + len(rows), int), capacity]).astype(np.int32)
    graph = sparse.csr_array((caps, (tails, heads)), shape=(n + m + 2, n + m + 2))
    return int(csgraph.maximum_flow(graph, 0, n + m + 1).flow_value)


def lexicographic_optimum(values: np.ndarray, capacity: np.ndarray) -> tuple[int, float]:
    """(most pairs matched, highest total at that count) by capacity-expanded assignment."""
    slots = np.repeat(np.arange(len(capacity)), capacity)
    block = values[:, slots]
    finite = np.isfinite(block)
    premium = 1.0 + 2.0 * float(np.abs(block[finite]).sum())
    rows, cols = optimize.linear_sum_assignment(np.where(finite, -(block + premium), 0.0))
    kept = finite[rows, cols]
    return int(kept.sum()), float(block[rows, cols][kept].sum())


def adversarial(
    program: SyntheticProgram, policy: Policy, share: float, top: int, seed: int
) -> tuple[SyntheticProgram, Policy]:
    """Some newcomers exclude, and others have a recorded conflict with, their `top`
    best-scoring mentors: the candidates a shortlist cut before those rules would keep."""
    values, index = values_of(program, policy)
    rng = np.random.default_rng(seed)
    pick = rng.random(len(program.newcomers))
    people = list(program.newcomers)
    conflicts = set(program.conflicts)
    for i, person in enumerate(people):
        best = [index.mentors[j].id for j in np.argsort(-values[i])[:top] if values[i, j] > -np.inf]
        if pick[i] < share / 2:
            people[i] = replace(person, excluded_mentor_ids=frozenset(best))
        elif pick[i] < share:
            conflicts.update((person.id, mentor_id) for mentor_id in best)
    return (
        SyntheticProgram(tuple(people), program.mentors, frozenset(conflicts)),
        replace(policy, conflicts=frozenset(conflicts)),
    )


def achieved(result: Assignment, program: SyntheticProgram, values, index) -> float:
    row = {n.id: i for i, n in enumerate(program.newcomers)}
    return sum(values[row[m.newcomer_id], index.position[m.mentor_id]] for m in result.matches)


def assert_valid(result: Assignment, program: SyntheticProgram, policy: Policy) -> None:
    """Everyone accounted for once, no rule or capacity broken, every reason true."""
    newcomers = {n.id: n for n in program.newcomers}
    mentors = {m.id: m for m in program.mentors}
    seen = [m.newcomer_id for m in result.matches] + [u.newcomer_id for u in result.unmatched]
    assert sorted(seen) == sorted(newcomers)
    for match in result.matches:
        assert check(newcomers[match.newcomer_id], mentors[match.mentor_id], policy) == ()
    load = Counter(m.mentor_id for m in result.matches)
    for mentor_id, count in load.items():
        assert count <= mentors[mentor_id].remaining_capacity
    for left in result.unmatched:
        feasible = [m for m in program.mentors if not check(newcomers[left.newcomer_id], m, policy)]
        if left.reason == "no_feasible_mentor":
            assert feasible == []
        else:
            assert feasible
            assert all(load[m.id] == m.remaining_capacity for m in feasible)


# Pathway-heavy weights make a move to a second choice cost nearly a whole match's worth.
PATHWAY_HEAVY = Weights(10, 0, 0.5, 0.1, 0, 0, 0, 0)


@st.composite
def synthetic_instances(draw: st.DrawFn) -> tuple[SyntheticProgram, Policy]:
    """Generated programs, with adversarial exclusions and conflicts and a range of rules."""
    seed = draw(st.integers(0, 100_000))
    generated = synthetic_program(draw(st.integers(0, 40)), draw(st.integers(0, 30)), seed=seed)
    policy = Policy(
        conflicts=generated.conflicts,
        weights=draw(st.sampled_from([Weights(), PATHWAY_HEAVY])),
        min_shared_hours=draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])),
        min_mentor_recovery_days=draw(st.sampled_from([365, 730])),
        waiting_bonus=draw(st.sampled_from([0.0, 2.0, 50.0])),
    )
    share, top = draw(st.sampled_from([0.0, 0.3, 0.8])), draw(st.sampled_from([3, 12, 20]))
    return adversarial(generated, policy, share, top, seed)


@st.composite
def chain_instances(draw: st.DrawFn) -> tuple[SyntheticProgram, Policy]:
    """Seating one more person moves `length` others to a poor second choice each.

    Newcomer i speaks language i and fits mentor i (same pathway) far better than mentor i + 1
    (the other pathway); the last newcomer speaks only the language of mentor 0. Each mentor has
    one place. The most people are served only when everyone on the chain moves along.
    """
    length = draw(st.integers(2, 5))
    paths = [frozenset({"faith_based"}), frozenset({"harm_reduction"})]
    words = [f"l{i}" for i in range(length + 1)]
    people = [
        newcomer(id=f"n-{i}", languages=frozenset({words[i]}), pathways=paths[i % 2])
        for i in range(length + 1)
    ]
    speaks = [frozenset({words[0], words[length]})] + [
        frozenset({words[j - 1], words[j]}) for j in range(1, length)
    ]
    speaks.append(frozenset({words[length - 1]}))
    guides = [
        mentor(id=f"m-{j}", languages=speaks[j], pathways=paths[j % 2], remaining_capacity=1)
        for j in range(length + 1)
    ]
    people = draw(st.permutations(people))
    policy = Policy(weights=PATHWAY_HEAVY, reference_week=POLICY.reference_week)
    return SyntheticProgram(tuple(people), tuple(guides), frozenset()), policy


@settings(max_examples=80, deadline=None)
@given(instance=st.one_of(synthetic_instances(), chain_instances()))
def test_small_queues_reach_the_exact_optimum_of_the_documented_objective(
    instance: tuple[SyntheticProgram, Policy],
) -> None:
    program, policy = instance
    assert len(program.newcomers) * len(program.mentors) <= EXACT_PAIRS  # all pairs candidates
    result = assign(program.newcomers, program.mentors, policy)
    assert_valid(result, program, policy)
    values, index = values_of(program, policy)
    count, best = lexicographic_optimum(values, index.remaining)
    assert count == maximum_matching_size(np.isfinite(values), index.remaining)
    assert len(result.matches) == count
    # The flow's costs are whole millionths of a point: optimal to within a millionth per match.
    assert achieved(result, program, values, index) == pytest.approx(best, abs=1e-6 * count + 1e-9)
    assert result.total_score == pytest.approx(sum(m.score for m in result.matches))


@settings(max_examples=6, deadline=None)
@given(
    newcomers=st.integers(300, 420),
    mentors=st.integers(220, 260),
    seed=st.integers(0, 100_000),
    min_hours=st.sampled_from([0.0, 1.0, 2.0]),
    share=st.sampled_from([0.1, 0.5]),
    top=st.sampled_from([12, 30]),
)
def test_large_queues_match_as_many_as_a_maximum_matching_of_the_feasible_pairs(
    newcomers: int, mentors: int, seed: int, min_hours: float, share: float, top: int
) -> None:
    generated = synthetic_program(newcomers, mentors, seed=seed)
    assert newcomers * mentors > EXACT_PAIRS  # the shortlist decides the candidates
    base = Policy(conflicts=generated.conflicts, min_shared_hours=min_hours)
    program, policy = adversarial(generated, base, share, top, seed)
    result = assign(program.newcomers, program.mentors, policy)
    values, index = values_of(program, policy)
    assert len(result.matches) == maximum_matching_size(np.isfinite(values), index.remaining)
    feasible = np.isfinite(values).any(axis=1)
    row = {n.id: i for i, n in enumerate(program.newcomers)}
    for left in result.unmatched:
        expected = "capacity_exhausted" if feasible[row[left.newcomer_id]] else "no_feasible_mentor"
        assert left.reason == expected


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    size=st.sampled_from([(60, 20), (320, 240)]),
    min_hours=st.sampled_from([0.0, 1.0]),
    data=st.data(),
)
def test_the_order_of_the_input_never_changes_the_output(
    seed: int, size: tuple[int, int], min_hours: float, data: st.DataObject
) -> None:
    program = synthetic_program(*size, seed=seed)
    policy = Policy(conflicts=program.conflicts, min_shared_hours=min_hours)
    people = data.draw(st.permutations(program.newcomers))
    guides = data.draw(st.permutations(program.mentors))
    assert assign(people, guides, policy) == assign(program.newcomers, program.mentors, policy)


def test_a_tie_between_equal_mentors_is_broken_by_id_not_by_position() -> None:
    twins = [mentor(id=f"m-{i}", remaining_capacity=1) for i in range(6)]
    people = [newcomer(id=f"n-{i}") for i in range(3)]
    chosen = {tuple(assign(people[::step], twins[::step], POLICY).matches) for step in (1, -1)}
    assert len(chosen) == 1


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


def test_an_empty_queue_or_no_mentors_is_fine_and_the_total_is_always_a_float() -> None:
    empty = assign([], [mentor()], POLICY)
    assert empty.matches == ()
    assert type(empty.total_score) is float
    result = assign([newcomer()], [], POLICY)
    assert [u.reason for u in result.unmatched] == ["no_feasible_mentor"]
    assert type(result.total_score) is float


def test_newcomer_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        assign([newcomer(), newcomer()], [mentor()], POLICY)
