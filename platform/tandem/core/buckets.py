"""SQL fragments for figures over time that read the same on SQLite and PostgreSQL.

Trends group rows by week in the database (GROUP BY over an indexed timestamp) rather than
loading every row. SQLite stores timestamps as ISO text and PostgreSQL as `timestamptz`, so the
week a timestamp falls in, and the days between two, are spelled differently on each; callers
pass column names (never input) and read weeks back with `as_date`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tandem.core.database import engine


def _postgres() -> bool:
    return engine().engine_type == "postgres"


def week_start(column: str) -> str:
    """The Monday (UTC) of the week `column` falls in, as a date."""
    if _postgres():
        return f"(date_trunc('week', {column} AT TIME ZONE 'UTC'))::date"
    # Back six days, then forward to the next Monday: a Monday stays itself.
    return f"date({column}, '-6 days', 'weekday 1')"


def days_between(start: str, end: str) -> str:
    """Days from `start` to `end` (a fraction), for waits and durations."""
    if _postgres():
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"
    return f"(julianday({end}) - julianday({start}))"


def as_date(value: date | datetime | str) -> date:
    """A week read back from either database (a `date` on PostgreSQL, ISO text on SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def monday_of(day: date) -> date:
    """The Monday of `day`'s week: the label `week_start` gives that week."""
    return day - timedelta(days=day.weekday())


def weeks_between(first: date, last: date) -> list[date]:
    """Every Monday from `first`'s week to `last`'s, so weeks without rows still show as 0."""
    start, end = monday_of(first), monday_of(last)
    return [start + timedelta(weeks=n) for n in range((end - start).days // 7 + 1)]
