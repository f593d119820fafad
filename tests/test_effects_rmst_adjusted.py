"""The covariate-adjusted RMST difference (regression on pseudo-observations) against R
(survival::pseudo + lm + sandwich::vcovCL, tests/reference/rmst_adjusted.R), against the plain
RMST difference it must reduce to without covariates, and against the closed form without
censoring (pseudo-values are then the restricted times themselves)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from conftest import REFERENCE
from mentorwijs.effects.survival import RMST_ADJUSTED_COLUMNS, rmst, rmst_adjusted, rmst_pseudo_values
from mentorwijs.errors import InputError

COVARIATES = ["age", "temporary_contract", "sector"]
CASES = [(outcome, horizon) for outcome in ("job", "work") for horizon in (6, 12)]
# R writes 15 significant digits and both sides compute the same closed-form quantities, so only
# rounding separates them (observed: below 1e-13); 1e-8 leaves room for other BLAS builds.
TOL = 1e-8


@pytest.fixture(scope="module")
def surv():
    d = pd.read_csv(REFERENCE / "effects_data.csv")
    s = d[d["part"] == "survival"].reset_index(drop=True)
    cols = ["time_job", "event_job", "time_work", "event_work", "age", "temporary_contract"]
    s[cols] = s[cols].astype("int64")
    return s.drop(columns=["month", "employed_1h", "employed_12h", "observed", "part"])


@pytest.fixture(scope="module")
def r_out():
    return pd.read_csv(REFERENCE / "rmst_adjusted_R_output.csv", dtype=str, keep_default_na=False)


def _r_fit(r_out, outcome, horizon, covariates) -> pd.Series:
    sub = r_out[(r_out["section"] == "fit") & (r_out["outcome"] == outcome) & (r_out["horizon"] == str(horizon))
                & (r_out["covariates"] == covariates)]
    return sub.set_index("quantity")["value"].astype(float)


def test_reference_output_states_versions(r_out):
    meta = r_out[r_out["section"] == "meta"].set_index("quantity")["value"]
    assert meta["R_version"].startswith("4.") and meta["survival_version"] and meta["sandwich_version"]


@pytest.mark.parametrize("outcome,horizon", CASES)
def test_pseudo_values_equal_r_survival_pseudo(surv, r_out, outcome, horizon):
    mine = rmst_pseudo_values(surv, outcome, horizon).set_index("unit")["pseudo"]
    ref = r_out[(r_out["section"] == "pseudo") & (r_out["outcome"] == outcome) & (r_out["horizon"] == str(horizon))]
    ref = ref.set_index("unit")["value"].astype(float)
    assert len(ref) == len(surv) == len(mine)
    np.testing.assert_allclose(mine.loc[ref.index].to_numpy(), ref.to_numpy(), rtol=0, atol=TOL)


@pytest.mark.parametrize("outcome,horizon", CASES)
@pytest.mark.parametrize("covariates", ["none", "full"])
def test_adjusted_difference_and_ses_equal_r_lm_vcovcl(surv, r_out, outcome, horizon, covariates):
    row = rmst_adjusted(surv, outcome, horizon, COVARIATES if covariates == "full" else []).iloc[0]
    ref = _r_fit(r_out, outcome, horizon, covariates)
    for quantity in ("difference", "se", "rmst_treated", "rmst_control", "se_treated", "se_control"):
        assert row[quantity] == pytest.approx(ref[quantity], abs=TOL), quantity
    assert row["converged"] == 1 and row["warnings"] == "" and row["method"] == "adjusted"


def test_adjustment_moves_the_estimate_on_the_reference_data(surv, r_out):
    # the covariates matter in the fixture, so the R comparison above checks more than the
    # unadjusted difference
    full, none = _r_fit(r_out, "job", 12, "full"), _r_fit(r_out, "job", 12, "none")
    assert abs(full["difference"] - none["difference"]) > 0.1


@pytest.mark.parametrize("outcome,horizon", CASES)
def test_without_covariates_equals_the_plain_rmst_difference(surv, outcome, horizon):
    """Per-group pseudo-values average (weighted) to each group's RMST, so the treated coefficient
    of pseudo ~ treated is the plain difference, and each unit's residual times its weight is its
    IJ influence: the CR1 SE is the plain SE times sqrt(G/(G-1) (N-1)/(N-2))."""
    plain = rmst(surv, outcome, horizon).iloc[0]
    adj = rmst_adjusted(surv, outcome, horizon, []).iloc[0]
    G, N = surv["person"].nunique(), len(surv)
    factor = np.sqrt(G / (G - 1) * (N - 1) / (N - 2))
    assert adj["difference"] == pytest.approx(plain["difference"], abs=1e-12)
    assert adj["rmst_treated"] == pytest.approx(plain["rmst_treated"], abs=1e-12)
    assert adj["rmst_control"] == pytest.approx(plain["rmst_control"], abs=1e-12)
    assert adj["se"] == pytest.approx(plain["se"] * factor, rel=1e-12)
    assert adj["se_treated"] == pytest.approx(plain["se_treated"] * factor, rel=1e-12)
    assert adj["se_control"] == pytest.approx(plain["se_control"] * factor, rel=1e-12)


def _uncensored(seed=7, horizon=8):
    """Whole-month times, every unit either has its event or is followed to at least month
    horizon - 1 (censoring that cannot touch the RMST), unequal weights, repeated persons."""
    rng = np.random.default_rng(seed)
    n = 80
    treated = (np.arange(n) < 25).astype(int)
    time = rng.integers(0, 14, n)
    event = np.where(time < horizon - 1, 1, rng.integers(0, 2, n))
    return pd.DataFrame({
        "unit": [f"U{i:03d}" for i in range(n)],
        "person": [f"P{i // 2 if i >= 25 else 100 + i:03d}" for i in range(n)],
        "cohort": rng.choice(["2019-09", "2020-01"], n),
        "treated": treated,
        "weight": np.where(treated == 1, 1.0, rng.uniform(0.05, 0.9, n)),
        "time_job": time,
        "event_job": event,
        "age": rng.integers(20, 60, n),
        "sector": rng.choice(["a", "b", "c"], n),
    })


def test_pseudo_values_without_censoring_are_the_restricted_times():
    horizon = 8
    d = _uncensored(horizon=horizon)
    restricted = np.where(d["event_job"] == 1, np.minimum(d["time_job"], horizon), horizon)
    pv = rmst_pseudo_values(d, "job", horizon)
    np.testing.assert_allclose(pv["pseudo"], restricted, rtol=0, atol=1e-12)


def test_scaling_the_weights_of_a_group_changes_nothing():
    # the pseudo-value multiplier is the group's weight sum, not its number of units
    d = _uncensored()
    scaled = d.assign(weight=np.where(d["treated"] == 0, d["weight"] * 3.7, d["weight"]))
    a = rmst_pseudo_values(d, "job", 8)["pseudo"]
    b = rmst_pseudo_values(scaled, "job", 8)["pseudo"]
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_adjusted_without_censoring_equals_weighted_least_squares_of_the_restricted_times():
    horizon = 8
    d = _uncensored(horizon=horizon)
    y = np.where(d["event_job"] == 1, np.minimum(d["time_job"], horizon), horizon).astype(float)
    X = pd.get_dummies(d[["treated", "age", "sector"]], columns=["sector"], drop_first=True, dtype=float)
    X = sm.add_constant(X)
    g = pd.factorize(d["person"])[0]
    fit = sm.WLS(y, X, weights=d["weight"]).fit(cov_type="cluster", cov_kwds={"groups": g})
    row = rmst_adjusted(d, "job", horizon, ["age", "sector"]).iloc[0]
    assert row["difference"] == pytest.approx(fit.params["treated"], abs=1e-10)
    assert row["se"] == pytest.approx(fit.bse["treated"], rel=1e-10)


def test_row_has_the_rmst_columns_and_method(surv):
    row = rmst_adjusted(surv, "job", 12, COVARIATES)
    assert list(row.columns) == RMST_ADJUSTED_COLUMNS
    plain = list(rmst(surv, "job", 12).columns)
    assert [c for c in RMST_ADJUSTED_COLUMNS if c != "method"] == plain
    assert len(row) == 1 and row["n_treated"].iloc[0] == 60 and row["n_control"].iloc[0] == 210


def test_constant_covariate_is_left_out_with_a_note(surv):
    base = rmst_adjusted(surv, "job", 12, COVARIATES).iloc[0]
    d = surv.assign(region="north", one=1.0)
    row = rmst_adjusted(d, "job", 12, [*COVARIATES, "region", "one"]).iloc[0]
    assert row["difference"] == pytest.approx(base["difference"], abs=1e-12)
    assert row["se"] == pytest.approx(base["se"], rel=1e-12)
    assert "covariate region is constant" in row["warnings"] and "covariate one is constant" in row["warnings"]
    assert row["converged"] == 1


def test_collinear_covariate_is_left_out_with_a_note(surv):
    base = rmst_adjusted(surv, "job", 12, COVARIATES).iloc[0]
    d = surv.assign(age_months=12 * surv["age"] + 6)
    row = rmst_adjusted(d, "job", 12, [*COVARIATES, "age_months"]).iloc[0]
    assert row["difference"] == pytest.approx(base["difference"], abs=1e-9)
    assert row["se"] == pytest.approx(base["se"], rel=1e-9)
    assert "age_months collinear" in row["warnings"]


def test_no_events_before_the_horizon_gives_a_reason_not_a_number(surv):
    d = surv.assign(event_job=np.where(surv["time_job"] >= 6, surv["event_job"], 0))
    row = rmst_adjusted(d, "job", 6, COVARIATES).iloc[0]
    assert row["converged"] == 0 and np.isnan(row["difference"]) and np.isnan(row["se"])
    assert "no events before the horizon 6" in row["warnings"]


def test_units_with_a_missing_covariate_are_left_out_and_counted(surv):
    d = surv.copy()
    d["age"] = d["age"].astype(float)
    d.loc[[0, 5, 100], "age"] = np.nan
    row = rmst_adjusted(d, "job", 12, COVARIATES).iloc[0]
    complete = rmst_adjusted(d.drop(index=[0, 5, 100]), "job", 12, COVARIATES).iloc[0]
    assert "3 units with a missing covariate left out" in row["warnings"]
    assert row["difference"] == pytest.approx(complete["difference"], abs=1e-12)
    assert row["n_treated"] + row["n_control"] == len(surv) - 3


def test_units_with_weight_zero_are_left_out_and_counted(surv):
    d = surv.copy()
    d.loc[d.index[d["treated"] == 0][:4], "weight"] = 0.0
    row = rmst_adjusted(d, "job", 12, COVARIATES).iloc[0]
    assert "4 units with weight 0 left out" in row["warnings"] and row["n_control"] == 206


def test_bad_input_names_the_problem(surv):
    with pytest.raises(InputError, match="horizon"):
        rmst_adjusted(surv, "job", 0, COVARIATES)
    with pytest.raises(InputError, match="no column"):
        rmst_adjusted(surv, "job", 12, ["not_a_column"])
    with pytest.raises(InputError, match="no control units"):
        rmst_adjusted(surv[surv["treated"] == 1], "job", 12, COVARIATES)
