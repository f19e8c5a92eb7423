"""Web throughput: Tandem on the demo data against a bare Litestar app, driven by wrk.

    .venv/bin/python bench/bench_web.py                                  # SQLite (a temp file)
    .venv/bin/python bench/bench_web.py --postgres-url postgresql://postgres@127.0.0.1:5432/NAME
    .venv/bin/python bench/bench_web.py --sqlite --postgres-url ... --seconds 5 --rounds 2
    .venv/bin/python bench/bench_web.py --only notifications               # the rows named so

Both apps run under the same server (uvicorn, no access log) and the same Litestar, each in its
own processes on loopback ports (default 8120 and 8121; a second process of each gets 8122 and
8123). The bare app serves a small JSON dict and a small Jinja page, the floor any Litestar app
pays. Each row runs Tandem, then the bare app, for `--seconds` each, `--rounds` times (A/B
interleaved, so a busy neighbour on the machine slows both sides alike); the table shows the
median of the rounds. Signed-in rows use a real session (signed in once over HTTP before the
run) and the CSRF header for the intake write.
Tandem is served as in production (`TANDEM_ENV=production`, a random secret, cookies without the
Secure flag because loopback is plain HTTP); the footer names the event loop both ran on. With a
PostgreSQL URL the whole set runs again there, and once more with two processes of each app (two
replicas: sessions live in the database, so any process serves any request).

The PostgreSQL database is EMPTIED (schema dropped) before the demo loads: give a scratch one.
Needs `wrk` (Debian: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jinja2 import DictLoader, Environment
from litestar import Litestar, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("wrk_tandem.lua")
DEMO_PASSWORD = "tandem-demo-2026"  # noqa: S105 - the demo's published password
BENCH_SECRET = secrets.token_urlsafe(48)


def bare_app() -> Litestar:
    """The baseline: what Litestar and uvicorn cost with no application work at all."""
    page = (
        "<!doctype html><html lang='en'><head><title>{{ title }}</title></head>"
        "<body><main><h1>{{ title }}</h1>{% for item in items %}<p>{{ item }}</p>{% endfor %}"
        "</main></body></html>"
    )

    @get("/json")
    async def json_dict() -> dict[str, str]:
        return {"status": "ok"}

    @get("/page")
    async def small_page() -> Template:
        return Template("page.html", context={"title": "Hello", "items": ["a", "b", "c"]})

    # Compiled once and cached, as Tandem's templates are (a `template_str` compiles per request).
    environment = Environment(loader=DictLoader({"page.html": page}), autoescape=True)
    engine = JinjaTemplateEngine.from_environment(environment)
    return Litestar([json_dict, small_page], template_config=TemplateConfig(instance=engine))


@dataclass(frozen=True)
class Row:
    """One line of the table: a Tandem request, who makes it, and its bare counterpart."""

    label: str
    path: str
    user: str | None  # demo username, None for a visitor
    bare: str | None  # "/json" or "/page" on the bare app; None: no counterpart
    concurrency: tuple[int, ...] = (1, 50)
    method: str = "GET"
    body: str = ""


ROWS = [
    Row("`/healthz`", "/healthz", None, "/json"),
    Row("`/login` (page)", "/login", None, "/page"),
    # A supervisor's `/home` is a redirect to the dashboard: the dashboard is their home page.
    Row("supervisor home `/staff/dashboard`", "/staff/dashboard", "supervisor1", "/page"),
    Row("review queue `/staff/matches` (supervisor)", "/staff/matches", "supervisor1", "/page"),
    Row("mentor `/mentor/training`", "/mentor/training", "mentor07", "/page"),
    Row("`GET /api/v1/training/modules` (mentor)", "/api/v1/training/modules", "mentor07", "/json"),
    Row("mentor `/home`", "/home", "mentor07", "/page"),
    Row("newcomer `/home`", "/home", "newcomer001", "/page"),
    Row("`/notifications` (newcomer)", "/notifications", "newcomer001", "/page"),
    Row("`PUT /api/v1/intake` (newcomer)", "/api/v1/intake", "newcomer001", None, (10,), "PUT"),
]


@dataclass(frozen=True)
class Run:
    rps: float
    p99_ms: float
    errors: int


def server_env(database_url: str, environment: str = "production") -> dict[str, str]:
    """Served as a program runs it (production: templates not re-checked on disk, and so on),
    over plain HTTP on loopback, so without the Secure flag on cookies; the demo itself is
    loaded in development, where `demo load` runs."""
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}",
        "PICCOLO_CONF": "tandem.piccolo_conf",
        "DATABASE_URL": database_url,
        "TANDEM_ENV": environment,
        "SECRET_KEY": BENCH_SECRET,
        "TANDEM_SECURE_COOKIES": "0",
        "TANDEM_LOGIN_RATE_LIMIT": "1000",
    }


def event_loop_name() -> str:
    """The loop uvicorn serves both apps on (its "auto" choice, as `litestar run` makes it)."""
    import uvicorn

    factory = uvicorn.Config(app="bench.bench_web:bare_app").get_loop_factory()
    if factory is None:
        return "asyncio"
    loop = factory()
    try:
        return type(loop).__module__.split(".")[0]
    finally:
        loop.close()


def prepare_database(database_url: str) -> None:
    """A fresh schema with the demo program, through the same commands people use."""
    if database_url.startswith("postgres"):
        import asyncio

        import asyncpg

        async def reset() -> None:
            connection = await asyncpg.connect(database_url)
            try:
                await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            finally:
                await connection.close()

        asyncio.run(reset())
    litestar = [sys.executable, "-m", "litestar", "--app", "tandem.app:create_app"]
    env = server_env(database_url, "development")
    for command in (["db", "migrate"], ["demo", "load"]):
        subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [*litestar, *command], env=env, check=True, capture_output=True, cwd=ROOT
        )


@contextmanager
def serving(app: str, port: int, env: dict[str, str], processes: int = 1) -> Iterator[list[str]]:
    """`processes` uvicorn processes serving `app` (a factory) on loopback, one port each
    (`port`, `port + 2`, ...), until the block ends; their base URLs.

    Separate processes, as compose runs replicas behind a proxy, not uvicorn's `--workers`:
    its supervisor binds the socket without naming TCP, and asyncio then leaves Nagle's
    algorithm on for every connection, so each keep-alive request waits about 40 ms for a
    delayed ACK (uvicorn issue 3149; measured here, both apps stuck at 1,130 req/s)."""
    started = []
    try:
        for number in range(processes):
            command = [
                *(sys.executable, "-m", "uvicorn", app, "--factory"),
                *("--host", "127.0.0.1", "--port", str(port + 2 * number)),
                *("--no-access-log", "--log-level", "warning"),
            ]
            process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)  # noqa: S603
            started.append((process, f"http://127.0.0.1:{port + 2 * number}"))
        for process, base in started:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + ("/healthz" if "tandem" in app else "/json")).is_success:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{app} did not start at {base}")
                time.sleep(0.2)
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


def sign_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base)
    client.get("/login")
    response = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": DEMO_PASSWORD},
        headers={"x-csrftoken": client.cookies.get("csrftoken", "")},
    )
    response.raise_for_status()
    return client


def intake_body(client: httpx.Client) -> str:
    """The newcomer's own intake as it stands, ready to save again (checked once here)."""
    current = client.get("/api/v1/intake")
    current.raise_for_status()
    body = {k: v for k, v in current.json().items() if k not in {"membership_id", "updated_at"}}
    text = json.dumps(body)
    saved = client.put(
        "/api/v1/intake",
        content=text,
        headers={"x-csrftoken": client.cookies["csrftoken"], "content-type": "application/json"},
    )
    if not saved.is_success:
        raise SystemExit(f"the intake write is refused ({saved.status_code}): {saved.text}")
    return text


