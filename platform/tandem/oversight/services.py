"""The figures a supervisor and an admin read, composed from the slices that own the rows.

Every figure comes from an aggregate query in the owning slice's `services` (GROUP BY, date
buckets in SQL over indexed columns); this module only arranges them, labels them and links
each to the list behind it. Nothing here writes.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

from tandem.accounts import services as accounts
from tandem.core.auth import Caller, Role
from tandem.core.buckets import monday_of, weeks_between
from tandem.core.clock import clock
from tandem.core.errors import Invalid
from tandem.core.heartbeat import last_beat
from tandem.core.periodic import HOUSEKEEPING_LOOP, MATCH_RETRY_LOOP, MATCHES_LOOP, SAFETY_LOOP
from tandem.matches import services as matches
from tandem.matches.schemas import OpenRequestOut
from tandem.notifications import services as notifications
from tandem.oversight.schemas import (
    Band,
    Dashboard,
    LoopHealth,
    MentorLoadFigure,
    MentorLoadRow,
    MentorLoadState,
    OutboxHealth,
    ProgramHealth,
    QuietFigures,
    SeverityFigure,
    TrainingFigures,
    Trend,
    TrendKey,
    Trends,
    WaitingFigures,
)
from tandem.safety import services as safety
from tandem.training import services as training

# Waiting-time bands of the histogram, in days: under 3, 3 to 7, 1 to 2 weeks, 2 to 4, more.
WAIT_BOUNDS = (3, 7, 14, 28)
WAIT_LABELS = ("Under 3 days", "3 to 7 days", "1 to 2 weeks", "2 to 4 weeks", "4 weeks or more")
EXPIRY_DAYS = 30
# The periods a supervisor may choose for the trends, in weeks (12 unless they choose).
PERIODS = (4, 12, 26, 52, 104)
DEFAULT_WEEKS = 12
LOOP_LABELS = {
    MATCHES_LOOP: "matching (offer lapses, batch runs)",
    MATCH_RETRY_LOOP: "match retries (after mentors change)",
    SAFETY_LOOP: "safety (overdue concerns, retention)",
    HOUSEKEEPING_LOOP: "housekeeping (expired sessions and sign-in counters)",
}
LOAD_LABELS = {
    MentorLoadState.AT_CAPACITY: "At capacity",
    MentorLoadState.WITH_ROOM: "Have room for more",
    MentorLoadState.IDLE: "Idle (no mentees yet)",
    MentorLoadState.PAUSED: "Paused",
    MentorLoadState.NOT_TAKING: "Not taking new matches (training or approval)",
}


def checked_weeks(weeks: int | None) -> int:
    """The trends' period from a request: one of `PERIODS`, 12 weeks when not given."""
    if weeks is None:
        return DEFAULT_WEEKS
    if weeks not in PERIODS:
        choices = ", ".join(str(p) for p in PERIODS)
        raise Invalid(f"Choose a period of {choices} weeks.", field="weeks")
    return weeks


def checked_wait_counts(counts: str) -> tuple[int, ...]:
    """The waiting-time histogram's counts from its address (`3,1,0,2,5`): one whole number of
    at least 0 per band of `WAIT_LABELS`, in that order."""
    parts = counts.split(",")
    if len(parts) != len(WAIT_LABELS) or not all(p.isascii() and p.isdigit() for p in parts):
        raise Invalid(
            f"Give {len(WAIT_LABELS)} whole numbers of newcomers, one per waiting band, "
            "separated by commas (for example 3,1,0,2,5).",
            field="counts",
        )
    return tuple(int(p) for p in parts)


def waiting_chart_address(waiting: WaitingFigures) -> str:
    """Where the page finds the histogram of `waiting`: the counts are the address, so a browser
    keeps each picture once and fetches a new one only when a count changes."""
    return "/staff/dashboard/waiting.svg?counts=" + ",".join(str(b.count) for b in waiting.bands)


def checked_load(load: str | None) -> MentorLoadState | None:
    """A mentor-load state from a request (None: every mentor)."""
    if not load:
        return None
    try:
        return MentorLoadState(load)
    except ValueError:
        choices = ", ".join(state.value for state in MentorLoadState)
        raise Invalid(f"Choose a mentor load: one of {choices}.", field="load") from None


