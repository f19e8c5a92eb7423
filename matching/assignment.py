"""`assign`: the whole waiting queue at once, the most people served, then the best fit.

The objective is lexicographic: first the largest number of newcomers matched over every
feasible pair (under mentor capacities), then, among assignments that match that many, the
highest total of pair score plus waiting priority. No gain in fit ever costs a person a mentor.

Scoring every pair of a national queue is the expensive part, so `assign` shortlists candidates
with a cheap estimate that applies every hard rule exactly (see `shortlist`): each newcomer's
best feasible mentors plus the best newcomers of mentors few people rank highly. It scores those
pairs exactly and solves the lexicographic problem on them exactly as a maximum flow of minimum
cost (OR-Tools). Then it proves the count is the maximum over all pairs, not just the shortlisted
ones: a search for augmenting paths over every feasible pair (`augmenting_edges`); any path it
finds joins the candidates and the flow is solved again. The total is the exact optimum on the
candidate pairs, which are every feasible pair on small queues (`EXACT_PAIRS`); the benchmark
measures it against the exact optimum over all pairs on large ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from matching.index import Floats, Ints, MentorIndex, NewcomerBatch, evaluate
from matching.records import Assignment, Match, Mentor, Newcomer, Policy, Unmatched
from matching.shortlist import Float32s as Floats32
from matching.shortlist import ShortlistBlock, blocking_groups, shortlist_map, top_per_row
from matching.solvers import solve_flow

PAIRS_PER_BLOCK = 1 << 20  # bounds memory: a block's arrays are a few MB each
EXACT_PAIRS = 1 << 16  # up to this many newcomers x mentors, every feasible pair is a candidate


@dataclass(frozen=True, eq=False)
class CandidateGraph:
    """Feasible (newcomer, mentor) edges worth considering, with everything a solver needs.

    `value` is the pair score plus the newcomer's waiting priority: what the solvers maximise
    once the number matched is the largest.
    """

    rows: Ints
    cols: Ints
    score: Floats
    value: Floats
    capacity: Ints
    feasible_count: Ints  # feasible mentors per newcomer over all mentors, not just candidates


def waiting_bonus(newcomers: Sequence[Newcomer], policy: Policy) -> Floats:
    """Each newcomer's waiting priority: up to `policy.waiting_bonus`, growing with waiting
    relative to the newest request."""
    if not newcomers:
        return np.zeros(0)
    since = np.array([n.waiting_since.toordinal() for n in newcomers], dtype=np.float64)
    waited = (since.max() - since) / policy.waiting_full_days
    bonus: Floats = policy.waiting_bonus * np.minimum(waited, 1.0)
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


def _best_mentors(
    batch: NewcomerBatch, index: MentorIndex, policy: Policy, reserve: int
) -> tuple[Ints, Ints, Floats32, Ints, Ints]:
    """Each newcomer's `reserve` best mentors by the shortlist, best first (ties: smaller col).

    Returns (rows, cols, estimated scores, place in the newcomer's order, feasible count per
    newcomer). Ordering each newcomer's few candidates inside its block, on the worker threads,
    spares one sort of every candidate pair afterwards.
    """

    def select(block: ShortlistBlock) -> tuple[Ints, Ints, Ints, Ints, Floats32, Ints]:
        best, scores, feasible = top_per_row(block.scores, min(reserve, len(block.cols)))
        row_of, place = np.nonzero(best >= 0)
        kept = best[row_of, place]
        return (
            block.rows,
            feasible,
            block.rows[row_of],
            block.cols[kept],
            scores[row_of, place],
            place,
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
        keep = min(per_mentor, len(block.rows))
        best, scores, _ = top_per_row(np.ascontiguousarray(block.scores.T), keep)
        chosen = best >= 0
        # A block with fewer rows than `per_mentor` says nothing about a mentor's floor.
        floor = scores[:, -1] if keep == per_mentor else np.full(len(block.cols), -np.inf)
        return (
            block.rows[best[chosen]],
            np.broadcast_to(block.cols[:, None], best.shape)[chosen],
            scores[chosen],
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


def _exact_edges(
    batch: NewcomerBatch, index: MentorIndex, policy: Policy, rows: Ints, cols: Ints
) -> tuple[Ints, Ints, Floats]:
    """The distinct pairs among (rows, cols), scored exactly; any a rule fails are dropped
    (none, as the shortlist applies every rule, but the exact rules have the last word)."""
    _, first = np.unique(rows * max(len(index), 1) + cols, return_index=True)
    rows, cols = rows[first], cols[first]
    exact = np.empty(len(rows))
    feasible = np.empty(len(rows), dtype=bool)
    for start in range(0, len(rows), PAIRS_PER_BLOCK):
        part = slice(start, start + PAIRS_PER_BLOCK)
        evaluation = evaluate(batch, rows[part], index, cols[part], policy, pairs=True)
        exact[part] = evaluation.score(policy)
        feasible[part] = evaluation.feasible()
    return rows[feasible], cols[feasible], exact[feasible]


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

    By the shortlist's estimate, each newcomer keeps its `per_newcomer` best feasible mentors,
    and a reserve of its `reserve` best. A mentor with fewer than `per_mentor` candidates takes
    its best from the reserve, and one still short gets a pass of its own over every newcomer:
    without this, a mentor nobody ranks near the top has no candidates although the optimum
    gives it the newcomers who cannot have their favourites. Up to `EXACT_PAIRS` newcomers x
    mentors, every feasible pair is kept.
    """
    if len(batch) * len(index) <= EXACT_PAIRS:
        per_newcomer = reserve = max(len(index), 1)
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
    r, c, exact = _exact_edges(batch, index, policy, r, c)
    return CandidateGraph(
        rows=r,
        cols=c,
        score=exact,
        value=exact + bonus[r],
        capacity=index.remaining,
        feasible_count=feasible_count,
    )


