"""Capacitated matching solvers over a list of weighted (newcomer, mentor) edges.

Edges are parallel arrays: `rows` (newcomer), `cols` (mentor), `value` (what to maximise, > 0).
Each solver returns the indices of the chosen edges; a newcomer gets at most one edge and a
mentor at most `capacity[mentor]`. `solve_flow` is optimal on the edges it is given and
`solve_auction` within a hair of it, much faster on large graphs; greedy and stable matching are
the baselines the benchmark compares against, and `solve_exact` is the dense reference over all
pairs.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from matching.index import Floats, Ints

BACKOFF = 5.0  # coarse-phase epsilons a full mentor's price is lowered by before the next phase
SEQUENTIAL_BELOW = 64  # free newcomers under which the auction bids one at a time


def solve_greedy(rows: Ints, cols: Ints, value: Floats, capacity: Ints) -> Ints:
    """Take edges from the most valuable down while both ends have room (ties: row, then col)."""
    order = np.lexsort((cols, rows, -value))
    room = capacity.astype(np.int64).tolist()
    seated: set[int] = set()
    chosen = []
    for e, r, c in zip(order.tolist(), rows[order].tolist(), cols[order].tolist(), strict=True):
        if r not in seated and room[c] > 0:
            seated.add(r)
            room[c] -= 1
            chosen.append(e)
    return np.array(sorted(chosen), dtype=np.int64)


def solve_stable(rows: Ints, cols: Ints, value: Floats, capacity: Ints) -> Ints:
    """Newcomer-proposing deferred acceptance (Gale-Shapley with capacities).

    Both sides rank by edge value, so no newcomer and mentor with room for each other would both
    rather swap; stable, but not the best total.
    """
    order = np.lexsort((cols, -value, rows))
    starts = np.searchsorted(rows[order], np.arange(int(rows.max(initial=-1)) + 2))
    next_choice = starts[:-1].tolist()
    ends = starts[1:].tolist()
    ranked = order.tolist()
    value_list = value.tolist()
    rows_list = rows.tolist()
    cols_list = cols.tolist()
    held: list[list[tuple[float, int, int]]] = [[] for _ in range(len(capacity))]
    free = [r for r in range(len(ends)) if next_choice[r] < ends[r]]
    while free:
        r = free.pop()
        while next_choice[r] < ends[r]:
            e = ranked[next_choice[r]]
            next_choice[r] += 1
            c = cols_list[e]
            if capacity[c] <= 0:
                continue
            # Min-heap of (value, -row, edge): the weakest holder on top, higher row loses ties.
            entry = (value_list[e], -rows_list[e], e)
            if len(held[c]) < capacity[c]:
                heapq.heappush(held[c], entry)
                break
            if entry > held[c][0]:
                bumped = heapq.heapreplace(held[c], entry)
                free.append(rows_list[bumped[2]])
                break
    return np.array(sorted(e for heap in held for _, _, e in heap), dtype=np.int64)


def solve_flow(rows: Ints, cols: Ints, value: Floats, capacity: Ints) -> Ints:
    """Maximum-value capacitated matching on the given edges, exactly.

    Each mentor becomes as many slots as places it can use; slots are the rows of scipy's sparse
    Jonker-Volgenant solver (the smaller side when places are scarce, which keeps augmenting
    paths short) and each slot may also stay empty through a private column of value 0.
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    n_newcomers = int(rows.max()) + 1
    places = np.minimum(np.maximum(capacity, 0), np.bincount(cols, minlength=len(capacity)))
    first_slot = np.concatenate(([0], np.cumsum(places)))
    n_slots = int(first_slot[-1])
    copies = places[cols]
    edge = np.repeat(np.arange(len(rows)), copies)
    slot = (
        first_slot[cols[edge]]
        + np.arange(len(edge))
        - np.repeat(np.cumsum(copies) - copies, copies)
    )
    ceiling = float(value.max()) + 1.0
    matrix = sparse.csr_array(
        (
            np.concatenate([ceiling - value[edge], np.full(n_slots, ceiling)]),
            (
                np.concatenate([slot, np.arange(n_slots)]),
                np.concatenate([rows[edge], n_newcomers + np.arange(n_slots)]),
            ),
        ),
        shape=(n_slots, n_newcomers + n_slots),
    )
    slot_ind, newcomer_ind = csgraph.min_weight_full_bipartite_matching(matrix)
    real = newcomer_ind < n_newcomers
    owner = np.repeat(np.arange(len(places)), places)
    key = rows * len(capacity) + cols
    order = np.argsort(key, kind="stable")
    wanted = newcomer_ind[real] * len(capacity) + owner[slot_ind[real]]
    return np.sort(order[np.searchsorted(key[order], wanted)])


