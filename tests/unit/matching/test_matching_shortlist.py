"""The shortlist's estimates: the same feasibility as the exact rules it covers, close scores."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import MentorIndex, Policy
from matching.index import NewcomerBatch, evaluate
from matching.shortlist import ShortlistBlock, shortlist_map
from matching.synthetic import synthetic_program


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), per_block=st.sampled_from([7, 1000, 1 << 20]))
def test_estimates_agree_with_the_exact_rules_and_stay_close(seed: int, per_block: int) -> None:
    program = synthetic_program(80, 40, seed=seed)
    policy = Policy()  # no minimum hours or conflicts, so the shortlist's feasibility is exact
    index = MentorIndex.build(program.mentors, policy)
    batch = NewcomerBatch.build(program.newcomers, index)
    rows = np.arange(len(batch))
    exact = evaluate(batch, rows, index, np.arange(len(index)), policy)
    exact_score = exact.score(policy)
    # Exclusions are checked later, on each candidate pair.
    exact_feasible = ~np.any(
        [f for rule, f in exact.failures.items() if rule != "excluded_by_newcomer"], axis=0
    )
    estimate = np.full(exact_score.shape, -np.inf)
    blocks: list[ShortlistBlock] = shortlist_map(
        batch, index, policy, lambda block: block, pairs_per_block=per_block
    )
    for block in blocks:
        estimate[np.ix_(block.rows, block.cols)] = block.scores
    assert np.array_equal(np.isfinite(estimate), exact_feasible)
    both = np.isfinite(estimate)
    gap = estimate[both] - exact_score[both]
    # Whole hours can only add availability; whole weeks move the gap factor a little.
    assert (gap >= -0.02).all()
    assert (gap <= policy.weights.availability + 0.02).all()