def _waiting_link(band: int) -> str:
    low = ([0, *WAIT_BOUNDS])[band]
    high = ([*WAIT_BOUNDS, None])[band]
    return f"/staff/dashboard/waiting?min_days={low}" + (f"&max_days={high}" if high else "")


async def _waiting(program_id: int) -> WaitingFigures:
    counts = await matches.waiting_by_age(program_id, WAIT_BOUNDS)
    bands = [
        Band(label=label, count=count, link=_waiting_link(band))
        for band, (label, count) in enumerate(zip(WAIT_LABELS, counts, strict=True))
    ]
    return WaitingFigures(total=sum(counts), bands=bands, link="/staff/dashboard/waiting")


def _load_state(places: matches.MentorPlaces, paused: bool) -> MentorLoadState:
    if paused:
        return MentorLoadState.PAUSED
    if places.limit > 0 and places.active + places.offers >= places.limit:
        return MentorLoadState.AT_CAPACITY
    if not places.open:
        return MentorLoadState.NOT_TAKING
    if places.active + places.offers == 0:
        return MentorLoadState.IDLE
    return MentorLoadState.WITH_ROOM


async def _load_states(program_id: int) -> dict[int, tuple[matches.MentorPlaces, MentorLoadState]]:
    places = await matches.mentor_places(program_id)
    paused = await training.paused_mentors(program_id)
    return {
        mentor: (place, _load_state(place, mentor in paused)) for mentor, place in places.items()
    }


async def _mentor_load(program_id: int) -> list[MentorLoadFigure]:
    states = [state for _, state in (await _load_states(program_id)).values()]
    return [
        MentorLoadFigure(
            state=state,
            label=LOAD_LABELS[state],
            count=states.count(state),
            link=f"/staff/dashboard/mentors?load={state.value}",
        )
        for state in MentorLoadState
    ]


async def mentors_by_load(caller: Caller, state: MentorLoadState | None) -> list[MentorLoadRow]:
    """The list behind a mentor-load figure (every mentor with a profile when `state` is None)."""
    names = {
        m.membership_id: m.display_name
        for m in await accounts.list_members(caller, role=Role.MENTOR)
    }
    return sorted(
        (
            MentorLoadRow(
                membership_id=mentor,
                display_name=names.get(mentor, ""),
                state=mentor_state,
                active=place.active,
                open_offers=place.offers,
                limit=place.limit,
            )
            for mentor, (place, mentor_state) in (await _load_states(caller.program_id)).items()
            if state is None or mentor_state is state
        ),
        key=lambda row: row.display_name.lower(),
    )


async def waiting_list(
    caller: Caller, min_days: int = 0, max_days: int | None = None
) -> list[OpenRequestOut]:
    """The list behind a waiting band: those waiting at least `min_days` and under `max_days`."""
    return [
        row
        for row in await matches.open_requests(caller)
        if row.waited_days >= min_days and (max_days is None or row.waited_days < max_days)
    ]


async def _applications_waiting(program_id: int) -> int:
    return len(await training.mentors_awaiting_approval(program_id))


async def dashboard(caller: Caller) -> Dashboard:
    """The program's figures as of now, each with the link to the list behind it."""
    program_id = caller.program_id
    concerns = await _concerns(program_id)
    expiring = await training.expiring_within(program_id, EXPIRY_DAYS)
    return Dashboard(
        at=clock.now(),
        waiting=await _waiting(program_id),
        mentor_load=await _mentor_load(program_id),
        training=TrainingFigures(
            expiring_within_days=EXPIRY_DAYS, expiring=len(expiring), link="/staff/training"
        ),
        concerns=concerns,
        concerns_overdue=sum(figure.overdue for figure in concerns),
        concerns_overdue_link="/staff/concerns?overdue=1",
        quiet=await _quiet(program_id),
        applications_waiting=await _applications_waiting(program_id),
        applications_link="/staff/overview",
    )


