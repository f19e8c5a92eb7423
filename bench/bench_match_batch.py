"""Batch matching end to end from the database: 10,000 waiting newcomers and 2,500 mentors read
from their rows, `matching.assign`, and the proposals stored with their explanations. Prints
where the time goes (the steps `run_batch` stores with each run) and the run's figures.

Usage:
    .venv/bin/python bench/bench_match_batch.py                    # SQLite in a temporary file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<scratch db> \
        .venv/bin/python bench/bench_match_batch.py
    .venv/bin/python bench/bench_match_batch.py --newcomers 2000 --mentors 500

The PostgreSQL database is wiped (every table dropped and migrated again): use a scratch one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite'}")
os.environ["PICCOLO_CONF"] = "tandem.piccolo_conf"
os.environ["TANDEM_ENV"] = "test"
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT), str(ROOT / "bench")]

import anyio  # noqa: E402

STEPS = {
    "load_requests": "read the queue (requests, intakes, exclusions: bulk queries)",
    "load_mentors": "read the mentors (training gate, places) and build the index",
    "assign": "matching.assign",
    "explain": "explain each pair (rank for alternatives, week grids)",
    "store": "store proposals, requests, audit events (chunks of 500)",
}


async def fresh_database() -> None:
    """Start from empty tables (PostgreSQL is reused; SQLite is a new file)."""
    from tandem.cli import migrate

    if not os.environ["DATABASE_URL"].startswith("sqlite"):
        from tandem.piccolo_conf import DB

        await DB.run_ddl("DROP SCHEMA public CASCADE")
        await DB.run_ddl("CREATE SCHEMA public")
    await migrate()


async def main(newcomers: int, mentors: int) -> None:
    from big_program import build

    from tandem.matches import services

    await fresh_database()
    # A serving process has loaded the engine (numpy, scikit-learn, OR-Tools) on its first
    # request; load it before timing, as bench_matching.py does.
    import sklearn.feature_extraction.text  # noqa: F401

    import matching.index  # noqa: F401

    started = time.perf_counter()
    program = await build(newcomers, mentors, waiting=newcomers)
    built = time.perf_counter() - started
    database = os.environ["DATABASE_URL"].split(":")[0]
    print(f"database: {database}; built {newcomers:,} waiting newcomers and {mentors:,} trained "
          f"mentors in {built:.1f} s")  # fmt: skip
    started = time.perf_counter()
    run = await services.run_batch(program.program_id)
    wall = time.perf_counter() - started
    assert run is not None  # noqa: S101 - nobody else runs here
    print(f"\nwaiting {run.waiting:,}, proposed {run.proposed:,}, unmatched {run.unmatched}")
    print("\n| step | seconds | share |\n|---|---:|---:|")
    for step, seconds in run.timings.items():
        print(f"| {STEPS.get(step, step)} | {seconds:.2f} | {seconds / run.seconds:.0%} |")
    total = f"**{run.seconds:.2f}**"
    print(f"| **total** (`run_batch`, wall {wall:.2f} s) | {total} | 100% |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--newcomers", type=int, default=10_000)
    parser.add_argument("--mentors", type=int, default=2_500)
    args = parser.parse_args()
    anyio.run(main, args.newcomers, args.mentors)