def augmenting_edges(
    batch: NewcomerBatch, index: MentorIndex, policy: Policy, matched_col: Ints
) -> tuple[Ints, Ints]:
    """Pairs that make the matching larger, searched over every feasible pair; none when no
    assignment over all pairs matches more people (`matched_col`: -1 = unmatched).

    A matching is the largest possible exactly when no augmenting path exists: a chain from a
    mentor with a place left, through a newcomer who could move to that mentor, to the mentor
    that newcomer leaves, who could take another, and so on to an unmatched newcomer. The search
    runs breadth first from the mentors with places left, since after the flow they are few:
    each layer scores (with every hard rule, `points=False` for availability points only) just
    the newcomers not reached yet against the mentors reached last, keeps for each newcomer the
    mentor with the most availability points (ties: the lowest position, in id order), and
    reaches the mentors the reached newcomers are matched to. Returns the pairs on one path to
    each unmatched newcomer reached, for the caller to add to the candidates and solve again.
    """
    used = np.bincount(matched_col[matched_col >= 0], minlength=len(index))
    usable = index.usable(policy)
    frontier = usable[used[usable] < index.remaining[usable]]
    is_root = np.zeros(len(index), dtype=bool)
    is_root[frontier] = True
    reached_mentor = is_root.copy()
    through = np.full(len(index), -1, dtype=np.int64)  # the matched newcomer who reached a mentor
    via = np.full(len(batch), -1, dtype=np.int64)  # the mentor a newcomer could move to
    left = np.arange(len(batch), dtype=np.int64)
    ends: list[Ints] = [np.zeros(0, dtype=np.int64)]

    def closest(block: ShortlistBlock) -> tuple[Ints, Ints]:
        best = np.argmax(block.scores, axis=1)
        found = np.isfinite(block.scores[np.arange(len(block.rows)), best])
        return block.rows[found], block.cols[best[found]]

    while len(frontier) and len(left):
        found = shortlist_map(
            batch,
            index,
            policy,
            closest,
            pairs_per_block=PAIRS_PER_BLOCK,
            only_mentors=frontier,
            only_rows=left,
            points=False,
        )
        rows = np.concatenate([np.zeros(0, dtype=np.int64), *(f[0] for f in found)])
        via[rows] = np.concatenate([np.zeros(0, dtype=np.int64), *(f[1] for f in found)])
        left = left[via[left] < 0]
        ends.append(rows[matched_col[rows] < 0])
        matched = rows[matched_col[rows] >= 0]
        mentors, first = np.unique(matched_col[matched], return_index=True)
        new = ~reached_mentor[mentors]
        frontier = mentors[new]
        through[frontier] = matched[first[new]]
        reached_mentor[frontier] = True
    # Walk back from every unmatched newcomer reached to a mentor with a place left.
    edge_rows: list[Ints] = []
    edge_cols: list[Ints] = []
    walking = np.concatenate(ends)
    while len(walking):
        mentors = via[walking]
        edge_rows.append(walking)
        edge_cols.append(mentors)
        walking = through[mentors[~is_root[mentors]]]
    if not edge_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(edge_rows), np.concatenate(edge_cols)


