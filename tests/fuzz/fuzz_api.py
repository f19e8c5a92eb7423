"""Schemathesis over the whole OpenAPI document, against a real server, as every role.

Starts Tandem on a fresh database with the demo data (SQLite in a temporary folder, or
`DATABASE_URL`), signs in as a newcomer, a mentor, a supervisor and an admin (the demo's
people), and runs `schemathesis run` once anonymously and once per role, with the cookies and
the CSRF header a browser would send, a bounded number of examples per operation, and at least
the `not_a_server_error` check. Prints one row per role (requests, server errors) from the HAR
file schemathesis writes, and exits non-zero if any request got a 5xx or schemathesis reported a
failure.

    .venv/bin/python tests/fuzz/fuzz_api.py --port 8160 --examples 5
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "tandem-demo-2026"
ROLES = {
    "anonymous": None,
    "newcomer": "newcomer001",
    "mentor": "mentor07",
    "supervisor": "supervisor1",
    "admin": "admin",
}
# Calls that end the fuzzer's own session or account would turn the rest of its run into 401s:
# they are fuzzed anonymously (where they answer 401) and covered by the integration tests.
SIGNED_IN_EXCLUDED = r"^/api/v1/(auth/logout|me/delete|members/\{membership_id\}/status)$"


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "PICCOLO_CONF": "tandem.piccolo_conf",
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
        "TANDEM_ENV": "development",
        "TANDEM_OUTBOX_WORKER": "0",
        # The fuzzer signs up and in thousands of times; the limit itself has its own tests.
        "TANDEM_LOGIN_RATE_LIMIT": "100000",
        "TANDEM_ADDRESS_RATE_LIMIT": "100000",
    }


def _litestar(env: dict[str, str], *args: str) -> list[str]:
    return [str(BIN / "litestar"), "--app", "tandem.app:create_app", *args]


def _browser_headers(base: str, username: str | None) -> list[str]:
    """The cookies and CSRF header a browser sends after opening a page (and signing in, for
    a role): without the CSRF token every change would stop at 403 before reaching its code."""
    with httpx.Client(base_url=base) as client:
        client.get("/login")
        token = client.cookies["csrftoken"]
        if username is not None:
            response = client.post(
                "/api/v1/auth/login",
                json={"username": username, "password": DEMO_PASSWORD},
                headers={"x-csrftoken": token},
            )
            response.raise_for_status()
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return ["-H", f"Cookie: {cookie}", "-H", f"X-CSRFToken: {token}"]


def _fuzz(base: str, role: str, headers: list[str], examples: int, out: Path) -> dict[str, int]:
    har = out / f"{role}.har"
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{base}/schema/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "2026",
        "--workers",
        "1",
        "--report",
        "har",
        "--report-har-path",
        str(har),
        "--warnings",
        "off",
        *headers,
    ]
    if role != "anonymous":
        command += ["--exclude-path-regex", SIGNED_IN_EXCLUDED]
    log = out / f"{role}.log"
    with log.open("w") as output:
        # In the run's folder, so schemathesis keeps its cache out of the checkout.
        code = subprocess.run(
            command, stdout=output, stderr=subprocess.STDOUT, check=False, cwd=out
        )
    entries = json.loads(har.read_text())["log"]["entries"] if har.exists() else []
    return {
        "requests": len(entries),
        "server_errors": sum(1 for e in entries if e["response"]["status"] >= 500),
        "exit": code.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8160)
    parser.add_argument("--examples", type=int, default=10, help="per operation and phase")
    parser.add_argument("--roles", default=",".join(ROLES))
    args = parser.parse_args()
    port = next(p for p in range(args.port, args.port + 40) if _free(p))
    base = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="tandem-fuzz-"))
    env = _environment(os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'fuzz.sqlite'}")
    for step in (("db", "migrate"), ("demo", "load")):
        subprocess.run(_litestar(env, *step), env=env, check=True, cwd=ROOT, capture_output=True)
    server_log = (work / "server.log").open("w")
    server = subprocess.Popen(
        _litestar(env, "run", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        cwd=ROOT,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        rows = {}
        for role in args.roles.split(","):
            username = ROLES[role]
            headers = _browser_headers(base, username)
            started = time.monotonic()
            rows[role] = {**_fuzz(base, role, headers, args.examples, work)}
            rows[role]["seconds"] = round(time.monotonic() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)
        server_log.close()
    print(
        f"\nschemathesis over {base}/schema/openapi.json, {args.examples} examples; logs in {work}"
    )
    print("| role | requests | server errors | schemathesis exit | seconds |")
    print("|---|---:|---:|---:|---:|")
    for role, row in rows.items():
        print(
            f"| {role} | {row['requests']} | {row['server_errors']} | {row['exit']} "
            f"| {row['seconds']} |"
        )
    failed = [role for role, row in rows.items() if row["server_errors"] or row["exit"]]
    if failed:
        print(f"server errors or failures as: {', '.join(failed)} (see {work}/<role>.log)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
