"""What the oversight pages and JSON API return: counts and dates, never a person's records
(the lists behind the figures are the owning slices' own pages)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from msgspec import Struct

from tandem.core.heartbeat import Beat
from tandem.matches.schemas import BatchRunOut


class Band(Struct, frozen=True):
    """One bar of a histogram: its label, its count, and the list of who is in it."""

    label: str
    count: int
    link: str


class WaitingFigures(Struct, frozen=True):
    total: int
    bands: list[Band]
    link: str


class MentorLoadState(StrEnum):
    AT_CAPACITY = "at_capacity"
    WITH_ROOM = "with_room"
    IDLE = "idle"
    PAUSED = "paused"
    NOT_TAKING = "not_taking"  # training lapsed, not approved yet, or held back


class MentorLoadFigure(Struct, frozen=True):
    state: MentorLoadState
    label: str
    count: int
    link: str


class TrainingFigures(Struct, frozen=True):
    expiring_within_days: int
    expiring: int
    link: str


class SeverityFigure(Struct, frozen=True):
    """Open concerns of one severity; `overdue` of them are past their response deadline."""

    severity: str
    open: int
    overdue: int
    link: str


class QuietFigures(Struct, frozen=True):
    matches: int
    link: str


class Dashboard(Struct, frozen=True):
    """The supervisor's one screen. Concerns list the overdue ones first."""

    at: datetime
    waiting: WaitingFigures
    mentor_load: list[MentorLoadFigure]
    training: TrainingFigures
    concerns: list[SeverityFigure]
    concerns_overdue: int
    concerns_overdue_link: str
    quiet: QuietFigures
    applications_waiting: int
    applications_link: str


class MentorLoadRow(Struct, frozen=True):
    """One mentor on the list behind a mentor-load figure."""

    membership_id: int
    display_name: str
    state: MentorLoadState
    active: int
    open_offers: int
    limit: int


class TrendKey(StrEnum):
    TIME_TO_MATCH = "time-to-match"
    RETENTION = "retention"
    CONCERNS = "concerns"
    TRAINING = "training"


class Trend(Struct, frozen=True):
    """One trend: a table of figures per week (`columns` head `rows`; the first column is the
    week), which the page draws as a chart, tells in words and offers as CSV."""

    key: TrendKey
    title: str
    summary: str
    columns: list[str]
    rows: list[list[str | int | float | None]]
    # The columns drawn in the chart (indexes into `columns`), and the unit of their values.
    series: list[int]
    unit: str


class Trends(Struct, frozen=True):
    weeks: int
    since: date
    until: date
    trends: list[Trend]


class OutboxHealth(Struct, frozen=True):
    pending: int
    failed: int
    dead: int
    delivered: int
    backlog: int
    oldest_outstanding_at: datetime | None


class LoopHealth(Struct, frozen=True):
    """A periodic loop's last round (`None` when it has never run against this database)."""

    name: str
    label: str
    last_tick: Beat | None
    seconds_since: float | None
    every_seconds: float
    stale: bool


class ProgramHealth(Struct, frozen=True):
    """For an admin or an external monitor: is the background work keeping up?"""

    at: datetime
    ok: bool
    problems: list[str]
    outbox: OutboxHealth
    last_batch_run: BatchRunOut | None
    loops: list[LoopHealth]
