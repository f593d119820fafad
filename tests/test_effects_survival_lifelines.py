"""The project's Kaplan-Meier and Cox estimators against lifelines, an independent Python
implementation (the `test` extra; never part of the register part or of any output).

What lifelines is used for, and why its robust Cox variance is not (docs/effects.md, "Field
libraries"): the point estimates agree to rounding, the model-based Cox SEs too, and lifelines'
cluster-robust SE is a few per cent smaller than R's and ours because its score residuals do
not handle tied times. With the ties broken it agrees to rounding, which pins that cause.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time

from conftest import REFERENCE
from mentorwijs.effects import cox_fit, cox_model, kaplan_meier, rmst

# lifelines warns that non-integer weights (matching weights) make its naive variances biased;
# only its point estimates and the variances named in each test are compared here.
pytestmark = pytest.mark.filterwarnings("ignore::lifelines.exceptions.StatisticalWarning")

COVARIATES = ["age", "temporary_contract", "sector"]
# lifelines stops Newton-Raphson when the step norm is below 1e-7 (its default): on this data that
# leaves the one-covariate coefficients 8e-8 to 3.5e-7 from the optimum. Run to the optimum.
CONVERGED = {"precision": 1e-18, "r_precision": 1e-18}


@pytest.fixture(scope="module")
def surv():
    d = pd.read_csv(REFERENCE / "effects_data.csv")
    s = d[d["part"] == "survival"].reset_index(drop=True)
    cols = ["time_job", "event_job", "time_work", "event_work", "age", "temporary_contract"]
    s[cols] = s[cols].astype("int64")
    return s.drop(columns=["month", "employed_1h", "employed_12h", "observed"])


def _lifelines_cox(surv, outcome, model, *, time=None, cluster=True):
    """lifelines' CoxPHFitter on the columns of ``cox_model(surv, outcome, ...)`` for ``model``."""
    df = pd.DataFrame({"time": surv[f"time_{outcome}"] if time is None else time, "event": surv[f"event_{outcome}"],
                       "treated": surv["treated"], "weight": surv["weight"]})
    if model == "adjusted":  # as design_matrix: numbers as they are, sector against its first level
        df["age"], df["temporary_contract"] = surv["age"], surv["temporary_contract"]
        for level in ("nonprofit", "private"):
            df[f"sector={level}"] = (surv["sector"] == level).astype(float)
    strata = None if model == "unstratified" else ["cohort"]
    if strata:
        df["cohort"] = surv["cohort"]
    if cluster:
        df["person"] = surv["person"]
    return CoxPHFitter().fit(df, "time", "event", weights_col="weight", strata=strata, fit_options=CONVERGED,
                             **({"cluster_col": "person", "robust": True} if cluster else {}))


def _ours(surv, outcome, model):
    kw = {"primary": {}, "adjusted": {"covariates": COVARIATES}, "unstratified": {"strata": None}}[model]
    return cox_model(surv, outcome, **kw)


# Both are the weighted product-limit estimator at the same times: the only difference is the
# order of floating-point operations (S(t) 8e-16, RMST 7e-15 of about 9 months observed).
@pytest.mark.parametrize("outcome", ["job", "work"])
def test_kaplan_meier_and_rmst_equal_lifelines_weighted_fits(surv, outcome):
    km = kaplan_meier(surv, outcome)
    ours_rmst = rmst(surv, outcome, horizon=12).iloc[0]
    for value, group in ((1, "treated"), (0, "control")):
        sub = surv[surv["treated"] == value]
        kmf = KaplanMeierFitter().fit(sub[f"time_{outcome}"], sub[f"event_{outcome}"], weights=sub["weight"])
        mine = km[km["group"] == group]
        theirs = kmf.survival_function_at_times(mine["time"].to_numpy()).to_numpy()
        np.testing.assert_allclose(mine["survival"].to_numpy(), theirs, rtol=0, atol=1e-12)
        assert ours_rmst[f"rmst_{group}"] == pytest.approx(restricted_mean_survival_time(kmf, t=12), rel=1e-12)


# Same partial likelihood (Efron ties, weights, strata) maximised to convergence: 1e-12 observed
# for the five-coefficient model, 1e-14 for the others; 1e-9 leaves room for the Newton paths.
@pytest.mark.parametrize("outcome", ["job", "work"])
@pytest.mark.parametrize("model", ["primary", "adjusted", "unstratified"])
def test_cox_coefficients_and_model_based_se_equal_lifelines(surv, outcome, model):
    ours = _ours(surv, outcome, model)
    robust = _lifelines_cox(surv, outcome, model)
    naive = _lifelines_cox(surv, outcome, model, cluster=False)
    names = list(ours.names)
    np.testing.assert_allclose(robust.params_[names].to_numpy(), ours.coef, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(naive.params_[names].to_numpy(), ours.coef, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(naive.standard_errors_[names].to_numpy(), ours.naive_se, rtol=1e-9)


@pytest.mark.parametrize("outcome", ["job", "work"])
@pytest.mark.parametrize("model", ["primary", "unstratified"])
def test_lifelines_robust_se_falls_short_only_with_tied_times(surv, outcome, model):
    """Ours equals R's coxph(cluster=) (test_effects_survival.py). lifelines' robust SE of treated
    is 2.8-4.8% smaller on these tied monthly times (its score residuals do not handle ties, as
    its documentation of ``robust`` says); with every time made distinct, the order of the
    distinct times kept, both agree to rounding (1e-13 observed; 1e-9 for the Newton paths)."""
    ours, theirs = _ours(surv, outcome, model), _lifelines_cox(surv, outcome, model)
    shortfall = 1 - theirs.standard_errors_["treated"] / ours.se[0]
    assert 0.02 < shortfall < 0.06, f"lifelines' robust SE now differs by {shortfall:.2%}: revisit docs/effects.md"

    distinct = surv[f"time_{outcome}"].to_numpy() + 0.5 * np.arange(len(surv)) / len(surv)
    strata = None if model == "unstratified" else surv["cohort"].to_numpy()
    ours_distinct = cox_fit(distinct, surv[f"event_{outcome}"].to_numpy(), surv[["treated"]].to_numpy(float),
                            weights=surv["weight"].to_numpy(), strata=strata, cluster=surv["person"].to_numpy())
    theirs_distinct = _lifelines_cox(surv, outcome, model, time=distinct)
    assert theirs_distinct.params_["treated"] == pytest.approx(ours_distinct.coef[0], rel=1e-9)
    assert theirs_distinct.standard_errors_["treated"] == pytest.approx(ours_distinct.se[0], rel=1e-9)
