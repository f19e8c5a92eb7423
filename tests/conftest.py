"""Test set-up shared by every suite: the environment, the frozen clock and test settings.

The database is SQLite in a temporary file unless `DATABASE_URL` names PostgreSQL, so the same
suite runs on both (`make test` and `make test-postgres`). It must be configured before any
`tandem` module is imported, because Piccolo picks its engine at import time. Only the
integration tests touch it (`tests/integration/conftest.py`); unit tests run without one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="tandem-test-"))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_TMP / 'test.sqlite'}")
os.environ["PICCOLO_CONF"] = "tandem.piccolo_conf"
os.environ.setdefault("TANDEM_ENV", "test")
os.environ.setdefault("TANDEM_OUTBOX_WORKER", "0")

from tandem.core.clock import Clock, clock  # noqa: E402
from tandem.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


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