def assign(
    newcomers: Sequence[Newcomer], mentors: Sequence[Mentor] | MentorIndex, policy: Policy
) -> Assignment:
    """Match the whole queue: the most newcomers matched, then the best fit and waiting.

    Exactly: no assignment over all feasible pairs matches more newcomers; among those that
    match this many, the total of pair scores plus waiting priority (`Policy.waiting_bonus`) is
    the highest on the candidate pairs (every feasible pair up to `EXACT_PAIRS` newcomers x
    mentors). Never breaks a hard rule or a capacity. Every newcomer left unmatched gets a
    reason: "no_feasible_mentor" (no eligible mentor passes the hard rules) or
    "capacity_exhausted" (suitable mentors exist, every one of them full, and no reshuffle of
    the others could free a place). The answer does not depend on the order of either list:
    ties are broken by id, and matches and unmatched come in newcomer id order.
    """
    ordered = sorted(newcomers, key=lambda n: n.id)
    if any(a.id == b.id for a, b in pairwise(ordered)):
        raise ValueError("newcomer ids must be unique")
    index = mentors if isinstance(mentors, MentorIndex) else MentorIndex.build(mentors, policy)
    batch = NewcomerBatch.build(ordered, index)
    bonus = waiting_bonus(ordered, policy)
    graph = candidate_graph(batch, index, policy, bonus)
    rows, cols, score = graph.rows, graph.cols, graph.score
    matched_col = np.full(len(batch), -1, dtype=np.int64)
    while True:
        chosen = solve_flow(rows, cols, score + bonus[rows], graph.capacity)
        matched_col[:] = -1
        matched_col[rows[chosen]] = cols[chosen]
        more_rows, more_cols = augmenting_edges(batch, index, policy, matched_col)
        if len(more_rows) == 0:
            break
        rows, cols, score = _exact_edges(
            batch,
            index,
            policy,
            np.concatenate([rows, more_rows]),
            np.concatenate([cols, more_cols]),
        )
    pair_score = np.zeros(len(batch))
    pair_score[rows[chosen]] = score[chosen]
    matches = tuple(
        Match(n.id, index.mentors[c].id, s)
        for n, c, s in zip(ordered, matched_col.tolist(), pair_score.tolist(), strict=True)
        if c >= 0
    )
    unmatched = tuple(
        Unmatched(n.id, "capacity_exhausted" if count > 0 else "no_feasible_mentor")
        for n, c, count in zip(
            ordered, matched_col.tolist(), graph.feasible_count.tolist(), strict=True
        )
        if c < 0
    )
    return Assignment(matches, unmatched, math.fsum(m.score for m in matches))
