"""Benchmark the matching engine: whole-queue assignment methods and single-newcomer ranking.

Usage:
    .venv/bin/python bench/bench_matching.py            # 10k/2.5k (twice), 30k/7.5k, 100k/25k
    .venv/bin/python bench/bench_matching.py --quick    # 2k/500 and 10k/2.5k (twice)

Every method runs in a forked child so its peak memory (resident set, including the generated
program) can be read on its own. "assign" is the engine end to end (index, shortlist, exact
re-scoring, max-flow-min-cost, the augmenting-path proof); greedy and stable matching run on the
same shortlisted edges, scoring included; "exact" is scipy's linear_sum_assignment over every
pair, capacity-expanded, with a premium per pair that makes it lexicographic (most matched, then
best total), run only where its dense matrices fit in memory. Its count is the maximum possible
("max"). "% of exact" compares the second part of the objective (pair scores plus waiting
priority); "total score" sums the pair scores alone. The second 10k/2.5k row sets a program
minimum of 1 shared hour and has 10% of newcomers excluding one or two mentors.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from matching import MentorIndex, Policy, assign, rank
from matching.assignment import candidate_graph, dense_values, waiting_bonus
from matching.index import NewcomerBatch
from matching.solvers import solve_exact, solve_flow, solve_greedy, solve_stable
from matching.synthetic import SyntheticProgram, synthetic_program

Result = dict[str, Any]


def run_in_child(work: Callable[[], Result]) -> Result:
    """Run `work` in a forked child; add its wall time and peak resident memory."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        started = time.perf_counter()
        result = work()
        result["seconds"] = time.perf_counter() - started
        with os.fdopen(write_end, "wb") as pipe:
            pickle.dump(result, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status, usage = os.wait4(pid, 0)
    if status != 0 or not data:
        return {"error": f"child exited with status {status}"}
    result: Result = pickle.loads(data)  # noqa: S301 - our own child's output
    result["peak_mb"] = usage.ru_maxrss / 1024
    return result


def engine(program: SyntheticProgram, policy: Policy) -> Result:
    index = MentorIndex.build(program.mentors, policy)
    result = assign(program.newcomers, index, policy)
    bonus = dict(
        zip(
            (n.id for n in program.newcomers),
            waiting_bonus(program.newcomers, policy).tolist(),
            strict=True,
        )
    )
    return {
        "total": result.total_score,
        "objective": result.total_score + math.fsum(bonus[m.newcomer_id] for m in result.matches),
        "matched": len(result.matches),
    }


def baseline(program: SyntheticProgram, policy: Policy, solve: Callable[..., np.ndarray]) -> Result:
    index = MentorIndex.build(program.mentors, policy)
    batch = NewcomerBatch.build(program.newcomers, index)
    bonus = waiting_bonus(program.newcomers, policy)
    graph = candidate_graph(batch, index, policy, bonus)
    chosen = solve(graph.rows, graph.cols, graph.value, graph.capacity)
    return {
        "total": float(graph.score[chosen].sum()),
        "objective": float(graph.value[chosen].sum()),
        "matched": len(chosen),
    }


def exact(program: SyntheticProgram, policy: Policy) -> Result:
    index = MentorIndex.build(program.mentors, policy)
    batch = NewcomerBatch.build(program.newcomers, index)
    bonus = waiting_bonus(program.newcomers, policy)
    values = dense_values(batch, index, policy, bonus)
    rows, cols = solve_exact(values, np.maximum(index.remaining, 0))
    return {
        "total": float((values[rows, cols] - bonus[rows]).sum()),
        "objective": float(values[rows, cols].sum()),
        "matched": len(rows),
    }


def exact_fits(program: SyntheticProgram, budget_bytes: int) -> bool:
    places = sum(max(m.remaining_capacity, 0) for m in program.mentors)
    newcomers = len(program.newcomers)
    # the values (float64) and the capacity-expanded cost matrix (float64).
    need = newcomers * len(program.mentors) * 8 + newcomers * places * 8
    return need < budget_bytes


def rank_timing(program: SyntheticProgram, policy: Policy, samples: int) -> Result:
    index = MentorIndex.build(program.mentors, policy)
    rank(program.newcomers[0], index, policy, k=5)  # warm the time-zone caches
    times = []
    for person in program.newcomers[:samples]:
        started = time.perf_counter()
        rank(person, index, policy, k=5)
        times.append(time.perf_counter() - started)
    return {
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": sorted(times)[int(0.95 * (len(times) - 1))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--exact-gb", type=float, default=10.0, help="memory the exact solver may use"
    )
    parser.add_argument("--no-exact", action="store_true", help="skip the exact solver")
    args = parser.parse_args()
    # (newcomers, mentors, minimum shared hours, share of newcomers excluding a mentor)
    ruled = (10_000, 2_500, 1.0, 0.1)
    sizes = (
        [(2_000, 500, 0.0, 0.02), (10_000, 2_500, 0.0, 0.02), ruled]
        if args.quick
        else [
            (10_000, 2_500, 0.0, 0.02),
            ruled,
            (30_000, 7_500, 0.0, 0.02),
            (100_000, 25_000, 0.0, 0.02),
        ]
    )
    # Pay the one-off costs (importing scikit-learn, time-zone tables, loading the shortlist's
    # compiled kernels from numba's cache, or compiling them on a first run) before any timing:
    # 300 x 300 is past EXACT_PAIRS, so the shortlist runs.
    warm = synthetic_program(300, 300, seed=args.seed)
    assign(warm.newcomers, warm.mentors, Policy())
    one = np.zeros(1, dtype=np.int64)
    solve_flow(one, one, np.ones(1), one + 1)  # OR-Tools' native library
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, seed: {args.seed}")
    header = (
        f"| {'size':>28} | {'method':<7} | {'seconds':>8} | {'peak MB':>8} | "
        f"{'total score':>12} | {'% of exact':>10} | {'matched':>8} | {'max':>8} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    rank_rows = []
    for newcomers, mentors, hours, excluding in sizes:
        program = synthetic_program(newcomers, mentors, seed=args.seed, excluding_share=excluding)
        policy = Policy(conflicts=program.conflicts, min_shared_hours=hours)
        methods: list[tuple[str, Callable[[], Result]]] = []
        if not args.no_exact and exact_fits(program, int(args.exact_gb * 2**30)):
            methods.append(("exact", lambda p=program, q=policy: exact(p, q)))
        methods += [
            ("assign", lambda p=program, q=policy: engine(p, q)),
            ("greedy", lambda p=program, q=policy: baseline(p, q, solve_greedy)),
            ("stable", lambda p=program, q=policy: baseline(p, q, solve_stable)),
        ]
        reference = None
        most = "n/a"
        size = f"{newcomers:,}/{mentors:,}" + (
            f" {hours:g} h, {excluding:.0%} excl." if hours else ""
        )
        for name, work in methods:
            result = run_in_child(work)
            if "error" in result:
                print(f"| {size:>28} | {name:<7} | {result['error']} |", flush=True)
                continue
            if name == "exact":
                reference = result["objective"]
                most = f"{result['matched']:,}"
            share = "n/a" if reference is None else f"{100 * result['objective'] / reference:.3f}"
            print(
                f"| {size:>28} | {name:<7} | {result['seconds']:>8.2f} | "
                f"{result['peak_mb']:>8.0f} | {result['total']:>12.1f} | {share:>10} | "
                f"{result['matched']:>8,} | {most:>8} |",
                flush=True,
            )
        if not hours:
            timing = run_in_child(lambda p=program, q=policy: rank_timing(p, q, 200))
            rank_rows.append((mentors, timing))
    print()
    print("| mentors | rank median ms | rank p95 ms |")
    print("|--------:|---------------:|------------:|")
    for mentors, timing in rank_rows:
        print(f"| {mentors:>7,} | {timing['median_ms']:>14.2f} | {timing['p95_ms']:>11.2f} |")


if __name__ == "__main__":
    main()
