"""Every hard rule, one at a time, through `check`."""

from __future__ import annotations

from dataclasses import replace

import pytest
from matching_builders import POLICY, mentor, newcomer

from matching import RULE_LABELS, check


def test_a_feasible_pair_breaks_no_rule() -> None:
    assert check(newcomer(), mentor(), POLICY) == ()


def test_every_rule_has_a_label() -> None:
    assert set(RULE_LABELS) == {
        "mentor_recovery_below_minimum",
        "no_remaining_capacity",
        "no_shared_language",
        "no_shared_format",
        "gender_choice",
        "strict_pathway",
        "excluded_by_newcomer",
        "conflict_of_interest",
        "too_few_shared_hours",
    }


@pytest.mark.parametrize(
    ("days", "minimum", "fails"),
    [(729, 730, True), (730, 730, False), (400, 365, False), (None, 730, True)],
)
def test_mentor_recovery_must_reach_the_policy_minimum(
    days: int | None, minimum: int, fails: bool
) -> None:
    policy = replace(POLICY, min_mentor_recovery_days=minimum)
    result = check(newcomer(), mentor(recovery_days=days), policy)
    assert ("mentor_recovery_below_minimum" in result) is fails


def test_medication_for_oud_counts_as_recovery() -> None:
    on_medication = mentor(pathways=frozenset({"medication_supported"}), recovery_days=800)
    assert check(newcomer(), on_medication, POLICY) == ()


@pytest.mark.parametrize(("remaining", "fails"), [(0, True), (1, False)])
def test_mentor_needs_a_place_left(remaining: int, fails: bool) -> None:
    result = check(newcomer(), mentor(remaining_capacity=remaining), POLICY)
    assert ("no_remaining_capacity" in result) is fails


def test_a_shared_language_is_required() -> None:
    spanish = mentor(languages=frozenset({"es"}))
    assert check(newcomer(), spanish, POLICY) == ("no_shared_language",)
    assert check(newcomer(languages=frozenset({"en", "es"})), spanish, POLICY) == ()


def test_a_shared_format_is_required() -> None:
    by_phone = mentor(formats=frozenset({"phone"}))
    assert check(newcomer(), by_phone, POLICY) == ("no_shared_format",)


@pytest.mark.parametrize(
    ("newcomer_area", "mentor_area", "fails"),
    [("Boston", "Boston", False), ("Boston", "Denver", True), (None, None, True)],
)
def test_in_person_counts_only_in_the_same_area(
    newcomer_area: str | None, mentor_area: str | None, fails: bool
) -> None:
    person = newcomer(formats=frozenset({"in_person"}), area=newcomer_area)
    guide = mentor(formats=frozenset({"in_person", "video"}), area=mentor_area)
    assert ("no_shared_format" in check(person, guide, POLICY)) is fails


@pytest.mark.parametrize(
    ("gender", "wanted", "mentor_gender", "fails"),
    [
        ("woman", "same", "woman", False),
        ("woman", "same", "man", True),
        ("nonbinary", "same", "nonbinary", False),
        ("man", "any", "woman", False),
        ("man", "woman", "woman", False),
        ("man", "woman", "man", True),
        ("woman", "nonbinary", "woman", True),
    ],
)
def test_the_newcomers_gender_choice_holds(
    gender: str, wanted: str, mentor_gender: str, fails: bool
) -> None:
    result = check(
        newcomer(gender=gender, wanted_gender=wanted), mentor(gender=mentor_gender), POLICY
    )
    assert ("gender_choice" in result) is fails


@pytest.mark.parametrize(
    ("strictness", "mentor_pathways", "fails"),
    [
        ("strict", {"smart_recovery"}, True),
        ("strict", {"smart_recovery", "twelve_step"}, False),
        ("strict", set(), True),
        ("preferred", {"smart_recovery"}, False),
        ("open", {"smart_recovery"}, False),
    ],
)
def test_a_strict_pathway_choice_needs_a_shared_pathway(
    strictness: str, mentor_pathways: set[str], fails: bool
) -> None:
    person = newcomer(pathway_strictness=strictness)
    guide = mentor(pathways=frozenset(mentor_pathways))
    assert ("strict_pathway" in check(person, guide, POLICY)) is fails


def test_a_mentor_the_newcomer_left_or_blocked_is_never_proposed() -> None:
    person = newcomer(excluded_mentor_ids=frozenset({"m-1", "m-9"}))
    assert check(person, mentor(), POLICY) == ("excluded_by_newcomer",)
    assert check(person, mentor(id="m-2"), POLICY) == ()


def test_a_recorded_conflict_of_interest_blocks_the_pair_only() -> None:
    policy = replace(POLICY, conflicts=frozenset({("n-1", "m-1")}))
    assert check(newcomer(), mentor(), policy) == ("conflict_of_interest",)
    assert check(newcomer(id="n-2"), mentor(), policy) == ()


def test_minimum_shared_hours_is_optional() -> None:
    one_hour = mentor(availability=((0, 19 * 60, 20 * 60),))
    assert check(newcomer(), one_hour, POLICY) == ()
    strict_policy = replace(POLICY, min_shared_hours=2)
    assert check(newcomer(), one_hour, strict_policy) == ("too_few_shared_hours",)
    assert check(newcomer(), mentor(), strict_policy) == ()


def test_several_failures_are_all_named_in_a_stable_order() -> None:
    guide = mentor(gender="man", languages=frozenset({"fr"}), remaining_capacity=0)
    assert check(newcomer(), guide, POLICY) == (
        "no_remaining_capacity",
        "no_shared_language",
        "gender_choice",
    )
