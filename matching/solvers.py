"""Capacitated matching solvers over a list of weighted (newcomer, mentor) edges.

Edges are parallel arrays: `rows` (newcomer), `cols` (mentor), `value` (what to maximise, > 0).
Each solver returns the indices of the chosen edges; a newcomer gets at most one edge and a
mentor at most `capacity[mentor]`. `solve_flow` is optimal on the edges it is given for
`assign`'s lexicographic objective (the most edges, then the highest total value); greedy and
stable matching are the baselines the benchmark compares against, and `solve_exact` is the dense
reference for the same objective over all pairs.
"""

from __future__ import annotations

import heapq

import numpy as np

from matching.index import Floats, Ints

COST_SCALE = 1_000_000  # the flow's integer costs are millionths of a point


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
    """The most edges a capacitated matching can take, and among those the highest total value.

    OR-Tools' `solve_max_flow_with_min_cost` on the network newcomer (supply 1) -> mentor (the
    edge, cost -value) with each mentor's demand its places: it finds the maximum flow first,
    then the minimum cost at that flow, so the objective is lexicographic by construction (no
    bonus per match to tune). Costs are whole millionths of a point, so the total is optimal
    on these edges to within a millionth per match; the count is exact.
    """
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    from ortools.graph.python import min_cost_flow  # imported here: 45 ms of native code

    n_rows = int(rows.max()) + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        rows.astype(np.int32),
        (n_rows + cols).astype(np.int32),
        np.ones(len(rows), dtype=np.int64),
        -np.round(value * COST_SCALE).astype(np.int64),
    )
    supplies = np.concatenate([np.ones(n_rows, np.int64), -np.maximum(capacity, 0)])
    flow.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies.astype(np.int64))
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise ValueError(f"min-cost flow failed: {status.name}")
    used = np.asarray(flow.flows(np.asarray(arcs)))
    chosen: Ints = np.flatnonzero(used > 0)
    return chosen


def solve_exact(values: Floats, capacity: Ints) -> tuple[Ints, Ints]:
    """Exact optimum of `assign`'s objective over a dense newcomers x mentors matrix (-inf =
    infeasible): the most pairs matched, then the highest total value.

    The reference the benchmark and the tests measure against: scipy's linear_sum_assignment on
    the matrix with each mentor repeated once per place, every feasible cell worth its value
    plus a premium larger than any total of values (so one more pair always outweighs any gain
    in value: lexicographic), every infeasible cell worth nothing. The cost matrix (8 bytes a
    cell) is built in blocks with the shorter side as rows, so scipy neither copies nor
    transposes it.
    """
    from scipy import optimize  # imported here: only the reference needs it, and it is slow

    places = np.maximum(capacity, 0)
    owner = np.repeat(np.arange(len(places)), places)
    finite = values[np.isfinite(values)]
    premium = 1.0 + min(len(values), len(owner)) * float(np.abs(finite).max(initial=0.0)) * 2
    by_slot = len(owner) <= len(values)
    cost = np.empty((len(owner), len(values)) if by_slot else (len(values), len(owner)))
    for start in range(0, len(cost), 1024):
        if by_slot:
            block = values[:, owner[start : start + 1024]].T
        else:
            block = values[start : start + 1024][:, owner]
        cost[start : start + 1024] = np.where(np.isfinite(block), -(block + premium), 0.0)
    first, second = optimize.linear_sum_assignment(cost)
    del cost
    row_ind, slot_ind = (second, first) if by_slot else (first, second)
    order = np.argsort(row_ind, kind="stable")
    row_ind, mentor_ind = row_ind[order], owner[slot_ind[order]]
    real = np.isfinite(values[row_ind, mentor_ind])
    return row_ind[real], mentor_ind[real]
