"""The match journey on the demo program: database queries and server time per page, and the
time to request a mentor with the mentor index cold (first request) and cached, on the demo
program (20 mentors open to new matches) and in a program of 2,500 trained mentors.

Usage:
    .venv/bin/python bench/bench_match_pages.py    # SQLite in a temporary file
    DATABASE_URL=postgresql://... .venv/bin/python bench/bench_match_pages.py

Runs the app in process (ASGI transport, no network) on a fresh database with `demo load`.
"""

from __future__ import annotations

import os
import statistics
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
import httpx  # noqa: E402
import in_process  # noqa: E402

from tandem.settings import Settings  # noqa: E402

ROUNDS = 5
BIG_MENTORS, BIG_NEWCOMERS = 2_500, 41


DEMO_PASSWORD = "tandem-demo-2026"  # noqa: S105 - the demo program's published password


async def signed_in(app, username: str, password: str = DEMO_PASSWORD) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return await in_process.signed_in(app, username, password)


async def measure(client: httpx.AsyncClient, method: str, url: str) -> tuple[int, float, int]:
    in_process.QUERIES["count"] = 0
    start = time.perf_counter()
    response = await client.request(method, url, headers={"accept": "text/html"})
    elapsed = time.perf_counter() - start
    return in_process.QUERIES["count"], elapsed * 1000, response.status_code


async def main() -> None:
    from big_program import PASSWORD, build

    from tandem.app import create_app
    from tandem.cli import migrate
    from tandem.demo import load_demo
    from tandem.matches.tables import BatchRun, MatchProposal

    await migrate()
    await load_demo()
    run = await BatchRun.select().output(load_json=True).first()
    print(f"demo batch run: {run['waiting']} waiting, {run['proposed']} proposed, unmatched "
          f"{run['unmatched']}, {run['seconds']} s {run['timings']}")  # fmt: skip
    in_process.count_queries()
    app = create_app(
        Settings(database_url=os.environ["DATABASE_URL"], environment="test",
                 run_outbox_worker=False, login_rate_limit_per_minute=10_000,
                 address_rate_limit_per_minute=10_000)
    )  # fmt: skip
    async with app.lifespan():
        proposal = (
            await MatchProposal.select(MatchProposal.id)
            .where(MatchProposal.status == "pending")
            .first()
        )
        pages = [
            ("newcomer004", "GET", "/match", "newcomer, matched"),
            ("newcomer002", "GET", "/match", "newcomer, waiting for review"),
            ("newcomer004", "GET", "/home", "newcomer home"),
            ("supervisor1", "GET", "/staff/matches", "review queue"),
            ("supervisor1", "GET", f"/staff/matches/proposals/{proposal['id']}", "one proposal"),
        ]
        print(f"database: {os.environ['DATABASE_URL'].split(':')[0]}; median of {ROUNDS} calls")
        print("| page | queries | server ms |\n|---|---:|---:|")
        for username, method, url, label in pages:
            client = await signed_in(app, username)
            runs = [await measure(client, method, url) for _ in range(ROUNDS)]
            if any(code != 200 for _, _, code in runs):
                raise SystemExit(f"{url} answered {runs}")
            median = statistics.median(ms for _, ms, _ in runs)
            print(f"| {label} (`{url}`) | {runs[-1][0]} | {median:.1f} |")
            await client.aclose()

        # Every demo newcomer with an intake; those the demo already matched are skipped.
        usernames = [f"newcomer{index + 1:03d}" for index in range(90)]
        await request_table(app, "demo program, 20 mentors open", usernames, DEMO_PASSWORD)
        big = await build(BIG_NEWCOMERS, BIG_MENTORS, waiting=0)
        usernames = [f"{big.slug}-newcomer{index:05d}" for index in range(BIG_NEWCOMERS)]
        await request_table(app, f"{BIG_MENTORS:,} trained mentors", usernames, PASSWORD)


async def request_table(app, label: str, usernames: list[str], password: str) -> None:  # type: ignore[no-untyped-def]
    """Each newcomer asks once (`POST /api/v1/match-requests`): the first after the index was
    dropped (cold: rank over a freshly built index), the rest with it cached."""
    from tandem.matches import engine

    times = []
    for username in usernames:
        client = await signed_in(app, username, password)
        # The demo's history leaves some of these newcomers with a request or a match of their
        # own: an open request is withdrawn first (untimed); one already matched is skipped.
        await client.post("/api/v1/match-requests/mine/withdraw")
        if not times:
            engine.forget()
        queries, ms, code = await measure(client, "POST", "/api/v1/match-requests")
        await client.aclose()
        if code == 409:
            continue
        if code != 201:
            raise SystemExit(f"requesting a mentor answered {code}")
        times.append((ms, queries))
    warm = sorted(ms for ms, _ in times[1:])
    p95 = warm[int(0.95 * (len(warm) - 1))]
    print(f"\n| request a mentor, {label} | queries | server ms |\n|---|---:|---:|")
    print(f"| first, index cold | {times[0][1]} | {times[0][0]:.1f} |")
    print(f"| cached, median of {len(warm)} | {times[1][1]} | {statistics.median(warm):.1f} |")
    print(f"| cached, p95 | | {p95:.1f} |")


if __name__ == "__main__":
    anyio.run(main)
