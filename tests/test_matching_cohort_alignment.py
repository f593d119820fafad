"""A synthetic scenario: ignoring the cohorts' calendar alignment biases the estimate.

Everyone's employment probability drops by 0.3 during a calendar shock (months 13-16, like
the 2020 lockdown). All trainees belong to cohort A (month 0 = calendar month 10: the shock
falls in their follow-up months 3-6); the control pool stands in cohorts A and B (month 0 =
calendar month 20: the shock falls in their months -7 to -4). The training has no effect.

Outcomes are the expected probabilities (no noise), so the difference-in-differences
(follow-up months 1-6 minus months -6 to -1) is exactly 0 when controls come from the same
calendar months (exact matching on cohort), and exactly ``-0.35 * w_B`` when cohort is
ignored, where ``w_B`` is the share of control weight from cohort B: trainees change by
``-0.3 * 4/6 = -0.2``, cohort-A controls by -0.2 too, cohort-B controls by ``+0.3 * 3/6 = +0.15``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mentorwijs.matching import CovariateSpec, MatchingSpec, match_candidates

A, B = "2019-10", "2020-08"  # cohorts A and B: calendar months 10 and 20 of the window (from 2019-01)
COHORT_MONTH = {A: 10, B: 20}
SHOCK = range(13, 17)


def _units(seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(40):  # trainees, cohort A
        rows.append({"person": f"t{i}", "cohort": A, "treated": 1, "age": rng.normal(42, 8), "tie_order": i})
    for j in range(300):  # controls, stacked in both cohorts
        age = rng.normal(40, 9)
        for cohort in (A, B):
            rows.append({"person": f"c{j}", "cohort": cohort, "treated": 0, "age": age, "tie_order": 1000 + j})
    frame = pd.DataFrame(rows)
    frame["unit"] = frame["person"] + ":" + frame["cohort"]
    frame["region_pair"] = "pair"
    return frame


def _expected_outcome(age: np.ndarray, calendar_month: np.ndarray) -> np.ndarray:
    base = 0.9 - 0.004 * (age - 40)
    return base - 0.3 * np.isin(calendar_month, list(SHOCK))


def _did(matched: pd.DataFrame) -> float:
    cohort_month = matched["cohort"].map(COHORT_MONTH).to_numpy()
    age = matched["age"].to_numpy()
    pre = np.mean([_expected_outcome(age, cohort_month + t) for t in range(-6, 0)], axis=0)
    post = np.mean([_expected_outcome(age, cohort_month + t) for t in range(1, 7)], axis=0)
    change = post - pre
    t = matched["treated"].to_numpy() == 1
    w = matched["weight"].to_numpy()
    return float(np.average(change[t], weights=w[t]) - np.average(change[~t], weights=w[~t]))


def _spec(exact):
    return MatchingSpec(covariates=(CovariateSpec("age", "numeric"),), exact=exact, k=10, caliper_sd=0.2)


def test_exact_matching_on_cohort_removes_the_calendar_shock():
    result = match_candidates(_units(), _spec(("region_pair", "cohort")))
    controls = result.matched[result.matched["treated"] == 0]
    assert set(controls["cohort"]) == {A}
    assert _did(result.matched) == pytest.approx(0.0, abs=1e-12)


def test_ignoring_cohort_biases_the_estimate_by_the_shock():
    result = match_candidates(_units(), _spec(("region_pair",)))
    controls = result.matched[result.matched["treated"] == 0]
    share_b = controls.loc[controls["cohort"] == B, "weight"].sum() / controls["weight"].sum()
    assert 0.3 < share_b < 0.7  # ages do not tell the cohorts apart: both are used
    did = _did(result.matched)
    assert did == pytest.approx(-0.35 * share_b, abs=1e-12)
    assert did < -0.1  # a spurious harm of the training of at least 10 percentage points
