"""Difference-in-differences per month on the matched, weighted panel.

The model (study.md, "Employment outcomes"): for an outcome ``y`` (a 0/1 employment indicator)
and the months of the panel, the weighted least-squares regression

    y_it = sum_m a_m 1[month = m] + sum_m b_m 1[month = m] * treated_i + e_it

on the observed person-months (``observed == 1``: months after death, emigration or state
pension are left out, never counted as "not employed"), with the matching weights. The effect in
month ``m`` is ``b_m - b_r`` (``r`` = the reference month): the change in the weighted share
employed among trainees from the reference month to month ``m``, minus the same change among the
matched controls. Because the model is saturated these are differences of weighted cell means,
and that is how they are computed here (weighted group means and per-person sums of influence
values, no dummy-matrix regression), which makes the whole panel a matter of seconds.

Standard errors are cluster-robust on ``person`` (a person can be several control units) with
the CR1 small-sample factor ``G/(G-1) * (N-1)/(N-K)`` (G persons, N person-months, K cells):
the factor of Stata's ``regress, vce(cluster)`` and of R's ``sandwich::vcovCL(type = "HC1")``.
Confidence intervals and p-values use a t distribution with ``G-1`` degrees of freedom (Stata's
convention; with a thousand persons it is indistinguishable from the normal).

Fixed-effect variants (sensitivity analyses) absorb person (or unit) fixed effects, or cohort x
month fixed effects, by the Frisch-Waugh-Lovell theorem on sparse matrices; fixed effects that
are nested in the clusters are not counted in K (as Stata's ``xtreg, fe`` and R's ``fixest``
do), others are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from mentorwijs.effects._common import (
    check_keys,
    codes,
    excludes_zero,
    indicator,
    join_warnings,
    require_columns,
    t_summary,
    weights,
    whole_numbers,
)
from mentorwijs.errors import InputError

PANEL_COLUMNS = ("unit", "person", "cohort", "treated", "weight", "month", "observed")
FIXED_EFFECTS = (None, "person", "unit", "cohort_month")


@dataclass(frozen=True)
class DidFit:
    """One fitted month x treated regression.

    ``estimate[k]`` is the difference-in-differences for ``months[k]`` relative to the reference
    month (0 there). ``influence`` has one row per cluster (``clusters``) and one column per month,
    scaled so that ``cov = influence.T @ influence`` is the CR1 covariance: the rows of several
    fits can be matched on the cluster labels to get covariances between fits.
    """

    outcome: str
    reference_month: int
    months: np.ndarray
    estimate: np.ndarray
    cov: np.ndarray
    influence: np.ndarray
    clusters: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    clusters_treated: np.ndarray
    clusters_control: np.ndarray
    n_obs: int
    n_clusters: int
    n_params: int
    df: float
    small_sample_factor: float
    fixed_effects: str | None = None
    converged: bool = True
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0, None))

    def column(self, month: int) -> int:
        """Position of ``month`` in :attr:`months`."""
        hits = np.flatnonzero(self.months == month)
        if not hits.size:
            raise InputError(f"month {month} is not in the panel of outcome {self.outcome}", column="month")
        return int(hits[0])


# ---------------------------------------------------------------------------------------------
# preparation


def _prepare(
    panel: pd.DataFrame,
    outcome: str,
    reference_month: int | None,
    months: Sequence[int] | None,
    weight: str,
    cluster: str,
    extra: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """Observed person-months with a value of ``outcome`` and positive weight, in ``months``.

    Returns a numeric frame (``y, treated, w, month``, cluster codes ``g``, person codes ``p``
    and the ``extra`` columns), the notes on rows left out, and the cluster labels of ``g``.
    """
    require_columns(panel, [*PANEL_COLUMNS, outcome, weight, cluster, *extra], "panel")
    check_keys(panel, list(dict.fromkeys(["person", cluster, *extra])), "panel")
    month = whole_numbers(panel, "month", "panel")
    observed = indicator(panel, "observed", "panel")
    treated = indicator(panel, "treated", "panel")
    w = weights(panel, weight, "panel")
    y = indicator(panel, outcome, "panel", allow_missing=True)
    keep = observed == 1
    if months is not None:
        keep &= np.isin(month, np.asarray(list(months), dtype=np.int64))
    notes: list[str] = []
    no_value = keep & np.isnan(y)
    if no_value.any():
        notes.append(f"{int(no_value.sum())} observed person-months without a value of {outcome} left out")
    zero = keep & ~np.isnan(y) & (w == 0)
    if zero.any():
        notes.append(f"{int(zero.sum())} person-months with weight 0 left out")
    keep &= ~np.isnan(y) & (w > 0)
    g, labels = codes(panel[cluster].to_numpy()[keep])
    person = g if cluster == "person" else codes(panel["person"].to_numpy()[keep])[0]
    data = pd.DataFrame(
        {
            "y": y[keep],
            "treated": treated[keep].astype(np.int64),
            "w": w[keep],
            "month": month[keep],
            "g": g,
            "p": person,
        }
    )
    for column in extra:
        data[column] = panel[column].to_numpy()[keep]
    if reference_month is not None and not (data["month"] == reference_month).any():
        raise InputError(
            f"the reference month {reference_month} has no observed person-months with a value of {outcome}",
            column="month",
            hint="check anchors.reference_month and that the panel covers it",
        )
    if reference_month is not None and len(labels) < 2:
        raise InputError(
            f"fewer than two clusters ({cluster}) in the panel for {outcome}",
            column=cluster,
            hint="cluster-robust standard errors need at least two clusters",
        )
    return data, notes, labels


def distinct_months(month: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer month array (by counting: faster than hashing)."""
    month = np.asarray(month, dtype=np.int64)
    if not len(month):
        return month
    low = int(month.min())
    return np.flatnonzero(np.bincount(month - low)) + low


