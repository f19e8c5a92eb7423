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

from matching.index import Floats, Ints, MentorIndex, NewcomerBatch, conflict_rows, evaluate
from matching.records import Assignment, Match, Mentor, Newcomer, Policy, Unmatched
from matching.shortlist import Float32s as Floats32
from matching.shortlist import shortlist_blocks
from matching.solvers import solve_auction, solve_flow, solve_greedy

PAIRS_PER_BLOCK = 1 << 20  # bounds memory: a block's arrays are a few MB each
# Up to this many candidate edges the exact sparse solver is quick; beyond, the auction is faster
# by far and within 0.01 points per matched newcomer of it.
EXACT_UP_TO_EDGES = 20_000


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
    bonus: Floats = policy.bonus_base() + policy.waiting_bonus * np.minimum(waited, 1.0)
    return bonus


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
        out.append(
            (rows[block], np.where(evaluation.feasible(), evaluation.score(policy), -np.inf))
        )
    return out


def dense_values(batch: NewcomerBatch, index: MentorIndex, policy: Policy, bonus: Floats) -> Floats:
    """Score plus bonus for every pair (-inf = infeasible): the exact solver's input."""
    cols = np.arange(len(index), dtype=np.int64)
    rows = np.arange(len(batch), dtype=np.int64)
    values = np.full((len(batch), len(index)), -np.inf)
    for block, scores in scored_blocks(batch, rows, index, cols, policy):
        values[block] = scores + bonus[block, None]
    return values


def _best_mentors(
    batch: NewcomerBatch, index: MentorIndex, policy: Policy, per_newcomer: int
) -> tuple[Ints, Ints, Ints]:
    """Each newcomer's best mentors by the shortlist: (rows, cols, feasible count per row)."""
    feasible_count = np.zeros(len(batch), dtype=np.int64)
    found_rows: list[Ints] = [np.zeros(0, dtype=np.int64)]
    found_cols: list[Ints] = [np.zeros(0, dtype=np.int64)]
    for block in shortlist_blocks(batch, index, policy, PAIRS_PER_BLOCK):
        rows, cols, scores = block.rows, block.cols, block.scores
        feasible_count[rows] = np.isfinite(scores).sum(axis=1)
        keep = min(per_newcomer, len(cols))
        best = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        chosen = np.isfinite(np.take_along_axis(scores, best, axis=1))
        found_rows.append(np.broadcast_to(rows[:, None], best.shape)[chosen])
        found_cols.append(cols[best[chosen]])
    return np.concatenate(found_rows), np.concatenate(found_cols), feasible_count


def _best_newcomers(
    batch: NewcomerBatch, index: MentorIndex, policy: Policy, mentors: Ints, per_mentor: int
) -> tuple[Ints, Ints]:
    """The given mentors' best newcomers by the shortlist: (rows, cols)."""
    found_rows: list[Ints] = [np.zeros(0, dtype=np.int64)]
    found_cols: list[Ints] = [np.zeros(0, dtype=np.int64)]
    found_scores: list[Floats32] = [np.zeros(0, dtype=np.float32)]
    for block in shortlist_blocks(batch, index, policy, PAIRS_PER_BLOCK, mentors):
        by_mentor = block.scores.T
        keep = min(per_mentor, len(block.rows))
        best = np.argpartition(-by_mentor, keep - 1, axis=1)[:, :keep]
        best_scores = np.take_along_axis(by_mentor, best, axis=1)
        chosen = np.isfinite(best_scores)
        found_rows.append(block.rows[best[chosen]])
        found_cols.append(np.broadcast_to(block.cols[:, None], best.shape)[chosen])
        found_scores.append(best_scores[chosen])
    rows, cols = np.concatenate(found_rows), np.concatenate(found_cols)
    order = np.lexsort((rows, -np.concatenate(found_scores), cols))
    rows, cols = rows[order], cols[order]
    place = np.arange(len(cols)) - np.searchsorted(cols, cols)
    return rows[place < per_mentor], cols[place < per_mentor]


def candidate_graph(
    batch: NewcomerBatch,
    index: MentorIndex,
    policy: Policy,
    bonus: Floats,
    *,
    per_newcomer: int = 16,
    per_mentor: int = 16,
) -> CandidateGraph:
    """Each newcomer's best mentors, plus newcomers for mentors few rank highly; scored exactly.

    By the shortlist's estimate, each newcomer keeps its `per_newcomer` best mentors. A mentor
    that ends up with fewer than `per_mentor` candidates gets a second pass against every
    newcomer, keeping its `per_mentor` best: without it, a mentor nobody ranks near the top has
    no candidates although the optimum gives it the newcomers who cannot have their favourites.
    """
    r, c, feasible_count = _best_mentors(batch, index, policy, per_newcomer)
    few = np.flatnonzero(np.bincount(c, minlength=len(index)) < per_mentor)
    if len(few):
        more_r, more_c = _best_newcomers(batch, index, policy, few, per_mentor)
        r = np.concatenate([r, more_r])
        c = np.concatenate([c, more_c])
    _, first = np.unique(r * max(len(index), 1) + c, return_index=True)
    r, c = r[first], c[first]
    exact = np.empty(len(r))
    feasible = np.empty(len(r), dtype=bool)
    for start in range(0, len(r), PAIRS_PER_BLOCK):
        part = slice(start, start + PAIRS_PER_BLOCK)
        evaluation = evaluate(batch, r[part], index, c[part], policy, pairs=True)
        exact[part] = evaluation.score(policy)
        feasible[part] = evaluation.feasible()
    r, c, exact = r[feasible], c[feasible], exact[feasible]
    return CandidateGraph(
        rows=r,
        cols=c,
        score=exact,
        value=exact + bonus[r],
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
    solve = solve_flow if len(graph.rows) <= EXACT_UP_TO_EDGES else solve_auction
    chosen = solve(graph.rows, graph.cols, graph.value, graph.capacity)
    matched_col = np.full(len(batch), -1, dtype=np.int64)
    score = np.zeros(len(batch))
    matched_col[graph.rows[chosen]] = graph.cols[chosen]
    score[graph.rows[chosen]] = graph.score[chosen]
    fill_spare_places(batch, index, policy, bonus, matched_col, score)
    can_be_served = graph.feasible_count > 0
    # The shortlist's count is exact except for the rules it leaves to the exact pass.
    unsure = np.flatnonzero(
        (matched_col < 0)
        & can_be_served
        & ((policy.min_shared_hours > 0) | batch.excludes | conflict_rows(batch, policy.conflicts))
    )
    for rows, scores in scored_blocks(batch, unsure, index, index.usable(policy), policy):
        can_be_served[rows] = np.isfinite(scores).any(axis=1)
    matches = tuple(
        Match(n.id, index.mentors[c].id, float(s))
        for n, c, s in zip(newcomers, matched_col.tolist(), score.tolist(), strict=True)
        if c >= 0
    )
    unmatched = tuple(
        Unmatched(n.id, "capacity_exhausted" if served else "no_feasible_mentor")
        for n, c, served in zip(
            newcomers, matched_col.tolist(), can_be_served.tolist(), strict=True
        )
        if c < 0
    )
    return Assignment(matches, unmatched, sum(m.score for m in matches))
