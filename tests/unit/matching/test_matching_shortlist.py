"""The shortlist's estimates: exactly the feasibility of every hard rule, close scores."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import MentorIndex, Policy
from matching.index import NewcomerBatch, evaluate
from matching.shortlist import ShortlistBlock, shortlist_map, top_per_row
from matching.synthetic import synthetic_program


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    per_block=st.sampled_from([7, 1000, 1 << 20]),
    min_hours=st.sampled_from([0.0, 0.25, 1.0, 2.5]),
)
def test_estimates_apply_every_rule_exactly_and_stay_close(
    seed: int, per_block: int, min_hours: float
) -> None:
    program = synthetic_program(80, 40, seed=seed, excluding_share=0.3)
    # A conflict for a quarter of the pairs: the rule must hold on the shortlist too.
    pairs = [(n.id, m.id) for n in program.newcomers for m in program.mentors]
    conflicts = frozenset(pairs[seed % 4 :: 4])
    policy = Policy(conflicts=conflicts, min_shared_hours=min_hours)
    index = MentorIndex.build(program.mentors, policy)
    batch = NewcomerBatch.build(program.newcomers, index)
    rows = np.arange(len(batch))
    exact = evaluate(batch, rows, index, np.arange(len(index)), policy)
    exact_score = exact.score(policy)
    estimate = np.full(exact_score.shape, -np.inf)
    blocks: list[ShortlistBlock] = shortlist_map(
        batch, index, policy, lambda block: block, pairs_per_block=per_block
    )
    for block in blocks:
        estimate[np.ix_(block.rows, block.cols)] = block.scores
    assert np.array_equal(np.isfinite(estimate), exact.feasible())
    both = np.isfinite(estimate)
    gap = estimate[both] - exact_score[both]
    # Whole hours can only add availability (quarters under a minimum are exact); whole weeks
    # move the gap factor a little.
    assert (gap >= -0.02).all()
    assert (gap <= (0.0 if min_hours else policy.weights.availability) + 0.02).all()


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 6), st.integers(1, 300)),
    keep=st.integers(1, 50),
    levels=st.sampled_from([3, 50, 100_000]),
    seed=st.integers(0, 10_000),
)
def test_top_per_row_is_each_rows_best_with_ties_to_the_smaller_column(
    shape: tuple[int, int], keep: int, levels: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    # Few levels make many ties; -inf marks infeasible pairs, never kept.
    scores = (rng.integers(0, levels, size=shape) / 7).astype(np.float32)
    scores[rng.random(shape) < 0.3] = -np.inf
    keep = min(keep, shape[1])
    best, values, finite = top_per_row(scores, keep)
    for i, row in enumerate(scores):
        feasible = np.flatnonzero(np.isfinite(row))
        expected = feasible[np.lexsort((feasible, -row[feasible]))][:keep]
        assert best[i, : len(expected)].tolist() == expected.tolist()
        assert (best[i, len(expected) :] == -1).all()
        assert np.array_equal(values[i, : len(expected)], row[expected])
        assert finite[i] == len(feasible)