def wrk(bases: list[str], path: str, concurrency: int, seconds: int, env: dict[str, str]) -> Run:
    """One wrk per process at once, the connections shared out among them; throughput adds
    up, p99 is the worst of them."""
    share = concurrency // len(bases)
    runs = [
        subprocess.Popen(  # noqa: S603
            [
                *("wrk", f"-t{min(2, share)}", f"-c{share}", f"-d{seconds}s", "--timeout", "10s"),
                *("-s", str(LUA), base + path),
            ],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        for base in bases
    ]
    results = []
    for run in runs:
        output, _ = run.communicate()
        match = re.search(r"WRK_RESULT (.*)", output)
        if run.returncode != 0 or match is None:
            raise SystemExit(f"wrk printed no result:\n{output}")
        fields = {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
        results.append(
            Run(
                rps=fields["requests"] / (fields["duration_us"] / 1e6),
                p99_ms=fields["p99_us"] / 1000,
                errors=sum(v for k, v in fields.items() if k.endswith(("errors", "timeouts"))),
            )
        )
    return Run(
        rps=sum(r.rps for r in results),
        p99_ms=max(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
    )


def bench(
    database_url: str,
    label: str,
    *,
    workers: int,
    seconds: int,
    rounds: int,
    ports: tuple[int, int],
    only: str,
) -> list[dict[str, Any]]:
    env = server_env(database_url)
    results = []
    with (
        serving("tandem.app:create_app", ports[0], env, workers) as tandem,
        serving("bench.bench_web:bare_app", ports[1], env, workers) as bare,
    ):
        sessions: dict[str, httpx.Client] = {}
        for row in (r for r in ROWS if only in r.label):
            wrk_env = {"WRK_METHOD": row.method}
            if row.user is not None:
                client = sessions.get(row.user) or sign_in(tandem[0], row.user)
                sessions[row.user] = client
                wrk_env["WRK_COOKIE"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
                if row.method != "GET":
                    wrk_env["WRK_CSRF"] = client.cookies["csrftoken"]
                    wrk_env["WRK_BODY"] = intake_body(client)
            for concurrency in row.concurrency:
                if workers > 1 and concurrency == 1:
                    continue  # a second process only matters when requests overlap
                ours, theirs = [], []
                for _ in range(rounds):
                    ours.append(wrk(tandem, row.path, concurrency, seconds, wrk_env))
                    if row.bare:
                        theirs.append(wrk(bare, row.bare, concurrency, seconds, {}))
                results.append(
                    {
                        "database": label,
                        "workers": workers,
                        "row": row.label,
                        "concurrency": concurrency,
                        "rps": statistics.median(r.rps for r in ours),
                        "bare_rps": statistics.median(r.rps for r in theirs) if theirs else None,
                        "p99_ms": statistics.median(r.p99_ms for r in ours),
                        "errors": sum(r.errors for r in ours),
                    }
                )
                print_row(results[-1], flush=True)
        for client in sessions.values():
            client.close()
    return results


HEADER = (
    "| database | processes | endpoint | concurrency | Tandem req/s | bare req/s | ratio "
    "| Tandem p99 | errors |\n|---|---:|---|---:|---:|---:|---:|---:|---:|"
)


def print_row(result: dict[str, Any], *, flush: bool = False) -> None:
    bare = result["bare_rps"]
    bare_text, ratio = (f"{bare:,.0f}", f"{result['rps'] / bare:.3f}") if bare else ("", "")
    print(
        f"| {result['database']} | {result['workers']} | {result['row']} "
        f"| {result['concurrency']} | {result['rps']:,.0f} | {bare_text} | {ratio} "
        f"| {result['p99_ms']:,.1f} ms | {result['errors']} |",
        flush=flush,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="run on SQLite (the default)")
    parser.add_argument("--postgres-url", help="a scratch PostgreSQL database (it is emptied)")
    parser.add_argument("--seconds", type=int, default=4, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds per row (median)")
    parser.add_argument("--port", type=int, default=8120, help="Tandem's port; bare gets +1")
    parser.add_argument("--only", default="", help="only the rows whose label contains this")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    ports = (args.port, args.port + 1)
    common = {"seconds": args.seconds, "rounds": args.rounds, "ports": ports, "only": args.only}
    results = []
    print(HEADER, flush=True)
    if args.sqlite or not args.postgres_url:
        with tempfile.TemporaryDirectory(prefix="tandem-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
            prepare_database(url)
            results += bench(url, "SQLite", workers=1, **common)
    if args.postgres_url:
        prepare_database(args.postgres_url)
        results += bench(args.postgres_url, "PostgreSQL", workers=1, **common)
        results += bench(args.postgres_url, "PostgreSQL", workers=2, **common)
    print(
        f"\n{len(results)} rows; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}; "
        f"event loop {event_loop_name()}"
    )


if __name__ == "__main__":
    main()
