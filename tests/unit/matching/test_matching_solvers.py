"""The capacitated matching solvers on their own."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import MentorIndex, Policy
from matching.assignment import CandidateGraph, candidate_graph, dense_values, waiting_bonus
from matching.index import NewcomerBatch
from matching.solvers import solve_exact, solve_flow, solve_greedy, solve_stable
from matching.synthetic import synthetic_program


def graph_for(newcomers: int, mentors: int, seed: int) -> tuple[CandidateGraph, np.ndarray]:
    program = synthetic_program(newcomers, mentors, seed=seed)
    policy = Policy(conflicts=program.conflicts)
    index = MentorIndex.build(program.mentors, policy)
    batch = NewcomerBatch.build(program.newcomers, index)
    bonus = waiting_bonus(program.newcomers, policy)
    return candidate_graph(batch, index, policy, bonus), dense_values(batch, index, policy, bonus)


def assert_valid(graph: CandidateGraph, chosen: np.ndarray) -> None:
    assert len(set(graph.rows[chosen].tolist())) == len(chosen)
    for mentor, count in Counter(graph.cols[chosen].tolist()).items():
        assert count <= graph.capacity[mentor]


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_flow_is_optimal_on_a_sparse_candidate_graph(seed: int) -> None:
    graph, _ = graph_for(400, 100, seed)
    on_edges = np.full((int(graph.rows.max()) + 1, len(graph.capacity)), -np.inf)
    on_edges[graph.rows, graph.cols] = graph.value
    rows, cols = solve_exact(on_edges, graph.capacity)
    chosen = solve_flow(graph.rows, graph.cols, graph.value, graph.capacity)
    assert_valid(graph, chosen)
    # Costs are whole millionths of a point: optimal to within a millionth per match.
    assert graph.value[chosen].sum() >= on_edges[rows, cols].sum() - 1e-6 * len(rows)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_sparse_solver_matches_the_dense_reference_on_complete_graphs(seed: int) -> None:
    graph, values = graph_for(30, 8, seed)
    rows, cols = solve_exact(values, graph.capacity)
    chosen = solve_flow(graph.rows, graph.cols, graph.value, graph.capacity)
    assert abs(graph.value[chosen].sum() - values[rows, cols].sum()) <= 1e-6 * len(rows)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_stable_matching_has_no_blocking_pair(seed: int) -> None:
    graph, _ = graph_for(120, 30, seed)
    chosen = solve_stable(graph.rows, graph.cols, graph.value, graph.capacity)
    greedy = solve_greedy(graph.rows, graph.cols, graph.value, graph.capacity)
    assert_valid(graph, chosen)
    assert_valid(graph, greedy)
    mine = {int(graph.rows[e]): float(graph.value[e]) for e in chosen}
    held: dict[int, list[float]] = {}
    for e in chosen:
        held.setdefault(int(graph.cols[e]), []).append(float(graph.value[e]))
    for row, col, value in zip(graph.rows, graph.cols, graph.value, strict=True):
        wants = value > mine.get(int(row), 0.0)
        holders = held.get(int(col), [])
        has_room = len(holders) < graph.capacity[col]
        assert not (wants and (has_room or value > min(holders)))


def test_solvers_accept_an_empty_graph() -> None:
    empty = np.zeros(0, dtype=np.int64)
    for solve in (solve_flow, solve_greedy, solve_stable):
        assert len(solve(empty, empty, np.zeros(0), np.ones(3, dtype=np.int64))) == 0
