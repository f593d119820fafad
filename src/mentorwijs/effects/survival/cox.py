"""The weighted Cox model (Efron or Breslow ties, strata, (entry, stop], cluster-robust variance, robust
score test), its table rows, and the proportional-hazards check."""


from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from mentorwijs.effects._common import (
    codes,
    join_warnings,
    z_summary,
)
from mentorwijs.effects.survival.data import (
    SURVIVAL_TABLE_COLUMNS,
    _survival_data,
    design_matrix,
    stack_rows,
    unit_counts,
)
from mentorwijs.errors import InputError


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
        raise InputError("a row's entry time is not before its stop time",
                         hint="(entry, stop] intervals need entry < stop")
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
    return CoxResult(names, beta, robust, naive, loglik, loglik_null, score, n, events, iterations, converged,
                     tuple(notes))


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
    Xc, names, complete = (design_matrix(data, list(covariates), "survival") if covariates
                           else (np.zeros((len(data), 0)), [], np.ones(len(data), bool)))
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
            "term": [f"treated, months 0-{split_month}", f"treated, months {split_month + 1}-{last}",
                     "ratio late/early"],
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
