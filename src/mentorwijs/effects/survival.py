"""The survival view: time from the end of the training to the end of the baseline job or of all work.

Outcomes ``job`` and ``work`` read the columns ``time_<outcome>`` and ``event_<outcome>`` of
the survival table (one row per matched unit; whole months from month 0; an event at time 0 is
allowed and stays in). Every variance here is robust and clustered on ``person`` and respects the
matching weights as weights, not as case counts:

- :func:`kaplan_meier`: weighted Kaplan-Meier with the infinitesimal-jackknife (IJ) variance,
  as R ``survfit(weights=, id=, cluster=, robust=TRUE)``; log-log intervals; unweighted numbers
  at risk;
- :func:`rmst`: restricted mean survival time at a horizon, its IJ variance summed over persons
  (validation.md), and the difference treated - control: the primary survival contrast;
- :func:`rmst_adjusted` / :func:`rmst_pseudo_values`: the covariate-adjusted RMST difference,
  WLS of per-group infinitesimal-jackknife pseudo-values on treated + covariates, CR1 on person;
- :func:`cox_fit` / :func:`cox_models`: the weighted Cox model (Efron ties, strata, robust
  variance clustered on person, as R ``coxph(weights=, cluster=)``), its robust score test (in
  place of a weighted log-rank test), and an adjusted model;
- :func:`ph_test`: proportional hazards checked as the treated effect in months 0..6 versus
  later months (time-varying coefficient, robust SE);
- :func:`discrete_time_cloglog`: the discrete-time complementary log-log model on person-months.

The Cox engine is written here because lifelines' cluster-robust variance differs from R with
tied times and takes O(n^2) time; this one is O(n log n) and equals R (tests/reference).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from mentorwijs.effects._common import (
    check_keys,
    codes,
    indicator,
    join_warnings,
    require_columns,
    weights,
    whole_numbers,
    z_summary,
)
from mentorwijs.errors import InputError

SURVIVAL_COLUMNS = ("unit", "person", "cohort", "treated", "weight")
GROUPS = ((1, "treated"), (0, "control"))


# ---------------------------------------------------------------------------------------------
# inputs


def _survival_data(survival: pd.DataFrame, outcome: str, weight: str, cluster: str,
                   extra: Sequence[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    time_col, event_col = f"time_{outcome}", f"event_{outcome}"
    require_columns(survival, [*SURVIVAL_COLUMNS, time_col, event_col, weight, cluster, *extra], "survival")
    check_keys(survival, ["unit", "person", "cohort", cluster], "survival")
    data = pd.DataFrame(
        {
            "time": whole_numbers(survival, time_col, "survival", minimum=0),
            "event": indicator(survival, event_col, "survival").astype(np.int64),
            "treated": indicator(survival, "treated", "survival").astype(np.int64),
            "w": weights(survival, weight, "survival"),
            "cluster": survival[cluster].to_numpy(),
            "person": survival["person"].to_numpy(),
            "cohort": survival["cohort"].to_numpy(),
        }
    )
    for column in extra:
        if column not in data:
            data[column] = survival[column].to_numpy()
    notes = []
    zero = data["w"].to_numpy() == 0
    if zero.any():
        notes.append(f"{int(zero.sum())} units with weight 0 left out")
        data = data[~zero].reset_index(drop=True)
    return data, notes


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier with the infinitesimal-jackknife variance


@dataclass(frozen=True)
class KaplanMeier:
    """A weighted Kaplan-Meier curve on the whole-month grid 0..``times[-1]``.

    ``survival[k]`` is S(times[k]) (right-continuous: after the events of that month);
    ``influence`` has one row per cluster of ``clusters``: the sum over the cluster's units of
    w_i * dS(t)/dw_i (R's ``influence.surv``), so the robust variance is the column sum of squares.
    """

    times: np.ndarray
    survival: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_risk_weighted: np.ndarray
    n_event_weighted: np.ndarray
    influence: np.ndarray
    clusters: np.ndarray
    greenwood_var: np.ndarray

    @property
    def se(self) -> np.ndarray:
        return np.sqrt((self.influence ** 2).sum(axis=0))


def km_estimate(time: np.ndarray, event: np.ndarray, w: np.ndarray, cluster: np.ndarray,
                *, last: int | None = None) -> KaplanMeier:
    """Weighted Kaplan-Meier on the integer grid 0..``last`` with its IJ influence per cluster.

    ``time`` whole numbers >= 0, ``event`` 0/1, ``w`` weights > 0, ``cluster`` labels.
    IF_i(S(t)) = -S(t) w_i [ event_i 1(T_i <= t) / (n - d)(T_i) - sum_{s <= min(t, T_i)} d_s / (n_s (n_s - d_s)) ]
    with n_s, d_s the weighted numbers at risk and of events (the derivative of the product-limit
    estimator with respect to unit i's weight, times the weight).
    """
    time = np.asarray(time, dtype=np.int64)
    event = np.asarray(event, dtype=np.int64)
    w = np.asarray(w, dtype=float)
    last = int(time.max()) if last is None else int(last)
    T = last + 1
    tc = np.minimum(time, T)  # times beyond the grid only count as at risk
    at_risk_w = np.cumsum(np.bincount(tc, weights=w, minlength=T + 1)[::-1])[::-1][:T]
    at_risk_n = np.cumsum(np.bincount(tc, minlength=T + 1)[::-1])[::-1][:T]
    ev = event.astype(bool) & (time <= last)
    d_w = np.bincount(time[ev], weights=w[ev], minlength=T)[:T]
    d_n = np.bincount(time[ev], minlength=T)[:T]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk_w > 0, d_w / at_risk_w, 0.0)
        surv = np.cumprod(1.0 - hazard)
        remaining = at_risk_w - d_w
        step = np.where((d_w > 0) & (remaining > 0), d_w / (at_risk_w * remaining), 0.0)
        inv_remaining = np.where(remaining > 0, 1.0 / remaining, 0.0)
    cum = np.cumsum(step)
    greenwood = surv ** 2 * cum
    grid = np.arange(T)
    # unit x time influence, then summed per cluster
    own = np.minimum(time, last)
    A = cum[np.minimum(grid[None, :], own[:, None])]
    D = (ev[:, None] & (time[:, None] <= grid[None, :])) * inv_remaining[own][:, None]
    unit_if = -surv[None, :] * w[:, None] * (D - A)
    unit_if[:, surv <= 0] = 0.0
    g, clusters = codes(cluster)
    G = len(clusters)
    M = sparse.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(G, len(g)))
    influence = np.asarray(M @ unit_if)
    return KaplanMeier(
        times=grid,
        survival=surv,
        n_risk=at_risk_n.astype(np.int64),
        n_event=d_n.astype(np.int64),
        n_risk_weighted=at_risk_w,
        n_event_weighted=d_w,
        influence=influence,
        clusters=clusters,
        greenwood_var=greenwood,
    )


def loglog_interval(surv: np.ndarray, se: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Log-log interval for S from the SE of S (R ``conf.type = "log-log"``); [1, 1] where S = 1."""
    z = stats.norm.ppf(0.5 + level / 2)
    surv = np.asarray(surv, dtype=float)
    inner = (surv > 0) & (surv < 1)
    s = np.where(inner, surv, 0.5)
    ll = np.log(-np.log(s))
    se_ll = np.asarray(se) / (s * np.abs(np.log(s)))
    low = np.where(inner, np.exp(-np.exp(ll + z * se_ll)), np.nan)
    high = np.where(inner, np.exp(-np.exp(ll - z * se_ll)), np.nan)
    low = np.where(surv >= 1, 1.0, low)
    high = np.where(surv >= 1, 1.0, high)
    return low, high


def kaplan_meier(
    survival: pd.DataFrame,
    outcome: str,
    *,
    weight: str = "weight",
    cluster: str = "person",
    level: float = 0.95,
    variance: str = "robust",
) -> pd.DataFrame:
    """Kaplan-Meier curves by group (``treated``, ``control``) on the whole-month grid.

    One row per outcome x group x month 0..(last time in the group): ``n_risk`` units at risk at
    the start of the month and ``n_event`` events in it (unweighted counts: what disclosure
    rules look at), ``survival`` the weighted product-limit estimate S(t) (share still in the
    job after month t), ``se`` its SE and ``ci_low``/``ci_high`` the log-log ``level`` interval.
    ``variance="robust"`` (default): infinitesimal jackknife clustered on ``cluster``, as R
    ``survfit(robust=TRUE)``; ``"greenwood"``: Greenwood's formula (only valid unweighted and
    unclustered; for checks against textbooks).
    """
    if variance not in ("robust", "greenwood"):
        raise InputError(f"unknown Kaplan-Meier variance {variance!r}", hint="use robust or greenwood")
    data, _ = _survival_data(survival, outcome, weight, cluster)
    parts = []
    for value, name in GROUPS:
        sub = data[data["treated"] == value]
        if sub.empty:
            continue
        km = km_estimate(sub["time"].to_numpy(), sub["event"].to_numpy(), sub["w"].to_numpy(), sub["cluster"].to_numpy())
        se = km.se if variance == "robust" else np.sqrt(km.greenwood_var)
        low, high = loglog_interval(km.survival, se, level)
        parts.append(
            pd.DataFrame(
                {
                    "outcome": outcome,
                    "group": name,
                    "time": km.times.astype(np.int64),
                    "n_risk": km.n_risk,
                    "n_event": km.n_event,
                    "survival": km.survival,
                    "se": se,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values(["outcome", "group", "time"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# restricted mean survival time


def _rmst_group(sub: pd.DataFrame, horizon: int, clusters: np.ndarray) -> tuple[float, np.ndarray, KaplanMeier, list[str]]:
    notes = []
    km = km_estimate(sub["time"].to_numpy(), sub["event"].to_numpy(), sub["w"].to_numpy(), sub["cluster"].to_numpy(),
                     last=max(horizon - 1, int(sub["time"].max())))
    if int(sub["time"].max()) < horizon - 1:
        notes.append(f"follow-up ends before the horizon {horizon}: the last survival value is carried forward")
    # RMST = integral_0^h S(u) du; S is constant on [t, t+1) for whole-month times
    rmst_value = float(km.survival[:horizon].sum())
    infl = km.influence[:, :horizon].sum(axis=1)
    full = np.zeros(len(clusters))
    full[np.searchsorted(clusters, km.clusters)] = infl
    return rmst_value, full, km, notes


def rmst(
    survival: pd.DataFrame,
    outcome: str,
    horizon: int = 12,
    *,
    weight: str = "weight",
    cluster: str = "person",
    level: float = 0.95,
) -> pd.DataFrame:
    """Restricted mean survival time at ``horizon`` months by group and their difference.

    ``rmst_treated`` / ``rmst_control``: the area under the weighted Kaplan-Meier curve from 0 to
    ``horizon`` (months the baseline job, or paid work, lasted on average within the horizon);
    ``difference`` = treated - control (months gained). Variance: the influence of each unit,
    IF_i = sum_t IF_i(S(t)) over the months before the horizon, summed within a person, squared
    and summed over persons (validation.md). The difference uses the per-person difference of
    influences, which equals var_treated + var_control because no person is in both groups.
    CI and p are normal-theory.
    """
    if int(horizon) < 1:
        raise InputError(f"the RMST horizon must be at least 1 month, got {horizon}", hint="set effects.rmst_horizon")
    data, notes = _survival_data(survival, outcome, weight, cluster)
    _, clusters = codes(data["cluster"])
    values, infl, n = {}, {}, {}
    for value, name in GROUPS:
        sub = data[data["treated"] == value]
        if sub.empty:
            raise InputError(f"the survival table has no {name} units", column="treated")
        values[name], infl[name], _, more = _rmst_group(sub, int(horizon), clusters)
        notes += more
        n[name] = len(sub)
    diff = values["treated"] - values["control"]
    var_t = float(infl["treated"] @ infl["treated"])
    var_c = float(infl["control"] @ infl["control"])
    d_if = infl["treated"] - infl["control"]
    se = float(np.sqrt(d_if @ d_if))
    low, high, p = z_summary(diff, se, level)
    return pd.DataFrame(
        {
            "outcome": [outcome],
            "horizon": [int(horizon)],
            "rmst_treated": [values["treated"]],
            "rmst_control": [values["control"]],
            "se_treated": [np.sqrt(var_t)],
            "se_control": [np.sqrt(var_c)],
            "difference": [diff],
            "se": [se],
            "ci_low": [float(low)],
            "ci_high": [float(high)],
            "p": [float(p)],
            "n_treated": [n["treated"]],
            "n_control": [n["control"]],
            "converged": [1],
            "warnings": [join_warnings(notes)],
        }
    )


def restricted_time_sd(survival: pd.DataFrame, outcome: str, horizon: int, *, group: int = 0,
                       weight: str = "weight") -> float:
    """SD of the restricted survival time min(T, horizon) in one group, from its Kaplan-Meier curve.

    E[min(T,h)^2] = integral_0^h 2u S(u) du = sum_{t<h} (2t + 1) S(t) on the whole-month grid.
    Used to turn an RMST difference into a standardised difference (E-value).
    """
    data, _ = _survival_data(survival, outcome, weight, "person")
    sub = data[data["treated"] == group]
    km = km_estimate(sub["time"].to_numpy(), sub["event"].to_numpy(), sub["w"].to_numpy(), sub["cluster"].to_numpy(),
                     last=max(horizon - 1, int(sub["time"].max())))
    s = km.survival[:horizon]
    t = np.arange(horizon)
    mean = s.sum()
    second = ((2 * t + 1) * s).sum()
    return float(np.sqrt(max(second - mean ** 2, 0.0)))


# ---------------------------------------------------------------------------------------------
# covariate-adjusted RMST difference: regression on pseudo-observations


def _rmst_pseudo_group(time: np.ndarray, event: np.ndarray, w: np.ndarray, horizon: int) -> tuple[float, np.ndarray, np.ndarray]:
    """RMST of one group at ``horizon``, its units' infinitesimal-jackknife pseudo-values and influences.

    With theta the weighted KM area to ``horizon`` and W = sum(w), pseudo_i = theta + W dtheta/dw_i
    (Parner, Andersen & Overgaard 2023): the influence function of unit i in the weighted
    empirical distribution plus the estimate. Without censoring before the horizon it is the unit's
    own restricted time min(T_i, horizon); its weighted mean is theta exactly. Also returns
    w_i dtheta/dw_i, the per-unit influence :func:`rmst` sums per person.
    """
    km = km_estimate(time, event, w, np.arange(len(time)), last=max(horizon - 1, int(time.max())))
    theta = float(km.survival[:horizon].sum())
    influence = km.influence[:, :horizon].sum(axis=1)  # rows in unit order: clusters 0..n-1
    return theta, theta + w.sum() * influence / w, influence


def rmst_pseudo_values(
    survival: pd.DataFrame,
    outcome: str,
    horizon: int = 12,
    *,
    weight: str = "weight",
    cluster: str = "person",
) -> pd.DataFrame:
    """Infinitesimal-jackknife RMST pseudo-values per unit, from the weighted KM of its own group.

    One row per unit with a positive weight, in the order of ``survival``: ``unit``, ``person``,
    ``treated``, ``weight``, ``pseudo``. Each group (trainees, controls) gets the pseudo-values of
    its own weighted Kaplan-Meier curve, so censoring may differ between the groups; the weights
    scale the influence as pseudo_i = RMST + (sum of the group's weights) x dRMST/dw_i, which
    equals R ``survival::pseudo(survfit(..., weights = w'), times = horizon, type = "rmst")``
    with the weights w' rescaled to sum to the group's number of units (R multiplies by the
    number of units; with raw matching weights that pulls the controls' values towards the
    mean). The weighted mean of a group's pseudo-values is its RMST of :func:`rmst`.
    """
    if int(horizon) < 1:
        raise InputError(f"the RMST horizon must be at least 1 month, got {horizon}", hint="set effects.rmst_horizon")
    data, _ = _survival_data(survival, outcome, weight, cluster, extra=["unit"])
    pseudo = np.zeros(len(data))
    for value, name in GROUPS:
        rows = np.flatnonzero(data["treated"].to_numpy() == value)
        if len(rows) == 0:
            raise InputError(f"the survival table has no {name} units", column="treated")
        _, pseudo[rows], _ = _rmst_pseudo_group(data["time"].to_numpy()[rows], data["event"].to_numpy()[rows],
                                                data["w"].to_numpy()[rows], int(horizon))
    return pd.DataFrame({"unit": data["unit"].to_numpy(), "person": data["person"].to_numpy(),
                         "treated": data["treated"].to_numpy(), "weight": data["w"].to_numpy(), "pseudo": pseudo})


def _independent_columns(X: np.ndarray, w: np.ndarray, tol: float = 1e-7) -> list[int]:
    """Columns of ``X`` kept in order, each only if not (weighted) linearly dependent on those
    kept before it: R ``lm``'s aliasing (a column whose norm after projection falls below
    ``tol`` times its own norm is left out)."""
    Xw = X * np.sqrt(w)[:, None]
    kept: list[int] = []
    for j in range(X.shape[1]):
        col = Xw[:, j]
        norm = np.linalg.norm(col)
        if norm == 0:
            continue
        if kept:
            Q, _ = np.linalg.qr(Xw[:, kept])
            col = col - Q @ (Q.T @ col)
        if np.linalg.norm(col) > tol * norm:
            kept.append(j)
    return kept


#: Columns of :func:`rmst_adjusted`: those of :func:`rmst` with ``method`` after ``horizon``.
RMST_ADJUSTED_COLUMNS = ["outcome", "horizon", "method", "rmst_treated", "rmst_control", "se_treated", "se_control",
                         "difference", "se", "ci_low", "ci_high", "p", "n_treated", "n_control", "converged",
                         "warnings"]


def rmst_adjusted(
    survival: pd.DataFrame,
    outcome: str,
    horizon: int,
    covariates: Sequence[str],
    *,
    weight: str = "weight",
    cluster: str = "person",
    level: float = 0.95,
) -> pd.DataFrame:
    """Covariate-adjusted RMST difference at ``horizon``: regression on pseudo-observations.

    Method (Andersen, Hansen & Klein 2004; Andersen & Perme 2010), regression adjustment after
    matching as in Ho, Imai, King & Stuart (2007):

    1. every unit's RMST pseudo-value from the weighted Kaplan-Meier curve of its own group
       (:func:`rmst_pseudo_values`; infinitesimal jackknife, Parner, Andersen & Overgaard 2023);
    2. weighted least squares of the pseudo-values on an intercept, ``treated`` and
       ``covariates`` (numbers linear, text/categories as indicators against their first level,
       :func:`design_matrix`) with the matching weights;
    3. ``difference`` = the coefficient of ``treated`` (months gained within the horizon,
       adjusted); ``se`` its CR1 cluster-robust SE on ``cluster``:
       G/(G-1) (N-1)/(N-K) (X'WX)^-1 B'B (X'WX)^-1, B the per-cluster sums of w_i e_i x_i,
       as R ``sandwich::vcovCL(type = "HC1")``; ``ci_low``/``ci_high``/``p`` normal-theory, as
       :func:`rmst`. The pseudo-values are treated as observed (the usual sandwich; it ignores
       that they are estimated, which the literature finds slightly conservative).

    As the outcome model has no treated x covariate terms, ``difference`` is also the
    regression-standardised difference over any covariate distribution. ``rmst_treated`` is the
    trainees' RMST (the weighted mean of their pseudo-values, = :func:`rmst`), ``rmst_control``
    = ``rmst_treated`` - ``difference``: the trainees' RMST without the training according to
    the model. ``se_treated``/``se_control`` are their SEs from the same CR1 sandwich (joint
    influence of the trainees' mean and the coefficient). Without covariates, ``difference``
    equals :func:`rmst`'s and ``se`` its SE times sqrt(G/(G-1) (N-1)/(N-2)).

    Units with a missing covariate are left out before the pseudo-values are computed (counted in
    ``warnings``); so are a covariate constant in the sample and a covariate column collinear
    with those before it (R ``lm``'s aliasing), each named in ``warnings``. ``converged = 0``
    with the reason in ``warnings`` and no estimate when no unit has an event before the horizon
    (every restricted time is the horizon), when fewer than two clusters remain, when there are
    no more units than coefficients, or when ``treated`` is collinear with the intercept.
    Returns one row with the columns :data:`RMST_ADJUSTED_COLUMNS` and ``method = "adjusted"``.
    """
    horizon = int(horizon)
    if horizon < 1:
        raise InputError(f"the RMST horizon must be at least 1 month, got {horizon}", hint="set effects.rmst_horizon")
    covariates = [c for c in dict.fromkeys(covariates) if c != "treated"]
    data, notes = _survival_data(survival, outcome, weight, cluster, extra=covariates)
    Xc, names, complete = design_matrix(data, covariates, "survival")
    if not complete.all():
        notes.append(f"{int((~complete).sum())} units with a missing covariate left out")
        data, Xc = data[complete].reset_index(drop=True), Xc[complete]
    for value, name in GROUPS:
        if not (data["treated"] == value).any():
            raise InputError(f"the survival table has no {name} units with complete covariates", column="treated")
    time, event = data["time"].to_numpy(), data["event"].to_numpy()
    treated, w = data["treated"].to_numpy(), data["w"].to_numpy()
    means, pseudo, plain_if = _pseudo_values_by_group(time, event, treated, w, horizon, notes)
    n = {name: int((treated == value).sum()) for value, name in GROUPS}
    row = {"outcome": outcome, "horizon": horizon, "method": "adjusted", "rmst_treated": means["treated"],
           "rmst_control": np.nan, "se_treated": np.nan, "se_control": np.nan, "difference": np.nan, "se": np.nan,
           "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "n_treated": n["treated"], "n_control": n["control"],
           "converged": 0, "warnings": ""}

    def result(reason: str | None = None) -> pd.DataFrame:
        row["warnings"] = join_warnings([*notes, *([reason] if reason else [])])
        return pd.DataFrame([row], columns=RMST_ADJUSTED_COLUMNS)

    X = _outcome_design(data, covariates, Xc, names, treated, w, notes)
    if X is None:
        return result("treated is collinear with the intercept: the difference cannot be estimated")
    if not (event.astype(bool) & (time < horizon)).any():
        return result(f"no events before the horizon {horizon}: every restricted time is the horizon")
    g, clusters = codes(data["cluster"])
    G, (N, K) = len(clusters), X.shape
    if G < 2:
        return result("fewer than two clusters: no cluster-robust variance")
    if N <= K:
        return result(f"{N} units for {K} coefficients: the outcome model cannot be estimated")
    diff, se, se_treated, se_control = _pseudo_value_wls(X, w, pseudo, g, G, treated == 1, plain_if)
    low, high, p = z_summary(diff, se, level)
    row.update(rmst_control=means["treated"] - diff, se_treated=se_treated, se_control=se_control, difference=diff,
               se=se, ci_low=float(low), ci_high=float(high), p=float(p), converged=1)
    return result()


def _pseudo_values_by_group(time: np.ndarray, event: np.ndarray, treated: np.ndarray, w: np.ndarray, horizon: int,
                            notes: list[str]) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Per group (control, treated): the weighted RMST, every unit's pseudo-value and its plain RMST
    influence (:func:`_rmst_pseudo_group`); a group whose follow-up ends early is noted."""
    pseudo = np.zeros(len(time))
    means, plain_if = {}, np.zeros(len(time))
    for value, name in GROUPS:
        rows = np.flatnonzero(treated == value)
        means[name], pseudo[rows], plain_if[rows] = _rmst_pseudo_group(time[rows], event[rows], w[rows], horizon)
        if int(time[rows].max()) < horizon - 1:
            notes.append(f"{name} follow-up ends before the horizon {horizon}: the last survival value is carried forward")
    return means, pseudo, plain_if


def _outcome_design(data: pd.DataFrame, covariates: Sequence[str], Xc: np.ndarray, names: Sequence[str],
                    treated: np.ndarray, w: np.ndarray, notes: list[str]) -> np.ndarray | None:
    """The outcome model's columns: intercept, ``treated``, then the covariate columns that are not
    constant in the sample and not aliased by those before them (each left out is noted); None
    when ``treated`` is collinear with the intercept."""
    constant = [name for j, name in enumerate(names) if np.ptp(Xc[:, j]) == 0] if len(data) else list(names)
    levels = {c: data[c].dropna().astype(str).nunique() for c in covariates
              if not (pd.api.types.is_bool_dtype(data[c]) or pd.api.types.is_numeric_dtype(data[c]))}
    constant_covs = [c for c, k in levels.items() if k <= 1]
    for name in [*constant_covs, *constant]:
        notes.append(f"covariate {name} is constant in the sample: left out")
    keep = [j for j, name in enumerate(names) if name not in constant]
    X = np.column_stack([np.ones(len(data)), treated.astype(float), Xc[:, keep]])
    all_names = ["(intercept)", "treated", *[names[j] for j in keep]]
    independent = _independent_columns(X, w)
    if 1 not in independent:
        return None
    aliased = [all_names[j] for j in range(X.shape[1]) if j not in independent]
    if aliased:
        notes.append(f"covariate column(s) {', '.join(aliased)} collinear with the other terms: left out")
    return X[:, independent]


def _pseudo_value_wls(X: np.ndarray, w: np.ndarray, pseudo: np.ndarray, g: np.ndarray, G: int, is_t: np.ndarray,
                      plain_if: np.ndarray) -> tuple[float, float, float, float]:
    """WLS of the pseudo-values on ``X`` (``treated`` its second column) with CR1 cluster-robust
    SEs: the difference, its SE, and the SEs of the trainees' RMST and of their RMST without the
    training (the trainees' mean pseudo-value has the plain RMST influence per cluster)."""
    N, K = X.shape
    XtWX = X.T @ (w[:, None] * X)
    bread = np.linalg.inv(XtWX)
    beta = bread @ (X.T @ (w * pseudo))
    resid = pseudo - X @ beta
    M = sparse.csr_matrix((np.ones(N), (g, np.arange(N))), shape=(G, N))
    B = np.asarray(M @ (X * (w * resid)[:, None]))
    factor = G / (G - 1) * (N - 1) / (N - K)
    cov = factor * bread @ (B.T @ B) @ bread
    diff = float(beta[1])
    se = float(np.sqrt(cov[1, 1]))
    a = np.asarray(M @ np.where(is_t, plain_if, 0.0))
    b = B @ bread[1]
    return diff, se, float(np.sqrt(factor * (a @ a))), float(np.sqrt(factor * ((a - b) @ (a - b))))


# ---------------------------------------------------------------------------------------------
# Cox proportional hazards: Efron ties, weights, strata, (start, stop], robust variance


@dataclass(frozen=True)
class CoxResult:
    """A fitted weighted Cox model.

    ``coef`` log hazard ratios; ``cov`` the robust (cluster) covariance, ``naive_cov`` the
    model-based inverse information; ``loglik`` / ``loglik_null`` the partial log-likelihood at
    the estimate and at 0; ``score_test`` the robust score test of all coefficients = 0 (R's
    ``rscore``) with ``p`` terms as df. ``counts`` (set by :func:`cox_model`): the units and
    events per group and the clusters behind the fit (see :func:`unit_counts`).
    """

    names: tuple[str, ...]
    coef: np.ndarray
    cov: np.ndarray
    naive_cov: np.ndarray
    loglik: float
    loglik_null: float
    score_test: float
    n: int
    events: int
    iterations: int
    converged: bool
    warnings: tuple[str, ...] = field(default_factory=tuple)
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0, None))

    @property
    def naive_se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.naive_cov), 0, None))


class _CoxData:
    """Sorted risk-set bookkeeping shared by every Newton step."""

    def __init__(self, stop, event, X, w, strata, entry, ties):
        n, p = X.shape
        self.n, self.p = n, p
        self.X = X - np.average(X, axis=0, weights=w) if n else X
        self.w = w
        self.event = event.astype(bool)
        offset = 0
        start = np.zeros(n, dtype=np.int64)
        end = np.zeros(n, dtype=np.int64)
        s_codes, _ = codes(strata)
        for s in np.unique(s_codes):
            rows = np.flatnonzero(s_codes == s)
            taus = np.unique(stop[rows][self.event[rows]])
            start[rows] = offset + np.searchsorted(taus, entry[rows], side="right")
            end[rows] = offset + np.searchsorted(taus, stop[rows], side="right")
            offset += len(taus)
        self.J = offset
        self.start = np.minimum(start, end)
        self.end = end
        J = self.J
        # range operator: cumulative sum of A @ v gives risk-set sums at each event time
        at_risk = self.end > self.start
        idx = np.flatnonzero(at_risk)
        self.A = sparse.csr_matrix(
            (np.concatenate([np.ones(len(idx)), -np.ones(len(idx))]),
             (np.concatenate([self.start[idx], self.end[idx]]), np.concatenate([idx, idx]))),
            shape=(J + 1, n),
        )
        deaths = np.flatnonzero(self.event)
        self.death_j = np.full(n, -1, dtype=np.int64)
        self.death_j[deaths] = self.end[deaths] - 1
        self.D = sparse.csr_matrix((np.ones(len(deaths)), (self.death_j[deaths], deaths)), shape=(J, n))
        self.nd = np.bincount(self.death_j[deaths], minlength=J).astype(float)
        self.dw = np.bincount(self.death_j[deaths], weights=w[deaths], minlength=J)
        self.meanwt = np.where(self.nd > 0, self.dw / np.maximum(self.nd, 1), 0.0)
        # Efron expansion: one row per death, k = 0..d_j-1
        self.jj = np.repeat(np.arange(J), self.nd.astype(np.int64))
        first = np.concatenate([[0], np.cumsum(self.nd.astype(np.int64))[:-1]])
        k = np.arange(len(self.jj)) - first[self.jj]
        self.frac = k / self.nd[self.jj] if ties == "efron" else np.zeros(len(self.jj))
        self.XX = (self.X[:, :, None] * self.X[:, None, :]).reshape(n, p * p)

    def risk_sums(self, v: np.ndarray) -> np.ndarray:
        return np.cumsum(np.asarray(self.A @ v), axis=0)[: self.J]

    def evaluate(self, beta: np.ndarray, *, derivatives: bool = True):
        X, w, p = self.X, self.w, self.p
        eta = X @ beta
        shift = eta.max() if len(eta) else 0.0
        eta = eta - shift
        r = np.exp(eta)
        wr = w * r
        S0 = self.risk_sums(wr)
        D0 = np.asarray(self.D @ wr)
        jj, frac, m = self.jj, self.frac, self.meanwt[self.jj]
        a = S0[jj] - frac * D0[jj]
        loglik = float(np.sum((w * eta)[self.event]) - np.sum(m * np.log(a)))
        if not derivatives:
            return loglik, None, None, r, None
        S1 = self.risk_sums(wr[:, None] * X)
        D1 = np.asarray(self.D @ (wr[:, None] * X))
        xb = (S1[jj] - frac[:, None] * D1[jj]) / a[:, None]
        U = (w[:, None] * X)[self.event].sum(axis=0) - (m[:, None] * xb).sum(axis=0)
        S2 = self.risk_sums(wr[:, None] * self.XX)
        D2 = np.asarray(self.D @ (wr[:, None] * self.XX))
        second = ((S2[jj] - frac[:, None] * D2[jj]) / a[:, None]).reshape(-1, p, p) - xb[:, :, None] * xb[:, None, :]
        info = np.einsum("k,kij->ij", m, second)
        return loglik, U, info, r, (a, xb)

    def score_residuals(self, beta: np.ndarray) -> np.ndarray:
        """Per-row score residuals (per unit of weight), R's ``residuals(type = "score")``."""
        _, _, _, r, (a, xb) = self.evaluate(beta)
        J, p, X = self.J, self.p, self.X
        jj, frac, m = self.jj, self.frac, self.meanwt[self.jj]
        haz = m / a
        H = np.bincount(jj, weights=haz, minlength=J)
        HD = np.bincount(jj, weights=haz * (1 - frac), minlength=J)
        Gx = np.zeros((J, p))
        GD = np.zeros((J, p))
        Xavg = np.zeros((J, p))
        for c in range(p):
            Gx[:, c] = np.bincount(jj, weights=haz * xb[:, c], minlength=J)
            GD[:, c] = np.bincount(jj, weights=haz * (1 - frac) * xb[:, c], minlength=J)
            Xavg[:, c] = np.bincount(jj, weights=xb[:, c], minlength=J)
        Xavg /= np.maximum(self.nd, 1)[:, None]
        cH = np.concatenate([[0.0], np.cumsum(H)])
        cG = np.vstack([np.zeros((1, p)), np.cumsum(Gx, axis=0)])
        hs = cH[self.end] - cH[self.start]
        gs = cG[self.end] - cG[self.start]
        resid = -r[:, None] * (X * hs[:, None] - gs)
        d = np.flatnonzero(self.event)
        j = self.death_j[d]
        resid[d] += X[d] - Xavg[j] + r[d, None] * (X[d] * (H[j] - HD[j])[:, None] - (Gx[j] - GD[j]))
        return resid


def cox_fit(
    stop: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    entry: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    ties: str = "efron",
    max_iter: int = 30,
    tol: float = 1e-10,
) -> CoxResult:
    """Weighted, stratified Cox model on (entry, stop] data with a cluster-robust variance.

    Efron's (default, as R ``coxph``) or Breslow's handling of tied times with weights as R does
    it (each of the d tied events carries the mean weight of the tied set in the denominator
    terms). Newton-Raphson from 0 with step halving, stopping when the largest step is below
    ``tol``. The robust covariance is I^-1 B'B I^-1 with B the weighted score residuals summed
    per cluster (``cluster`` default: each row its own), R's ``coxph(cluster=)``. ``entry``
    (default: at risk from the start) gives delayed entry / time-varying covariates.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n, p = X.shape
    stop = np.asarray(stop, dtype=float)
    event = np.asarray(event).astype(np.int64)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata)
    cluster = np.arange(n) if cluster is None else np.asarray(cluster)
    entry = np.full(n, -np.inf) if entry is None else np.asarray(entry, dtype=float)
    names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(p))
    if ties not in ("efron", "breslow"):
        raise InputError(f"unknown ties method {ties!r}", hint="use efron or breslow")
    if np.any(entry >= stop):
        raise InputError("a row's entry time is not before its stop time", hint="(entry, stop] intervals need entry < stop")
    notes: list[str] = []
    keep = w > 0
    if not keep.all():
        notes.append(f"{int((~keep).sum())} rows with weight 0 left out")
        stop, event, X, w, strata, cluster, entry = (a[keep] for a in (stop, event, X, w, strata, cluster, entry))
        n = len(stop)
    data = _CoxData(stop, event, X, w, strata, entry, ties)
    events = int(event.sum())
    beta = np.zeros(p)
    loglik, U, info, _, _ = data.evaluate(beta)
    loglik_null = loglik
    if events == 0:
        notes.append("no events: the model cannot be estimated")
        nan = np.full((p, p), np.nan)
        return CoxResult(names, np.full(p, np.nan), nan, nan, np.nan, np.nan, np.nan, n, 0, 0, False, tuple(notes))
    beta, loglik, info, converged, iterations = _cox_newton(data, beta, loglik, U, info, max_iter, tol, notes)
    if not converged:
        notes.append(f"Newton-Raphson did not converge in {max_iter} iterations (monotone likelihood?)")
    if np.any(np.abs(beta) > 15):
        notes.append("a coefficient is very large: possibly infinite (no events in a group)")
        converged = False
    try:
        naive = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        naive = np.linalg.pinv(info)
        notes.append("singular information matrix at the estimate")
        converged = False
    robust, score = _cox_robust(data, beta, naive, w, cluster)
    return CoxResult(names, beta, robust, naive, loglik, loglik_null, score, n, events, iterations, converged, tuple(notes))


def _cox_newton(data: _CoxData, beta: np.ndarray, loglik: float, U: np.ndarray, info: np.ndarray, max_iter: int,
                tol: float, notes: list[str]) -> tuple[np.ndarray, float, np.ndarray, bool, int]:
    """Newton-Raphson from ``beta`` (with its log-likelihood, score and information) with step
    halving while the log-likelihood falls; stops when the largest step is below ``tol``.
    Returns the estimate, its log-likelihood and information, whether it converged and the
    number of iterations."""
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(info, U)
        except np.linalg.LinAlgError:
            notes.append("singular information matrix (collinear covariates or no variation)")
            break
        new = beta + step
        new_ll, new_U, new_info, _, _ = data.evaluate(new)
        halvings = 0
        while (not np.isfinite(new_ll) or new_ll < loglik - 1e-12 * abs(loglik)) and halvings < 30:
            new = (beta + new) / 2
            new_ll, new_U, new_info, _, _ = data.evaluate(new)
            halvings += 1
        moved = np.max(np.abs(new - beta))
        beta, loglik, U, info = new, new_ll, new_U, new_info
        if moved < tol:
            converged = True
            break
    return beta, loglik, info, converged, iterations


def _cox_robust(data: _CoxData, beta: np.ndarray, naive: np.ndarray, w: np.ndarray,
                cluster: np.ndarray) -> tuple[np.ndarray, float]:
    """The cluster-robust covariance I^-1 B'B I^-1 (B: weighted score residuals summed per cluster)
    and the robust score test of beta = 0 from the score residuals at 0."""
    n, p = len(w), len(beta)
    g, _ = codes(cluster)
    G = int(g.max()) + 1
    Gm = sparse.csr_matrix((np.ones(n), (g, np.arange(n))), shape=(G, n))
    B = np.asarray(Gm @ (w[:, None] * data.score_residuals(beta)))
    robust = naive @ (B.T @ B) @ naive
    B0 = np.asarray(Gm @ (w[:, None] * data.score_residuals(np.zeros(p))))
    u0 = B0.sum(axis=0)
    try:
        score = float(u0 @ np.linalg.solve(B0.T @ B0, u0))
    except np.linalg.LinAlgError:
        score = float("nan")
    return robust, score


def design_matrix(df: pd.DataFrame, covariates: Sequence[str], table: str = "survival") -> tuple[np.ndarray, list[str], np.ndarray]:
    """Numeric design matrix of covariates: numbers as they are, text/categories as indicators.

    A categorical covariate gets one 0/1 column per level except its first level in sorted order
    (the reference), named ``covariate=level``. Returns the matrix, the column names and a mask of
    complete rows (rows with a missing covariate are left out by the caller, and counted).
    """
    require_columns(df, covariates, table)
    columns, names = [], []
    complete = np.ones(len(df), dtype=bool)
    for cov in covariates:
        series = df[cov]
        complete &= series.notna().to_numpy()
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            columns.append(pd.to_numeric(series).to_numpy(dtype=float))
            names.append(cov)
        else:
            levels = sorted(series.dropna().astype(str).unique())
            for level in levels[1:]:
                columns.append((series.astype(str) == level).to_numpy(dtype=float))
                names.append(f"{cov}={level}")
    X = np.column_stack(columns) if columns else np.zeros((len(df), 0))
    X = np.where(complete[:, None], X, 0.0)
    return X, names, complete


def unit_counts(treated: np.ndarray, event: np.ndarray, cluster: np.ndarray) -> dict[str, int]:
    """Units and events per group and the clusters behind a survival estimate (unweighted):
    ``n_treated, n_control, n_event_treated, n_event_control, n_event, n_clusters``; ``df_resid``
    = n_clusters - 1 (the degrees of freedom of cluster-robust inference)."""
    treated = np.asarray(treated).astype(bool)
    event = np.asarray(event).astype(bool)
    n_clusters = int(pd.Series(np.asarray(cluster)).nunique())
    return {
        "n_treated": int(treated.sum()),
        "n_control": int((~treated).sum()),
        "n_event_treated": int((event & treated).sum()),
        "n_event_control": int((event & ~treated).sum()),
        "n_event": int(event.sum()),
        "n_clusters": n_clusters,
        "df_resid": n_clusters - 1,
    }


#: Columns of the ``survival`` table (its contract, mentorwijs.contracts).
SURVIVAL_TABLE_COLUMNS = ["outcome", "model", "term", "coef", "se", "hr", "ci_low", "ci_high", "p", "statistic", "test_df",
                          "n_treated", "n_control", "n_event_treated", "n_event_control", "n_event", "n_clusters",
                          "df_resid", "converged", "warnings"]


def _cox_rows(result: CoxResult, outcome: str, model: str, terms: Sequence[str], level: float,
              notes: Sequence[str]) -> pd.DataFrame:
    se = result.se
    low, high, p = z_summary(result.coef, se, level)
    idx = [result.names.index(t) for t in terms]
    counts = {k: result.counts.get(k, pd.NA) for k in ("n_treated", "n_control", "n_event_treated", "n_event_control",
                                                      "n_event", "n_clusters", "df_resid")}
    return pd.DataFrame(
        {
            "outcome": outcome,
            "model": model,
            "term": [result.names[i] for i in idx],
            "coef": result.coef[idx],
            "se": se[idx],
            "hr": np.exp(result.coef[idx]),
            "ci_low": np.exp(low[idx]),
            "ci_high": np.exp(high[idx]),
            "p": p[idx],
            "statistic": np.nan,
            "test_df": pd.array([pd.NA] * len(idx), dtype="Int64"),
            **counts,
            "converged": int(result.converged),
            "warnings": join_warnings([*notes, *result.warnings]),
        },
        columns=SURVIVAL_TABLE_COLUMNS,
    )


def cox_model(
    survival: pd.DataFrame,
    outcome: str,
    *,
    covariates: Sequence[str] = (),
    strata: str | None = "cohort",
    weight: str = "weight",
    cluster: str = "person",
) -> CoxResult:
    """Cox model of ``time_<outcome>`` on ``treated`` (+ ``covariates``), stratified, weighted, robust."""
    extra = [c for c in [*covariates, *([strata] if strata else [])] if c not in ("treated",)]
    data, notes = _survival_data(survival, outcome, weight, cluster, extra=extra)
    Xc, names, complete = design_matrix(data, list(covariates), "survival") if covariates else (np.zeros((len(data), 0)), [], np.ones(len(data), bool))
    if not complete.all():
        notes.append(f"{int((~complete).sum())} units with a missing covariate left out")
    X = np.column_stack([data["treated"].to_numpy(dtype=float), Xc])[complete]
    sub = data[complete]
    result = cox_fit(
        sub["time"].to_numpy(), sub["event"].to_numpy(), X,
        weights=sub["w"].to_numpy(),
        strata=sub[strata].to_numpy() if strata else None,
        cluster=sub["cluster"].to_numpy(),
        names=["treated", *names],
    )
    counts = unit_counts(sub["treated"].to_numpy(), sub["event"].to_numpy(), sub["cluster"].to_numpy())
    return dataclasses.replace(result, warnings=tuple(notes) + result.warnings, counts=counts)


def cox_models(
    survival: pd.DataFrame,
    outcome: str,
    *,
    covariates: Sequence[str] = (),
    strata: str | None = "cohort",
    weight: str = "weight",
    cluster: str = "person",
    level: float = 0.95,
) -> pd.DataFrame:
    """The ``survival`` table rows of one outcome.

    ``model = "primary"``: ``treated`` + strata(cohort), matching weights, robust variance on
    person (R ``coxph(Surv(t, e) ~ treated + strata(cohort), weights =, cluster = person)``);
    ``hr`` is the hazard ratio of ending the job (trainees vs controls, averaged over follow-up),
    ``ci_low``/``ci_high`` its robust CI, ``p`` the robust Wald p. A second primary row, term
    ``robust score test``, gives the robust score test of treated = 0 (``statistic``, ``test_df``,
    ``p``): the weighted, clustered replacement of the log-rank test.
    ``model = "adjusted"`` (only when ``covariates`` are given) adds them; all its terms are listed.
    Every row carries the units and events per group and the clusters of its model
    (:func:`unit_counts`).
    """
    primary = cox_model(survival, outcome, strata=strata, weight=weight, cluster=cluster)
    rows = [_cox_rows(primary, outcome, "primary", ["treated"], level, [])]
    score_row = rows[0].iloc[[0]].copy()
    score_row["term"] = "robust score test"
    for col in ("coef", "se", "hr", "ci_low", "ci_high"):
        score_row[col] = np.nan
    score_row["statistic"] = primary.score_test
    score_row["test_df"] = pd.array([1], dtype="Int64")
    score_row["p"] = stats.chi2.sf(primary.score_test, 1)
    rows.append(score_row)
    if covariates:
        adjusted = cox_model(survival, outcome, covariates=covariates, strata=strata, weight=weight, cluster=cluster)
        rows.append(_cox_rows(adjusted, outcome, "adjusted", list(adjusted.names), level, []))
    return stack_rows(rows, SURVIVAL_TABLE_COLUMNS)


def stack_rows(parts: Sequence[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Tables with the same columns one under the other (cells as objects while stacking, so an
    all-empty column of one part never decides a column's type), with numeric columns numeric."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(columns))
    stacked = pd.DataFrame([row for p in parts for row in p[list(columns)].astype(object).itertuples(index=False)],
                           columns=list(columns))
    return stacked.infer_objects()


# ---------------------------------------------------------------------------------------------
# proportional hazards check


def ph_test(
    survival: pd.DataFrame,
    outcome: str,
    *,
    split_month: int = 6,
    strata: str | None = "cohort",
    weight: str = "weight",
    cluster: str = "person",
    level: float = 0.95,
) -> pd.DataFrame:
    """Proportional hazards checked as a treated x period interaction.

    The Cox model of the primary analysis with the treated effect allowed to differ between
    months 0..``split_month`` and later months (a time-varying coefficient, fitted on episodes
    split at ``split_month``). Rows: ``term`` ``treated, months 0-6``, ``treated, months 7-12``
    (HR in each period) and ``ratio late/early`` (their ratio; its p tests proportional hazards
    of the treated effect, robust SE clustered on person). Each row carries the units at risk and
    the events per group in its period (the ratio row: all of them) and the clusters of the model
    (:func:`unit_counts`).
    """
    extra = [strata] if strata else []
    data, notes = _survival_data(survival, outcome, weight, cluster, extra=extra)
    t = data["time"].to_numpy()
    e = data["event"].to_numpy()
    tr = data["treated"].to_numpy(dtype=float)
    early_stop = np.minimum(t, split_month)
    early_event = e * (t <= split_month)
    late = t > split_month
    n_late = int(late.sum())
    stop = np.concatenate([early_stop, t[late]]).astype(float)
    event = np.concatenate([early_event, e[late]])
    entry = np.concatenate([np.full(len(t), -np.inf), np.full(n_late, float(split_month))])
    X = np.column_stack([np.concatenate([tr, np.zeros(n_late)]), np.concatenate([np.zeros(len(t)), tr[late]])])
    rep = lambda a: np.concatenate([a, a[late]])  # noqa: E731
    result = cox_fit(stop, event, X, weights=rep(data["w"].to_numpy()),
                     strata=rep(data[strata].to_numpy()) if strata else None,
                     cluster=rep(data["cluster"].to_numpy()), entry=entry, names=["early", "late"])
    b, V = result.coef, result.cov
    diff = b[1] - b[0]
    se_diff = float(np.sqrt(V[0, 0] + V[1, 1] - 2 * V[0, 1]))
    est = np.array([b[0], b[1], diff])
    se = np.array([np.sqrt(V[0, 0]), np.sqrt(V[1, 1]), se_diff])
    low, high, p = z_summary(est, se, level)
    last = int(t.max())
    cl = data["cluster"].to_numpy()
    periods = [unit_counts(tr, early_event, cl), unit_counts(tr[late], e[late], cl[late]), unit_counts(tr, e, cl)]
    for counts in periods:  # the clusters of the model, not of the period
        counts["n_clusters"], counts["df_resid"] = periods[2]["n_clusters"], periods[2]["df_resid"]
    table = pd.DataFrame(
        {
            "outcome": outcome,
            "term": [f"treated, months 0-{split_month}", f"treated, months {split_month + 1}-{last}", "ratio late/early"],
            "hr": np.exp(est),
            "ci_low": np.exp(low),
            "ci_high": np.exp(high),
            "p": p,
            **{k: [c[k] for c in periods] for k in periods[0]},
            "converged": int(result.converged),
            "warnings": join_warnings([*notes, *result.warnings]),
        }
    )
    return table


# ---------------------------------------------------------------------------------------------
# discrete time


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

    require_columns(periods, [period, event, weight, cluster, *covariates, *([strata] if strata else [])], "person-period")
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
                             "events": 0, "converged": 0, "warnings": join_warnings(notes), "small_sample_factor": np.nan})
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


# ---------------------------------------------------------------------------------------------
# classical log-rank (unweighted; for textbook checks only)


def logrank_test(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> tuple[float, float]:
    """Classical two-group log-rank chi-square (hypergeometric variance) and its p-value.

    Unweighted and unclustered: the textbook test, kept to check against published examples.
    With matching weights and repeated persons use the robust score test of :func:`cox_models`.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    group = np.asarray(group).astype(bool)
    o_minus_e, var = 0.0, 0.0
    for t in np.unique(time[event]):
        at_risk = time >= t
        n = at_risk.sum()
        n1 = (at_risk & group).sum()
        d = (event & (time == t)).sum()
        d1 = (event & (time == t) & group).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    chi2 = o_minus_e ** 2 / var
    return float(chi2), float(stats.chi2.sf(chi2, 1))
