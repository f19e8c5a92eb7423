"""Every soft factor, one at a time: each in [0, 1], read through `rank`'s contributions."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np
import pytest
from matching_builders import POLICY, mentor, newcomer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from matching import FACTORS, Mentor, Newcomer, Policy, rank
from matching.factors import PATHWAY_COMPATIBILITY, pathway_pair_fit
from matching.index import TextModel
from matching.vocabulary import PATHWAYS


def factor_values(person: Newcomer, guide: Mentor, policy: Policy = POLICY) -> dict[str, float]:
    (result,) = rank(person, [guide], policy, k=1)
    return {c.factor: c.value for c in result.contributions}


def test_the_pathway_table_covers_every_pair_within_bounds() -> None:
    pairs = {frozenset(p) for p in combinations(PATHWAYS, 2) if "other" not in p}
    assert set(PATHWAY_COMPATIBILITY) == pairs
    for a in PATHWAYS:
        for b in PATHWAYS:
            assert 0 <= pathway_pair_fit(a, b) <= 1
            assert pathway_pair_fit(a, b) == pathway_pair_fit(b, a)


@pytest.mark.parametrize(
    ("mine", "theirs", "expected"),
    [
        ({"smart_recovery"}, {"smart_recovery"}, 1.0),
        ({"twelve_step"}, {"smart_recovery"}, 0.4),
        ({"medication_supported"}, {"harm_reduction"}, 0.8),
        ({"twelve_step", "medication_supported"}, {"harm_reduction"}, 0.8),
        ({"faith_based"}, {"secular"}, 0.1),
        ({"other"}, {"other"}, 0.3),
        ({"twelve_step"}, set(), 0.0),
    ],
)
def test_pathway_fit_is_the_best_pair_in_the_table(
    mine: set[str], theirs: set[str], expected: float
) -> None:
    values = factor_values(newcomer(pathways=frozenset(mine)), mentor(pathways=frozenset(theirs)))
    assert values["pathway"] == pytest.approx(expected)


def test_an_open_newcomer_cares_half_as_much_and_one_without_pathway_is_neutral() -> None:
    smart = mentor(pathways=frozenset({"smart_recovery"}))
    open_values = factor_values(newcomer(pathway_strictness="open"), smart)
    assert open_values["pathway"] == pytest.approx(0.5 + 0.5 * 0.4)
    assert factor_values(newcomer(pathways=frozenset()), smart)["pathway"] == 0.5


@pytest.mark.parametrize(
    ("newcomer_days", "mentor_days", "expected"),
    [
        (800, 800, 0.0),
        (0, 730, 1.0),
        (30, 30 + 182, 0.5),
        (0, 3650, 1.0),
        (0, 7308, 0.8),
        (0, 12000, 0.8),
    ],
)
def test_recovery_gap_rewards_a_meaningful_lead_and_eases_off_when_huge(
    newcomer_days: int, mentor_days: int, expected: float
) -> None:
    policy = replace(POLICY, min_mentor_recovery_days=0)
    person = newcomer(recovery_days=newcomer_days)
    values = factor_values(person, mentor(recovery_days=mentor_days), policy)
    assert values["recovery_gap"] == pytest.approx(expected, abs=0.01)


def test_a_recovery_stage_stands_in_for_days_and_neither_means_starting_now() -> None:
    guide = mentor(recovery_days=365 + 60)
    policy = replace(POLICY, min_mentor_recovery_days=0)
    stage = newcomer(recovery_days=None, recovery_stage="1_to_3_months")
    by_stage = factor_values(stage, guide, policy)
    by_days = factor_values(newcomer(recovery_days=60), guide, policy)
    assert by_stage["recovery_gap"] == by_days["recovery_gap"]
    unknown = factor_values(newcomer(recovery_days=None), mentor(recovery_days=1000))
    assert unknown["recovery_gap"] == 1.0


@pytest.mark.parametrize(("hours", "expected"), [(1, 1 / 6), (3, 0.5), (6, 1.0), (8, 1.0)])
def test_availability_saturates_at_the_policys_full_hours(hours: int, expected: float) -> None:
    person = newcomer(availability=((1, 8 * 60, 16 * 60),))
    guide = mentor(availability=((1, 8 * 60, 8 * 60 + hours * 60),))
    assert factor_values(person, guide)["availability"] == pytest.approx(expected)


def test_format_fit_is_the_share_of_the_newcomers_formats_on_offer() -> None:
    person = newcomer(formats=frozenset({"video", "phone", "in_person"}), area="Reno")
    assert factor_values(person, mentor(formats=frozenset({"video"})))["format"] == pytest.approx(
        1 / 3
    )
    both = mentor(formats=frozenset({"video", "in_person"}), area="Reno")
    elsewhere = mentor(formats=frozenset({"video", "in_person"}), area="Elko")
    assert factor_values(person, both)["format"] == pytest.approx(2 / 3)
    assert factor_values(person, elsewhere)["format"] == pytest.approx(1 / 3)


def test_area_counts_when_both_can_meet_in_person_nearby() -> None:
    person = newcomer(formats=frozenset({"video", "in_person"}), area="Reno")
    near = mentor(formats=frozenset({"video", "in_person"}), area="Reno")
    far = mentor(formats=frozenset({"video", "in_person"}), area="Elko")
    assert factor_values(person, near)["area"] == 1.0
    assert factor_values(person, far)["area"] == 0.0
    assert factor_values(newcomer(area="Reno"), near)["area"] == 0.0


def test_lived_experience_is_the_share_of_the_newcomers_tags_the_mentor_shares() -> None:
    person = newcomer(lived_experience=frozenset({"parenting", "veteran"}))
    guide = mentor(lived_experience=frozenset({"veteran", "lgbtq"}))
    assert factor_values(person, guide)["lived_experience"] == 0.5
    assert factor_values(newcomer(), guide)["lived_experience"] == 0.0


def test_hopes_and_bio_similarity_is_tfidf_cosine() -> None:
    bios = ["I was a single dad in early recovery", "Veteran, I love hiking and the outdoors"]
    hopes = "Help being a dad while staying sober"
    guides = [mentor(id=f"m-{i}", bio=bio) for i, bio in enumerate(bios)]
    results = {r.mentor_id: r for r in rank(newcomer(hopes=hopes), guides, POLICY, k=2)}
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(bios)
    expected = cosine_similarity(vectorizer.transform([hopes]), vectorizer.transform(bios))[0]
    for i in range(2):
        value = {c.factor: c.value for c in results[f"m-{i}"].contributions}["hopes_bio"]
        assert value == pytest.approx(expected[i])
    assert expected[0] > 0 == expected[1]


def test_the_text_model_equals_scikit_learns_tfidf() -> None:
    bios = [
        "I was a single dad in early recovery. Recovery, recovery!",
        "Veteran; I love hiking, the outdoors and HIKING with my dog",
        "",
        "the and of",  # stop words only
    ]
    hopes = [
        "Help being a DAD while staying sober, dad to dad",
        "",
        "nothing known here",
        "hiking hiking hiking veteran outdoors recovery",
        "the",
    ]
    fitted = TextModel.fit(bios)
    assert fitted is not None
    model, matrix = fitted
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(bios)
    np.testing.assert_allclose(matrix.toarray(), vectorizer.transform(bios).toarray())
    mine = model.transform(hopes)
    np.testing.assert_allclose(mine.toarray(), vectorizer.transform(hopes).toarray(), atol=1e-15)
    assert mine.has_sorted_indices


def test_load_balance_prefers_mentors_with_room() -> None:
    assert factor_values(newcomer(), mentor(current_load=0))["load_balance"] == 1.0
    busy = mentor(current_load=3, remaining_capacity=1)
    assert factor_values(newcomer(), busy)["load_balance"] == 0.25


def test_every_factor_stays_in_the_unit_interval_and_is_weighted() -> None:
    weights = dict(zip(FACTORS, POLICY.weights.as_tuple(), strict=True))
    (result,) = rank(newcomer(), [mentor()], POLICY, k=1)
    for contribution in result.contributions:
        assert 0.0 <= contribution.value <= 1.0
        assert contribution.weight == weights[contribution.factor]
