"""Every value the intake and profile edge accepts crosses into the engine and means what the
page says it means. One vocabulary: the edge's choices are the engine's."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

import matching
from matching import vocabulary
from tandem.profiles.pages import CHOICES
from tandem.profiles.schemas import MentorProfileOut, NewcomerIntakeOut
from tandem.profiles.services import mentor_record, newcomer_record
from tests.support.builders import INTAKE, MENTOR_PROFILE

TODAY = date(2026, 1, 5)
SAVED = {"membership_id": 7, "updated_at": datetime(2026, 1, 5, tzinfo=UTC)}


def _literals(struct: type[msgspec.Struct], field: str) -> tuple[str, ...]:
    """The values a field of an edge struct accepts (a Literal, maybe in a list or Optional)."""
    info = next(f for f in msgspec.inspect.type_info(struct).fields if f.name == field)
    kind: Any = info.type
    while not isinstance(kind, msgspec.inspect.LiteralType):
        kind = (
            kind.item_type
            if hasattr(kind, "item_type")
            else next(t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType))
        )
    return tuple(kind.values)


def intake(**changes: Any) -> NewcomerIntakeOut:
    return msgspec.convert({**INTAKE, **SAVED, **changes}, NewcomerIntakeOut)


def profile(**changes: Any) -> MentorProfileOut:
    return msgspec.convert(
        {**MENTOR_PROFILE, **SAVED, "paused": False, **changes}, MentorProfileOut
    )


def test_the_edge_accepts_exactly_the_engine_vocabulary() -> None:
    def accepted(struct: type[msgspec.Struct], field: str) -> set[str]:
        return set(_literals(struct, field))

    assert accepted(NewcomerIntakeOut, "recovery_stage") == set(vocabulary.RECOVERY_STAGES)
    assert accepted(NewcomerIntakeOut, "gender") == set(vocabulary.GENDERS)
    assert accepted(NewcomerIntakeOut, "wanted_gender") == set(vocabulary.WANTED_GENDERS)
    assert accepted(NewcomerIntakeOut, "pathways") == set(vocabulary.PATHWAYS)
    assert accepted(NewcomerIntakeOut, "formats") == set(vocabulary.MEETING_FORMATS)
    assert accepted(MentorProfileOut, "gender") == set(vocabulary.GENDERS)
    # The form offers the same stages, each with words.
    assert tuple(CHOICES["recovery_stages"]) == vocabulary.RECOVERY_STAGES
    assert tuple(CHOICES["genders"]) == vocabulary.GENDERS


@pytest.mark.parametrize(
    ("stage", "gender", "wanted", "strictness"),
    list(
        itertools.product(
            (None, *_literals(NewcomerIntakeOut, "recovery_stage")),
            _literals(NewcomerIntakeOut, "gender"),
            _literals(NewcomerIntakeOut, "wanted_gender"),
            _literals(NewcomerIntakeOut, "pathway_strictness"),
        )
    ),
)
def test_every_accepted_intake_builds_an_engine_record_the_engine_reads(
    stage: str | None, gender: str, wanted: str, strictness: str
) -> None:
    newcomer = newcomer_record(
        intake(recovery_stage=stage, gender=gender, wanted_gender=wanted,
               pathway_strictness=strictness),
        today=TODAY,
    )  # fmt: skip
    assert isinstance(newcomer, matching.Newcomer)
    assert newcomer.recovery_days_or_stage >= 0  # the stage is one the engine knows
    mentor = mentor_record(profile(), today=TODAY)
    assert isinstance(matching.check(newcomer, mentor, matching.Policy()), tuple)


@pytest.mark.parametrize("gender", _literals(MentorProfileOut, "gender"))
def test_every_accepted_mentor_profile_builds_an_engine_record(gender: str) -> None:
    for formats in vocabulary.MEETING_FORMATS:
        mentor = mentor_record(
            profile(gender=gender, formats=[formats], area="Harbor"), today=TODAY, current_load=1
        )
        assert mentor.remaining_capacity == 2
        assert mentor.recovery_days == (TODAY - date(2019, 4, 1)).days
        assert mentor.availability == ((0, 18 * 60, 22 * 60),)


def _gender_allowed(newcomer: matching.Newcomer, mentor: matching.Mentor) -> bool:
    return "gender_choice" not in matching.check(newcomer, mentor, matching.Policy())


@pytest.mark.parametrize("wanted", vocabulary.WANTED_GENDERS)
def test_a_newcomer_who_prefers_not_to_say_is_matched_as_any_gender(wanted: str) -> None:
    """ "Same as me" reads as any gender; a mentor gender asked for by name is kept."""
    newcomer = newcomer_record(
        intake(gender="prefer_not_to_say", wanted_gender=wanted), today=TODAY
    )
    assert newcomer.wanted_gender == ("any" if wanted == "same" else wanted)
    for gender in vocabulary.GENDERS:
        mentor = mentor_record(profile(gender=gender), today=TODAY)
        assert _gender_allowed(newcomer, mentor) == (wanted in ("same", "any", gender))


def test_a_mentor_who_prefers_not_to_say_matches_only_newcomers_open_to_any() -> None:
    mentor = mentor_record(profile(gender="prefer_not_to_say"), today=TODAY)
    for gender, wanted in itertools.product(
        ("woman", "man", "nonbinary", "another"), vocabulary.WANTED_GENDERS
    ):
        newcomer = newcomer_record(intake(gender=gender, wanted_gender=wanted), today=TODAY)
        assert _gender_allowed(newcomer, mentor) == (wanted == "any"), (gender, wanted)


def test_other_answers_keep_their_meaning() -> None:
    woman = mentor_record(profile(gender="woman"), today=TODAY)
    same = newcomer_record(intake(gender="woman", wanted_gender="same"), today=TODAY)
    assert same.wanted_gender == "same"
    assert _gender_allowed(same, woman)
    man = newcomer_record(intake(gender="man", wanted_gender="same"), today=TODAY)
    assert not _gender_allowed(man, woman)
    dated = newcomer_record(intake(recovery_start="2025-12-06", recovery_stage=None), today=TODAY)
    assert dated.recovery_days == 30