def solve_exact(values: Floats, capacity: Ints) -> tuple[Ints, Ints]:
    """Exact optimum over a dense newcomers x mentors matrix (-inf = infeasible).

    The reference the benchmark measures against: scipy's linear_sum_assignment on the matrix
    with each mentor repeated once per place. The cost matrix (8 bytes a cell) is built in blocks
    with the shorter side as rows, so scipy neither copies nor transposes it.
    """
    from scipy import optimize  # imported here: only the reference needs it, and it is slow

    places = np.maximum(capacity, 0)
    owner = np.repeat(np.arange(len(places)), places)
    by_slot = len(owner) <= len(values)
    cost = np.empty((len(owner), len(values)) if by_slot else (len(values), len(owner)))
    for start in range(0, len(cost), 1024):
        if by_slot:
            block = values[:, owner[start : start + 1024]].T
        else:
            block = values[start : start + 1024][:, owner]
        cost[start : start + 1024] = np.where(np.isfinite(block), -block, 0.0)
    first, second = optimize.linear_sum_assignment(cost)
    del cost
    row_ind, slot_ind = (second, first) if by_slot else (first, second)
    order = np.argsort(row_ind, kind="stable")
    row_ind, mentor_ind = row_ind[order], owner[slot_ind[order]]
    real = np.isfinite(values[row_ind, mentor_ind])
    return row_ind[real], mentor_ind[real]