def _counts(data: pd.DataFrame, months: np.ndarray) -> dict[str, np.ndarray]:
    """Units (person-months) and distinct persons behind each month, by group (unweighted)."""
    M = len(months)
    m_idx = np.searchsorted(months, data["month"].to_numpy())
    treated = data["treated"].to_numpy()
    person = data["p"].to_numpy()
    P = int(person.max()) + 1 if len(person) else 1
    out = {}
    for name, value in (("treated", 1), ("control", 0)):
        sel = treated == value
        out[f"n_{name}"] = np.bincount(m_idx[sel], minlength=M)
        seen = np.zeros((M, P), dtype=bool)
        seen[m_idx[sel], person[sel]] = True
        out[f"clusters_{name}"] = seen.sum(axis=1)
    return out


# ---------------------------------------------------------------------------------------------
# the estimators


def _fit_cell_means(data: pd.DataFrame, outcome: str, reference_month: int, notes: list[str], clusters: np.ndarray) -> DidFit:
    months = distinct_months(data["month"].to_numpy())
    M = len(months)
    r = int(np.searchsorted(months, reference_month))
    m_idx = np.searchsorted(months, data["month"].to_numpy())
    cell = data["treated"].to_numpy() * M + m_idx
    w = data["w"].to_numpy()
    y = data["y"].to_numpy()
    g = data["g"].to_numpy()
    G = len(clusters)
    W = np.bincount(cell, weights=w, minlength=2 * M)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.bincount(cell, weights=w * y, minlength=2 * M) / W
    empty = W <= 0
    resid = y - np.where(empty, 0.0, mu)[cell]
    contrib = w * resid / np.where(empty, 1.0, W)[cell]
    S = np.bincount(g * (2 * M) + cell, weights=contrib, minlength=G * 2 * M).reshape(G, 2 * M)

    # d_m = mu[T, m] - mu[T, r] - mu[C, m] + mu[C, r]
    L = np.zeros((M, 2 * M))
    rows = np.arange(M)
    L[rows, M + rows] += 1.0
    L[rows, M + r] -= 1.0
    L[rows, rows] -= 1.0
    L[rows, r] += 1.0
    estimate = L @ np.where(empty, 0.0, mu)
    undefined = (np.abs(L[:, empty]) > 0).any(axis=1) if empty.any() else np.zeros(M, bool)
    if undefined.any():
        notes.append("no observations for one group in month(s) " + ", ".join(str(m) for m in months[undefined]))
    estimate[undefined] = np.nan

    N = len(y)
    K = int((~empty).sum())
    factor = G / (G - 1) * (N - 1) / (N - K)
    influence = np.sqrt(factor) * (S @ L.T)
    influence[:, undefined] = np.nan
    cov = influence.T @ influence
    return DidFit(
        outcome=outcome,
        reference_month=reference_month,
        months=months,
        estimate=estimate,
        cov=cov,
        influence=influence,
        clusters=clusters,
        n_obs=N,
        n_clusters=G,
        n_params=K,
        df=float(G - 1),
        small_sample_factor=factor,
        warnings=tuple(notes),
        **_counts(data, months),
    )


