"""The DiD of mentorwijs.effects.did against pyfixest's ``feols``, an independent Python port of
R's fixest (the `test` extra only: never in the register part, never in an output).

Each variant of ``did_fit`` is one ``feols`` formula with the matching weights and CR1 standard
errors clustered on person (fixest's G/(G-1) (N-1)/(N-K)):

- primary:          y ~ treated + i(month, treated, ref=r) | month
- person FE:        y ~ i(month, treated, ref=r) | person + month
- unit FE:          y ~ i(month, treated, ref=r) | unit + month
- cohort x month FE: y ~ treated + i(month, treated, ref=r) | cohort^month

on the R fixture (tests/reference/effects_data.csv) and on a weighted synthetic panel with
reused control persons, several cohorts and unobserved months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE
from mentorwijs.effects import did_fit

pf = pytest.importorskip("pyfixest", reason="pyfixest (test extra) is missing: pip install -r requirements.lock")

REF = -3
FORMULAS = {
    None: "{y} ~ treated + i(month, treated, ref={r}) | month",
    "person": "{y} ~ i(month, treated, ref={r}) | person + month",
    "unit": "{y} ~ i(month, treated, ref={r}) | unit + month",
    "cohort_month": "{y} ~ treated + i(month, treated, ref={r}) | cohort^month",
}
# K of the small-sample factor (N-1)/(N-K) differs by one parameter with person (or unit) FE.
# Both leave the person effects, nested in the person clusters, out of K; pyfixest's default
# ssc(k_fixef="nonnested") (fixest's fixef.K = "nested") then adds one back per nested fixed
# effect (pyfixest.utils.utils.get_ssc), i.e. counts all M month levels: K = 2(M-1) + 1. Ours
# counts M-1 month terms (one month's level is absorbed by the person effects) and M-1
# month x treated terms, K = 2(M-1), as our R reference (tests/reference/effects.R) applies it.
# The SEs then differ by sqrt((N-K)/(N-K-1)), about 1 + 1/(2(N-K)): 1.5e-4 relative on the R
# fixture (N = 3449), 3.4e-7 at 100,000 persons. Not nested (cohort x month) or no FE: same K.
EXTRA_K = {None: 0, "person": 1, "unit": 1, "cohort_month": 0}
# Both solve the same weighted least squares exactly. pyfixest demeans the fixed effects by
# alternating projections until a change below fixef_tol (default 1e-6); at 1e-14 its iterations
# do not decide the agreement. fixef_rm="none": keep singletons, as did_fit does.
# Observed: estimates 1e-14, SEs 5e-14 relative; 1e-10 leaves room for rounding at other sizes.
DEMEANER = pf.MapDemeaner(fixef_tol=1e-14)
TOL = 1e-10


def synthetic_panel(seed: int = 20) -> pd.DataFrame:
    """Trainees (one unit each) and control persons matched in up to three cohorts, with matching
    weights below one, unobserved months after an exit, a treated jump after month 0 and
    person-level heterogeneity: every feature the fixed-effect variants must handle."""
    rng = np.random.default_rng(seed)
    cohorts = ["2020-01", "2020-04", "2020-07"]
    units = []
    for i in range(80):
        units.append((f"T{i:03d}", f"T{i:03d}", cohorts[i % 3], 1, 1.0))
    for i in range(160):
        for cohort in rng.choice(cohorts, size=rng.integers(1, 4), replace=False):
            units.append((f"C{i:03d}", f"C{i:03d}", cohort, 0, float(rng.uniform(0.05, 1.0))))
    months = np.arange(-6, 13)
    rows = []
    for unit_no, (person, _, cohort, treated, weight) in enumerate(units):
        level = rng.normal(0.0, 1.0)
        exit_month = rng.integers(2, 13) if rng.random() < 0.15 else 99
        for month in months:
            trend = 0.03 * month + 0.2 * cohorts.index(cohort)
            effect = 0.4 * treated * (month > 0)
            y = int(rng.normal(level + trend + effect, 1.0) > 0)
            rows.append((f"{person}_{cohort}", person, cohort, treated, weight, int(month), y, int(month < exit_month)))
    return pd.DataFrame(rows, columns=["unit", "person", "cohort", "treated", "weight", "month", "y", "observed"])


@pytest.fixture(scope="module")
def panels():
    d = pd.read_csv(REFERENCE / "effects_data.csv")
    fixture = d[d["part"] == "panel"].reset_index(drop=True)
    columns = ["month", "employed_1h", "observed"]
    fixture[columns] = fixture[columns].astype("int64")
    return {"R fixture": (fixture, "employed_1h"), "synthetic": (synthetic_panel(), "y")}


@pytest.mark.parametrize("fixed_effects", list(FORMULAS))
@pytest.mark.parametrize("which", ["R fixture", "synthetic"])
def test_did_fit_equals_pyfixest_feols_with_weights_and_cr1_on_person(panels, which, fixed_effects):
    panel, outcome = panels[which]
    ours = did_fit(panel, outcome, REF, fixed_effects=fixed_effects)
    observed = panel[panel["observed"] == 1]
    fit = pf.feols(FORMULAS[fixed_effects].format(y=outcome, r=REF), data=observed, weights="weight",
                   vcov={"CRV1": "person"}, fixef_rm="none", demeaner=DEMEANER)
    terms = [t for t in fit.coef().index if t.startswith("month::")]
    months = [int(t.split("::")[1].split(":")[0]) for t in terms]
    assert sorted(months) == [m for m in ours.months if m != REF]
    idx = [ours.column(m) for m in months]
    assert fit._N == ours.n_obs
    np.testing.assert_allclose(fit.coef()[terms].to_numpy(), ours.estimate[idx], rtol=0, atol=TOL)
    n, k = ours.n_obs, ours.n_params + EXTRA_K[fixed_effects]
    to_fixest_k = np.sqrt((n - ours.n_params) / (n - k))
    np.testing.assert_allclose(fit.se()[terms].to_numpy(), ours.se[idx] * to_fixest_k, rtol=TOL)
    if EXTRA_K[fixed_effects]:  # the one counted parameter is visible, not lost in the tolerance
        assert np.all(np.abs(fit.se()[terms].to_numpy() / ours.se[idx] - 1) > 1e-6)
