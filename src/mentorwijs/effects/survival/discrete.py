"""The discrete-time complementary log-log model on person-months (a sensitivity analysis)."""


from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from mentorwijs.effects._common import (
    codes,
    indicator,
    join_warnings,
    require_columns,
    weights,
    whole_numbers,
    z_summary,
)
from mentorwijs.effects.survival.data import (
    SURVIVAL_COLUMNS,
    SURVIVAL_TABLE_COLUMNS,
    _survival_data,
    design_matrix,
    unit_counts,
)


def person_period(survival: pd.DataFrame, outcome: str, *, keep: Sequence[str] = ()) -> pd.DataFrame:
    """Expand the survival table to person-months 0..time: ``month`` and ``event`` (1 in the event month).

    Columns ``unit, person, cohort, treated, weight`` and ``keep`` are repeated on every row.
    """
    time_col, event_col = f"time_{outcome}", f"event_{outcome}"
    require_columns(survival, [*SURVIVAL_COLUMNS, time_col, event_col, *keep], "survival")
    t = whole_numbers(survival, time_col, "survival", minimum=0)
    e = indicator(survival, event_col, "survival").astype(np.int64)
    reps = t + 1
    idx = np.repeat(np.arange(len(survival)), reps)
    cols = list(dict.fromkeys([*SURVIVAL_COLUMNS, *keep]))
    out = survival[cols].iloc[idx].reset_index(drop=True)
    starts = np.concatenate([[0], np.cumsum(reps)[:-1]])
    out["month"] = (np.arange(len(idx)) - np.repeat(starts, reps)).astype(np.int64)
    out["event"] = ((out["month"].to_numpy() == t[idx]) & (e[idx] == 1)).astype(np.int64)
    return out


def discrete_time_cloglog(
    periods: pd.DataFrame,
    covariates: Sequence[str] = ("treated",),
    *,
    period: str = "month",
    event: str = "event",
    strata: str | None = None,
    weight: str = "weight",
    cluster: str = "person",
    level: float = 0.95,
    outcome: str = "",
) -> pd.DataFrame:
    """Discrete-time complementary log-log model on person-periods, as a sensitivity analysis.

    P(event in period t | at risk) = 1 - exp(-exp(alpha_t + x'beta)) with one alpha per period
    (and per ``strata`` value if given): exp(beta) is a hazard ratio of the grouped-time
    proportional hazards model. Fitted by statsmodels GLM with the weights as ``var_weights``;
    the covariance is cluster-robust (score sums per ``cluster``) with the CR1 factor
    G/(G-1) (N-1)/(N-K), as R ``sandwich::vcovCL(type = "HC1")``.
    """
    import statsmodels.api as sm

    require_columns(periods, [period, event, weight, cluster, *covariates, *([strata] if strata else [])],
                    "person-period")
    y = indicator(periods, event, "person-period")
    w = weights(periods, weight, "person-period")
    Xc, names, complete = design_matrix(periods, list(covariates), "person-period")
    notes = []
    if not complete.all():
        notes.append(f"{int((~complete).sum())} person-periods with a missing covariate left out")
    keep = complete & (w > 0)
    if not y[keep].any():
        notes.append("no events: the model cannot be estimated")
        return pd.DataFrame({"outcome": outcome, "model": "cloglog", "term": names, "coef": np.nan, "se": np.nan,
                             "hr": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "n": int(keep.sum()),
                             "events": 0, "converged": 0, "warnings": join_warnings(notes),
                             "small_sample_factor": np.nan})
    labels = periods[period].astype(str)
    if strata:
        labels = periods[strata].astype(str) + "|" + labels
    # A period without events has an estimated hazard of 0 (its intercept runs to -infinity) and
    # its rows add nothing to the score of the coefficients: leave them out so the fit converges.
    with_events = pd.Series(y[keep]).groupby(labels[keep].to_numpy()).transform("sum").to_numpy() > 0
    empty = np.zeros(len(keep), dtype=bool)
    empty[np.flatnonzero(keep)[~with_events]] = True
    if empty.any():
        notes.append(f"{int(empty.sum())} person-periods in periods without events left out (hazard 0 there)")
        keep &= ~empty
    dummies = pd.get_dummies(labels[keep], dtype=float)
    X = np.column_stack([dummies.to_numpy(), Xc[keep]])
    g, _ = codes(periods[cluster].to_numpy()[keep])
    model = sm.GLM(y[keep], X, family=sm.families.Binomial(link=sm.families.links.CLogLog()), var_weights=w[keep])
    import warnings as _warnings

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        fit = model.fit(method="newton", maxiter=100, tol=1e-10, disp=False)
    converged = bool(fit.mle_retvals.get("converged", False))
    notes += sorted({str(c.message).splitlines()[0] for c in caught})
    cov, factor = _glm_cr1(model, fit.params, g)
    k0 = dummies.shape[1]
    coef = fit.params[k0:]
    se = np.sqrt(np.diag(cov)[k0:])
    low, high, p = z_summary(coef, se, level)
    return pd.DataFrame(
        {
            "outcome": outcome,
            "model": "cloglog",
            "term": names,
            "coef": coef,
            "se": se,
            "hr": np.exp(coef),
            "ci_low": np.exp(low),
            "ci_high": np.exp(high),
            "p": p,
            "n": int(keep.sum()),
            "events": int(y[keep].sum()),
            "converged": int(converged),
            "warnings": join_warnings(notes),
            "small_sample_factor": factor,
        }
    )


def _glm_cr1(model: Any, params: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    """CR1 cluster-robust covariance of a fitted statsmodels GLM (score sums per cluster code ``g``,
    bread from the expected information, as R ``glm`` + ``sandwich::vcovCL(type = "HC1")``) and
    its small-sample factor G/(G-1) (N-1)/(N-K)."""
    scores = model.score_obs(params)
    G = int(g.max()) + 1
    Gm = sparse.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(G, len(g)))
    B = np.asarray(Gm @ scores)
    bread = np.linalg.pinv(-model.hessian(params, observed=False))  # expected information, as R glm + sandwich
    N, K = model.exog.shape
    factor = G / (G - 1) * (N - 1) / (N - K)
    return factor * bread @ (B.T @ B) @ bread, factor


def cloglog_model(survival: pd.DataFrame, outcome: str, *, strata: str | None = None, weight: str = "weight",
                  cluster: str = "person", level: float = 0.95) -> pd.DataFrame:
    """:func:`discrete_time_cloglog` of ``treated`` on the person-months 0..time of one outcome,
    as rows of the ``survival`` table (model ``cloglog``; units and events per group, not
    person-months)."""
    keep = [c for c in {cluster, weight, *([strata] if strata else [])} if c not in SURVIVAL_COLUMNS]
    periods = person_period(survival, outcome, keep=keep)
    table = discrete_time_cloglog(periods, ["treated"], strata=strata, weight=weight, cluster=cluster,
                                  level=level, outcome=outcome)
    data, _ = _survival_data(survival, outcome, weight, cluster)
    counts = unit_counts(data["treated"].to_numpy(), data["event"].to_numpy(), data["cluster"].to_numpy())
    table = table.drop(columns=["small_sample_factor", "n", "events"]).assign(
        statistic=np.nan, test_df=pd.array([pd.NA] * len(table), dtype="Int64"), **counts)
    return table[SURVIVAL_TABLE_COLUMNS]