def absorbed_wls(
    y: np.ndarray,
    X: sparse.csr_matrix,
    w: np.ndarray,
    cluster: np.ndarray,
    fe: np.ndarray | None = None,
) -> dict:
    """Weighted least squares with one absorbed fixed effect and per-cluster scores.

    ``y`` (n), ``X`` (n x k, sparse), ``w`` (n, positive), ``cluster`` and ``fe`` integer codes.
    Returns ``coef``, ``bread`` (the inverse of the FE-partialled X'WX), ``scores`` (clusters x k:
    the sum over a cluster's rows of w e x~, x~ the FE-demeaned regressors), ``n_fe`` (fixed-effect
    levels), ``nested`` (every FE level inside one cluster) and ``rank_deficient``. The CR0
    covariance is ``bread @ scores.T @ scores @ bread``.
    """
    n, k = X.shape
    G = int(cluster.max()) + 1
    WX = sparse.csr_matrix(X.multiply(w[:, None]))
    XtWX = np.asarray((X.T @ WX).todense())
    XtWy = np.asarray(WX.T @ y).ravel()
    n_fe, nested = 0, True
    if fe is not None:
        F = int(fe.max()) + 1
        n_fe = F
        P = sparse.csr_matrix((np.ones(n), (np.arange(n), fe)), shape=(n, F))
        Wf = np.bincount(fe, weights=w, minlength=F)
        C = np.asarray((P.T @ WX).todense())  # F x k: weighted sums of X per FE level
        Cs = C / Wf[:, None]
        XtWX = XtWX - C.T @ Cs
        yf = np.bincount(fe, weights=w * y, minlength=F)
        XtWy = XtWy - Cs.T @ yf
        owner = np.empty(F, dtype=np.int64)
        owner[fe] = cluster  # some cluster of each level; nested iff every row agrees with it
        nested = bool(np.all(owner[fe] == cluster))
    rank = np.linalg.matrix_rank(XtWX)
    rank_deficient = rank < k
    bread = np.linalg.pinv(XtWX) if rank_deficient else np.linalg.inv(XtWX)
    coef = bread @ XtWy
    fitted = np.asarray(X @ coef).ravel()
    if fe is not None:
        alpha = np.bincount(fe, weights=w * (y - fitted), minlength=F) / Wf
        fitted = fitted + alpha[fe]
    we = w * (y - fitted)
    Gm = sparse.csr_matrix((np.ones(n), (cluster, np.arange(n))), shape=(G, n))
    scores = np.asarray((Gm @ X.multiply(we[:, None])).todense())
    if fe is not None:
        # subtract sum_i w_i e_i * Cs[fe_i] per cluster (zero when FE are nested in clusters)
        E = sparse.csr_matrix((we, (cluster, fe)), shape=(G, F))
        scores = scores - np.asarray(E @ Cs)
    return {
        "coef": coef,
        "bread": bread,
        "scores": scores,
        "n_fe": n_fe,
        "nested": nested,
        "rank_deficient": rank_deficient,
    }


