"""The demo program's check-ins, through the real services: weekly check-ins for every active
match (one outside the agreed hours, one where something worried the mentor), one match that
has gone quiet, and one mentor who asked their supervisor for a conversation.

Called by `tandem.demo.load_demo` once the match journey exists. Each check-in is logged on the
day it happened (`clock.frozen`), as a mentor would have logged it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from tandem.core.auth import Caller
from tandem.core.clock import clock
from tandem.matches import services as matches
from tandem.safety import care_rules as rules
from tandem.safety import care_services as services
from tandem.safety.care_schemas import CheckInCreate, WellbeingIn

CHANNELS = tuple(rules.Channel)
TOPICS = tuple(rules.Topic)


def _agreed_day(grid: list[list[int]], week_start: date) -> tuple[date, int]:
    """The first day of the week (from `week_start`) both are free on, and its first shared
    hour; a week with no shared hours at all gives its first day at 18:00."""
    for offset in range(7):
        day = week_start + timedelta(days=offset)
        if grid[day.weekday()]:
            return day, grid[day.weekday()][0]
    return week_start, 18


async def load_care_demo(mentors: dict[int, Caller]) -> dict[str, int]:
    """Check-ins for every active match; returns demo logins (label -> membership id)."""
    now = clock.now()
    today = clock.today()
    active = [(mentor, m) for mentor in mentors.values() for m in await matches.my_matches(mentor)]
    active.sort(key=lambda pair: pair[1].started_at)
    steps: dict[str, int] = {}
    for position, (mentor, match) in enumerate(active):
        started = match.started_at.date()
        # The longest-running match stopped checking in a month ago: it shows as gone quiet.
        last = today - timedelta(days=30) if position == 0 else today - timedelta(days=2)
        day = max(started + timedelta(days=1), today - timedelta(days=rules.OLDEST_CHECK_IN.days))
        week = 0
        while day <= last:
            outside = position == 1 and week == 0
            day, hour = _agreed_day(match.shared_grid, day)
            if day > last:
                break
            hour = 23 if outside else hour
            with clock.frozen(datetime.combine(day, time(hour=12), tzinfo=now.tzinfo)):
                await services.log_check_in(
                    mentor,
                    CheckInCreate(
                        match_id=match.id,
                        contact_date=day,
                        start_time=f"{hour:02d}:00",
                        minutes=30 + 15 * (week % 3),
                        channel=CHANNELS[(position + week) % len(CHANNELS)],
                        topics=[TOPICS[(position + week) % len(TOPICS)], rules.Topic.GENERAL],
                        worried=position == 2 and week == 1,
                        note="Had a hard week; I suggested a meeting." if position == 2 else "",
                    ),
                )
            day += timedelta(days=7)
            week += 1
        if position == 0:
            steps["mentor (a match gone quiet)"] = mentor.membership_id
    if len(active) > 1:
        mentor = active[1][0]
        steps["mentor (check-ins to log)"] = mentor.membership_id
    if len(active) > 2:
        # A low month and a conversation asked for: supervisors see only the request.
        await services.record_wellbeing(
            active[2][0],
            WellbeingIn(rested=2, load=3, supported=4, recovery=4, talk_to_supervisor=True),
        )
    return steps