async def _concerns(program_id: int) -> list[SeverityFigure]:
    """Open concerns by severity (the `safety` slice counts): severities with overdue concerns
    first, then the rest, each in severity order (S1 first)."""
    counts = await safety.open_concern_summary(program_id)
    figures = [
        SeverityFigure(
            severity=count.severity,
            open=count.open,
            overdue=count.overdue,
            link=f"/staff/concerns?severity={count.severity}",
        )
        for count in counts
    ]
    return sorted(figures, key=lambda figure: figure.overdue == 0)


async def _quiet(program_id: int) -> QuietFigures:
    quiet = await safety.gone_quiet_matches(program_id)
    return QuietFigures(matches=len(quiet), link="/staff/check-ins/quiet")


# --- trends ---------------------------------------------------------------------------------


def period(weeks: int) -> tuple[datetime, datetime]:
    """The last `weeks` whole weeks, this one included: from a Monday to next Monday (UTC)."""
    until = datetime.combine(monday_of(clock.today()) + timedelta(weeks=1), time(), UTC)
    return until - timedelta(weeks=weeks), until


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _week_label(week: date) -> str:
    return week.isoformat()


async def _time_to_match(
    program_id: int, weeks: list[date], since: datetime, until: datetime
) -> Trend:
    found = {
        week: (days, n)
        for week, days, n in await matches.weekly_time_to_match(program_id, since, until)
    }
    rows: list[list[str | int | float | None]] = [
        [_week_label(week), *found.get(week, (None, 0))] for week in weeks
    ]
    medians = [row[1] for row in rows if row[1] is not None]
    summary = (
        f"Over these {len(weeks)} weeks, {sum(n for _, n in found.values())} newcomers were "
        f"matched; the weekly median wait ran from {min(medians)} to {max(medians)} days, "
        f"and was {rows[-1][1] if rows[-1][1] is not None else 'not measured'} in the latest week."
        if medians
        else f"No newcomer was matched in these {len(weeks)} weeks."
    )
    return Trend(
        key=TrendKey.TIME_TO_MATCH,
        title="Median time to match, per week",
        summary=summary,
        columns=["Week starting", "Median days to a match", "Newcomers matched"],
        rows=rows,
        series=[1],
        unit="days",
    )


async def _retention(program_id: int, weeks: list[date], since: datetime, until: datetime) -> Trend:
    found = {
        row.week: row for row in await matches.weekly_match_retention(program_id, since, until)
    }
    rows: list[list[str | int | float | None]] = []
    for week in weeks:
        row = found.get(week)
        if row is None:
            rows.append([_week_label(week), 0, None, None])
            continue
        rows.append(
            [
                _week_label(week),
                row.started,
                _percent(row.lasted_30, row.known_30),
                _percent(row.lasted_90, row.known_90),
            ]
        )
    started = sum(row.started for row in found.values())
    known_30 = sum(row.known_30 for row in found.values())
    known_90 = sum(row.known_90 for row in found.values())
    parts = []
    if known_30:
        lasted = sum(row.lasted_30 for row in found.values())
        parts.append(f"{_percent(lasted, known_30)}% were still active after 30 days")
    if known_90:
        lasted = sum(row.lasted_90 for row in found.values())
        parts.append(f"{_percent(lasted, known_90)}% after 90 days")
    summary = f"{started} matches started in these {len(weeks)} weeks. " + (
        "Of those old enough to tell, " + " and ".join(parts) + "."
        if parts
        else "None is old enough yet to tell how long it lasted."
    )
    return Trend(
        key=TrendKey.RETENTION,
        title="Matches still active at 30 and 90 days, by the week they started",
        summary=summary,
        columns=[
            "Week starting",
            "Matches started",
            "Active at 30 days (%)",
            "Active at 90 days (%)",
        ],
        rows=rows,
        series=[2, 3],
        unit="%",
    )


async def _training(program_id: int, weeks: list[date], since: datetime, until: datetime) -> Trend:
    found = dict(await training.weekly_track_completions(program_id, since, until))
    rows: list[list[str | int | float | None]] = [
        [_week_label(week), found.get(week, 0)] for week in weeks
    ]
    total = sum(found.values())
    return Trend(
        key=TrendKey.TRAINING,
        title="Mentors completing their training, per week",
        summary=f"{total} mentor{'s' if total != 1 else ''} completed the training track "
        f"in these {len(weeks)} weeks.",
        columns=["Week starting", "Mentors who completed the track"],
        rows=rows,
        series=[1],
        unit="mentors",
    )


