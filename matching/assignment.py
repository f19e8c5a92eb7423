"""`assign`: the whole waiting queue at once, best total fit under mentor capacities.

Scoring every pair of a national queue is the expensive part, so `assign` shortlists candidates
with a cheap estimate (see `shortlist`): each newcomer's best mentors plus the best newcomers of
mentors few people rank highly. It scores those pairs exactly, then solves the capacitated
matching on them exactly as a min-cost flow (OR-Tools); the benchmark measures the result
against the exact optimum over all pairs. A final greedy pass over every feasible pair seats
anyone left waiting while a suitable mentor still has a place, which is what makes "capacity
exhausted" a true statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from matching.index import Bools, Floats, Ints, MentorIndex, NewcomerBatch, conflict_rows, evaluate
from matching.records import Assignment, Match, Mentor, Newcomer, Policy, Unmatched
from matching.shortlist import Float32s as Floats32
from matching.shortlist import ShortlistBlock, blocking_groups, shortlist_map
from matching.solvers import solve_flow, solve_greedy

PAIRS_PER_BLOCK = 1 << 20  # bounds memory: a block's arrays are a few MB each
SAMPLE_STRIDE = 8  # every how many scores a newcomer's floor is first estimated from


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


def scored_blocks(
    batch: NewcomerBatch, rows: Ints, index: MentorIndex, cols: Ints, policy: Policy
) -> Iterator[tuple[Ints, Ints, Floats]]:
    """Exact scores of `rows` x `cols` as (rows, cols, scores) blocks, -inf where a rule fails.

    Pairs the blocking keys rule out (gender asked, no shared language) are left out.
    """
    for group in blocking_groups(batch, rows):
        allowed = index.allowed(cols, batch.wanted_gender[group[0]], batch.languages[group[0]])
        step = max(1, PAIRS_PER_BLOCK // max(len(allowed), 1))
        for start in range(0, len(group), step):
            block = group[start : start + step]
            evaluation = evaluate(batch, block, index, allowed, policy)
            yield block, allowed, np.where(evaluation.feasible(), evaluation.score(policy), -np.inf)


def dense_values(batch: NewcomerBatch, index: MentorIndex, policy: Policy, bonus: Floats) -> Floats:
    """Score plus bonus for every pair (-inf = infeasible): the exact solver's input."""
    values = np.full((len(batch), len(index)), -np.inf)
    everyone = np.arange(len(batch), dtype=np.int64)
    for rows, cols, scores in scored_blocks(batch, everyone, index, np.arange(len(index)), policy):
        values[np.ix_(rows, cols)] = scores + bonus[rows, None]
    return values


