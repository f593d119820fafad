"""Difference-in-differences per month: checked against R (lm + sandwich::vcovCL), statsmodels
WLS with cluster-robust covariance, and closed-form cell means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from conftest import REFERENCE
from mentorwijs.effects import did_by_month, did_fit, did_pooled, placebo, supt_critical_value, trajectories
from mentorwijs.errors import InputError


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REFERENCE / "effects_data.csv")


@pytest.fixture(scope="module")
def panel(data):
    p = data[data["part"] == "panel"].reset_index(drop=True)
    columns = ["month", "employed_1h", "employed_12h", "observed"]
    p[columns] = p[columns].astype("int64")
    return p.drop(columns=["time_job", "event_job", "time_work", "event_work", "age", "temporary_contract", "sector"])


@pytest.fixture(scope="module")
def r_did():
    r = pd.read_csv(REFERENCE / "effects_R_output.csv", dtype={"time": str})
    return r[r["section"] == "did"]


def _r_months(r_did, outcome, model, quantity):
    sub = r_did[(r_did["outcome"] == outcome) & (r_did["model"] == model) & (r_did["term"] == "month")
                & (r_did["quantity"] == quantity)]
    return pd.Series(sub["value"].astype(float).to_numpy(), index=sub["time"].astype(int).to_numpy())


def _r_pooled(r_did, outcome, model, quantity):
    sub = r_did[(r_did["outcome"] == outcome) & (r_did["model"] == model) & (r_did["term"] == "pooled")
                & (r_did["quantity"] == quantity)]
    return float(sub["value"].iloc[0])


# R's numbers are printed with 15 significant digits; the estimators are closed-form, so the
# only differences are floating-point rounding (1e-12 observed). 1e-6 is the brief's bar.
TOL = 1e-6


@pytest.mark.parametrize("outcome", ["employed_1h", "employed_12h"])
@pytest.mark.parametrize("model,ref,months,followup", [("primary", -3, None, 6), ("unweighted", -3, None, 6)])
def test_monthly_and_pooled_effects_equal_r_lm_vcovcl(panel, r_did, outcome, model, ref, months, followup):
    p = panel.assign(weight=1.0) if model == "unweighted" else panel
    table = did_by_month(p, outcome, ref, followup_months=followup, band_draws=2000, seed=1).set_index("month")
    est = _r_months(r_did, outcome, model, "estimate")
    se = _r_months(r_did, outcome, model, "se")
    np.testing.assert_allclose(table.loc[est.index, "estimate"], est, atol=TOL)
    np.testing.assert_allclose(table.loc[se.index, "se"], se, atol=TOL)
    assert table.loc[ref, "estimate"] == 0 and table.loc[ref, "se"] == 0
    pooled = did_pooled(p, outcome, ref, followup_months=followup).iloc[0]
    assert pooled["estimate"] == pytest.approx(_r_pooled(r_did, outcome, model, "estimate"), abs=TOL)
    assert pooled["se"] == pytest.approx(_r_pooled(r_did, outcome, model, "se"), abs=TOL)
    assert pooled["months"] == "1..6"
    fit = did_fit(p, outcome, ref)
    assert fit.n_obs == _r_pooled(r_did, outcome, model, "nobs")
    assert fit.n_clusters == _r_pooled(r_did, outcome, model, "clusters")


@pytest.mark.parametrize("outcome", ["employed_1h", "employed_12h"])
def test_placebo_equals_r_on_the_fake_window(panel, r_did, outcome):
    table = placebo(panel, outcome, reference_month=-6, post_months=(-5, -4))
    months = table[table["term"] == "month"].set_index("month")
    est = _r_months(r_did, outcome, "placebo", "estimate")
    se = _r_months(r_did, outcome, "placebo", "se")
    np.testing.assert_allclose(months.loc[est.index, "estimate"].astype(float), est, atol=TOL)
    np.testing.assert_allclose(months.loc[se.index, "se"].astype(float), se, atol=TOL)
    pooled = table[table["term"] == "pooled"].iloc[0]
    assert pooled["estimate"] == pytest.approx(_r_pooled(r_did, outcome, "placebo", "estimate"), abs=TOL)
    assert pooled["se"] == pytest.approx(_r_pooled(r_did, outcome, "placebo", "se"), abs=TOL)
    assert pd.isna(pooled["month"])


@pytest.mark.parametrize("fixed_effects,label", [("person", "person_fe"), ("cohort_month", "cohort_month_fe")])
def test_fixed_effect_variants_equal_r(panel, r_did, fixed_effects, label):
    fit = did_fit(panel, "employed_1h", -3, fixed_effects=fixed_effects)
    est = _r_months(r_did, "employed_1h", label, "estimate")
    se0 = _r_months(r_did, "employed_1h", label, "se_hc0_cadjust")
    idx = [fit.column(m) for m in est.index]
    np.testing.assert_allclose(fit.estimate[idx], est, atol=TOL)
    # R gives HC0 with G/(G-1); the residual-df factor (N-1)/(N-K) is ours to apply: K counts the
    # month regressors and, for fixed effects not nested in persons, the fixed-effect levels.
    n, k = fit.n_obs, fit.n_params
    resid_factor = (n - 1) / (n - k)
    np.testing.assert_allclose(fit.se[idx] / np.sqrt(resid_factor), se0, atol=TOL)
    months = panel["month"].nunique()
    if fixed_effects == "person":  # nested in the clusters: not counted
        assert k == 2 * (months - 1)
    else:
        cells = panel.loc[panel["observed"] == 1].groupby(["cohort", "month"]).ngroups
        assert k == months + cells


def test_equals_statsmodels_wls_with_cluster_robust_covariance(panel):
    """The cell-mean shortcut equals a full dummy regression (statsmodels WLS, cluster on person, CR1)."""
    d = panel[panel["observed"] == 1].copy()
    fit = smf.wls("employed_1h ~ C(month, Treatment(-3)) * treated", data=d, weights=d["weight"]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["person"])[0], "use_correction": True}
    )
    ours = did_fit(panel, "employed_1h", -3)
    for month in [-6, -2, 0, 1, 6]:
        name = f"C(month, Treatment(-3))[T.{month}]:treated"
        k = ours.column(month)
        assert ours.estimate[k] == pytest.approx(fit.params[name], abs=1e-10)
        assert ours.se[k] == pytest.approx(fit.bse[name], rel=1e-8)
    # joint covariance of two months too
    a, b = "C(month, Treatment(-3))[T.2]:treated", "C(month, Treatment(-3))[T.5]:treated"
    assert ours.cov[ours.column(2), ours.column(5)] == pytest.approx(fit.cov_params().loc[a, b], rel=1e-8)


def test_closed_form_cell_means_on_a_tiny_panel():
    # two trainees, three controls (one person twice), months -1 (reference) and 1
    rows = [
        ("t1", "A", 1, 1.0, -1, 1), ("t1", "A", 1, 1.0, 1, 1),
        ("t2", "B", 1, 1.0, -1, 1), ("t2", "B", 1, 1.0, 1, 0),
        ("c1", "C", 0, 0.5, -1, 1), ("c1", "C", 0, 0.5, 1, 0),
        ("c2", "D", 0, 1.0, -1, 0), ("c2", "D", 0, 1.0, 1, 0),
        ("c3", "D", 0, 0.5, -1, 1), ("c3", "D", 0, 0.5, 1, 1),
    ]
    p = pd.DataFrame(rows, columns=["unit", "person", "treated", "weight", "month", "employed_1h"])
    p["cohort"], p["observed"] = "2020-01", 1
    # trainees: 1.0 -> 0.5 (change -0.5); controls: (0.5*1+0+0.5*1)/2 = 0.5 -> (0+0+0.5)/2 = 0.25 (change -0.25)
    table = did_by_month(p, "employed_1h", -1, band_draws=1000)
    assert table.set_index("month").loc[1, "estimate"] == pytest.approx(-0.25)
    assert table["n_treated"].tolist() == [2, 2] and table["n_control"].tolist() == [3, 3]
    assert table["clusters_control"].tolist() == [2, 2]


def test_unobserved_person_months_are_excluded_not_counted_as_not_employed(panel):
    base = did_by_month(panel, "employed_1h", -3, band_draws=1000, seed=3)
    changed = panel.copy()
    off = changed["observed"] == 0
    assert off.any()
    changed.loc[off, "employed_1h"] = 1 - changed.loc[off, "employed_1h"]
    again = did_by_month(changed, "employed_1h", -3, band_draws=1000, seed=3)
    pd.testing.assert_frame_equal(base, again)
    # counting them as not employed would change the estimates
    counted = panel.copy()
    counted.loc[off, ["employed_1h", "observed"]] = [0, 1]
    assert not np.allclose(did_fit(counted, "employed_1h", -3).estimate, did_fit(panel, "employed_1h", -3).estimate)


def test_missing_outcome_values_are_left_out_and_reported(panel):
    p = panel.copy()
    p["employed_1h"] = p["employed_1h"].astype("Float64")
    p.loc[p.index[:5], "employed_1h"] = pd.NA
    pooled = did_pooled(p, "employed_1h", -3, followup_months=6).iloc[0]
    assert "without a value" in pooled["warnings"]


def test_band_lies_between_pointwise_and_bonferroni_and_is_reproducible(panel):
    table = did_by_month(panel, "employed_1h", -3, followup_months=6, band_draws=20000, seed=11)
    post = table[table["month"].between(1, 6)]
    crit = post["band_critical"].iloc[0]
    fit = did_fit(panel, "employed_1h", -3)
    t_point = stats.t.ppf(0.975, fit.df)
    t_bonf = stats.t.ppf(1 - 0.025 / 6, fit.df)
    assert t_point < crit < t_bonf
    assert table[table["month"] < 1]["band_low"].isna().all()
    again = did_by_month(panel, "employed_1h", -3, followup_months=6, band_draws=20000, seed=11)
    pd.testing.assert_frame_equal(table, again)
    flags = post["band_excludes_zero"].astype(int)
    assert flags.tolist() == ((post["band_low"] > 0) | (post["band_high"] < 0)).astype(int).tolist()


def test_supt_critical_value_closed_forms():
    # one estimate: the two-sided normal quantile; perfectly correlated: the same; independent:
    # the Sidak value 1 - (1 - 0.05)^(1/m).
    assert supt_critical_value(np.eye(1), np.inf, draws=200000, seed=1) == pytest.approx(1.95996, abs=0.02)
    assert supt_critical_value(np.ones((4, 4)), np.inf, draws=200000, seed=1) == pytest.approx(1.95996, abs=0.02)
    sidak = stats.norm.ppf(1 - (1 - 0.95 ** (1 / 5)) / 2)
    assert supt_critical_value(np.eye(5) * 4.0, np.inf, draws=200000, seed=2) == pytest.approx(sidak, abs=0.02)


def test_trajectories_are_weighted_shares(panel):
    table = trajectories(panel, ["employed_1h"])
    row = table[(table["group"] == "control") & (table["month"] == 2)].iloc[0]
    d = panel[(panel["treated"] == 0) & (panel["month"] == 2) & (panel["observed"] == 1)]
    assert row["share"] == pytest.approx(np.average(d["employed_1h"], weights=d["weight"]))
    assert row["n"] == len(d) and row["persons"] == d["person"].nunique()
    assert row["n_employed"] == int(d["employed_1h"].sum())


def test_bad_input_is_an_input_error(panel):
    with pytest.raises(InputError, match="no column"):
        did_fit(panel.drop(columns="observed"), "employed_1h", -3)
    bad = panel.copy()
    bad.loc[3, "treated"] = 2
    with pytest.raises(InputError, match="0 or 1"):
        did_fit(bad, "employed_1h", -3)
    with pytest.raises(InputError, match="reference month"):
        did_fit(panel, "employed_1h", -12)
    with pytest.raises(InputError, match="follow-up month"):
        did_pooled(panel, "employed_1h", -3, followup_months=12)
    neg = panel.copy()
    neg.loc[0, "weight"] = -1
    with pytest.raises(InputError, match="non-negative"):
        did_fit(neg, "employed_1h", -3)
    with pytest.raises(InputError, match="fixed effects"):
        did_fit(panel, "employed_1h", -3, fixed_effects="region")
