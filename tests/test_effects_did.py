"""Difference-in-differences per month: checked against R (lm + sandwich::vcovCL for CR1,
clubSandwich for CR2 and Satterthwaite df, for the plain and the regression-adjusted estimator),
statsmodels WLS with cluster-robust covariance, and closed-form cell means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from conftest import REFERENCE
from mentorwijs.effects import did_by_month, did_fit, did_pooled, placebo, supt_critical_value, trajectories
from mentorwijs.effects.did import contrast_test, did_by_month_table, did_pooled_table, pooled_contrast
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
def units(data):
    """One row per unit with the covariates of the adjusted DiD (as the survival table carries them)."""
    return data.loc[data["part"] == "survival", ["unit", "age", "temporary_contract", "sector"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def r_cr2():
    return pd.read_csv(REFERENCE / "did_cr2_R_output.csv", dtype={"month": str})


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
    np.testing.assert_allclose(table.loc[se.index, "se_cr1"], se, atol=TOL)
    assert table.loc[ref, "estimate"] == 0 and table.loc[ref, "se"] == 0 and table.loc[ref, "se_cr1"] == 0
    pooled = did_pooled(p, outcome, ref, followup_months=followup).iloc[0]
    assert pooled["estimate"] == pytest.approx(_r_pooled(r_did, outcome, model, "estimate"), abs=TOL)
    assert pooled["se_cr1"] == pytest.approx(_r_pooled(r_did, outcome, model, "se"), abs=TOL)
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
    np.testing.assert_allclose(months.loc[se.index, "se_cr1"].astype(float), se, atol=TOL)
    pooled = table[table["term"] == "pooled"].iloc[0]
    assert pooled["estimate"] == pytest.approx(_r_pooled(r_did, outcome, "placebo", "estimate"), abs=TOL)
    assert pooled["se_cr1"] == pytest.approx(_r_pooled(r_did, outcome, "placebo", "se"), abs=TOL)
    assert pd.isna(pooled["month"])


def _r_cr2(r_cr2, outcome, method, window, term, quantity) -> pd.Series:
    sub = r_cr2[(r_cr2["outcome"] == outcome) & (r_cr2["method"] == method) & (r_cr2["window"] == window)
                & (r_cr2["term"] == term) & (r_cr2["quantity"] == quantity)]
    index = sub["month"].astype(int).to_numpy() if term == "month" else [0]
    return pd.Series(sub["value"].astype(float).to_numpy(), index=index)


# (our column, R's quantity): estimate and CR1 from lm + vcovCL(HC1), CR2 and df from clubSandwich
R_CR2_QUANTITIES = [("estimate", "estimate"), ("se_cr1", "se_cr1"), ("se", "se_cr2"), ("df", "df")]


@pytest.mark.parametrize("outcome", ["employed_1h", "employed_12h"])
@pytest.mark.parametrize("method", ["matched", "adjusted"])
def test_monthly_and_pooled_rows_equal_r_lm_vcovcl_and_clubsandwich_cr2(panel, units, r_cr2, outcome, method):
    """Both estimators on a tied, weighted panel with reused controls and persons with several
    units: estimates and CR1 SEs equal lm + sandwich::vcovCL(HC1), CR2 SEs and Satterthwaite df
    equal clubSandwich (vcovCR CR2, Satterthwaite), per month and for the pooled mean."""
    covariates = units if method == "adjusted" else None
    table = did_by_month(panel, outcome, -3, followup_months=6, band_draws=1000, covariates=covariates)
    assert (table["method"] == method).all()
    table = table.set_index("month")
    pooled = did_pooled(panel, outcome, -3, followup_months=6, covariates=covariates).iloc[0]
    for ours, theirs in R_CR2_QUANTITIES:
        r_months = _r_cr2(r_cr2, outcome, method, "main", "month", theirs)
        np.testing.assert_allclose(table.loc[r_months.index, ours], r_months, atol=TOL, err_msg=ours)
        assert pooled[ours] == pytest.approx(_r_cr2(r_cr2, outcome, method, "main", "pooled", theirs).iloc[0], abs=TOL)
    assert pooled["method"] == method
    fit = did_fit(panel, outcome, -3, covariates=covariates)
    assert fit.n_obs == _r_cr2(r_cr2, outcome, method, "main", "pooled", "nobs").iloc[0]
    assert fit.n_clusters == _r_cr2(r_cr2, outcome, method, "main", "pooled", "clusters").iloc[0]
    # the CIs are t intervals with the Satterthwaite df of each row
    row = table.loc[4]
    q = stats.t.ppf(0.975, row["df"])
    assert row["ci_low"] == pytest.approx(row["estimate"] - q * row["se"], rel=1e-12)


@pytest.mark.parametrize("outcome", ["employed_1h", "employed_12h"])
@pytest.mark.parametrize("method", ["matched", "adjusted"])
def test_placebo_rows_equal_r_clubsandwich_cr2(panel, units, r_cr2, outcome, method):
    table = placebo(panel, outcome, reference_month=-6, post_months=(-5, -4),
                    covariates=units if method == "adjusted" else None)
    assert (table["method"] == method).all()
    months = table[table["term"] == "month"].set_index("month")
    pooled = table[table["term"] == "pooled"].iloc[0]
    for ours, theirs in R_CR2_QUANTITIES:
        r_months = _r_cr2(r_cr2, outcome, method, "placebo", "month", theirs)
        np.testing.assert_allclose(months.loc[r_months.index, ours].astype(float), r_months, atol=TOL, err_msg=ours)
        assert pooled[ours] == pytest.approx(_r_cr2(r_cr2, outcome, method, "placebo", "pooled", theirs).iloc[0],
                                             abs=TOL)


def test_contrast_test_gives_the_pooled_row(panel, units):
    fit = did_fit(panel, "employed_1h", -3, covariates=units)
    row = did_pooled_table(fit, followup_months=6).iloc[0]
    test = contrast_test(fit, pooled_contrast(fit, range(1, 7)))
    assert (test.estimate, test.se_cr2, test.df, test.se_cr1) == (row["estimate"], row["se"], row["df"], row["se_cr1"])
    # a contrast on one month is that month's row
    c = np.zeros(len(fit.months))
    c[fit.column(2)] = 1.0
    one = contrast_test(fit, c)
    by_month = did_by_month_table(fit, band_draws=500).set_index("month").loc[2]
    assert one.se_cr2 == pytest.approx(by_month["se"], rel=1e-12) and one.df == pytest.approx(by_month["df"], rel=1e-12)


def test_adjusted_covariates_by_name_equal_the_unit_table(panel, units):
    """Covariates given as panel columns give the same fit as the unit table joined by unit."""
    joined = panel.merge(units, on="unit", how="left")
    by_name = did_fit(joined, "employed_1h", -3, covariates=["age", "temporary_contract", "sector"])
    by_table = did_fit(panel, "employed_1h", -3, covariates=units)
    np.testing.assert_allclose(by_name.estimate, by_table.estimate, atol=1e-12)
    np.testing.assert_allclose(by_name.cov_cr2, by_table.cov_cr2, atol=1e-12)
    assert by_table.method == "adjusted" and by_table.covariates == ("age", "temporary_contract", "sector")


def test_a_collinear_covariate_is_left_out_as_r_lm_drops_an_aliased_column(panel, units):
    """A covariate that is a linear function of another spans nothing new: R's lm gives it NA and
    the fit is that without it; here it is left out month by month and the warnings say so."""
    doubled = units.assign(age_again=2.0 * units["age"] + 1.0)
    with_copy = did_fit(panel, "employed_1h", -3, covariates=doubled)
    without = did_fit(panel, "employed_1h", -3, covariates=units)
    np.testing.assert_allclose(with_copy.estimate, without.estimate, atol=1e-10)
    np.testing.assert_allclose(with_copy.se_cr2, without.se_cr2, atol=1e-10)
    np.testing.assert_allclose(with_copy.df_months, without.df_months, rtol=1e-8)
    assert with_copy.n_params == without.n_params  # the aliased column is not counted in K
    np.testing.assert_allclose(with_copy.se, without.se, atol=1e-12)
    assert any("collinear covariates left out" in w for w in with_copy.warnings)


def test_adjusted_covariate_errors_name_the_problem(panel, units):
    with pytest.raises(InputError, match="no row in the covariate"):
        did_fit(panel, "employed_1h", -3, covariates=units.iloc[1:])
    gap = units.copy()
    gap.loc[4, "age"] = np.nan
    with pytest.raises(InputError, match="covariate age is empty") as info:
        did_fit(panel, "employed_1h", -3, covariates=gap)
    assert info.value.row == 5
    with pytest.raises(InputError, match="more than one row per unit"):
        did_fit(panel, "employed_1h", -3, covariates=pd.concat([units, units.iloc[:1]]))
    with pytest.raises(InputError, match="fixed-effect"):
        did_fit(panel, "employed_1h", -3, covariates=units, fixed_effects="person")


def test_a_month_with_standard_error_zero_warns_and_the_band_uses_the_other_months(panel):
    """Everyone employed at the reference month and in month 6 (both groups): month 6's effect is
    exactly 0 with SE 0. The band is computed over the other months, and the table says so."""
    p = panel.copy()
    p.loc[p["month"].isin([-3, 6]), "employed_1h"] = 1
    table = did_by_month(p, "employed_1h", -3, followup_months=6, band_draws=2000, seed=2).set_index("month")
    assert table.loc[6, "se"] == 0 and table.loc[6, "estimate"] == pytest.approx(0, abs=1e-12)
    assert pd.isna(table.loc[6, "p"])
    post = table.loc[1:6]
    assert post["band_critical"].notna().all() and post["band_low"].notna().all()
    assert "standard error 0 in month(s) 6" in table.loc[1, "warnings"]
    # the critical value is the band of months 1..5 alone
    fit = did_fit(p, "employed_1h", -3)
    idx = [fit.column(m) for m in range(1, 6)]
    expected = supt_critical_value(fit.cov_cr2[np.ix_(idx, idx)], float(np.min(fit.df_months[idx])), draws=2000,
                                   seed=2)
    assert post["band_critical"].iloc[0] == pytest.approx(expected, rel=1e-12)


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


def _tiny_panel() -> pd.DataFrame:
    """Two trainees, three controls (one person twice), months -1 (reference) and 1."""
    rows = [
        ("t1", "A", 1, 1.0, -1, 1), ("t1", "A", 1, 1.0, 1, 1),
        ("t2", "B", 1, 1.0, -1, 1), ("t2", "B", 1, 1.0, 1, 0),
        ("c1", "C", 0, 0.5, -1, 1), ("c1", "C", 0, 0.5, 1, 0),
        ("c2", "D", 0, 1.0, -1, 0), ("c2", "D", 0, 1.0, 1, 0),
        ("c3", "D", 0, 0.5, -1, 1), ("c3", "D", 0, 0.5, 1, 1),
    ]
    p = pd.DataFrame(rows, columns=["unit", "person", "treated", "weight", "month", "employed_1h"])
    p["cohort"], p["observed"] = "2020-01", 1
    return p


def test_closed_form_cell_means_on_a_tiny_panel():
    p = _tiny_panel()
    # trainees: 1.0 -> 0.5 (change -0.5); controls: (0.5*1+0+0.5*1)/2 = 0.5 -> (0+0+0.5)/2 = 0.25 (change -0.25)
    table = did_by_month(p, "employed_1h", -1, band_draws=1000)
    assert table.set_index("month").loc[1, "estimate"] == pytest.approx(-0.25)
    assert table["n_treated"].tolist() == [2, 2] and table["n_control"].tolist() == [3, 3]
    assert table["clusters_control"].tolist() == [2, 2]


def test_an_adjusted_fit_without_residual_degrees_of_freedom_is_a_flagged_row_not_a_crash():
    """Five units and four covariate columns: every month's regression fits its units exactly, so
    the adjusted estimator has no variance to estimate; its rows say so (converged 0, no number)."""
    p = _tiny_panel()
    units = pd.DataFrame({"unit": ["t1", "t2", "c1", "c2", "c3"], "age": [30.0, 41.0, 35.0, 52.0, 47.0],
                          "hours": [20.0, 32.0, 12.0, 36.0, 24.0], "wage": [11.0, 14.5, 12.0, 19.0, 13.0]})
    fit = did_fit(p, "employed_1h", -1, covariates=units)
    assert not fit.converged and "no residual degrees of freedom" in " ".join(fit.warnings)
    pooled = did_pooled_table(fit)
    assert pooled["converged"].tolist() == [0] and np.isnan(pooled["estimate"].iloc[0])
    by_month = did_by_month_table(fit, band_draws=100)
    assert np.isnan(by_month.set_index("month").loc[1, "estimate"])


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
    band_df = post["df"].min()  # the band's multivariate t takes the smallest Satterthwaite df of its months
    t_point = stats.t.ppf(0.975, band_df)
    t_bonf = stats.t.ppf(1 - 0.025 / 6, band_df)
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
