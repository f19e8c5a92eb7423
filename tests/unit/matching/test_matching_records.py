"""Records refuse bad values when built, naming the field and the record's id."""

from __future__ import annotations

from typing import Any

import pytest
from matching_builders import mentor, newcomer

from matching import Policy


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", ""),
        ("time_zone", "../etc/passwd"),
        ("gender", "robot"),
        ("wanted_gender", "anyone"),
        ("pathway_strictness", "very"),
        ("recovery_stage", "forever"),
        ("recovery_days", -1),
        ("languages", frozenset({""})),
        ("formats", frozenset({"carrier_pigeon"})),
        ("pathways", frozenset({"twelve_steps"})),
        ("availability", ((7, 0, 60),)),
        ("availability", ((0, 60, 60),)),
        ("availability", ((0, -15, 60),)),
        ("availability", ((0, 0, 1441),)),
        ("availability", ((0, 0.5, 60),)),
        ("excluded_mentor_ids", frozenset({""})),
        ("waiting_since", "2026-01-01"),
    ],
)
def test_a_newcomer_with_a_bad_value_is_refused_by_field_and_id(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"^newcomer 'n-1': {field} "):
        newcomer(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Nowhere/Special"),
        ("time_zone", ""),
        ("remaining_capacity", -1),
        ("current_load", -1),
        ("recovery_days", -30),
        ("gender", "robot"),
        ("availability", ((0, 20 * 60, 19 * 60),)),
    ],
)
def test_a_mentor_with_a_bad_value_is_refused_by_field_and_id(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"^mentor 'm-1': {field} "):
        mentor(**{field: value})


@pytest.mark.parametrize("bad_id", ["", "   "])
def test_a_record_needs_an_id(bad_id: str) -> None:
    with pytest.raises(ValueError, match="newcomer id"):
        newcomer(id=bad_id)
    with pytest.raises(ValueError, match="mentor id"):
        mentor(id=bad_id)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_shared_hours", -1.0),
        ("min_shared_hours", float("nan")),
        ("full_shared_hours", 0.0),
        ("waiting_bonus", -2.0),
        ("waiting_full_days", 0),
        ("min_mentor_recovery_days", -1),
    ],
)
def test_a_policy_with_a_bad_setting_is_refused_by_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"^policy: {field} "):
        Policy(**{field: value})


def test_good_records_are_accepted() -> None:
    assert newcomer(time_zone="UTC", recovery_stage="1_to_3_months").time_zone == "UTC"
    assert mentor(remaining_capacity=0, current_load=0).remaining_capacity == 0