def _fit_fixed_effects(data: pd.DataFrame, outcome: str, reference_month: int, fixed_effects: str, notes: list[str],
                       clusters: np.ndarray) -> DidFit:
    months = distinct_months(data["month"].to_numpy())
    M = len(months)
    r = int(np.searchsorted(months, reference_month))
    n = len(data)
    m_idx = np.searchsorted(months, data["month"].to_numpy())
    treated = data["treated"].to_numpy()
    others = np.array([j for j in range(M) if j != r])
    pos = np.full(M, -1)
    pos[others] = np.arange(M - 1)
    not_ref = m_idx != r
    rows = np.arange(n)[not_ref]
    if fixed_effects in ("person", "unit"):
        fe = data["p"].to_numpy() if fixed_effects == "person" else codes(data["unit"])[0]
        varies = pd.Series(treated).groupby(fe).nunique().to_numpy() > 1
        if varies.any():
            raise InputError(
                f"treated varies within {fixed_effects}: a trainee can never be a control",
                column="treated",
                hint="check the matched panel: one person is both trainee and control",
            )
        # month dummies (m != r), then treated x month (m != r)
        cols = np.concatenate([pos[m_idx[not_ref]], (M - 1) + pos[m_idx[not_ref]][treated[not_ref] == 1]])
        rr = np.concatenate([rows, rows[treated[not_ref] == 1]])
        k = 2 * (M - 1)
        first_effect = M - 1
    else:  # cohort x month fixed effects: treated, then treated x month (m != r)
        fe, _ = codes(data["cohort"].astype(str) + "|" + data["month"].astype(str))
        t_rows = np.flatnonzero(treated == 1)
        tm_rows = np.flatnonzero((treated == 1) & not_ref)
        cols = np.concatenate([np.zeros(len(t_rows), dtype=np.int64), 1 + pos[m_idx[tm_rows]]])
        rr = np.concatenate([t_rows, tm_rows])
        k = M
        first_effect = 1
    X = sparse.csr_matrix((np.ones(len(rr)), (rr, cols)), shape=(n, k))
    g = data["g"].to_numpy()
    fit = absorbed_wls(data["y"].to_numpy(), X, data["w"].to_numpy(), g, fe)
    G = len(clusters)
    K = k + (0 if fit["nested"] else fit["n_fe"])
    factor = G / (G - 1) * (n - 1) / (n - K)
    converged = not fit["rank_deficient"]
    if fit["rank_deficient"]:
        notes.append("collinear regressors: a month has no observations left after absorbing the fixed effects")
    est_other = fit["coef"][first_effect:first_effect + M - 1]
    infl_other = np.sqrt(factor) * (fit["scores"] @ fit["bread"])[:, first_effect:first_effect + M - 1]
    estimate = np.zeros(M)
    estimate[others] = est_other
    influence = np.zeros((G, M))
    influence[:, others] = infl_other
    return DidFit(
        outcome=outcome,
        reference_month=reference_month,
        months=months,
        estimate=estimate,
        cov=influence.T @ influence,
        influence=influence,
        clusters=clusters,
        n_obs=n,
        n_clusters=G,
        n_params=K,
        df=float(G - 1),
        small_sample_factor=factor,
        fixed_effects=fixed_effects,
        converged=converged,
        warnings=tuple(notes),
        **_counts(data, months),
    )


def did_fit(
    panel: pd.DataFrame,
    outcome: str,
    reference_month: int,
    *,
    months: Sequence[int] | None = None,
    weight: str = "weight",
    cluster: str = "person",
    fixed_effects: str | None = None,
) -> DidFit:
    """Fit the month x treated regression of ``outcome`` on the panel.

    ``months`` restricts the regression to those months (default: every month of the panel; the
    reference month must be among them). ``weight`` names the weight column (the matching
    weight; pass a column of ones for the unweighted analysis), ``cluster`` the cluster column
    (``person``; another column such as an employer for a sensitivity analysis).
    ``fixed_effects``: None (the primary analysis, = weighted cell means), ``"person"`` or
    ``"unit"`` (absorbs individual fixed effects), ``"cohort_month"`` (cohort x month fixed
    effects, i.e. each cohort's own calendar-time trend).
    """
    if fixed_effects not in FIXED_EFFECTS:
        raise InputError(
            f"unknown fixed effects {fixed_effects!r}",
            hint="use none, person, unit or cohort_month",
        )
    extra = {None: (), "person": (), "unit": ("unit",), "cohort_month": ("cohort",)}[fixed_effects]
    data, notes, clusters = _prepare(panel, outcome, reference_month, months, weight, cluster, extra)
    if fixed_effects is None:
        return _fit_cell_means(data, outcome, reference_month, notes, clusters)
    return _fit_fixed_effects(data, outcome, reference_month, fixed_effects, notes, clusters)


# ---------------------------------------------------------------------------------------------
# simultaneous band


