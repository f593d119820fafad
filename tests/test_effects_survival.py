"""Survival estimators against R (survival 3.5), the textbook data sets of validation.md and
statsmodels' independent Breslow Cox implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_leukemia, load_rossi

from conftest import REFERENCE, shared_file
from mentorwijs.effects import (
    cloglog_model,
    cox_fit,
    cox_model,
    cox_models,
    discrete_time_cloglog,
    kaplan_meier,
    km_estimate,
    logrank_test,
    person_period,
    ph_test,
    restricted_time_sd,
    rmst,
)
from mentorwijs.errors import InputError


@pytest.fixture(scope="module")
def surv():
    d = pd.read_csv(REFERENCE / "effects_data.csv")
    s = d[d["part"] == "survival"].reset_index(drop=True)
    cols = ["time_job", "event_job", "time_work", "event_work", "age", "temporary_contract"]
    s[cols] = s[cols].astype("int64")
    return s.drop(columns=["month", "employed_1h", "employed_12h", "observed"])


@pytest.fixture(scope="module")
def r_out():
    return pd.read_csv(REFERENCE / "effects_R_output.csv", dtype=str, keep_default_na=False)


def _r(r_out, **kw) -> pd.DataFrame:
    sub = r_out
    for key, value in kw.items():
        sub = sub[sub[key] == value]
    return sub


def _num(r_out, **kw) -> float:
    sub = _r(r_out, **kw)
    assert len(sub) == 1, kw
    return float(sub["value"].iloc[0])


def test_reference_output_states_versions(r_out):
    meta = _r(r_out, section="meta").set_index("quantity")["value"]
    assert meta["R_version"].startswith("4.") and meta["survival_version"] and meta["sandwich_version"]


# --- weighted, clustered, tied: against R ----------------------------------------------------
# R prints 15 significant digits; the estimators are the same algebra, so agreement is to
# rounding (about 1e-13 observed). Tolerances are set at 1e-8 relative, far inside the brief's
# 1e-3 for the Cox HR/CI, so that any algorithmic difference (ties, weights, clustering) shows.
REL = 1e-8


@pytest.mark.parametrize("outcome", ["job", "work"])
def test_kaplan_meier_robust_variance_equals_r_survfit(surv, r_out, outcome):
    km = kaplan_meier(surv, outcome)
    for group in ("treated", "control"):
        ref = _r(r_out, section="km", outcome=outcome, group=group)
        piv = ref.pivot(index="time", columns="quantity", values="value").astype(float)
        piv.index = piv.index.astype(int)
        mine = km[km["group"] == group].set_index("time").loc[piv.index]
        for column in ("survival", "se", "ci_low", "ci_high"):
            np.testing.assert_allclose(mine[column], piv[column], rtol=REL, err_msg=f"{group} {column}")
        # unweighted numbers at risk; R's are weighted: check the weighted ones via the estimator
        sub = surv[surv["treated"] == (group == "treated")]
        est = km_estimate(sub[f"time_{outcome}"], sub[f"event_{outcome}"], sub["weight"], sub["person"])
        np.testing.assert_allclose(est.n_risk_weighted[piv.index], piv["n_risk_weighted"], rtol=REL)
        assert mine["n_risk"].iloc[0] == (sub[f"time_{outcome}"] >= piv.index[0]).sum()


@pytest.mark.parametrize("outcome", ["job", "work"])
def test_rmst_and_its_clustered_influence_variance_equal_r(surv, r_out, outcome):
    row = rmst(surv, outcome, 12).iloc[0]
    for group in ("treated", "control"):
        assert row[f"rmst_{group}"] == pytest.approx(_num(r_out, section="rmst", outcome=outcome, group=group,
                                                          quantity="rmst"), rel=REL)
        var = _num(r_out, section="rmst", outcome=outcome, group=group, quantity="variance")
        assert row[f"se_{group}"] == pytest.approx(np.sqrt(var), rel=REL)
    assert row["se"] == pytest.approx(np.hypot(row["se_treated"], row["se_control"]), rel=1e-12)
    assert row["difference"] == pytest.approx(row["rmst_treated"] - row["rmst_control"])
    assert row["ci_low"] == pytest.approx(row["difference"] - 1.959964 * row["se"], abs=1e-6)
    # the se(rmean) that print() shows ignores the clustering: it must differ for the controls
    naive = _num(r_out, section="rmst", outcome=outcome, group="control", quantity="print_se_rmean")
    assert abs(naive - row["se_control"]) / row["se_control"] > 0.1


@pytest.mark.parametrize("outcome", ["job", "work"])
@pytest.mark.parametrize("model", ["primary", "adjusted", "unstratified"])
def test_cox_equals_r_coxph_with_weights_strata_and_cluster(surv, r_out, outcome, model):
    kw = {"primary": {}, "adjusted": {"covariates": ["age", "temporary_contract", "sector"]},
          "unstratified": {"strata": None}}[model]
    res = cox_model(surv, outcome, **kw)
    ref = _r(r_out, section="cox", outcome=outcome, model=model)
    terms = [t for t in ref["term"].unique() if t]
    assert len(terms) == len(res.names)
    for k, term in enumerate(terms):  # same order: treated, age, temporary_contract, sector levels
        q = lambda name: _num(ref, term=term, quantity=name)  # noqa: E731
        assert res.coef[k] == pytest.approx(q("coef"), rel=REL, abs=1e-12)
        assert res.se[k] == pytest.approx(q("robust_se"), rel=REL)
        assert res.naive_se[k] == pytest.approx(q("naive_se"), rel=REL)
    assert res.loglik == pytest.approx(_num(ref, term="", quantity="loglik"), rel=1e-10)
    assert res.loglik_null == pytest.approx(_num(ref, term="", quantity="loglik_null"), rel=1e-10)
    assert res.score_test == pytest.approx(_num(ref, term="", quantity="robust_score"), rel=REL)
    assert res.n == _num(ref, term="", quantity="n") and res.events == _num(ref, term="", quantity="events")
    assert res.converged


@pytest.mark.parametrize("outcome", ["job", "work"])
def test_cox_table_rows_equal_r_hazard_ratio_and_ci(surv, r_out, outcome):
    table = cox_models(surv, outcome, covariates=["age", "temporary_contract", "sector"])
    row = table[(table["model"] == "primary") & (table["term"] == "treated")].iloc[0]
    for column in ("hr", "ci_low", "ci_high", "p"):
        assert row[column] == pytest.approx(_num(r_out, section="cox", outcome=outcome, model="primary", term="treated",
                                                 quantity=column), rel=REL)
    score = table[table["term"] == "robust score test"].iloc[0]
    assert score["statistic"] == pytest.approx(_num(r_out, section="cox", outcome=outcome, model="primary", term="",
                                                    quantity="robust_score"), rel=REL)
    assert score["test_df"] == 1 and 0 < score["p"] < 1
    assert set(table["model"]) == {"primary", "adjusted"}
    assert table["converged"].eq(1).all() and table["warnings"].eq("").all()


@pytest.mark.parametrize("outcome", ["job", "work"])
def test_ph_test_equals_r_split_episode_model(surv, r_out, outcome):
    table = ph_test(surv, outcome, split_month=6).set_index("term")
    q = lambda term, name: _num(r_out, section="ph", outcome=outcome, term=term, quantity=name)  # noqa: E731
    early, late = q("early", "coef"), q("late", "coef")
    assert np.log(table.loc["treated, months 0-6", "hr"]) == pytest.approx(early, rel=REL)
    assert np.log(table.loc["treated, months 7-12", "hr"]) == pytest.approx(late, rel=REL)
    se_ratio = np.sqrt(q("early", "var") + q("late", "var") - 2 * q("early_late", "cov"))
    ratio = table.loc["ratio late/early"]
    assert np.log(ratio["hr"]) == pytest.approx(late - early, rel=REL)
    assert np.log(ratio["ci_high"] / ratio["hr"]) == pytest.approx(1.959964 * se_ratio, rel=1e-6)


def test_model_rows_carry_the_units_and_events_behind_them(surv):
    """Counted directly from the survival table: units and events per group, persons (clusters)."""
    t, e = surv["treated"] == 1, surv["event_job"] == 1
    persons = surv["person"].nunique()
    expected = {"n_treated": int(t.sum()), "n_control": int((~t).sum()), "n_event_treated": int((e & t).sum()),
                "n_event_control": int((e & ~t).sum()), "n_event": int(e.sum()), "n_clusters": persons,
                "df_resid": persons - 1}
    table = pd.concat([cox_models(surv, "job", covariates=["age"]), cloglog_model(surv, "job")], ignore_index=True)
    assert set(table["model"]) == {"primary", "adjusted", "cloglog"}
    for column, value in expected.items():
        assert (table[column] == value).all(), column
    ph = ph_test(surv, "job", split_month=6).set_index("term")
    late = surv["time_job"] > 6
    early_events = e & (surv["time_job"] <= 6)
    assert ph.loc["treated, months 0-6", ["n_treated", "n_event_treated", "n_event_control"]].tolist() == [
        int(t.sum()), int((early_events & t).sum()), int((early_events & ~t).sum())]
    assert ph.loc["treated, months 7-12", ["n_treated", "n_control", "n_event"]].tolist() == [
        int((late & t).sum()), int((late & ~t).sum()), int((e & late).sum())]
    assert ph.loc["ratio late/early", "n_event"] == int(e.sum()) and (ph["n_clusters"] == persons).all()


@pytest.mark.parametrize("outcome", ["job", "work"])
def test_cloglog_equals_r_glm_vcovcl(surv, r_out, outcome):
    periods = person_period(surv, outcome)
    assert len(periods) == _num(r_out, section="cloglog", outcome=outcome, quantity="nobs")
    table = discrete_time_cloglog(periods, ["treated"], outcome=outcome)
    row = table.iloc[0]
    assert row["coef"] == pytest.approx(_num(r_out, section="cloglog", outcome=outcome, quantity="coef"), rel=1e-6)
    se0 = _num(r_out, section="cloglog", outcome=outcome, quantity="se_hc0_cadjust")
    n = len(periods)
    k = periods["month"].nunique() + 1
    assert (row["small_sample_factor"] / ((n - 1) / (n - k))
            == pytest.approx(surv["person"].nunique() / (surv["person"].nunique() - 1)))
    assert row["se"] / np.sqrt((n - 1) / (n - k)) == pytest.approx(se0, rel=1e-6)
    assert cloglog_model(surv, outcome).iloc[0]["hr"] == pytest.approx(row["hr"])


# --- textbook references (validation.md) -----------------------------------------------------


def test_rossi_cox_reproduces_published_fit():
    rossi = load_rossi()
    cols = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    res = cox_fit(rossi["week"], rossi["arrest"], rossi[cols].to_numpy(), names=cols)
    coef = [-0.3794222, -0.0574377, 0.3138998, -0.1497957, -0.4337039, -0.0848711, 0.0914971]
    se = [0.19138, 0.02200, 0.30799, 0.21222, 0.38187, 0.19576, 0.02865]
    np.testing.assert_allclose(res.coef, coef, atol=1e-5)
    np.testing.assert_allclose(res.naive_se, se, atol=1e-4)
    assert res.loglik == pytest.approx(-658.748, abs=5e-4)
    assert res.loglik_null == pytest.approx(-675.381, abs=5e-4)
    assert 2 * (res.loglik - res.loglik_null) == pytest.approx(33.27, abs=5e-3)
    assert res.coef @ np.linalg.solve(res.naive_cov, res.coef) == pytest.approx(32.11, abs=5e-3)
    reduced = cox_fit(rossi["week"], rossi["arrest"], rossi[["fin", "age", "prio"]].to_numpy())
    np.testing.assert_allclose(reduced.coef, [-0.3470, -0.0671, 0.0969], atol=5e-5)
    np.testing.assert_allclose(reduced.naive_se, [0.1902, 0.0209, 0.0273], atol=5e-5)
    # validation.md prints 29.1: R prints 29.05 (29.047 to three decimals), from the same coefficients
    assert 2 * (reduced.loglik - reduced.loglik_null) == pytest.approx(29.05, abs=5e-3)


def test_breslow_ties_equal_statsmodels_phreg():
    import statsmodels.api as sm

    rossi = load_rossi()
    cols = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    ours = cox_fit(rossi["week"], rossi["arrest"], rossi[cols].to_numpy(), ties="breslow")
    theirs = sm.PHReg(rossi["week"], rossi[cols], status=rossi["arrest"], ties="breslow").fit()
    np.testing.assert_allclose(ours.coef, theirs.params, atol=1e-6)
    np.testing.assert_allclose(ours.naive_se, theirs.bse, rtol=1e-5)
    assert ours.coef[0] == pytest.approx(-0.37902, abs=1e-5)
    assert ours.loglik == pytest.approx(-659.1206, abs=1e-4)


def test_freireich_kaplan_meier_greenwood_logrank_and_cox():
    leuk = load_leukemia()
    six_mp = leuk[leuk["Rx"] == 0]
    placebo = leuk[leuk["Rx"] == 1]
    km = km_estimate(six_mp["t"], six_mp["status"], np.ones(len(six_mp)), np.arange(len(six_mp)))
    times = [6, 7, 10, 13, 16, 22, 23]
    np.testing.assert_allclose(km.survival[times], [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448], atol=5e-4)
    np.testing.assert_allclose(np.sqrt(km.greenwood_var[times]),
                               [0.0764, 0.0869, 0.0963, 0.1068, 0.1141, 0.1282, 0.1346], atol=5e-5)
    kp = km_estimate(placebo["t"], placebo["status"], np.ones(len(placebo)), np.arange(len(placebo)))
    np.testing.assert_allclose(kp.survival[[1, 2, 3, 4, 5, 8, 11, 12, 15, 17, 22]],
                               [0.9048, 0.8095, 0.7619, 0.6667, 0.5714, 0.3810, 0.2857, 0.1905, 0.1429, 0.0952, 0.0476],
                               atol=5e-5)
    assert np.argmax(km.survival <= 0.5) == 23 and np.argmax(kp.survival <= 0.5) == 8  # medians
    chi2, p = logrank_test(leuk["t"], leuk["status"], leuk["Rx"])
    assert chi2 == pytest.approx(16.79294, abs=1e-5) and p == pytest.approx(4.17e-05, rel=1e-2)
    cox = cox_fit(leuk["t"], leuk["status"], leuk["Rx"].to_numpy())
    assert cox.coef[0] == pytest.approx(1.5721, abs=5e-5) and cox.naive_se[0] == pytest.approx(0.4124, abs=5e-5)
    assert 2 * (cox.loglik - cox.loglik_null) == pytest.approx(16.35, abs=5e-3)
    # the table version with the Greenwood option gives the same numbers
    table = kaplan_meier(leuk.assign(unit=range(42), person=range(42), cohort="x", treated=1 - leuk["Rx"], weight=1.0,
                                     time_x=leuk["t"], event_x=leuk["status"]), "x", variance="greenwood")
    t = table[(table["group"] == "treated")].set_index("time")
    assert t.loc[6, "se"] == pytest.approx(0.0764, abs=5e-5)


@pytest.fixture(scope="module")
def rossi_weeks():
    raw = pd.read_csv(shared_file("reference-data", "rossi_weekly.csv"))
    rows = raw.loc[raw.index.repeat(raw["week"])].reset_index(drop=True)
    rows["stop"] = rows.groupby("rownames").cumcount() + 1
    rows["start"] = rows["stop"] - 1
    rows["event"] = ((rows["arrest"] == 1) & (rows["stop"] == rows["week"])).astype(int)
    emp = raw.set_index("rownames")[[f"emp{w}" for w in range(1, 53)]]
    rows["employed"] = [int(emp.at[i, f"emp{w}"] == "yes") for i, w in zip(rows["rownames"], rows["stop"])]
    for col, yes in (("fin", "yes"), ("race", "other"), ("wexp", "yes"), ("mar", "not married"), ("paro", "yes")):
        rows[col] = (rows[col] == yes).astype(int)
    return raw, rows


def test_rossi_person_weeks_time_varying_cox(rossi_weeks):
    _, pw = rossi_weeks
    assert len(pw) == 19809 and pw["event"].sum() == 114
    cols = ["fin", "age", "race", "wexp", "mar", "paro", "prio", "employed"]
    res = cox_fit(pw["stop"], pw["event"], pw[cols].to_numpy(), entry=pw["start"], names=cols, cluster=pw["rownames"])
    got = dict(zip(cols, res.coef))
    assert got["employed"] == pytest.approx(-1.32832, abs=1e-5)
    assert res.naive_se[cols.index("employed")] == pytest.approx(0.25072, abs=1e-5)
    assert got["fin"] == pytest.approx(-0.35672, abs=1e-5)
    assert got["age"] == pytest.approx(-0.04634, abs=1e-5)
    assert got["prio"] == pytest.approx(0.08514, abs=1e-5)
    assert 2 * (res.loglik - res.loglik_null) == pytest.approx(68.65, abs=5e-3)


def test_rossi_person_weeks_life_table_and_cloglog(rossi_weeks):
    raw, pw = rossi_weeks
    surv = pd.DataFrame({"unit": raw["rownames"], "person": raw["rownames"], "cohort": "all", "treated": 0,
                         "weight": 1.0, "time_arrest": raw["week"], "event_arrest": raw["arrest"]})
    periods = person_period(surv, "arrest")
    periods = periods[periods["month"] >= 1]  # weeks 1..week (the expansion starts at 0)
    assert len(periods) == 19809 and periods["event"].sum() == 114
    hazard = periods.groupby("month")["event"].mean()
    life = np.cumprod(1 - hazard)
    np.testing.assert_allclose(life.loc[[10, 20, 52]], [0.965278, 0.907407, 0.736111], atol=5e-7)
    km = km_estimate(raw["week"], raw["arrest"], np.ones(len(raw)), raw["rownames"])
    np.testing.assert_allclose(km.survival[[10, 20, 52]], life.loc[[10, 20, 52]], rtol=1e-12)
    cols = ["fin", "age", "race", "wexp", "mar", "paro", "prio", "employed"]
    table = discrete_time_cloglog(pw.assign(weight=1.0, person=pw["rownames"]), cols, period="stop")
    assert table.set_index("term").loc["employed", "coef"] == pytest.approx(-1.330, abs=5e-4)


# --- behaviour -------------------------------------------------------------------------------


def test_events_at_time_zero_stay_in(surv):
    assert (surv["time_job"] == 0).sum() > 0
    km = kaplan_meier(surv, "job")
    first = km[km["time"] == 0]
    assert (first["survival"] < 1).all()
    assert (first.set_index("group")["n_risk"].to_dict()
            == surv.groupby("treated").size().rename({0: "control", 1: "treated"}).to_dict())
    assert cox_model(surv, "job").n == len(surv)


def test_rmst_of_a_closed_form_curve():
    # 4 units weight 1, events at 1 and 3, censored at 5 and 5: S = 1, .75, .75, .5, .5 ...
    s = pd.DataFrame({"unit": list("abcdefgh"), "person": list("abcdefgh"), "cohort": "c", "treated": [1] * 4 + [0] * 4,
                      "weight": 1.0, "time_job": [1, 3, 5, 5, 0, 5, 5, 5], "event_job": [1, 1, 0, 0, 1, 0, 0, 0]})
    row = rmst(s, "job", 5).iloc[0]
    assert row["rmst_treated"] == pytest.approx(1 + 0.75 * 2 + 0.5 * 2)
    assert row["rmst_control"] == pytest.approx(0.75 * 5)
    # SD of min(T, 5) among controls: values 0, 5, 5, 5
    assert restricted_time_sd(s, "job", 5) == pytest.approx(np.std([0, 5, 5, 5]))


def test_robust_variance_is_invariant_to_splitting_a_person_into_units(surv):
    """Clustering on person: a person's two units count as one cluster, not two."""
    by_person = rmst(surv, "job", 12).iloc[0]
    by_unit = rmst(surv, "job", 12, cluster="unit").iloc[0]
    assert by_person["difference"] == by_unit["difference"]
    assert by_person["se_control"] != pytest.approx(by_unit["se_control"], rel=1e-3)


def test_bad_survival_input_is_an_input_error(surv):
    bad = surv.copy()
    bad.loc[0, "time_job"] = -1
    with pytest.raises(InputError, match="whole numbers of at least 0"):
        kaplan_meier(bad, "job")
    frac = surv.copy().astype({"time_job": float})
    frac.loc[0, "time_job"] = 2.5
    with pytest.raises(InputError, match="whole numbers"):
        rmst(frac, "job")
    with pytest.raises(InputError, match="no column"):
        cox_models(surv.drop(columns="event_job"), "job")
    with pytest.raises(InputError, match="no column"):
        cox_models(surv, "job", covariates=["shoe_size"])


def test_no_events_gives_a_flagged_row_not_a_crash(surv):
    s = surv.assign(event_job=0)
    res = cox_model(s, "job")
    assert not res.converged and np.isnan(res.coef[0]) and "no events" in res.warnings[0]
