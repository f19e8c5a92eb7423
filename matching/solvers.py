"""Capacitated matching solvers over a list of weighted (newcomer, mentor) edges.

Edges are parallel arrays: `rows` (newcomer), `cols` (mentor), `value` (what to maximise, > 0).
Each solver returns the indices of the chosen edges; a newcomer gets at most one edge and a
mentor at most `capacity[mentor]`. `solve_flow` is optimal on the edges it is given; greedy and
stable matching are here as the baselines the benchmark compares against, and `solve_exact` is
the dense reference over all pairs.
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy import optimize, sparse
from scipy.sparse import csgraph

from matching.index import Floats, Ints


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
    """Maximum-value capacitated matching on the given edges (optimal on this graph).

    Each mentor becomes as many slots as places it can use, every newcomer also gets a private
    "stay unmatched" slot of value 0, and scipy's sparse Jonker-Volgenant solver finds the
    min-cost full matching.
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    n_rows = int(rows.max()) + 1
    degree = np.bincount(cols, minlength=len(capacity))
    slots = np.minimum(np.maximum(capacity, 0), degree)
    first_slot = np.concatenate(([0], np.cumsum(slots)))
    usable = slots[cols] > 0
    edge = np.flatnonzero(usable)
    copies = slots[cols[edge]]
    edge_rep = np.repeat(edge, copies)
    offset = np.arange(len(edge_rep)) - np.repeat(np.cumsum(copies) - copies, copies)
    slot = first_slot[cols[edge_rep]] + offset
    ceiling = float(value.max()) + 1.0
    n_slots = int(first_slot[-1])
    matrix = sparse.csr_array(
        (
            np.concatenate([ceiling - value[edge_rep], np.full(n_rows, ceiling)]),
            (
                np.concatenate([rows[edge_rep], np.arange(n_rows)]),
                np.concatenate([slot, n_slots + np.arange(n_rows)]),
            ),
        ),
        shape=(n_rows, n_slots + n_rows),
    )
    row_ind, col_ind = csgraph.min_weight_full_bipartite_matching(matrix)
    real = col_ind < n_slots
    owner = np.repeat(np.arange(len(slots)), slots)
    key = rows * len(capacity) + cols
    order = np.argsort(key, kind="stable")
    found = np.searchsorted(key[order], row_ind[real] * len(capacity) + owner[col_ind[real]])
    return np.sort(order[found])


def solve_exact(values: Floats, capacity: Ints) -> tuple[Ints, Ints]:
    """Exact optimum over a dense newcomers x mentors matrix (-inf = infeasible).

    The reference the benchmark measures against: scipy's linear_sum_assignment on the matrix
    with each mentor repeated once per place. Memory grows with newcomers x places.
    """
    places = np.maximum(capacity, 0)
    owner = np.repeat(np.arange(len(places)), places)
    expanded = values[:, owner]
    benefit = np.where(np.isfinite(expanded), expanded, 0.0)
    row_ind, slot_ind = optimize.linear_sum_assignment(benefit, maximize=True)
    real = np.isfinite(expanded[row_ind, slot_ind])
    return row_ind[real], owner[slot_ind[real]]
