"""The supervisor's dashboard on a large program: 2,000 newcomers, 500 mentors and two years of
history (about 6,000 matches, their requests and the mentors' training passes), plus
today's queue, active matches and open concerns. Prints server time per page (p50, p95) and
the queries each page runs.

Usage:
    .venv/bin/python bench/bench_dashboard.py    # SQLite in a temporary file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/bench_dashboard.py

Runs the app in process (ASGI transport, no network) on a migrated database it empties first
(never point it at one whose rows you want). The program is
written in bulk (the demo's `load_history` for the past), so building it takes seconds.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite'}")
os.environ["PICCOLO_CONF"] = "tandem.piccolo_conf"
os.environ["TANDEM_ENV"] = "test"
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

import anyio  # noqa: E402
import httpx  # noqa: E402
import in_process  # noqa: E402

from tandem.settings import Settings  # noqa: E402

NEWCOMERS, MENTORS, WAITING, ACTIVE, OPEN_CONCERNS = 2000, 500, 150, 600, 60
CALLS = 30
PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway database
NO_LOGIN = "!"  # the bench's newcomers and mentors never sign in: no hash matches this


async def _people(program_id: int, role: str, count: int, status: str) -> list[int]:
    from tandem.accounts.tables import Membership, Person
    from tandem.core.clock import clock
    from tandem.demo import insert_rows

    now = clock.now()
    people = await insert_rows(
        [
            Person(
                username=f"{role}-{n:04d}", display_name=f"{role.title()} {n}",
                password_hash=NO_LOGIN, active=True, created_at=now,
            )
            for n in range(count)
        ],
        Person.id,
    )  # fmt: skip
    rows = await insert_rows(
        [
            Membership(person=p["id"], program=program_id, role=role, status=status,
                       created_at=now - timedelta(days=800), approved_at=now - timedelta(days=800))
            for p in people
        ],
        Membership.id,
    )  # fmt: skip
    return [row["id"] for row in rows]


async def build() -> tuple[int, float]:
    """The program, written in bulk; returns its id and the seconds it took."""
    from tandem.accounts import services as accounts
    from tandem.core.auth import Role
    from tandem.core.clock import clock
    from tandem.demo import insert_rows, load_history
    from tandem.matches.tables import MentorMatch, MentorRequest
    from tandem.profiles.tables import MentorProfile
    from tandem.safety.tables import Concern
    from tandem.training.content import current_track
    from tandem.training.tables import QuizAttempt

    start = time.perf_counter()
    rng = random.Random(15)
    now = clock.now()
    program_id = await accounts.create_program("bench", "Bench Recovery Community")
    await accounts.create_member(
        program_id=program_id, username="supervisor", display_name="Sam",
        password=PASSWORD, role=Role.SUPERVISOR,
    )  # fmt: skip
    newcomers = await _people(program_id, "newcomer", NEWCOMERS, "active")
    mentors = await _people(program_id, "mentor", MENTORS, "active")
    await insert_rows(
        [
            MentorProfile(
                membership=m, program=program_id, recovery_start=date(2018, 1, 1),
                pathways=["twelve_step"], languages=["en"], formats=["video"], gender="woman",
                timezone="America/New_York", availability=[], capacity=rng.choice((1, 2, 2, 3)),
                paused=n % 25 == 0, updated_at=now,
            )
            for n, m in enumerate(mentors)
        ]
    )  # fmt: skip
    # Two years of the past (ended matches, first completions of the track) ...
    await load_history(program_id, newcomers, mentors, mentors, seed=15)
    # ... and each mentor's latest passes within the year, so most are current today.
    await insert_rows(
        [
            QuizAttempt(
                membership=m, program=program_id, module_id=module.id,
                content_version=module.version, started_at=passed, submitted_at=passed,
                correct_count=module.quiz_length, score=1.0, critical_missed=0, passed=True,
            )
            for m in mentors[: int(MENTORS * 0.9)]
            for passed in [now - timedelta(days=rng.uniform(5, 360))]
            for module in current_track().modules
        ]
    )  # fmt: skip
    # Today: newcomers waiting, active matches, open concerns.
    statuses = ("waiting", "under_review", "offered")
    await insert_rows(
        [
            MentorRequest(newcomer=n, program=program_id, status=rng.choice(statuses),
                          created_at=now - timedelta(days=rng.uniform(0, 45)), updated_at=now)
            for n in newcomers[:WAITING]
        ]
    )  # fmt: skip
    pairs = list(zip(newcomers[WAITING : WAITING + ACTIVE], mentors * 2, strict=False))
    started = [now - timedelta(days=rng.uniform(3, 200)) for _ in pairs]
    requests = await insert_rows(
        [
            MentorRequest(newcomer=n, program=program_id, status="matched",
                          created_at=s - timedelta(days=3), updated_at=s, matched_at=s)
            for (n, _), s in zip(pairs, started, strict=True)
        ],
        MentorRequest.id,
    )  # fmt: skip
    await insert_rows(
        [
            MentorMatch(request=r["id"], program=program_id, newcomer=n, mentor=m,
                        status="active", started_at=s)
            for r, (n, m), s in zip(requests, pairs, started, strict=True)
        ]
    )  # fmt: skip
    await insert_rows(
        [
            Concern(
                program=program_id, category=rng.choice(("money", "communication", "scope")),
                severity=rng.choice(("S1", "S2", "S3", "S4", "S4")),
                status="open" if n < OPEN_CONCERNS else "closed", about=rng.choice(mentors),
                filed_at=filed, due_at=filed + timedelta(days=2),
                closed_at=None if n < OPEN_CONCERNS else filed + timedelta(days=5),
            )
            for n in range(OPEN_CONCERNS * 5)
            for filed in [now - timedelta(days=rng.uniform(0, 20 if n < OPEN_CONCERNS else 720))]
        ]
    )  # fmt: skip
    return program_id, time.perf_counter() - start


async def signed_in(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return await in_process.signed_in(app, "supervisor", PASSWORD)


async def main() -> None:
    from tandem.app import create_app
    from tandem.cli import migrate
    from tandem.matches.tables import MentorMatch
    from tandem.training.tables import QuizAttempt
    from tests.support.database import wipe

    await migrate()
    await wipe()  # a database used before (a PostgreSQL one) starts empty too
    _, seconds = await build()
    matches, passes = await MentorMatch.count(), await QuizAttempt.count()
    print(
        f"database: {os.environ['DATABASE_URL'].split(':')[0]}; {NEWCOMERS} newcomers, "
        f"{MENTORS} mentors, {matches} matches, {passes} quiz passes; built in {seconds:.1f} s"
    )
    in_process.count_queries()
    app = create_app(
        Settings(database_url=os.environ["DATABASE_URL"], environment="test",
                 run_outbox_worker=False, login_rate_limit_per_minute=10_000)
    )  # fmt: skip
    pages = [
        ("/staff/dashboard", "dashboard page"),
        ("/api/v1/oversight/dashboard", "dashboard JSON"),
        ("/staff/trends", "trends, 12 weeks"),
        ("/staff/trends?weeks=104", "trends, 104 weeks"),
    ]
    async with app.lifespan():
        client = await signed_in(app)
        print(f"{CALLS} calls each after one warm-up\n")
        print("| page | queries | p50 ms | p95 ms |\n|---|---:|---:|---:|")
        for url, label in pages:
            await client.get(url, headers={"accept": "text/html"})
            times = []
            for _ in range(CALLS):
                in_process.QUERIES["count"] = 0
                began = time.perf_counter()
                response = await client.get(url, headers={"accept": "text/html"})
                times.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
            ordered = sorted(times)
            p95 = ordered[round(0.95 * (len(ordered) - 1))]
            print(
                f"| {label} (`{url}`) | {in_process.QUERIES['count']} | "
                f"{statistics.median(times):.1f} | {p95:.1f} |"
            )
        await client.aclose()


if __name__ == "__main__":
    anyio.run(main)
