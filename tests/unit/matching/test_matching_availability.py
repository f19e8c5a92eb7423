"""Availability across time zones and daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from matching.availability import (
    QUARTERS_PER_WEEK,
    describe_shared,
    local_quarter_of_utc,
    shared_quarters,
    unpack,
    utc_bitmaps,
)
from matching.records import Slot

# 2025: the US moves to summer time on 9 March, the UK on 30 March.
GAP_WEEK = dt.date(2025, 3, 10)
WINTER_WEEK = dt.date(2025, 1, 6)
US_SPRING_FORWARD_WEEK = dt.date(2025, 3, 3)  # ends Sunday 9 March
US_FALL_BACK_WEEK = dt.date(2025, 10, 27)  # ends Sunday 2 November


def shared_hours(a: list[Slot], zone_a: str, b: list[Slot], zone_b: str, week: dt.date) -> float:
    bitmaps = utc_bitmaps([a, b], [zone_a, zone_b], week)
    first, second = np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64)
    return float(shared_quarters(bitmaps.T, first, bitmaps.T, second)[0]) / 4


def test_same_zone_overlap_is_the_intersection() -> None:
    hours = shared_hours(
        [(0, 18 * 60, 20 * 60)],
        "America/Chicago",
        [(0, 19 * 60, 21 * 60)],
        "America/Chicago",
        WINTER_WEEK,
    )
    assert hours == 1.0


def test_new_york_and_london_in_the_gap_week_are_four_hours_apart() -> None:
    # New York 7-9 pm EDT (UTC-4) is 11 pm-1 am in London (still GMT).
    new_york = [(0, 19 * 60, 21 * 60)]
    london_gap = [(0, 23 * 60, 24 * 60), (1, 0, 60)]
    london_winter = [(1, 0, 2 * 60)]  # midnight-2 am is 7-9 pm EST (UTC-5)
    assert shared_hours(new_york, "America/New_York", london_gap, "Europe/London", GAP_WEEK) == 2
    assert shared_hours(new_york, "America/New_York", london_winter, "Europe/London", GAP_WEEK) == 1
    assert (
        shared_hours(new_york, "America/New_York", london_winter, "Europe/London", WINTER_WEEK) == 2
    )
    assert shared_hours(new_york, "America/New_York", london_gap, "Europe/London", WINTER_WEEK) == 1


def test_the_gap_week_is_described_in_each_persons_own_clock() -> None:
    bitmaps = utc_bitmaps(
        [[(0, 19 * 60, 21 * 60)], [(0, 23 * 60, 24 * 60), (1, 0, 60)]],
        ["America/New_York", "Europe/London"],
        GAP_WEEK,
    )
    shared = bitmaps[0] & bitmaps[1]
    assert describe_shared(shared, "America/New_York", GAP_WEEK) == "Mon 7-9 pm"
    assert describe_shared(shared, "Europe/London", GAP_WEEK) == "Mon 11 pm-12 am, Tue 12-1 am"


def test_a_local_time_skipped_by_spring_forward_is_never_available() -> None:
    # Sunday 9 March 2025, 2:00-3:00 does not exist in New York.
    bitmaps = utc_bitmaps([[(6, 60, 4 * 60)]], ["America/New_York"], US_SPRING_FORWARD_WEEK)
    assert float(np.bitwise_count(bitmaps[0]).sum()) / 4 == 2


def test_a_repeated_fall_back_hour_is_available_twice() -> None:
    # Sunday 2 November 2025, 1:00-2:00 happens twice in New York.
    bitmaps = utc_bitmaps([[(6, 0, 3 * 60)]], ["America/New_York"], US_FALL_BACK_WEEK)
    assert float(np.bitwise_count(bitmaps[0]).sum()) / 4 == 4


def test_the_week_wraps_around_so_sunday_evening_meets_monday_morning() -> None:
    # Sunday 8-10 pm in Los Angeles (UTC-8) is Monday 4-6 am UTC; Monday 4-6 am in UTC.
    hours = shared_hours(
        [(6, 20 * 60, 22 * 60)], "America/Los_Angeles", [(0, 4 * 60, 6 * 60)], "UTC", WINTER_WEEK
    )
    assert hours == 2


def test_quarter_hour_offsets_line_up() -> None:
    # Kathmandu is UTC+5:45: 6:00-7:00 there is 0:15-1:15 UTC.
    hours = shared_hours([(0, 6 * 60, 7 * 60)], "Asia/Kathmandu", [(0, 0, 60)], "UTC", WINTER_WEEK)
    assert hours == 0.75


def test_overlapping_slots_of_one_person_count_once() -> None:
    bitmaps = utc_bitmaps([[(0, 600, 720), (0, 660, 780)]], ["UTC"], WINTER_WEEK)
    assert int(unpack(bitmaps[0]).sum()) == 12


def test_every_utc_quarter_maps_to_exactly_one_local_quarter() -> None:
    mapping = local_quarter_of_utc("Europe/Berlin", WINTER_WEEK)
    assert mapping.shape == (QUARTERS_PER_WEEK,)
    assert sorted(mapping.tolist()) == list(range(QUARTERS_PER_WEEK))


@pytest.mark.parametrize(
    ("slot", "hours"),
    [((0, 19 * 60 + 10, 19 * 60 + 20), 0.0), ((0, 19 * 60 + 10, 20 * 60 + 5), 0.5)],
)
def test_slots_off_the_quarter_hour_are_rounded_inwards(slot: Slot, hours: float) -> None:
    # 7:10-7:20 covers no whole quarter; 7:10-8:05 covers 7:15-8:00, three quarters, of which
    # 7:30-8:00 is shared with the other person's 7:20-8:30 (itself read as 7:30-8:30).
    other = [(0, 19 * 60 + 20, 20 * 60 + 30)]
    assert shared_hours([slot], "UTC", other, "UTC", WINTER_WEEK) == hours


def test_windows_that_share_no_minute_share_no_time() -> None:
    first, second = [(0, 19 * 60, 19 * 60 + 20)], [(0, 19 * 60 + 25, 19 * 60 + 45)]
    assert shared_hours(first, "UTC", second, "UTC", WINTER_WEEK) == 0


def test_the_reference_week_must_start_on_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        local_quarter_of_utc("UTC", dt.date(2025, 1, 7))


def test_description_groups_days_and_spells_half_hours() -> None:
    slots = [(0, 19 * 60, 21 * 60), (2, 19 * 60, 21 * 60), (5, 9 * 60 + 30, 12 * 60 + 30)]
    bitmap = utc_bitmaps([slots], ["America/Denver"], WINTER_WEEK)[0]
    assert (
        describe_shared(bitmap, "America/Denver", WINTER_WEEK)
        == "Mon and Wed 7-9 pm, Sat 9:30 am-12:30 pm"
    )
