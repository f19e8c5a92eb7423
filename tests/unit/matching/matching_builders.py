"""Small builders for engine records: a feasible pair by default, change one field per test."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from matching import Mentor, Newcomer, Policy

EVENINGS = ((0, 19 * 60, 21 * 60), (2, 19 * 60, 21 * 60))  # Mon and Wed 7-9 pm
POLICY = Policy(reference_week=dt.date(2026, 1, 5))


def newcomer(**changes: Any) -> Newcomer:
    base = Newcomer(
        id="n-1",
        gender="woman",
        time_zone="America/New_York",
        languages=frozenset({"en"}),
        formats=frozenset({"video"}),
        availability=EVENINGS,
        pathways=frozenset({"twelve_step"}),
        recovery_days=30,
    )
    return replace(base, **changes)


def mentor(**changes: Any) -> Mentor:
    base = Mentor(
        id="m-1",
        gender="woman",
        time_zone="America/New_York",
        languages=frozenset({"en"}),
        formats=frozenset({"video"}),
        remaining_capacity=2,
        recovery_days=3 * 365,
        availability=EVENINGS,
        pathways=frozenset({"twelve_step"}),
    )
    return replace(base, **changes)