def _reaching(scores: Floats32, keep: int) -> Bools:
    """Per row, the feasible scores reaching a floor that the row's `keep` best all reach.

    A full partition of each row costs a third of scoring it; the `keep`-th best of every
    SAMPLE_STRIDE-th score is usually a floor that about twice `keep` scores reach, and only
    rows where fewer than `keep` do are partitioned in full (a row with fewer feasible keeps them
    all). The caller orders what reaches the floor exactly, so the estimate loses nothing.
    """
    lowest = np.finfo(np.float32).min  # above -inf: infeasible pairs never reach a floor
    sample = scores[:, ::SAMPLE_STRIDE]
    place = sample.shape[1] - min(sample.shape[1], 2 * keep // SAMPLE_STRIDE + 1)
    reached: Bools = (
        scores >= np.maximum(np.partition(sample, place, axis=1)[:, place], lowest)[:, None]
    )
    short = np.flatnonzero(reached.sum(axis=1) < keep)
    if len(short):
        place = scores.shape[1] - keep
        floor = np.maximum(np.partition(scores[short], place, axis=1)[:, place], lowest)
        reached[short] = scores[short] >= floor[:, None]
    return reached


def _best_mentors(
    batch: NewcomerBatch, index: MentorIndex, policy: Policy, reserve: int
) -> tuple[Ints, Ints, Floats32, Ints, Ints]:
    """Each newcomer's `reserve` best mentors by the shortlist, best first (ties: smaller col).

    Returns (rows, cols, estimated scores, place in the newcomer's order, feasible count per
    newcomer). Ordering each newcomer's few candidates inside its block, on the worker threads,
    spares one sort of every candidate pair afterwards.
    """

    def select(block: ShortlistBlock) -> tuple[Ints, Ints, Ints, Ints, Floats32, Ints]:
        rows, cols, scores = block.rows, block.cols, block.scores
        # Every feasible pair reaching its row's floor, packed to the left of a narrow matrix
        # (column order kept) and sorted row by row: a stable sort of a hundred-odd scores per
        # row, not one of every pair reached, and ties keep the smaller col first.
        reached = _reaching(scores, min(reserve, len(cols)))
        counts = reached.sum(axis=1)
        r, c = np.divmod(np.flatnonzero(reached), len(cols))
        start = np.cumsum(counts) - counts
        packed = np.full((len(rows), int(counts.max(initial=0))), np.inf, dtype=np.float32)
        packed[r, np.arange(len(r)) - np.repeat(start, counts)] = -scores[r, c]
        best = np.argsort(packed, axis=1, kind="stable")[:, :reserve]
        kept = best < counts[:, None]  # not the padding of rows that reached fewer
        row_of = np.broadcast_to(np.arange(len(rows))[:, None], best.shape)[kept]
        chosen = c[(start[:, None] + best)[kept]]
        return (
            rows,
            np.isfinite(scores).sum(axis=1),
            rows[row_of],
            cols[chosen],
            scores[row_of, chosen],
            np.broadcast_to(np.arange(best.shape[1]), best.shape)[kept],
        )

    feasible_count = np.zeros(len(batch), dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    found_rows: list[Ints] = [none]
    found_cols: list[Ints] = [none]
    found_scores: list[Floats32] = [np.zeros(0, dtype=np.float32)]
    found_places: list[Ints] = [none]
    for rows, count, pair_rows, pair_cols, pair_scores, places in shortlist_map(
        batch, index, policy, select, pairs_per_block=PAIRS_PER_BLOCK
    ):
        feasible_count[rows] = count
        found_rows.append(pair_rows)
        found_cols.append(pair_cols)
        found_scores.append(pair_scores)
        found_places.append(places)
    return (
        np.concatenate(found_rows),
        np.concatenate(found_cols),
        np.concatenate(found_scores),
        np.concatenate(found_places),
        feasible_count,
    )


def _best_per_group(groups: Ints, scores: Floats32, tie: Ints, keep: int) -> Ints:
    """Positions of the `keep` best scores within each group (ties: smaller `tie` first)."""
    order = np.lexsort((tie, -scores, groups))
    place = np.arange(len(order)) - np.searchsorted(groups[order], groups[order])
    return order[place < keep]


def _best_newcomers(
    batch: NewcomerBatch, index: MentorIndex, policy: Policy, mentors: Ints, per_mentor: int
) -> tuple[Ints, Ints]:
    """The given mentors' `per_mentor` best newcomers by the shortlist: (rows, cols).

    Each block keeps a mentor's `per_mentor` best newcomers of its rows, and says the worst of
    them: no mentor's overall best fall below the highest such floor over its blocks, so only
    the few pairs reaching it are sorted, not every block's keep (a full sort of those took
    2 s at 100,000/25,000).
    """

    def select(block: ShortlistBlock) -> tuple[Ints, Ints, Floats32, Ints, Floats32]:
        by_mentor = block.scores.T
        keep = min(per_mentor, len(block.rows))
        best = np.argpartition(-by_mentor, keep - 1, axis=1)[:, :keep]
        best_scores = np.take_along_axis(by_mentor, best, axis=1)
        chosen = np.isfinite(best_scores)
        # A block with fewer rows than `per_mentor` says nothing about a mentor's floor.
        floor = best_scores.min(axis=1) if keep == per_mentor else np.full(len(block.cols), -np.inf)
        return (
            block.rows[best[chosen]],
            np.broadcast_to(block.cols[:, None], best.shape)[chosen],
            best_scores[chosen],
            block.cols,
            floor.astype(np.float32),
        )

    found = shortlist_map(
        batch, index, policy, select, pairs_per_block=PAIRS_PER_BLOCK, only_mentors=mentors
    )
    floor = np.full(len(index), -np.inf, dtype=np.float32)
    for *_, block_cols, block_floor in found:
        floor[block_cols] = np.maximum(floor[block_cols], block_floor)
    rows = np.concatenate([np.zeros(0, dtype=np.int64), *(f[0] for f in found)])
    cols = np.concatenate([np.zeros(0, dtype=np.int64), *(f[1] for f in found)])
    scores = np.concatenate([np.zeros(0, dtype=np.float32), *(f[2] for f in found)])
    reaching = np.flatnonzero(scores >= floor[cols])
    rows, cols, scores = rows[reaching], cols[reaching], scores[reaching]
    best = _best_per_group(cols, scores, rows, per_mentor)
    return rows[best], cols[best]


def candidate_graph(
    batch: NewcomerBatch,
    index: MentorIndex,
    policy: Policy,
    bonus: Floats,
    *,
    per_newcomer: int = 12,
    per_mentor: int = 24,
    reserve: int = 48,
) -> CandidateGraph:
    """Each newcomer's best mentors, plus newcomers for mentors few rank highly; scored exactly.

    By the shortlist's estimate, each newcomer keeps its `per_newcomer` best mentors, and a
    reserve of its `reserve` best. A mentor with fewer than `per_mentor` candidates takes its
    best from the reserve, and one still short gets a pass of its own over every newcomer:
    without this, a mentor nobody ranks near the top has no candidates although the optimum
    gives it the newcomers who cannot have their favourites.
    """
    r, c, estimate, place, feasible_count = _best_mentors(batch, index, policy, reserve)
    main = np.flatnonzero(place < per_newcomer)
    few = np.bincount(c[main], minlength=len(index)) < per_mentor
    spare = np.flatnonzero(few[c])
    extra = spare[_best_per_group(c[spare], estimate[spare], r[spare], per_mentor)]
    r, c = np.concatenate([r[main], r[extra]]), np.concatenate([c[main], c[extra]])
    short = np.flatnonzero(few & (np.bincount(c, minlength=len(index)) < per_mentor))
    if len(short):
        more_r, more_c = _best_newcomers(batch, index, policy, short, per_mentor)
        r, c = np.concatenate([r, more_r]), np.concatenate([c, more_c])
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
    none = np.zeros(0, dtype=np.int64)
    edge_rows, edge_cols, edge_scores = [none], [none], [np.zeros(0)]
    for block_rows, block_cols, scores in scored_blocks(batch, rows, index, cols, policy):
        r, c = np.nonzero(np.isfinite(scores))
        edge_rows.append(block_rows[r])
        edge_cols.append(block_cols[c])
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
    can_be_served = graph.feasible_count > 0
    # The shortlist's count is exact except for the rules it leaves to the exact pass.
    unsure = np.flatnonzero(
        (matched_col < 0)
        & can_be_served
        & ((policy.min_shared_hours > 0) | batch.excludes | conflict_rows(batch, policy.conflicts))
    )
    can_be_served[unsure] = False
    for rows, _, scores in scored_blocks(batch, unsure, index, index.usable(policy), policy):
        can_be_served[rows] |= np.isfinite(scores).any(axis=1)
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
