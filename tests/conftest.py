"""Test set-up shared by every suite: one migrated database per run, wiped before each test.

The database is SQLite in a temporary file unless `DATABASE_URL` names PostgreSQL, so the same
suite runs on both (`make test` and `make test-postgres`). It must be configured before any
`tandem` module is imported, because Piccolo picks its engine at import time.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="tandem-test-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'test.sqlite'}")
os.environ["PICCOLO_CONF"] = "tandem.piccolo_conf"
os.environ.setdefault("TANDEM_ENV", "test")
os.environ.setdefault("TANDEM_OUTBOX_WORKER", "0")

import anyio  # noqa: E402
import httpx  # noqa: E402
from litestar import Litestar  # noqa: E402

from tandem.core.clock import Clock, clock  # noqa: E402
from tandem.settings import Settings  # noqa: E402
from tests.support.client import TandemClient  # noqa: E402
from tests.support.database import migrate_once, wipe  # noqa: E402
from tests.support.people import People, make_people  # noqa: E402


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def migrated_database() -> None:
    anyio.run(migrate_once)


@pytest.fixture
async def clean_database(anyio_backend: str, migrated_database: None) -> None:
    """Every test starts from empty tables (rows deleted, schema kept)."""
    await wipe()


@pytest.fixture(autouse=True)
def _database_for_each_test(request: pytest.FixtureRequest) -> None:
    """Browser tests drive their own server (and Playwright owns the event loop there)."""
    if request.node.get_closest_marker("browser") is None:
        request.getfixturevalue("clean_database")


# The moment `frozen` fixes the service's clock at; tests move it with `frozen.advance(...)`.
FROZEN_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[Clock]:
    """The one clock of the service, fixed at `FROZEN_AT` for the test and released after it."""
    clock.set(FROZEN_AT)
    yield clock
    clock.set(None)


@pytest.fixture
def settings() -> Settings:
    """Test settings: generous rate limits (tests sign in often), no background worker."""
    return Settings(
        database_url=os.environ["DATABASE_URL"],
        environment="test",
        run_outbox_worker=False,
        login_rate_limit_per_minute=1000,
        address_rate_limit_per_minute=1000,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Litestar]:
    from tandem.app import create_app

    application = create_app(settings)
    async with application.lifespan():
        yield application


ClientFactory = Callable[[], Awaitable[TandemClient]]


@pytest.fixture
async def make_client(app: Litestar) -> AsyncIterator[ClientFactory]:
    """Clients over real HTTP semantics (ASGI transport) that carry cookies and CSRF tokens."""
    clients: list[httpx.AsyncClient] = []

    async def factory() -> TandemClient:
        client = TandemClient(app)
        clients.append(client.http)
        await client.prime()
        return client

    yield factory
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(make_client: ClientFactory) -> TandemClient:
    return await make_client()


@pytest.fixture
async def people(app: Litestar) -> People:
    """Two programs with one person of every role in each (and a pending mentor)."""
    return await make_people()
