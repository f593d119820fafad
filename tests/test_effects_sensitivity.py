"""Sensitivity analyses and the honesty numbers (E-values, bias to null)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE
from mentorwijs.effects import (
    confounding_table,
    cox_models,
    did_pooled,
    evalue_interval,
    evalue_rr,
    hr_to_rr,
    odds_weights,
    restricted_time_sd,
    rmst,
    sensitivity_analyses,
    smd_to_rr,
    unweighted,
)
from mentorwijs.errors import InputError


@pytest.fixture(scope="module")
def inputs():
    d = pd.read_csv(REFERENCE / "effects_data.csv")
    rng = np.random.default_rng(7)
    units = d.loc[d["part"] == "survival", "unit"].unique()
    extra = pd.DataFrame({"unit": units, "pscore": rng.uniform(0.05, 0.6, len(units)),
                          "employer": rng.integers(0, 40, len(units))})
    panel = d[d["part"] == "panel"].merge(extra, on="unit")
    panel[["month", "employed_1h", "employed_12h", "observed"]] = (
        panel[["month", "employed_1h", "employed_12h", "observed"]].astype(int))
    surv = d[d["part"] == "survival"].merge(extra, on="unit")
    surv[["time_job", "event_job", "time_work", "event_work"]] = (
        surv[["time_job", "event_job", "time_work", "event_work"]].astype(int))
    return panel, surv


def test_unweighted_equals_r_reference(inputs):
    panel, _ = inputs
    r = pd.read_csv(REFERENCE / "effects_R_output.csv", dtype=str, keep_default_na=False)
    ref = r[(r["section"] == "did") & (r["model"] == "unweighted") & (r["term"] == "pooled")
            & (r["outcome"] == "employed_1h")]
    est = float(ref.loc[ref["quantity"] == "estimate", "value"].iloc[0])
    se = float(ref.loc[ref["quantity"] == "se", "value"].iloc[0])
    row = did_pooled(unweighted(panel), "employed_1h", -3, followup_months=6).iloc[0]
    assert row["estimate"] == pytest.approx(est, abs=1e-10) and row["se_cr1"] == pytest.approx(se, abs=1e-10)


def test_odds_weights(inputs):
    _, surv = inputs
    w = odds_weights(surv)
    p = surv["pscore"]
    raw = np.where(surv["treated"] == 1, 1.0, p / (1 - p))
    assert (w.loc[surv["treated"] == 1, "weight"] == 1).all()
    for cohort, part in w.groupby("cohort"):
        controls = part[part["treated"] == 0]
        assert controls["weight"].sum() == pytest.approx((part["treated"] == 1).sum())
        ratio = controls["weight"] / raw[controls.index]
        assert np.allclose(ratio, ratio.iloc[0])  # proportional to p/(1-p) within the cohort
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        odds_weights(surv.assign(pscore=1.0))


def test_sensitivity_table(inputs):
    panel, surv = inputs
    analyses = ["primary", "unweighted", "odds_weights", "person_fe", "cohort_month_fe", "cluster=employer", "cloglog"]
    table = sensitivity_analyses(panel, surv, analyses=analyses, outcome="employed_1h", survival_outcome="job",
                                 reference_month=-3, followup_months=6, rmst_horizon=12,
                                 variants={"rematched": (panel, surv)})
    assert list(table.columns) == ["analysis", "outcome", "estimand", "estimate", "se", "ci_low", "ci_high", "p",
                                   "n_treated", "n_control", "n_clusters", "df_resid", "converged", "warnings"]
    counts = table.groupby("analysis").size().to_dict()
    assert counts == {"primary": 3, "unweighted": 3, "odds_weights": 3, "person_fe": 1, "cohort_month_fe": 1,
                      "cluster=employer": 3, "cloglog": 1, "rematched": 3}
    prim = table[table["analysis"] == "primary"].set_index("estimand")
    did = did_pooled(panel, "employed_1h", -3, followup_months=6).iloc[0]
    assert prim.loc["pooled difference-in-differences", "estimate"] == pytest.approx(did["estimate"])
    hr = cox_models(surv, "job").iloc[0]
    assert prim.loc["hazard ratio (Cox)", "estimate"] == pytest.approx(hr["hr"])
    assert (prim.loc["RMST difference at 12 months", "estimate"]
            == pytest.approx(rmst(surv, "job", 12).iloc[0]["difference"]))
    persons, employers = surv["person"].nunique(), surv["employer"].nunique()
    assert (prim["n_clusters"] == persons).all() and (prim["df_resid"] == persons - 1).all()
    trainees = int((surv["treated"] == 1).sum())
    assert (prim.loc["hazard ratio (Cox)", "n_treated"] == prim.loc["RMST difference at 12 months", "n_treated"]
            == trainees)
    assert prim.loc["pooled difference-in-differences", "n_treated"] == did["n_treated"]
    emp = table[table["analysis"] == "cluster=employer"].set_index("estimand")
    assert (emp["n_clusters"] == employers).all() and employers < persons
    assert emp.loc["pooled difference-in-differences", "estimate"] == pytest.approx(did["estimate"])
    other = did_pooled(panel, "employed_1h", -3, followup_months=6, cluster="employer").iloc[0]["se"]
    assert (emp.loc["pooled difference-in-differences", "se"] == pytest.approx(other)
            and other != pytest.approx(did["se"]))
    assert table["converged"].isin([0, 1]).all() and table["warnings"].notna().all()
    assert (table.loc[table["analysis"] == "rematched", "estimate"].to_numpy()
            == pytest.approx(table.loc[table["analysis"] == "primary", "estimate"].to_numpy()))
    with pytest.raises(InputError, match="unknown sensitivity analysis"):
        sensitivity_analyses(panel, surv, analyses=["jackknife"], outcome="employed_1h", survival_outcome="job",
                             reference_month=-3, followup_months=6)


# --- E-values: the published formulas (VanderWeele and Ding 2017; VanderWeele 2020) ----------


def test_evalue_closed_forms():
    # VanderWeele and Ding's worked example: RR 3.9 (CI 1.8 to 8.7) -> E-values 7.26 and 3.0
    est, ci = evalue_interval(3.9, 1.8, 8.7)
    assert est == pytest.approx(7.26, abs=0.005) and ci == pytest.approx(3.0, abs=0.005)
    assert evalue_rr(0.5) == pytest.approx(2 + np.sqrt(2))  # protective: use 1/RR
    assert evalue_interval(0.8, 0.6, 1.1)[1] == 1.0  # CI includes the null
    assert hr_to_rr(0.5, common=False) == 0.5
    assert hr_to_rr(0.5, common=True) == pytest.approx((1 - 0.5 ** np.sqrt(0.5)) / (1 - 0.5 ** np.sqrt(2)))
    assert smd_to_rr(0.5) == pytest.approx(np.exp(0.455))


def test_confounding_table(inputs):
    panel, surv = inputs
    pooled = did_pooled(panel, "employed_1h", -3, followup_months=6).iloc[0]
    r = rmst(surv, "job", 12).iloc[0]
    sd = restricted_time_sd(surv, "job", 12)
    cox = cox_models(surv, "job").iloc[0]
    table = confounding_table(pooled=pooled, rmst_row=r, rmst_sd=sd, cox_row=cox,
                              control_event_share=0.4).set_index("estimand")
    did_row = table.loc["pooled difference-in-differences"]
    assert did_row["bias_to_null_estimate"] == pooled["estimate"]
    expected_ci = (0.0 if pooled["ci_low"] <= 0 <= pooled["ci_high"]
                   else min(pooled["ci_low"], pooled["ci_high"], key=abs))
    assert did_row["bias_to_null_ci"] == expected_ci
    rm = table.loc["RMST difference at 12 months"]
    assert rm["approximate_rr"] == pytest.approx(np.exp(0.91 * r["difference"] / sd)) and rm["outcome_sd"] == sd
    assert (rm["n_treated"], rm["n_control"]) == (r["n_treated"], r["n_control"])
    assert (did_row["n_treated"], did_row["n_control"]) == (pooled["n_treated"], pooled["n_control"])
    assert rm["evalue_estimate"] == pytest.approx(evalue_rr(rm["approximate_rr"]))
    hr = table.loc["hazard ratio (Cox)"]
    assert hr["approximate_rr"] == pytest.approx(hr_to_rr(cox["hr"], True)) and "common" in hr["conversion"]
    assert hr["evalue_estimate"] > 1