def solve_auction(
    rows: Ints,
    cols: Ints,
    value: Floats,
    capacity: Ints,
    epsilons: tuple[float, ...] = (1.0, 0.1, 0.01),
) -> Ints:
    """Bertsekas' auction for capacitated assignment, with epsilon-scaling.

    Each free newcomer bids for its best mentor at net value (value - price), raising the price by
    its margin over the second-best choice (staying unmatched is worth 0) plus epsilon. A mentor
    holds its highest bids, one per place; its price is the lowest bid it holds. All free
    newcomers bid at once (a few vectorised passes per round), the last stragglers one by one.

    Why scaling: when places are scarce, prices must climb to about the waiting bonus before the
    newcomers who will stay unmatched give up, and with a small epsilon that climb takes
    hundreds of rounds. A coarse phase climbs fast; each finer phase restarts the bidding from
    the prices of mentors that were full, lowered by a few coarse epsilons since coarse bids
    overshoot (a mentor with room goes back to price 0, as an optimal solution requires). The
    final phase is within its epsilon per matched newcomer of the optimum on these edges, apart
    from places a mentor filled in a coarse phase and lost in the last, which `assign`'s final
    pass offers again; the tests and the benchmark hold it to the exact solvers.
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((cols, rows))
    rows, cols, value = rows[order], cols[order], value[order]
    n_rows = int(rows[-1]) + 1
    first_edge = np.searchsorted(rows, np.arange(n_rows + 1))
    places = np.minimum(np.maximum(capacity, 0), np.bincount(cols, minlength=len(capacity)))
    width = max(int(places.max()), 1)
    exists = np.arange(width) < places[:, None]
    floor = np.zeros(len(capacity))
    slot_edge = np.full((len(capacity), width), -1, dtype=np.int64)
    # The one-by-one tail reads the edges as Python lists: converted once, not once a phase.
    edge_lists = EdgeLists(first_edge.tolist(), cols.tolist(), value.tolist(), rows.tolist())
    for epsilon in epsilons:
        # One row per mentor, one column per place: the bid held there (the mentor's floor
        # price while free, inf where the mentor has no such place) and the edge holding it.
        slot_bid = np.where(exists, floor[:, None], np.inf)
        slot_edge = np.full((len(capacity), width), -1, dtype=np.int64)
        free = np.flatnonzero(np.diff(first_edge) > 0)
        free = _bid_together(free, first_edge, rows, cols, value, slot_bid, slot_edge, epsilon)
        _bid_one_by_one(free, edge_lists, slot_bid, slot_edge, epsilon)
        full = (slot_edge >= 0).sum(axis=1) >= places
        floor = np.where(
            full & (places > 0), np.maximum(slot_bid.min(axis=1) - BACKOFF * epsilon, 0.0), 0.0
        )
    return np.sort(order[slot_edge[slot_edge >= 0]])


def _group_starts(sorted_keys: Ints) -> Ints:
    """Where each run of equal keys starts (np.unique without the sort the keys don't need)."""
    return np.flatnonzero(np.diff(sorted_keys, prepend=-1))


def _bid_together(
    free: Ints,
    first_edge: Ints,
    rows: Ints,
    cols: Ints,
    value: Floats,
    slot_bid: Floats,
    slot_edge: Ints,
    epsilon: float,
) -> Ints:
    """An auction phase's rounds while many are free; updates the slots, returns who is free."""
    width = slot_bid.shape[1]
    price = slot_bid.min(axis=1)
    while len(free) > SEQUENTIAL_BELOW:
        counts = first_edge[free + 1] - first_edge[free]
        seg_start = np.cumsum(counts) - counts
        edges = np.repeat(first_edge[free] - seg_start, counts) + np.arange(int(counts.sum()))
        seg = np.repeat(np.arange(len(free)), counts)
        net = value[edges] - price[cols[edges]]
        best = np.maximum.reduceat(net, seg_start)
        at_best = np.flatnonzero(net == best[seg])
        best_pos = at_best[_group_starts(seg[at_best])]
        net[best_pos] = -np.inf
        second = np.maximum(np.maximum.reduceat(net, seg_start), 0.0)
        bidding = best > 0  # the others are better off unmatched at these prices, for good
        bid_edge = edges[best_pos[bidding]]
        bid = price[cols[bid_edge]] + best[bidding] - second[bidding] + epsilon
        if len(bid_edge) == 0:
            break
        # Line each contested mentor's new bids up after the bids it holds, keep the best.
        by_mentor = np.lexsort((bid_edge, -bid, cols[bid_edge]))
        bid_edge, bid = bid_edge[by_mentor], bid[by_mentor]
        group_start = _group_starts(cols[bid_edge])
        contested = cols[bid_edge[group_start]]
        group_size = np.diff(np.append(group_start, len(bid_edge)))
        depth = int(group_size.max())
        new_bid = np.full((len(contested), depth), -np.inf)
        new_edge = np.full((len(contested), depth), -1, dtype=np.int64)
        slot_in_group = np.arange(len(bid_edge)) - np.repeat(group_start, group_size)
        group_of = np.repeat(np.arange(len(contested)), group_size)
        new_bid[group_of, slot_in_group] = bid
        new_edge[group_of, slot_in_group] = bid_edge
        pool_bid = np.hstack([slot_bid[contested], new_bid])
        pool_edge = np.hstack([slot_edge[contested], new_edge])
        ranked = np.argsort(-pool_bid, axis=1, kind="stable")
        pool_bid = np.take_along_axis(pool_bid, ranked, axis=1)
        pool_edge = np.take_along_axis(pool_edge, ranked, axis=1)
        slot_bid[contested] = pool_bid[:, :width]
        slot_edge[contested] = pool_edge[:, :width]
        price[contested] = slot_bid[contested].min(axis=1)
        dropped = pool_edge[:, width:]
        free = np.sort(rows[dropped[dropped >= 0]])
    return free


class EdgeLists(NamedTuple):
    """The auction's edges (sorted by row) as Python lists, for the one-by-one tail."""

    starts: list[int]  # each row's first edge, plus the end
    mentor_of: list[int]
    worth: list[float]
    owner: list[int]


def _bid_one_by_one(
    free: Ints, edges: EdgeLists, slot_bid: Floats, slot_edge: Ints, epsilon: float
) -> None:
    """The auction's tail, one bid at a time: a vectorised round costs the same for 3 bidders as
    for 3,000, and the last few hundred rounds of a price war have only a handful each."""
    starts, mentor_of, worth, owner = edges
    bids, holders = slot_bid.tolist(), slot_edge.tolist()
    price = [min(b) for b in bids]
    queue = deque(free.tolist())
    while queue:
        row = queue.popleft()
        best, second, best_edge = -math.inf, 0.0, -1
        for edge in range(starts[row], starts[row + 1]):
            net = worth[edge] - price[mentor_of[edge]]
            if net > best:
                best, second, best_edge = net, max(second, best), edge
            elif net > second:
                second = net
        if best <= 0:
            continue
        mentor = mentor_of[best_edge]
        place = bids[mentor].index(price[mentor])
        dropped = holders[mentor][place]
        bids[mentor][place] = price[mentor] + best - second + epsilon
        holders[mentor][place] = best_edge
        price[mentor] = min(bids[mentor])
        if dropped >= 0:
            queue.append(owner[dropped])
    slot_bid[:] = bids
    slot_edge[:] = holders
