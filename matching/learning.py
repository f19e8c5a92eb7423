"""`fit_weights`: learn factor weights from how past matches turned out, with guardrails.

A match counts as a success when it was still active at 90 days; ended early or a raised concern
count as not. A logistic regression on the factor values of past pairs says how much each factor
predicted success; its coefficients, rescaled to the current weights' total (so scores and the
waiting bonus keep their scale), become the proposal. The proposal is adopted only if it ranks
held-out matches better than the current weights do (ROC AUC on matches the fit never saw), and
only within guardrails: no weight below zero or above `Policy.max_weight`. Otherwise the current
weights come back unchanged, with the reason, so a thin or noisy history can never make matching
worse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from matching.index import Floats, MentorIndex, NewcomerBatch, evaluate
from matching.records import FACTORS, PastMatch, Policy, WeightFit, Weights

HELD_OUT_SHARE = 0.25
MIN_PER_OUTCOME = 20  # successes and non-successes each, or the held-out AUC means little


def factor_matrix(history: Sequence[PastMatch], policy: Policy) -> Floats:
    """Factor values (rows: past matches, columns: FACTORS) with the profiles as they were."""
    # The same mentor may appear with different profiles over time: index each row on its own.
    mentors = [replace(match.mentor, id=str(i)) for i, match in enumerate(history)]
    index = MentorIndex.build(mentors, policy)
    batch = NewcomerBatch.build([match.newcomer for match in history], index)
    rows = np.arange(len(history), dtype=np.int64)
    cols = np.array([index.position[m.id] for m in mentors], dtype=np.int64).reshape(len(rows))
    evaluation = evaluate(batch, rows, index, cols, policy, pairs=True)
    return np.stack([evaluation.values[f] for f in FACTORS], axis=1)


def _keep(policy: Policy, reason: str, train: int = 0, test: int = 0) -> WeightFit:
    return WeightFit(policy.weights, False, reason, train, test, None, None)


def fit_weights(history: Sequence[PastMatch], policy: Policy) -> WeightFit:
    """Learn factor weights from past matches; keep the current ones unless clearly better."""
    successes = sum(match.outcome == "active_at_90_days" for match in history)
    others = len(history) - successes
    if len(history) < policy.min_history or min(successes, others) < MIN_PER_OUTCOME:
        return _keep(
            policy,
            f"too little history: {len(history)} matches ({successes} active at 90 days,"
            f" {others} not); need {policy.min_history} with {MIN_PER_OUTCOME} of each",
        )
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    features = factor_matrix(history, policy)
    outcome = np.array([match.outcome == "active_at_90_days" for match in history], dtype=int)
    x_train, x_test, y_train, y_test = train_test_split(
        features, outcome, test_size=HELD_OUT_SHARE, random_state=0, stratify=outcome
    )
    model = LogisticRegression(C=10.0, max_iter=1000).fit(x_train, y_train)
    current = np.array(policy.weights.as_tuple())
    learned = np.clip(model.coef_[0], 0.0, None)
    if learned.sum() <= 0:
        return _keep(policy, "no factor predicted success", len(y_train), len(y_test))
    learned = np.clip(learned * current.sum() / learned.sum(), 0.0, policy.max_weight)
    auc_current = float(roc_auc_score(y_test, x_test @ current))
    auc_learned = float(roc_auc_score(y_test, x_test @ learned))
    improved = auc_learned >= auc_current + policy.min_auc_gain
    weights = Weights(*(float(w) for w in learned)) if improved else policy.weights
    reason = (
        f"learned weights rank held-out matches better (AUC {auc_learned:.3f} vs {auc_current:.3f})"
        if improved
        else f"learned weights are not clearly better on held-out matches"
        f" (AUC {auc_learned:.3f} vs {auc_current:.3f}; need +{policy.min_auc_gain})"
    )
    return WeightFit(weights, improved, reason, len(y_train), len(y_test), auc_current, auc_learned)
