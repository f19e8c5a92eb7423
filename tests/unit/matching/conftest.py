"""The engine is pure: its tests need no database, so skip the suite-wide per-test wipe."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _database_for_each_test() -> None:
    """Overrides the root conftest's fixture of the same name for tests in this folder."""
