"""A deterministic synthetic program (newcomers, mentors, conflicts) for tests and benchmarks.

The skew follows a US national program: most people speak English, a sizeable Spanish-speaking
minority, a few other languages; 12-step is the most common pathway; evenings are the busiest
hours; most newcomers want a mentor of their own gender. Same seed, same program.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from matching.records import Mentor, Newcomer, Slot
from matching.vocabulary import (
    GENDERS,
    MEETING_FORMATS,
    PATHWAYS,
    RECOVERY_STAGES,
    Gender,
    MeetingFormat,
    Pathway,
    PathwayStrictness,
    WantedGender,
)

T = TypeVar("T")

TIME_ZONES = (
    ("America/New_York", 0.46),
    ("America/Chicago", 0.29),
    ("America/Denver", 0.07),
    ("America/Phoenix", 0.02),
    ("America/Los_Angeles", 0.14),
    ("America/Anchorage", 0.01),
    ("Pacific/Honolulu", 0.01),
)
LANGUAGES = (
    (("en",), 0.77),
    (("en", "es"), 0.12),
    (("es",), 0.06),
    (("en", "zh"), 0.015),
    (("zh",), 0.005),
    (("en", "vi"), 0.01),
    (("vi",), 0.005),
    (("en", "fr"), 0.01),
    (("en", "asl"), 0.005),
)
STRICTNESS_SHARE: tuple[tuple[PathwayStrictness, float], ...] = (
    ("strict", 0.2),
    ("preferred", 0.6),
    ("open", 0.2),
)
PATHWAY_SHARE = (0.45, 0.15, 0.10, 0.05, 0.12, 0.06, 0.05, 0.02)
GENDER_SHARE = (0.47, 0.48, 0.04, 0.01)
FORMAT_SHARE = (0.45, 0.75, 0.6, 0.4)
TAGS = (
    "parenting",
    "veteran",
    "lgbtq",
    "criminal_legal",
    "chronic_pain",
    "grief",
    "homelessness",
    "healthcare_worker",
)
TAG_SHARE = (0.3, 0.08, 0.1, 0.2, 0.12, 0.15, 0.1, 0.05)
PHRASES = (
    "staying sober through family stress",
    "rebuilding trust with my kids",
    "finding work again after treatment",
    "managing cravings at night",
    "coping with chronic pain without opioids",
    "going back to meetings regularly",
    "learning SMART tools for urges",
    "faith and prayer in recovery",
    "meditation and mindfulness practice",
    "staying on my medication and feeling no shame",
    "safer use and harm reduction",
    "dealing with court dates and probation",
    "grief after losing a friend to overdose",
    "finding stable housing",
    "healthy relationships and boundaries",
    "exercise, running and sleep",
    "going back to school",
    "coming out and finding community",
    "life after military service",
    "anxiety, depression and therapy",
    "cooking, budgeting and daily routines",
    "reconnecting with my partner",
    "working in healthcare while in recovery",
    "someone to call on hard weekends",
)
START_DATE = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class SyntheticProgram:
    """A generated queue: newcomers, eligible mentors, and recorded conflicts of interest."""

    newcomers: tuple[Newcomer, ...]
    mentors: tuple[Mentor, ...]
    conflicts: frozenset[tuple[str, str]]


def _choose(rng: np.random.Generator, options: tuple[tuple[T, float], ...], size: int) -> list[T]:
    weights = np.array([w for _, w in options])
    picks = rng.choice(len(options), size=size, p=weights / weights.sum())
    return [options[i][0] for i in picks.tolist()]


def _subset(rng: np.random.Generator, shares: tuple[float, ...], size: int) -> list[list[int]]:
    """Independent draws per item; at least one item each (the most likely one as fallback)."""
    drawn = rng.random((size, len(shares))) < np.array(shares)
    fallback = rng.choice(len(shares), size=size, p=np.array(shares) / sum(shares))
    return [
        np.flatnonzero(row).tolist() or [int(f)] for row, f in zip(drawn, fallback, strict=True)
    ]


def _availability(rng: np.random.Generator, size: int) -> list[tuple[Slot, ...]]:
    """Two to four slots a week, mostly weekday evenings, on half-hour marks."""
    out = []
    counts = rng.integers(2, 5, size=size)
    for count in counts.tolist():
        days = rng.choice(7, size=count, replace=False).tolist()
        slots = []
        for day in sorted(days):
            evening = day < 5 and rng.random() < 0.7
            start = int(rng.integers(34, 42) if evening else rng.integers(16, 36)) * 30
            length = int(rng.integers(2, 7)) * 30
            slots.append((day, start, min(start + length, 1440)))
        out.append(tuple(slots))
    return out


def _texts(rng: np.random.Generator, size: int) -> list[str]:
    counts = rng.integers(1, 4, size=size)
    return [
        ". ".join(PHRASES[i] for i in rng.choice(len(PHRASES), size=c, replace=False).tolist())
        for c in counts.tolist()
    ]


def _pathways(rng: np.random.Generator, size: int) -> list[frozenset[Pathway]]:
    p = np.array(PATHWAY_SHARE) / sum(PATHWAY_SHARE)
    first = rng.choice(len(PATHWAYS), size=size, p=p)
    second = rng.choice(len(PATHWAYS), size=size, p=p)
    two = rng.random(size) < 0.2
    return [
        frozenset({PATHWAYS[a], PATHWAYS[b]} if t else {PATHWAYS[a]})
        for a, b, t in zip(first.tolist(), second.tolist(), two.tolist(), strict=True)
    ]


@dataclass(frozen=True)
class _Traits:
    """What newcomers and mentors share, one list entry per person."""

    gender: list[Gender]
    time_zone: list[str]
    languages: list[frozenset[str]]
    formats: list[frozenset[MeetingFormat]]
    availability: list[tuple[Slot, ...]]
    pathways: list[frozenset[Pathway]]
    area: list[str]
    lived_experience: list[frozenset[str]]
    text: list[str]


def _people_common(rng: np.random.Generator, size: int, areas: int) -> _Traits:
    genders: list[Gender] = [GENDERS[i] for i in rng.choice(4, size=size, p=GENDER_SHARE)]
    formats: list[frozenset[MeetingFormat]] = [
        frozenset(MEETING_FORMATS[i] for i in s) for s in _subset(rng, FORMAT_SHARE, size)
    ]
    tags = [frozenset(TAGS[i] for i in s) for s in _subset(rng, TAG_SHARE, size)]
    no_tags = rng.random(size) < 0.4
    area_rank = np.minimum(rng.zipf(1.3, size=size), areas) - 1
    return _Traits(
        gender=genders,
        time_zone=_choose(rng, TIME_ZONES, size),
        languages=[frozenset(lang) for lang in _choose(rng, LANGUAGES, size)],
        formats=formats,
        availability=_availability(rng, size),
        pathways=_pathways(rng, size),
        area=[f"area-{a:03d}" for a in area_rank.tolist()],
        lived_experience=[frozenset() if n else t for t, n in zip(tags, no_tags, strict=True)],
        text=_texts(rng, size),
    )


def synthetic_program(
    newcomers: int, mentors: int, seed: int = 0, *, excluding_share: float = 0.02
) -> SyntheticProgram:
    """Generate a program of the given size; deterministic for a seed.

    `excluding_share` of newcomers exclude one or two mentors drawn at random (the draws are the
    same whatever the share, so only who excludes changes).
    """
    rng = np.random.default_rng(seed)
    areas = max(10, mentors // 50)
    nc = _people_common(rng, newcomers, areas)
    wanted_draw = rng.random(newcomers)
    strictness = _choose(rng, STRICTNESS_SHARE, newcomers)
    recovery_kind = rng.random(newcomers)
    recovery = rng.integers(0, 700, size=newcomers).tolist()
    stages = rng.choice(len(RECOVERY_STAGES) - 1, size=newcomers).tolist()
    waited = rng.integers(0, 180, size=newcomers).tolist()
    mentor_ids = [f"m{i:06d}" for i in range(mentors)]
    excluded_draw = rng.random(newcomers) < excluding_share
    excluded_pick = rng.integers(0, max(mentors, 1), size=(newcomers, 2)).tolist()
    people: list[Newcomer] = []
    for i in range(newcomers):
        wanted: WantedGender = (
            "same" if wanted_draw[i] < 0.7 else "any" if wanted_draw[i] < 0.95 else "woman"
        )
        kind = recovery_kind[i]
        people.append(
            Newcomer(
                id=f"n{i:06d}",
                gender=nc.gender[i],
                time_zone=nc.time_zone[i],
                languages=nc.languages[i],
                formats=nc.formats[i],
                availability=nc.availability[i],
                pathways=nc.pathways[i],
                pathway_strictness=strictness[i],
                wanted_gender=wanted,
                recovery_days=recovery[i] if kind < 0.4 else None,
                recovery_stage=RECOVERY_STAGES[stages[i]] if 0.4 <= kind < 0.9 else None,
                area=nc.area[i],
                hopes=nc.text[i],
                lived_experience=nc.lived_experience[i],
                excluded_mentor_ids=frozenset(
                    mentor_ids[j] for j in excluded_pick[i] if mentors and excluded_draw[i]
                ),
                waiting_since=START_DATE - dt.timedelta(days=waited[i]),
            )
        )
    mc = _people_common(rng, mentors, areas)
    years = 730 + rng.exponential(5 * 365, size=mentors).astype(int)
    short = rng.random(mentors) < 0.03
    mentor_recovery = np.where(short, rng.integers(300, 730, size=mentors), years).tolist()
    capacity = rng.integers(1, 6, size=mentors).tolist()
    load = rng.integers(0, 3, size=mentors).tolist()
    guides = [
        Mentor(
            id=mentor_ids[j],
            gender=mc.gender[j],
            time_zone=mc.time_zone[j],
            languages=mc.languages[j],
            formats=mc.formats[j],
            remaining_capacity=capacity[j],
            recovery_days=mentor_recovery[j],
            availability=mc.availability[j],
            pathways=mc.pathways[j],
            area=mc.area[j],
            bio=mc.text[j],
            lived_experience=mc.lived_experience[j],
            current_load=load[j],
        )
        for j in range(mentors)
    ]
    conflict_rows = rng.integers(0, max(newcomers, 1), size=newcomers // 100).tolist()
    conflict_cols = rng.integers(0, max(mentors, 1), size=newcomers // 100).tolist()
    conflicts = frozenset(
        (people[r].id, mentor_ids[c])
        for r, c in zip(conflict_rows, conflict_cols, strict=True)
        if mentors
    )
    return SyntheticProgram(tuple(people), tuple(guides), conflicts)
