"""The covariate-adjusted RMST difference: WLS of per-group infinitesimal-jackknife pseudo-values
on treated + covariates with CR1 on person."""


from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from mentorwijs.effects._common import (
    codes,
    join_warnings,
    z_summary,
)
from mentorwijs.effects.survival.data import GROUPS, _survival_data, design_matrix
from mentorwijs.effects.survival.km import km_estimate
from mentorwijs.errors import InputError


def _rmst_pseudo_group(time: np.ndarray, event: np.ndarray, w: np.ndarray,
                       horizon: int) -> tuple[float, np.ndarray, np.ndarray]:
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
            notes.append(f"{name} follow-up ends before the horizon {horizon}: the last survival "
                         "value is carried forward")
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
