"""`assign`: the whole waiting queue at once, best total fit under mentor capacities.

Scoring every pair of a national queue is the expensive part, so `assign` scores blocks of
newcomers against the mentors that pass the mentor-only rules and keeps a candidate graph: each
newcomer's best mentors plus each mentor's best newcomers. An optimal capacitated matching on that
graph (see `solvers`) comes within a hair of the exact optimum over all pairs; a final greedy pass
over every feasible pair guarantees that nobody is left waiting while a suitable mentor still has
a place, which is what makes "capacity exhausted" a true statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.index import Floats, Ints, MentorIndex, NewcomerBatch, evaluate
from matching.records import Assignment, Match, Mentor, Newcomer, Policy, Unmatched
from matching.solvers import solve_flow, solve_greedy

PAIRS_PER_BLOCK = 1 << 20  # bounds memory: a block's arrays are a few MB each


@dataclass(frozen=True, eq=False)
class CandidateGraph:
    """Feasible (newcomer, mentor) edges worth considering, with everything a solver needs.

    `value` is the pair score plus the newcomer's waiting bonus: what the solvers maximise.
    """

    rows: Ints
    cols: Ints
    score: Floats
    value: Floats
    capacity: Ints
    feasible_count: Ints  # feasible mentors per newcomer over all mentors, not just candidates


def waiting_bonus(newcomers: Sequence[Newcomer], policy: Policy) -> Floats:
    """Each newcomer's bonus for being matched, growing with waiting relative to the newest."""
    if not newcomers:
        return np.zeros(0)
    since = np.array([n.waiting_since.toordinal() for n in newcomers], dtype=np.float64)
    waited = (since.max() - since) / max(policy.waiting_full_days, 1)
    return policy.bonus_base() + policy.waiting_bonus * np.minimum(waited, 1.0)


