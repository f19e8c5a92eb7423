"""The training slice's clock: waits and expiry are rules about time, so tests must set it.

Services ask `clock.now()` instead of `datetime.now()`; a test (or the demo loader, which backdates
passes) fixes the time with `clock.frozen(at)` and moves it with `clock.advance(...)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def now(self) -> datetime:
        return self._fixed or datetime.now(UTC)

    def set(self, at: datetime | None) -> None:
        """Fix the time (timezone-aware), or `None` to follow the real clock again."""
        if at is not None and at.tzinfo is None:
            raise ValueError("the training clock needs a timezone-aware datetime")
        self._fixed = at

    def advance(self, delta: timedelta) -> None:
        self._fixed = self.now() + delta

    @contextmanager
    def frozen(self, at: datetime) -> Iterator[Clock]:
        previous = self._fixed
        self.set(at)
        try:
            yield self
        finally:
            self._fixed = previous


clock = Clock()