def supt_critical_value(cov: np.ndarray, df: float, *, draws: int, seed: int, level: float = 0.95) -> float:
    """Critical value of a simultaneous (sup-t) band for estimates with covariance ``cov``.

    The ``level`` quantile of max_m |Z_m| / sd_m over ``draws`` multiplier draws of Z from a
    multivariate t distribution with ``df`` degrees of freedom and the correlation of ``cov``
    (a multivariate normal when df is infinite). Estimate +/- critical value x SE then covers all
    true monthly effects at once with probability ``level`` (Montiel Olea and Plagborg-Moller 2019).
    """
    cov = np.asarray(cov, dtype=float)
    sd = np.sqrt(np.diag(cov))
    if cov.size == 0 or not np.all(np.isfinite(cov)) or np.any(sd <= 0):
        return float("nan")
    corr = cov / np.outer(sd, sd)
    vals, vecs = np.linalg.eigh(corr)
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((draws, len(sd))) @ root.T
    if np.isfinite(df):
        z = z / np.sqrt(rng.chisquare(df, size=draws) / df)[:, None]
    return float(np.quantile(np.abs(z).max(axis=1), level))


def post_months(fit: DidFit, followup_months: int | None) -> np.ndarray:
    """The follow-up months 1..followup_months (default: every month >= 1 of the fit)."""
    if followup_months is None:
        return fit.months[fit.months >= 1]
    wanted = np.arange(1, followup_months + 1)
    missing = wanted[~np.isin(wanted, fit.months)]
    if missing.size:
        raise InputError(
            f"follow-up month(s) {', '.join(map(str, missing))} have no observed person-months of {fit.outcome}",
            column="month",
            hint="check anchors.followup_months against the panel",
        )
    return wanted


def did_by_month(
    panel: pd.DataFrame,
    outcome: str,
    reference_month: int,
    *,
    followup_months: int | None = None,
    band_draws: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
    months: Sequence[int] | None = None,
    weight: str = "weight",
    cluster: str = "person",
    fixed_effects: str | None = None,
) -> pd.DataFrame:
    """Monthly difference-in-differences with pointwise CIs and a simultaneous band.

    One row per month of the regression (the reference month included, estimate 0, SE 0):

    - ``estimate``: change in the weighted share employed among trainees since the reference
      month minus the same change among matched controls (a difference in probability);
    - ``se``, ``ci_low``, ``ci_high``, ``p``: CR1 cluster-robust (person), t with G-1 df;
    - ``band_low``, ``band_high``: the simultaneous ``level`` sup-t band over the follow-up
      months 1..``followup_months`` (default: all months >= 1), from ``band_draws`` multiplier
      draws with ``seed``; ``band_critical``: its critical value; ``band_excludes_zero`` 1 where
      the band lies on one side of 0;
    - ``bonferroni_low``, ``bonferroni_high``, ``bonferroni_excludes_zero``: the Bonferroni
      band over the same months, a conservative check of the sup-t band;
    - ``n_treated``, ``n_control``: units (person-months) behind the month; ``clusters_treated``,
      ``clusters_control``: distinct persons; ``n_clusters``: clusters in the regression and
      ``df_resid`` = n_clusters - 1, the degrees of freedom of its t intervals; ``converged``
      (0 if the design was singular) and ``warnings`` (rows left out and why).
    """
    fit = did_fit(panel, outcome, reference_month, months=months, weight=weight, cluster=cluster,
                  fixed_effects=fixed_effects)
    return did_by_month_table(fit, followup_months=followup_months, band_draws=band_draws, seed=seed, level=level)