async def _concern_trend(
    program_id: int, weeks: list[date], since: datetime, until: datetime
) -> Trend:
    counts = {
        (week, category): filed
        for week, category, filed in await safety.weekly_concerns_by_category(
            program_id, since, until
        )
    }
    labels = {category.value: category.label for category in safety.categories()}
    # In the taxonomy's own order, as the report form lists them.
    categories = [value for value in labels if any(k == value for _, k in counts)]
    rows: list[list[str | int | float | None]] = [
        [_week_label(week), *(counts.get((week, c), 0) for c in categories)] for week in weeks
    ]
    total = sum(counts.values())
    by_category = ", ".join(
        f"{labels[c]} {sum(n for (_, k), n in counts.items() if k == c)}" for c in categories
    )
    return Trend(
        key=TrendKey.CONCERNS,
        title="Concerns raised, by category, per week",
        summary=f"{total} concern{'s' if total != 1 else ''} raised in these {len(weeks)} weeks"
        + (f": {by_category}." if total else "."),
        columns=["Week starting", *(labels[c] for c in categories)],
        rows=rows,
        series=list(range(1, len(categories) + 1)),
        unit="concerns",
    )


async def trends(caller: Caller, weeks: int = DEFAULT_WEEKS) -> Trends:
    """Every trend over the last `weeks` weeks, one row per week (weeks without data show)."""
    since, until = period(weeks)
    labels = weeks_between(since.date(), until.date() - timedelta(days=1))
    program_id = caller.program_id
    return Trends(
        weeks=weeks,
        since=since.date(),
        until=until.date(),
        trends=[
            await _time_to_match(program_id, labels, since, until),
            await _retention(program_id, labels, since, until),
            await _concern_trend(program_id, labels, since, until),
            await _training(program_id, labels, since, until),
        ],
    )


def trend_csv(trend: Trend) -> str:
    """One trend's table as CSV (a header row, then a row per week; empty where unmeasured)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(trend.columns)
    writer.writerows([["" if value is None else value for value in row] for row in trend.rows])
    return out.getvalue()


# --- program health -------------------------------------------------------------------------


async def _loop(name: str, every: float, now: datetime) -> LoopHealth:
    beat = await last_beat(name)
    since = (now - beat.at).total_seconds() if beat else None
    # Late by more than two rounds (and a minute's slack): the loop has probably stopped. One
    # that never ticked is only "not yet" (a new install, or a process that just started).
    stale = every > 0 and since is not None and since > 2 * every + 60
    return LoopHealth(
        name=name,
        label=LOOP_LABELS.get(name, name),
        last_tick=beat,
        seconds_since=since,
        every_seconds=every,
        stale=stale,
    )


async def health(caller: Caller, loop_seconds: dict[str, float]) -> ProgramHealth:
    """Whether the background work keeps up: the outbox, batch matching, the periodic loops.
    `loop_seconds` is how often this app runs each loop (0: not in this process)."""
    now = clock.now()
    counts = await notifications.delivery_counts(caller.program_id)
    outbox = OutboxHealth(
        pending=counts["pending"],
        failed=counts["failed"],
        dead=counts["dead"],
        delivered=counts["delivered"],
        backlog=counts["pending"] + counts["failed"],
        oldest_outstanding_at=await notifications.oldest_outstanding(caller.program_id),
    )
    loops = [await _loop(name, every, now) for name, every in loop_seconds.items()]
    problems = []
    if outbox.dead:
        problems.append(f"{outbox.dead} notification deliveries gave up (dead letters).")
    for loop in loops:
        if loop.stale:
            problems.append(f"The {loop.label} loop has not ticked when it should have.")
        if loop.last_tick is not None and not loop.last_tick.ok:
            problems.append(f"The {loop.label} loop's last round failed; see the service log.")
    return ProgramHealth(
        at=now,
        ok=not problems,
        problems=problems,
        outbox=outbox,
        last_batch_run=await matches.latest_batch_run(caller),
        loops=loops,
    )
