"""Integration tests: one migrated database per run, wiped before each test, and the app over
HTTP. Unit tests never reach this file, so they run without a database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import httpx
import pytest
from litestar import Litestar

from tandem.settings import Settings
from tests.support.client import TandemClient
from tests.support.database import migrate_once, wipe
from tests.support.people import People, make_people


@pytest.fixture(scope="session")
def migrated_database() -> None:
    anyio.run(migrate_once)


@pytest.fixture(autouse=True)
async def clean_database(anyio_backend: str, migrated_database: None) -> None:
    """Every test starts from empty tables (rows deleted, schema kept)."""
    await wipe()


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