def did_by_month_table(fit: DidFit, *, followup_months: int | None = None, band_draws: int = 10_000,
                       seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """The :func:`did_by_month` table of an existing :class:`DidFit`."""
    se = fit.se
    low, high, p = t_summary(fit.estimate, se, fit.df, level)
    ref = fit.months == fit.reference_month
    p = np.where(ref, np.nan, p)
    post = post_months(fit, followup_months)
    idx = np.searchsorted(fit.months, post)
    crit = supt_critical_value(fit.cov[np.ix_(idx, idx)], fit.df, draws=band_draws, seed=seed, level=level)
    bonf = stats.t.ppf(1 - (1 - level) / (2 * max(len(idx), 1)), fit.df)
    in_band = np.isin(fit.months, post)
    band_low = np.where(in_band, fit.estimate - crit * se, np.nan)
    band_high = np.where(in_band, fit.estimate + crit * se, np.nan)
    bonf_low = np.where(in_band, fit.estimate - bonf * se, np.nan)
    bonf_high = np.where(in_band, fit.estimate + bonf * se, np.nan)
    table = pd.DataFrame(
        {
            "outcome": fit.outcome,
            "month": fit.months.astype(np.int64),
            "estimate": fit.estimate,
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "p": p,
            "band_low": band_low,
            "band_high": band_high,
            "band_critical": np.where(in_band, crit, np.nan),
            "band_excludes_zero": excludes_zero(band_low, band_high),
            "bonferroni_low": bonf_low,
            "bonferroni_high": bonf_high,
            "bonferroni_excludes_zero": excludes_zero(bonf_low, bonf_high),
            "n_treated": fit.n_treated.astype(np.int64),
            "n_control": fit.n_control.astype(np.int64),
            "clusters_treated": fit.clusters_treated.astype(np.int64),
            "clusters_control": fit.clusters_control.astype(np.int64),
            "n_clusters": int(fit.n_clusters),
            "df_resid": fit.df,
            "converged": int(fit.converged),
            "warnings": join_warnings(fit.warnings),
        }
    )
    return table


def pooled_estimate(fit: DidFit, months: Sequence[int]) -> tuple[float, float, np.ndarray]:
    """Mean of the monthly effects over ``months``, its CR1 SE and its per-cluster influence."""
    idx = np.array([fit.column(m) for m in months])
    a = np.zeros(len(fit.months))
    a[idx] = 1.0 / len(idx)
    estimate = float(a @ fit.estimate)
    influence = fit.influence @ a
    return estimate, float(np.sqrt(influence @ influence)), influence


def did_pooled(
    panel: pd.DataFrame,
    outcome: str,
    reference_month: int,
    *,
    followup_months: int | None = None,
    level: float = 0.95,
    months: Sequence[int] | None = None,
    weight: str = "weight",
    cluster: str = "person",
    fixed_effects: str | None = None,
) -> pd.DataFrame:
    """The primary estimand: the pooled post-training effect.

    The mean of the monthly difference-in-differences over months 1..``followup_months``
    (default all months >= 1), with the SE from their joint CR1 covariance (so correlated
    months are not treated as independent evidence): the average difference, over follow-up, in
    the probability of being employed. One row: ``outcome, months, estimate, se, ci_low,
    ci_high, p, n_treated, n_control, n_clusters, df_resid, converged, warnings`` (n = units at
    the reference month; df_resid = n_clusters - 1).
    """
    fit = did_fit(panel, outcome, reference_month, months=months, weight=weight, cluster=cluster,
                  fixed_effects=fixed_effects)
    return did_pooled_table(fit, followup_months=followup_months, level=level)


def did_pooled_table(fit: DidFit, *, followup_months: int | None = None, level: float = 0.95) -> pd.DataFrame:
    """The :func:`did_pooled` row of an existing :class:`DidFit`."""
    post = post_months(fit, followup_months)
    estimate, se, _ = pooled_estimate(fit, post)
    low, high, p = t_summary(estimate, se, fit.df, level)
    r = fit.column(fit.reference_month)
    return pd.DataFrame(
        {
            "outcome": [fit.outcome],
            "months": [f"{post.min()}..{post.max()}"],
            "estimate": [estimate],
            "se": [se],
            "ci_low": [float(low)],
            "ci_high": [float(high)],
            "p": [float(p)],
            "n_treated": [int(fit.n_treated[r])],
            "n_control": [int(fit.n_control[r])],
            "n_clusters": [int(fit.n_clusters)],
            "df_resid": [fit.df],
            "converged": [int(fit.converged)],
            "warnings": [join_warnings(fit.warnings)],
        }
    )


def placebo(
    panel: pd.DataFrame,
    outcome: str,
    *,
    reference_month: int = -24,
    post_months: Sequence[int] = (-23, -15),
    level: float = 0.95,
    weight: str = "weight",
    cluster: str = "person",
) -> pd.DataFrame:
    """Placebo test of common trends: a fake training before the covariate window.

    The regression is fitted on months ``reference_month`` .. ``post_months[1]`` only, with the
    fake reference month, and reports the "effects" in the fake post months
    ``post_months[0]..post_months[1]`` (``term = "month"``) and their mean (``term = "pooled"``,
    ``month`` empty). Under common trends they are zero; they are reported with their CIs.
    ``n_treated``, ``n_control`` are the units of each fake month (pooled row: at the fake
    reference month); ``n_clusters`` and ``df_resid`` those of the regression.
    """
    first, last = int(post_months[0]), int(post_months[1])
    if not reference_month < first <= last:
        raise InputError(
            f"placebo months {first}..{last} must follow the placebo reference month {reference_month}",
            hint="check anchors.placebo_reference_month and anchors.placebopost_months",
        )
    window = range(reference_month, last + 1)
    fit = did_fit(panel, outcome, reference_month, months=window, weight=weight, cluster=cluster)
    fake = np.arange(first, last + 1)
    missing = fake[~np.isin(fake, fit.months)]
    if missing.size:
        raise InputError(f"placebo month(s) {', '.join(map(str, missing))} are not in the panel", column="month",
                         hint="the panel must start at anchors.panel_first_month")
    idx = np.searchsorted(fit.months, fake)
    se = fit.se[idx]
    low, high, p = t_summary(fit.estimate[idx], se, fit.df, level)
    pooled, pse, _ = pooled_estimate(fit, fake)
    plow, phigh, pp = t_summary(pooled, pse, fit.df, level)
    r = fit.column(reference_month)
    table = pd.DataFrame(
        {
            "outcome": outcome,
            "term": ["month"] * len(fake) + ["pooled"],
            "month": pd.array([*fake.tolist(), pd.NA], dtype="Int64"),
            "estimate": [*fit.estimate[idx], pooled],
            "se": [*se, pse],
            "ci_low": [*low, float(plow)],
            "ci_high": [*high, float(phigh)],
            "p": [*p, float(pp)],
            "n_treated": [*fit.n_treated[idx], fit.n_treated[r]],
            "n_control": [*fit.n_control[idx], fit.n_control[r]],
        }
    )
    table["n_treated"] = table["n_treated"].astype(np.int64)
    table["n_control"] = table["n_control"].astype(np.int64)
    table["n_clusters"] = int(fit.n_clusters)
    table["df_resid"] = fit.df
    table["converged"] = int(fit.converged)
    table["warnings"] = join_warnings(fit.warnings)
    return table


def trajectories(panel: pd.DataFrame, outcomes: Sequence[str], *, weight: str = "weight") -> pd.DataFrame:
    """Weighted share employed by group and month (the raw curves behind the estimates).

    One row per outcome x group (``treated``/``control``) x month over observed person-months
    with a value: ``share`` (weighted mean of the 0/1 outcome), ``n`` units, ``n_employed``
    units with the outcome 1 (unweighted) and ``persons`` distinct persons.
    """
    parts = []
    for outcome in outcomes:
        data, _, _ = _prepare(panel, outcome, None, None, weight, "person")
        months = distinct_months(data["month"].to_numpy())
        M = len(months)
        cell = data["treated"].to_numpy() * M + np.searchsorted(months, data["month"].to_numpy())
        w = data["w"].to_numpy()
        weight_sum = np.bincount(cell, weights=w, minlength=2 * M)
        wy = np.bincount(cell, weights=w * data["y"].to_numpy(), minlength=2 * M)
        n = np.bincount(cell, minlength=2 * M)
        n_employed = np.bincount(cell, weights=data["y"].to_numpy(), minlength=2 * M)
        person = data["p"].to_numpy()
        seen = np.zeros((2 * M, int(person.max()) + 1 if len(person) else 1), dtype=bool)
        seen[cell, person] = True
        with np.errstate(invalid="ignore", divide="ignore"):
            share = wy / weight_sum
        table = pd.DataFrame(
            {
                "outcome": outcome,
                "group": np.repeat(["control", "treated"], M),
                "month": np.tile(months, 2),
                "share": share,
                "n": n,
                "n_employed": np.round(n_employed).astype(np.int64),
                "persons": seen.sum(axis=1),
            }
        )
        parts.append(table[table["n"] > 0])
    result = pd.concat(parts, ignore_index=True)
    result["month"] = result["month"].astype(np.int64)
    return result.sort_values(["outcome", "group", "month"]).reset_index(drop=True)
