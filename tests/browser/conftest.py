"""A real server and a real browser: uvicorn serving the app on a fresh SQLite database with the
demo program loaded, driven by Playwright in Debian's Chromium.

The server gets its own environment (not the unit tests' database), exactly as a person running
the README's serve command would have it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TANDEM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    extra_env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Migrate a fresh SQLite database, load the demo and serve it; yields the base URL.
    `extra_env` adds settings for one test module's own server (a webhook receiver on this
    host, the delivery worker on)."""
    workdir = Path(tempfile.mkdtemp(prefix="tandem-browser-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TANDEM_"))},
        "DATABASE_URL": f"sqlite:///{workdir / 'browser.sqlite'}",
        "PICCOLO_CONF": "tandem.piccolo_conf",
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
        "TANDEM_ENV": "development",
        "TANDEM_OUTBOX_WORKER": "0",
        # The browser tests sign in a dozen times a minute from one address; rate limits have
        # their own tests over HTTP.
        "TANDEM_LOGIN_RATE_LIMIT": "1000",
        **(extra_env or {}),
    }
    litestar = [sys.executable, "-m", "litestar", "--app", "tandem.app:create_app"]
    for command in (["db", "migrate"], ["demo", "load"]):
        subprocess.run([*litestar, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    port = port or _free_port()
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [*litestar, "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError((workdir / "server.log").read_text())
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    with running_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, base_url: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page, username: str, password: str = "tandem-demo-2026") -> None:  # type: ignore[no-untyped-def]
    """Sign in through the real form, as a person would."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Staff land on their dashboard (their /home), everyone else on their home page.
    page.wait_for_url(re.compile(r".*/(home|staff/dashboard)$"))
