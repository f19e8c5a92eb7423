"""The one clock of the service: waits, expiry, deadlines, offer lapses and outcomes are rules about
time, so tests must be able to set it.

Code asks `clock.now()` (or `clock.today()`) instead of `datetime.now()`; a test (or the demo
loader, which backdates passes) fixes the time with `clock.frozen(at)` and moves it with
`clock.advance(...)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._fixed: datetime | None = None

    def now(self) -> datetime:
        return self._fixed or datetime.now(UTC)

    def today(self) -> date:
        """Today's date in UTC (a program's own time zone is applied where a rule needs it)."""
        return self.now().date()

    def set(self, at: datetime | None) -> None:
        """Fix the time (timezone-aware), or `None` to follow the real clock again."""
        if at is not None and at.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware datetime")
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
