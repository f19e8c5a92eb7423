"""Weekly availability lined up across time zones and daylight-saving changes.

Everyone gives slots in their own local time. To compare two people, both are mapped onto the same
concrete week in UTC (the policy's reference week, starting Monday 00:00 UTC) at quarter-hour
resolution, using that week's real offsets from zoneinfo. Mapping from each UTC quarter back to
local wall time (rather than local to UTC) makes the awkward cases fall out right: a local time
skipped by a spring-forward change is never available, and a repeated fall-back hour is available
twice. A week is cyclic, so a Sunday-evening slot in New York lands on Monday morning UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from matching.records import Slot

QUARTERS_PER_DAY = 96
QUARTERS_PER_WEEK = 7 * QUARTERS_PER_DAY
WORDS = (QUARTERS_PER_WEEK + 63) // 64  # 672 bits packed into 11 uint64 words
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Bitmaps = npt.NDArray[np.uint64]


@lru_cache(maxsize=1024)
def local_quarter_of_utc(time_zone: str, reference_week: dt.date) -> npt.NDArray[np.int16]:
    """For each UTC quarter of the reference week, the local quarter-of-week it falls in."""
    if reference_week.weekday() != 0:
        raise ValueError(f"reference_week {reference_week} must be a Monday")
    zone = ZoneInfo(time_zone)
    start = dt.datetime.combine(reference_week, dt.time(), tzinfo=dt.UTC)
    step = dt.timedelta(minutes=15)
    out = np.empty(QUARTERS_PER_WEEK, dtype=np.int16)
    for u in range(QUARTERS_PER_WEEK):
        local = (start + u * step).astimezone(zone)
        out[u] = local.weekday() * QUARTERS_PER_DAY + (local.hour * 60 + local.minute) // 15
    out.flags.writeable = False
    return out


def local_masks(slot_lists: Sequence[Sequence[Slot]]) -> npt.NDArray[np.bool_]:
    """One row per person: which local quarters of the week they are available.

    A quarter counts only when the slot covers all of it: a slot's edges off the quarter hour
    are rounded inwards, so two slots that share no minute never share a quarter (7:10-7:20
    covers none). Slots are checked when the records are built (`records._good_slot`) and
    read here as one array, not one by one, since a national queue has hundreds of thousands.
    """
    counts = np.fromiter(map(len, slot_lists), dtype=np.int64, count=len(slot_lists))
    slots = np.array([slot for slots in slot_lists for slot in slots], dtype=np.int64)
    weekday, start, end = slots.reshape(len(slots), 3).T
    day = (
        np.repeat(np.arange(len(slot_lists)) * QUARTERS_PER_WEEK, counts)
        + weekday * QUARTERS_PER_DAY
    )
    first = day - (-start // 15)
    length = np.maximum(day + end // 15 - first, 0)
    covered = np.repeat(first - np.cumsum(length) + length, length) + np.arange(int(length.sum()))
    mask = np.zeros(len(slot_lists) * QUARTERS_PER_WEEK, dtype=np.bool_)
    mask[covered] = True
    return mask.reshape(len(slot_lists), QUARTERS_PER_WEEK)


def utc_bitmaps(
    slot_lists: Sequence[Sequence[Slot]], time_zones: Sequence[str], reference_week: dt.date
) -> Bitmaps:
    """Each person's availability as a packed UTC bitmap of the reference week (N x 11 words)."""
    local = local_masks(slot_lists)
    packed = np.zeros((len(local), WORDS * 8), dtype=np.uint8)  # 84 bytes of bits, 4 of padding
    zones = np.asarray(time_zones, dtype=object)
    for zone in sorted(set(time_zones)):
        rows = np.flatnonzero(zones == zone)
        utc = local[np.ix_(rows, local_quarter_of_utc(zone, reference_week))]
        packed[rows, : QUARTERS_PER_WEEK // 8] = np.packbits(utc, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64)


def shared_quarters(
    a: Bitmaps, a_at: npt.NDArray[np.int64], b: Bitmaps, b_at: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint16]:
    """Quarter-hours people `a_at` of `a` share with people `b_at` of `b`, broadcast together.

    Both bitmaps are word-major (WORDS x people), so each word is one contiguous gather, counted
    into uint16 as it goes: a tenth of the cost of gathering whole rows and reducing them (a 2-D
    gather of several words at once also costs more than one gather per word). Words where none
    of the `a_at` people is available are skipped, which for one newcomer (whose week is mostly
    empty) is most of them.
    """
    total = np.zeros(np.broadcast_shapes(a_at.shape, b_at.shape), dtype=np.uint16)
    for word in range(len(a)):
        mine = a[word][a_at]
        if mine.any():
            total += np.bitwise_count(mine & b[word][b_at])
    return total


def unpack(bitmap: Bitmaps) -> npt.NDArray[np.bool_]:
    """A single packed bitmap back to 672 booleans."""
    bits = np.unpackbits(bitmap.astype("<u8").view(np.uint8), bitorder="little")
    return bits[:QUARTERS_PER_WEEK].astype(np.bool_)


def _clock(minute: int) -> tuple[str, str]:
    """A minute of the day as ("7" or "7:30", "am"/"pm"), midnight at both ends."""
    hour, rest = divmod(minute % 1440, 60)
    text = str(hour % 12 or 12) + (f":{rest:02d}" if rest else "")
    return text, "am" if hour < 12 else "pm"


def _span(start: int, end: int) -> str:
    first, first_half = _clock(start)
    last, last_half = _clock(end)
    if first_half == last_half:
        return f"{first}-{last} {last_half}"
    return f"{first} {first_half}-{last} {last_half}"


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe_shared(shared: Bitmaps, time_zone: str, reference_week: dt.date) -> str:
    """Shared UTC time in a person's local words, days with the same hours grouped.

    For example "Mon and Wed 7-9 pm"; used in reasons so a newcomer reads their own clock.
    """
    local = np.zeros(QUARTERS_PER_WEEK, dtype=np.bool_)
    local[local_quarter_of_utc(time_zone, reference_week)[unpack(shared)]] = True
    padded = np.zeros((7, QUARTERS_PER_DAY + 2), dtype=np.bool_)
    padded[:, 1:-1] = local.reshape(7, QUARTERS_PER_DAY)
    # Where availability switches on or off: within each day, starts and ends alternate.
    day, quarter = np.nonzero(padded[:, 1:] != padded[:, :-1])
    spans_of: dict[int, list[tuple[int, int]]] = {}
    for weekday, start, end in zip(
        day[::2].tolist(), quarter[::2].tolist(), quarter[1::2].tolist(), strict=True
    ):
        spans_of.setdefault(weekday, []).append((start * 15, end * 15))
    days: dict[tuple[tuple[int, int], ...], list[str]] = {}
    for weekday, spans in spans_of.items():
        days.setdefault(tuple(spans), []).append(DAY_NAMES[weekday])
    return ", ".join(
        f"{_join(names)} {_join([_span(s, e) for s, e in spans])}" for spans, names in days.items()
    )


def hour_bitmaps(quarters: Bitmaps) -> Bitmaps:
    """Coarsen quarter-hour bitmaps to whole hours (an hour counts if any quarter of it does).

    Three words instead of eleven: the shortlist's cheap, never-too-low estimate of overlap.
    """
    out = np.zeros((len(quarters), 3), dtype=np.uint64)
    step = 1 << 14
    for start in range(0, len(quarters), step):
        chunk = np.ascontiguousarray(quarters[start : start + step], dtype="<u8").view(np.uint8)
        bits = np.unpackbits(chunk, axis=1, bitorder="little")[:, :QUARTERS_PER_WEEK]
        hours = np.zeros((len(bits), 192), dtype=np.bool_)
        hours[:, :168] = bits.reshape(len(bits), 168, 4).any(axis=2)
        out[start : start + step] = np.packbits(hours, axis=1, bitorder="little").view("<u8")
    return out
