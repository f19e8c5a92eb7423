"""`fit_weights`: recovers known weights, refuses thin data, never adopts a worse model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching import PastMatch, Policy, fit_weights
from matching.learning import factor_matrix
from matching.synthetic import synthetic_program

TRUE_WEIGHTS = np.array([3.0, 0.0, 4.0, 0.0, 1.0, 2.0, 2.0, 0.0])
POLICY = Policy(min_mentor_recovery_days=0)


def history(size: int, seed: int, signal: float) -> list[PastMatch]:
    """Past matches whose success follows TRUE_WEIGHTS (signal=0: pure chance)."""
    program = synthetic_program(size, size, seed=seed)
    pairs = [
        PastMatch(n, m, "ended_early")
        for n, m in zip(program.newcomers, program.mentors, strict=True)
    ]
    logit = signal * (factor_matrix(pairs, POLICY) @ TRUE_WEIGHTS)
    chance = 1 / (1 + np.exp(-(logit - logit.mean())))
    active = np.random.default_rng(seed).random(size) < chance
    return [
        replace(p, outcome="active_at_90_days" if a else "concern_raised")
        for p, a in zip(pairs, active, strict=True)
    ]


@pytest.fixture(scope="module")
def informative() -> list[PastMatch]:
    return history(3000, seed=5, signal=1.0)


def test_known_weights_are_recovered(informative: list[PastMatch]) -> None:
    fit = fit_weights(informative, POLICY)
    assert fit.changed
    assert fit.held_out_auc_learned is not None
    assert fit.held_out_auc_current is not None
    assert fit.held_out_auc_learned > fit.held_out_auc_current
    learned = np.array(fit.weights.as_tuple())
    assert learned.sum() == pytest.approx(sum(POLICY.weights.as_tuple()))
    assert np.abs(learned / learned.sum() - TRUE_WEIGHTS / TRUE_WEIGHTS.sum()).max() < 0.07
    assert (fit.training_size, fit.held_out_size) == (2250, 750)


def test_weights_stay_within_the_guardrails(informative: list[PastMatch]) -> None:
    fit = fit_weights(informative, replace(POLICY, max_weight=2.5))
    learned = np.array(fit.weights.as_tuple())
    assert fit.changed
    assert (learned >= 0).all()
    assert (learned <= 2.5).all()


def test_thin_history_is_refused_with_the_reason() -> None:
    thin = history(60, seed=2, signal=1.0)
    fit = fit_weights(thin, POLICY)
    assert not fit.changed
    assert fit.weights == POLICY.weights
    assert fit.reason.startswith("too little history: 60 matches")


def test_one_sided_history_is_refused() -> None:
    all_active = [replace(p, outcome="active_at_90_days") for p in history(300, 3, 1.0)]
    assert not fit_weights(all_active, POLICY).changed


def test_noise_does_not_replace_the_current_weights() -> None:
    fit = fit_weights(history(1200, seed=9, signal=0.0), POLICY)
    assert not fit.changed
    assert fit.weights == POLICY.weights
    assert "not clearly better" in fit.reason or "no factor" in fit.reason
