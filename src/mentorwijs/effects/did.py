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

Standard errors are cluster-robust on ``person`` (a person can be several control units). The
tables report CR2 (Bell-McCaffrey bias-reduced linearisation, as R's clubSandwich) with
Satterthwaite degrees of freedom (:mod:`mentorwijs.effects.smallsample`), and keep CR1 with the
small-sample factor ``G/(G-1) * (N-1)/(N-K)`` (G persons, N person-months, K cells; Stata's
``regress, vce(cluster)`` and R's ``sandwich::vcovCL(type = "HC1")``) as ``se_cr1``. The
per-cluster ``influence`` of a :class:`DidFit` is the CR1 one (other code builds cross-fit
covariances from it); ``influence_cr2`` the CR2 one.

The regression-adjusted matched DiD (``covariates=``; Ho, Imai, King and Stuart 2007) adds
month x each covariate to the regression. Every regressor interacts with the month, so it is
fitted as one weighted least-squares regression per month.

Fixed-effect variants (sensitivity analyses) absorb person (or unit) fixed effects, or cohort x
month fixed effects, by the Frisch-Waugh-Lovell theorem on sparse matrices; fixed effects that
are nested in the clusters are not counted in K (as Stata's ``xtreg, fe`` and R's ``fixest``
do), others are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

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
from mentorwijs.effects.smallsample import (
    MonthlyWls,
    monthly_effect_df,
    monthly_wls,
    satterthwaite_df,
    single_threaded_blas,
)
from mentorwijs.errors import InputError

log = logging.getLogger(__name__)

PANEL_COLUMNS = ("unit", "person", "cohort", "treated", "weight", "month", "observed")
FIXED_EFFECTS = (None, "person", "unit", "cohort_month")
#: The DiD estimators of the tables' ``method`` column: the plain matched DiD (weighted cell
#: means) and the regression-adjusted matched DiD (month x covariates added).
METHODS = ("matched", "adjusted")


@dataclass(frozen=True)
class DidFit:
    """One fitted month x treated regression.

    ``estimate[k]`` is the difference-in-differences for ``months[k]`` relative to the reference
    month (0 there). ``influence`` has one row per cluster (``clusters``) and one column per month,
    scaled so that ``cov = influence.T @ influence`` is the CR1 covariance: the rows of several
    fits can be matched on the cluster labels to get covariances between fits.
    ``method`` is ``matched`` or ``adjusted`` (``covariates`` names the adjustment's columns).
    The CR2 covariance (``cov_cr2``, ``influence_cr2``) and the Satterthwaite df of each monthly
    effect (``df_months``) are computed on first use from ``cr2_source``; fixed-effect fits and
    ``did_fit(cr2=False)`` have none (``has_cr2`` False).
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
    method: str = "matched"
    covariates: tuple[str, ...] = field(default_factory=tuple)
    cr2_source: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def se(self) -> np.ndarray:
        """CR1 standard errors of the monthly effects."""
        return np.sqrt(np.clip(np.diag(self.cov), 0, None))

    @property
    def has_cr2(self) -> bool:
        """Whether the fit can give CR2 inference (fits without fixed effects, unless cr2=False)."""
        return bool(self.cr2_source)

    def _cr2(self) -> dict:
        """The CR2 parts, computed on first use (the modifiers, say, fit many subgroups and read
        only the CR1 influence) and kept: ``parts``, ``influence`` and ``df``."""
        store = self.cr2_source
        if "influence" not in store:
            _compute_cr2(self, store)
        return store

    @property
    def parts(self) -> MonthlyWls | None:
        return self._cr2()["parts"] if self.has_cr2 else None

    @property
    def influence_cr2(self) -> np.ndarray | None:
        """Per-cluster CR2 influence of the monthly effects (``cov_cr2 = influence_cr2.T @ influence_cr2``)."""
        return self._cr2()["influence"] if self.has_cr2 else None

    @property
    def df_months(self) -> np.ndarray | None:
        """Satterthwaite df of the CR2 SE of each monthly effect (NaN at the reference month)."""
        return self._cr2()["df"] if self.has_cr2 else None

    @property
    def cov_cr2(self) -> np.ndarray | None:
        """CR2 (bias-reduced) covariance of the monthly effects, or None for fits without it."""
        return self._cr2()["cov"] if self.has_cr2 else None

    @property
    def se_cr2(self) -> np.ndarray | None:
        cov = self.cov_cr2
        return None if cov is None else np.sqrt(np.clip(np.diag(cov), 0, None))

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


def _fit_cell_means(data: pd.DataFrame, outcome: str, reference_month: int, notes: list[str],
                    clusters: np.ndarray) -> DidFit:
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


def _compute_cr2(fit: DidFit, store: dict) -> None:
    """Fill ``store`` with the CR2 influence and the per-month Satterthwaite df of ``fit``'s
    monthly effects (from ``store['parts']``, or the monthly WLS of ``store['data']``)."""
    parts = store.get("parts")
    if parts is None:
        data = store.pop("data")
        months = fit.months
        parts = monthly_wls(data["y"].to_numpy(), data["treated"].to_numpy(), data["w"].to_numpy(),
                            np.searchsorted(months, data["month"].to_numpy()), data["g"].to_numpy(), None,
                            len(months), fit.n_clusters)
    r = fit.column(fit.reference_month)
    influence = parts.score_cr2 - parts.score_cr2[:, [r]]
    undefined = ~np.isfinite(fit.estimate)
    influence[:, undefined] = np.nan
    df = monthly_effect_df(parts, r)
    df[undefined] = np.nan
    with single_threaded_blas():
        cov = influence.T @ influence
    store.update(parts=parts, influence=influence, df=df, cov=cov)


class ContrastTest(NamedTuple):
    """A linear contrast of the monthly effects: estimate, CR2 SE, Satterthwaite df, CR1 SE."""

    estimate: float
    se_cr2: float
    df: float
    se_cr1: float


def contrast_test(fit: DidFit, contrast: np.ndarray) -> ContrastTest:
    """``contrast`` (one weight per month of ``fit.months``) applied to the monthly effects.

    Returns the estimate, its CR2 standard error with the Satterthwaite degrees of freedom
    (clubSandwich's ``linear_contrast(test = "Satterthwaite")``) and its CR1 standard error.
    Fits without CR2 (fixed-effect variants) give NaN for ``se_cr2`` and ``df``.
    """
    c = np.asarray(contrast, dtype=float)
    if c.shape != fit.months.shape:
        raise InputError(f"a contrast needs one weight per month ({len(fit.months)}), got {c.size}")
    estimate = float(c @ np.where(c != 0, fit.estimate, 0.0))
    infl1 = fit.influence[:, c != 0] @ c[c != 0]
    se1 = float(np.sqrt(infl1 @ infl1))
    if not fit.has_cr2:
        return ContrastTest(estimate, float("nan"), float("nan"), se1)
    infl2 = fit.influence_cr2[:, c != 0] @ c[c != 0]
    # effects are beta_T(m) - beta_T(r): the contrast on the monthly treated coefficients
    r = fit.column(fit.reference_month)
    on_coef = c.copy()
    on_coef[r] -= c.sum()
    return ContrastTest(estimate, float(np.sqrt(infl2 @ infl2)), satterthwaite_df(fit.parts, on_coef), se1)


def covariate_design(units: pd.DataFrame, columns: Sequence[str],
                     table: str = "survival") -> tuple[np.ndarray, list[str]]:
    """The covariate matrix of ``units`` (one row each): numeric columns as they are, other
    columns (text, categories) as 0/1 indicators of each level but the first in sorted order.

    Returns the matrix and its column labels (``column`` or ``column=level``). A missing value
    is an :class:`InputError` naming the table, row and column.
    """
    require_columns(units, columns, table)
    blocks, labels = [], []
    for column in columns:
        values = units[column]
        missing = values.isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise InputError(f"the {table} table's covariate {column} is empty", row=row + 1, column=column,
                             hint="every unit needs a value of each effects.adjusted_covariates column")
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            blocks.append(values.to_numpy(dtype=float)[:, None])
            labels.append(column)
        else:
            levels = sorted(values.astype(str).unique())
            text = values.astype(str).to_numpy()
            for level in levels[1:]:
                blocks.append((text == level).astype(float)[:, None])
                labels.append(f"{column}={level}")
    if not blocks:
        return np.zeros((len(units), 0)), []
    return np.hstack(blocks), labels


def _fit_adjusted(data: pd.DataFrame, outcome: str, reference_month: int, notes: list[str], clusters: np.ndarray,
                  Z: np.ndarray, names: tuple[str, ...]) -> DidFit:
    months = distinct_months(data["month"].to_numpy())
    M = len(months)
    r = int(np.searchsorted(months, reference_month))
    G = len(clusters)
    parts = monthly_wls(data["y"].to_numpy(), data["treated"].to_numpy(), data["w"].to_numpy(),
                        np.searchsorted(months, data["month"].to_numpy()), data["g"].to_numpy(), Z, M, G)
    estimate = parts.coef_treated - parts.coef_treated[r]
    undefined = ~np.isfinite(estimate)
    if undefined.any():  # treated comes before the covariates: it is aliased only when a group is empty
        notes.append("no observations for one group in month(s) " + ", ".join(str(m) for m in months[undefined]))
    aliased = [str(months[m]) for m in range(M) if parts.kept[m, 2:].size and not parts.kept[m, 2:].all()
               and parts.kept[m, 1]]
    if aliased:
        where = "every month" if len(aliased) == int(parts.kept[:, 1].sum()) else "month(s) " + ", ".join(aliased)
        notes.append(f"collinear covariates left out in {where}")
    N = len(data)
    K = parts.n_params
    estimable = N > K
    if not estimable:  # every month's regression fits its units exactly: nothing left to estimate a variance
        notes.append(f"not estimable: {N} person-months for {K} coefficients leave no residual degrees of freedom "
                     "(too few units for the covariates)")
        estimate = np.full(M, np.nan)
        estimate[r] = 0.0
        undefined = np.arange(M) != r
    factor = G / (G - 1) * (N - 1) / (N - K) if estimable else np.nan
    influence = np.sqrt(factor) * (parts.score_cr0 - parts.score_cr0[:, [r]])
    influence[:, undefined] = np.nan
    fit = DidFit(
        outcome=outcome,
        reference_month=reference_month,
        months=months,
        estimate=estimate,
        cov=influence.T @ influence,
        influence=influence,
        clusters=clusters,
        n_obs=N,
        n_clusters=G,
        n_params=K,
        df=float(G - 1),
        small_sample_factor=factor,
        converged=estimable,
        warnings=tuple(notes),
        method="adjusted",
        covariates=names,
        **_counts(data, months),
    )
    fit.cr2_source["parts"] = parts
    return fit


def did_fit(
    panel: pd.DataFrame,
    outcome: str,
    reference_month: int,
    *,
    months: Sequence[int] | None = None,
    weight: str = "weight",
    cluster: str = "person",
    fixed_effects: str | None = None,
    covariates: pd.DataFrame | Sequence[str] | None = None,
    cr2: bool = True,
) -> DidFit:
    """Fit the month x treated regression of ``outcome`` on the panel.

    ``months`` restricts the regression to those months (default: every month of the panel; the
    reference month must be among them). ``weight`` names the weight column (the matching
    weight; pass a column of ones for the unweighted analysis), ``cluster`` the cluster column
    (``person``; another column such as an employer for a sensitivity analysis).
    ``fixed_effects``: None (the primary analysis, = weighted cell means), ``"person"`` or
    ``"unit"`` (absorbs individual fixed effects), ``"cohort_month"`` (cohort x month fixed
    effects, i.e. each cohort's own calendar-time trend).

    ``covariates`` gives the regression-adjusted matched DiD (``method = "adjusted"``; Ho, Imai,
    King and Stuart 2007): month x each covariate is added to the regression. Either a unit table
    (a ``unit`` column and one column per covariate, e.g. the survival table's columns at the
    reference month; every unit of the panel needs its row) or the names of unit-level columns
    of the panel. Numeric covariates enter linearly, others as indicators of their levels
    against the first in sorted order (:func:`covariate_design`).

    ``cr2``: also compute the CR2 covariance and the Satterthwaite df of every monthly effect
    (:mod:`mentorwijs.effects.smallsample`); not available with ``fixed_effects``.
    """
    if fixed_effects not in FIXED_EFFECTS:
        raise InputError(
            f"unknown fixed effects {fixed_effects!r}",
            hint="use none, person, unit or cohort_month",
        )
    extra = {None: (), "person": (), "unit": ("unit",), "cohort_month": ("cohort",)}[fixed_effects]
    if covariates is not None:
        if fixed_effects is not None:
            raise InputError("the regression-adjusted DiD has no fixed-effect variant",
                             hint="pass covariates or fixed_effects, not both")
        return _did_fit_adjusted(panel, outcome, reference_month, months, weight, cluster, covariates)
    data, notes, clusters = _prepare(panel, outcome, reference_month, months, weight, cluster, extra)
    if fixed_effects is None:
        fit = _fit_cell_means(data, outcome, reference_month, notes, clusters)
        if cr2:
            fit.cr2_source["data"] = data[["y", "treated", "w", "month", "g"]]
        return fit
    return _fit_fixed_effects(data, outcome, reference_month, fixed_effects, notes, clusters)


def _did_fit_adjusted(panel, outcome, reference_month, months, weight, cluster, covariates) -> DidFit:
    if isinstance(covariates, pd.DataFrame):
        units = covariates
        names = [c for c in units.columns if c != "unit"]
        require_columns(units, ["unit"], "covariate")
        if units["unit"].duplicated().any():
            row = int(np.flatnonzero(units["unit"].duplicated().to_numpy())[0])
            raise InputError("the covariate table has more than one row per unit", row=row + 1, column="unit",
                             hint="pass one row per unit (the survival table at the reference month)")
        data, notes, clusters = _prepare(panel, outcome, reference_month, months, weight, cluster, ("unit",))
        Z_units, labels = covariate_design(units, names, "survival")
        pos = pd.Index(units["unit"]).get_indexer(data["unit"])
        if (pos < 0).any():
            unit = data["unit"].iloc[int(np.flatnonzero(pos < 0)[0])]
            raise InputError(f"unit {unit!r} of the panel has no row in the covariate (survival) table", column="unit",
                             hint="panel and survival must come from the same matching run")
        Z = Z_units[pos]
    else:
        names = list(covariates)
        data, notes, clusters = _prepare(panel, outcome, reference_month, months, weight, cluster, tuple(names))
        Z, labels = covariate_design(data, names, "panel")
    return _fit_adjusted(data, outcome, reference_month, notes, clusters, Z, tuple(names))


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
    covariates: pd.DataFrame | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Monthly difference-in-differences with pointwise CIs and a simultaneous band.

    One row per month of the regression (the reference month included, estimate 0, SE 0):

    - ``estimate``: change in the weighted share employed among trainees since the reference
      month minus the same change among matched controls (a difference in probability);
    - ``method``: ``matched`` (plain) or ``adjusted`` (with ``covariates``, see :func:`did_fit`);
    - ``se``, ``df``, ``ci_low``, ``ci_high``, ``p``: CR2 cluster-robust (person) with the
      Satterthwaite df of each month's effect (the fixed-effect variants: CR1, t with G-1 df);
      ``se_cr1``: the CR1 standard error;
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
                  fixed_effects=fixed_effects, covariates=covariates)
    return did_by_month_table(fit, followup_months=followup_months, band_draws=band_draws, seed=seed, level=level)


def _t_rows(estimate, se, df, level):
    """t intervals and p-values with one df per row (normal where df is infinite, NaN where unknown)."""
    estimate, se, df = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (estimate, se, df))
    df = np.broadcast_to(df, estimate.shape)
    low, high, p = (np.full(estimate.shape, np.nan) for _ in range(3))
    for value in np.unique(df[~np.isnan(df)]):
        sel = df == value
        low[sel], high[sel], p[sel] = t_summary(estimate[sel], se[sel], value, level)
    return low, high, p


#: A standard error below this is rounding error around 0 (the outcomes are probabilities).
SE_ZERO = 1e-12


def inference(fit: DidFit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The SE, df and covariance the tables report for the monthly effects of ``fit``: CR2 with
    Satterthwaite df where the fit has it, else CR1 with clusters - 1 df. SEs below
    :data:`SE_ZERO` (rounding of an exact 0: no residual variation) are reported as 0."""
    if fit.has_cr2:
        se, df, cov = fit.se_cr2, fit.df_months, fit.cov_cr2
    else:
        se, df, cov = fit.se, np.full(len(fit.months), fit.df), fit.cov
    return np.where(se < SE_ZERO, 0.0, se), df, cov


def did_by_month_table(fit: DidFit, *, followup_months: int | None = None, band_draws: int = 10_000,
                       seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """The :func:`did_by_month` table of an existing :class:`DidFit`.

    The sup-t band uses the CR2 covariance of the follow-up months and a multivariate t with the
    smallest Satterthwaite df among them (the conservative choice; fits without CR2: CR1 and
    clusters - 1). Months whose SE is 0 (no variation left, e.g. everyone employed in both
    groups in that month and at the reference month) are named in ``warnings`` and left out of
    the band's critical value; their band is the estimate itself.
    """
    se, df, cov = inference(fit)
    low, high, p = _t_rows(fit.estimate, se, df, level)
    ref = fit.months == fit.reference_month
    p = np.where(ref, np.nan, p)
    post = post_months(fit, followup_months)
    idx = np.searchsorted(fit.months, post)
    notes = list(fit.warnings)
    flat = idx[(se[idx] <= 0) & np.isfinite(fit.estimate[idx])]
    if flat.size:
        message = ("standard error 0 in month(s) " + ", ".join(str(m) for m in fit.months[flat])
                   + ": no variation left; left out of the simultaneous band's critical value")
        log.warning("%s (%s, %s)", message, fit.outcome, fit.method)
        notes.append(message)
    band_idx = idx[(se[idx] > 0) & np.isfinite(se[idx])]
    band_df = float(np.nanmin(df[band_idx])) if band_idx.size and np.isfinite(df[band_idx]).any() else float("nan")
    crit = (supt_critical_value(cov[np.ix_(band_idx, band_idx)], band_df, draws=band_draws, seed=seed, level=level)
            if band_idx.size else float("nan"))
    bonf = stats.t.ppf(1 - (1 - level) / (2 * max(len(band_idx), 1)), band_df) if band_idx.size else float("nan")
    in_band = np.isin(fit.months, post)
    band_low = np.where(in_band, fit.estimate - crit * se, np.nan)
    band_high = np.where(in_band, fit.estimate + crit * se, np.nan)
    bonf_low = np.where(in_band, fit.estimate - bonf * se, np.nan)
    bonf_high = np.where(in_band, fit.estimate + bonf * se, np.nan)
    table = pd.DataFrame(
        {
            "outcome": fit.outcome,
            "method": fit.method,
            "month": fit.months.astype(np.int64),
            "estimate": fit.estimate,
            "se": se,
            "df": df,
            "ci_low": low,
            "ci_high": high,
            "p": p,
            "se_cr1": fit.se,
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
            "warnings": join_warnings(notes),
        }
    )
    return table


def pooled_estimate(fit: DidFit, months: Sequence[int]) -> tuple[float, float, np.ndarray]:
    """Mean of the monthly effects over ``months``, its CR1 SE and its per-cluster influence."""
    a = pooled_contrast(fit, months)
    estimate = float(a @ fit.estimate)
    influence = fit.influence @ a
    return estimate, float(np.sqrt(influence @ influence)), influence


def pooled_contrast(fit: DidFit, months: Sequence[int]) -> np.ndarray:
    """The contrast vector (over ``fit.months``) of the mean effect over ``months``."""
    idx = np.array([fit.column(m) for m in months])
    a = np.zeros(len(fit.months))
    a[idx] = 1.0 / len(idx)
    return a


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
    covariates: pd.DataFrame | Sequence[str] | None = None,
) -> pd.DataFrame:
    """The primary estimand: the pooled post-training effect.

    The mean of the monthly difference-in-differences over months 1..``followup_months``
    (default all months >= 1), with the SE from their joint covariance (so correlated months
    are not treated as independent evidence): the average difference, over follow-up, in the
    probability of being employed. One row: ``outcome, method, months, estimate, se, df, ci_low,
    ci_high, p, se_cr1, n_treated, n_control, n_clusters, df_resid, converged, warnings``: ``se``
    is CR2 and ``df`` its Satterthwaite df (CR1 and clusters - 1 for the fixed-effect variants),
    ``se_cr1`` the CR1 SE, n = units at the reference month, df_resid = n_clusters - 1.
    """
    fit = did_fit(panel, outcome, reference_month, months=months, weight=weight, cluster=cluster,
                  fixed_effects=fixed_effects, covariates=covariates)
    return did_pooled_table(fit, followup_months=followup_months, level=level)


def did_pooled_table(fit: DidFit, *, followup_months: int | None = None, level: float = 0.95) -> pd.DataFrame:
    """The :func:`did_pooled` row of an existing :class:`DidFit`."""
    post = post_months(fit, followup_months)
    test = contrast_test(fit, pooled_contrast(fit, post))
    se, df = (test.se_cr2, test.df) if fit.has_cr2 else (test.se_cr1, fit.df)
    low, high, p = _t_rows(test.estimate, se, df, level)
    r = fit.column(fit.reference_month)
    return pd.DataFrame(
        {
            "outcome": [fit.outcome],
            "method": [fit.method],
            "months": [f"{post.min()}..{post.max()}"],
            "estimate": [test.estimate],
            "se": [se],
            "df": [df],
            "ci_low": [float(low[0])],
            "ci_high": [float(high[0])],
            "p": [float(p[0])],
            "se_cr1": [test.se_cr1],
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
    covariates: pd.DataFrame | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Placebo test of common trends: a fake training before the covariate window.

    The regression is fitted on months ``reference_month`` .. ``post_months[1]`` only, with the
    fake reference month, and reports the "effects" in the fake post months
    ``post_months[0]..post_months[1]`` (``term = "month"``) and their mean (``term = "pooled"``,
    ``month`` empty). Under common trends they are zero; they are reported with their CR2 CIs
    (Satterthwaite df in ``df``, CR1 SE in ``se_cr1``). ``covariates``: the adjusted placebo
    (``method = "adjusted"``, see :func:`did_fit`). ``n_treated``, ``n_control`` are the units of
    each fake month (pooled row: at the fake reference month); ``n_clusters`` and ``df_resid``
    those of the regression.
    """
    first, last = int(post_months[0]), int(post_months[1])
    if not reference_month < first <= last:
        raise InputError(
            f"placebo months {first}..{last} must follow the placebo reference month {reference_month}",
            hint="check anchors.placebo_reference_month and anchors.placebopost_months",
        )
    window = range(reference_month, last + 1)
    fit = did_fit(panel, outcome, reference_month, months=window, weight=weight, cluster=cluster,
                  covariates=covariates)
    fake = np.arange(first, last + 1)
    missing = fake[~np.isin(fake, fit.months)]
    if missing.size:
        raise InputError(f"placebo month(s) {', '.join(map(str, missing))} are not in the panel", column="month",
                         hint="the panel must start at anchors.panel_first_month")
    idx = np.searchsorted(fit.months, fake)
    se_all, df_all, _ = inference(fit)
    se, df = se_all[idx], df_all[idx]
    low, high, p = _t_rows(fit.estimate[idx], se, df, level)
    pooled = contrast_test(fit, pooled_contrast(fit, fake))
    pse, pdf = (pooled.se_cr2, pooled.df) if fit.has_cr2 else (pooled.se_cr1, fit.df)
    plow, phigh, pp = _t_rows(pooled.estimate, pse, pdf, level)
    r = fit.column(reference_month)
    table = pd.DataFrame(
        {
            "outcome": outcome,
            "method": fit.method,
            "term": ["month"] * len(fake) + ["pooled"],
            "month": pd.array([*fake.tolist(), pd.NA], dtype="Int64"),
            "estimate": [*fit.estimate[idx], pooled.estimate],
            "se": [*se, pse],
            "df": [*df, pdf],
            "ci_low": [*low, float(plow[0])],
            "ci_high": [*high, float(phigh[0])],
            "p": [*p, float(pp[0])],
            "se_cr1": [*fit.se[idx], pooled.se_cr1],
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