def _blocks(count: int, width: int) -> list[np.ndarray]:
    step = max(1, PAIRS_PER_BLOCK // max(width, 1))
    return [np.arange(s, min(s + step, count)) for s in range(0, count, step)]


def scored_blocks(
    batch: NewcomerBatch, rows: Ints, index: MentorIndex, cols: Ints, policy: Policy
) -> list[tuple[Ints, Floats]]:
    """Scores of rows x cols in blocks, -inf where a hard rule fails."""
    out = []
    for block in _blocks(len(rows), len(cols)):
        evaluation = evaluate(batch, rows[block], index, cols, policy)
        out.append((rows[block], np.where(evaluation.feasible(), evaluation.score(policy), -np.inf)))
    return out


def candidate_graph(
    batch: NewcomerBatch,
    index: MentorIndex,
    policy: Policy,
    bonus: Floats,
    *,
    per_newcomer: int = 16,
    per_mentor: int = 8,
) -> CandidateGraph:
    """Each newcomer's `per_newcomer` best mentors and each mentor's `per_mentor` best newcomers."""
    cols = index.usable(policy)
    rows_all = np.arange(len(batch), dtype=np.int64)
    feasible_count = np.zeros(len(batch), dtype=np.int64)
    found_rows: list[Ints] = []
    found_cols: list[Ints] = []
    found_scores: list[Floats] = []
    top_score = np.full((0, len(cols)), -np.inf)
    top_row = np.zeros((0, len(cols)), dtype=np.int64)
    for rows, scores in scored_blocks(batch, rows_all, index, cols, policy):
        feasible_count[rows] = np.isfinite(scores).sum(axis=1)
        keep = min(per_newcomer, len(cols))
        if keep:
            best = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
            found_rows.append(np.repeat(rows, keep))
            found_cols.append(best.ravel())
            found_scores.append(np.take_along_axis(scores, best, axis=1).ravel())
        # Merge this block into each mentor's running best newcomers.
        pool_score = np.vstack([top_score, scores])
        pool_row = np.vstack([top_row, np.broadcast_to(rows[:, None], scores.shape)])
        if len(pool_score) > per_mentor:
            best = np.argpartition(-pool_score, per_mentor - 1, axis=0)[:per_mentor]
            pool_score = np.take_along_axis(pool_score, best, axis=0)
            pool_row = np.take_along_axis(pool_row, best, axis=0)
        top_score, top_row = pool_score, pool_row
    found_rows.append(top_row.ravel())
    found_cols.append(np.tile(np.arange(len(cols)), len(top_row)))
    found_scores.append(top_score.ravel())
    r = np.concatenate(found_rows)
    c = np.concatenate(found_cols)
    s = np.concatenate(found_scores)
    real = np.isfinite(s)
    key, first = np.unique(r[real] * len(cols) + c[real], return_index=True)
    r, c, s = r[real][first], cols[c[real][first]], s[real][first]
    return CandidateGraph(
        rows=r,
        cols=c,
        score=s,
        value=s + bonus[r],
        capacity=np.maximum(index.remaining, 0),
        feasible_count=feasible_count,
    )


def fill_spare_places(
    batch: NewcomerBatch,
    index: MentorIndex,
    policy: Policy,
    bonus: Floats,
    matched_col: Ints,
    score: Floats,
) -> None:
    """Greedily seat every unmatched newcomer who has a feasible mentor with a place left.

    Updates `matched_col` (-1 = unmatched) and `score` in place.
    """
    used = np.bincount(matched_col[matched_col >= 0], minlength=len(index))
    spare = np.maximum(index.remaining, 0) - used
    cols = np.intersect1d(index.usable(policy), np.flatnonzero(spare > 0))
    rows = np.flatnonzero(matched_col < 0)
    if len(cols) == 0 or len(rows) == 0:
        return
    edge_rows, edge_cols, edge_scores = [], [], []
    for block_rows, scores in scored_blocks(batch, rows, index, cols, policy):
        r, c = np.nonzero(np.isfinite(scores))
        edge_rows.append(block_rows[r])
        edge_cols.append(cols[c])
        edge_scores.append(scores[r, c])
    r = np.concatenate(edge_rows)
    c = np.concatenate(edge_cols)
    s = np.concatenate(edge_scores)
    chosen = solve_greedy(r, c, s + bonus[r], spare)
    matched_col[r[chosen]] = c[chosen]
    score[r[chosen]] = s[chosen]


def assign(
    newcomers: Sequence[Newcomer], mentors: Sequence[Mentor] | MentorIndex, policy: Policy
) -> Assignment:
    """Match the whole queue: maximise total score plus waiting priority under capacities.

    Never breaks a hard rule or a capacity. Every newcomer left unmatched gets a reason:
    "no_feasible_mentor" (no eligible mentor passes the hard rules) or "capacity_exhausted"
    (suitable mentors exist but their places went to others). Same input, same output.
    """
    if len({n.id for n in newcomers}) != len(newcomers):
        raise ValueError("newcomer ids must be unique")
    index = mentors if isinstance(mentors, MentorIndex) else MentorIndex.build(mentors, policy)
    batch = NewcomerBatch.build(newcomers, index)
    bonus = waiting_bonus(newcomers, policy)
    graph = candidate_graph(batch, index, policy, bonus)
    chosen = solve_flow(graph.rows, graph.cols, graph.value, graph.capacity)
    matched_col = np.full(len(batch), -1, dtype=np.int64)
    score = np.zeros(len(batch))
    matched_col[graph.rows[chosen]] = graph.cols[chosen]
    score[graph.rows[chosen]] = graph.score[chosen]
    fill_spare_places(batch, index, policy, bonus, matched_col, score)
    matches = tuple(
        Match(n.id, index.mentors[c].id, float(s))
        for n, c, s in zip(newcomers, matched_col.tolist(), score.tolist(), strict=True)
        if c >= 0
    )
    unmatched = tuple(
        Unmatched(n.id, "capacity_exhausted" if count else "no_feasible_mentor")
        for n, c, count in zip(
            newcomers, matched_col.tolist(), graph.feasible_count.tolist(), strict=True
        )
        if c < 0
    )
    return Assignment(matches, unmatched, float(score[matched_col >= 0].sum()))
