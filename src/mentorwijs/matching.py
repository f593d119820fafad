"""Propensity-score matching within region pair and cohort (study.md "Matching").

1. **Propensity score**: a logistic regression of ``treated`` on the 13 covariates, coded as
   ``matching.covariates`` says (collapsed categories as indicators, restricted cubic splines
   for age and wage), fitted on all units at once. Columns are standardised before the fit,
   which leaves a maximum-likelihood score unchanged. Separation (a category without
   trainees or without controls, a fit that does not converge, or coefficients beyond
   ``max_abs_coef`` standard deviations) is detected and the fit falls back to a ridge
   penalty ``lambda/2 * sum(beta^2)`` on the standardised coefficients (intercept unpenalised;
   a normal prior with SD ``1/sqrt(lambda)``), reported as such.
2. **Matching**: exact on the cells of ``matching.exact`` (region pair and cohort, and
   register covariates such as sheltered job or temporary contract; a categorical covariate by
   its collapsed level); distance = absolute difference of the logit of the score; each
   trainee gets its ``k`` nearest controls with replacement inside a caliper of ``caliper_sd``
   times the pooled SD of the logit (``sqrt((s_t^2 + s_c^2) / 2)``), plus every control tied at
   the k-th distance. **Common support** (``minmax``): a trainee whose logit lies outside the
   range of its cell's controls is off support, as is a trainee without a control inside the
   caliper. **Coarsening** (:func:`coarsened_matching`): a trainee whose full cell has fewer
   than ``min_controls`` controls in the caliper, or does not cover its score, is matched in
   the cell without the first column of ``matching.coarsen``, then without the first two, ...;
   the status of the coarsest cell is final. The score is one fit; only the cells change.
3. **Weights** (``matching``): a control's weight is the sum over the trainees it serves of
   ``1/k_i`` (``k_i`` = controls matched to trainee *i*), so within each cohort the control
   weights sum to the cohort's number of matched trainees; trainees weigh 1. ``odds``: matched
   controls weighted by ``p/(1-p)``, scaled to the same sums per stratum (a sensitivity).

Ties never depend on the pseudonymisation key: units are processed in ``tie_order`` (the
order of the CBS person number), and with ``ties: false`` that order breaks ties.

Balance: standardised mean differences (difference in means divided by
``sqrt((s_t^2 + s_c^2) / 2)`` of the sample *before* matching, for both columns, so that a
change reflects the means) and variance ratios (treated / control), before matching
(unweighted, all eligible units) and after (matched units, control weights; weighted
variances with the reliability-weights correction ``sum w (x - m)^2 / (V1 - V2 / V1)``), of
every covariate, of the pairwise products of the binary ones (:func:`interaction_terms`) and of
Hansen's (2008) prognostic score (:func:`prognostic_score`).

Effect modifiers: :func:`modifier_pairs` re-matches the trainees of each level of a modifier
among the controls of that level (``data/processed/modifier_pairs.parquet``).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from mentorwijs.contracts import column_names
from mentorwijs.errors import ConfigError, InputError
from mentorwijs.files import check_read, check_written, file_contract

log = logging.getLogger(__name__)

CODINGS = ("categorical", "indicator", "numeric", "spline")
_TOL = 1e-9

#: Flow orders of the steps written by matching.
FLOW_ORDER = {"excluded_off_common_support": 170, "excluded_no_control_in_caliper": 175, "matched": 180,
              "of_which_matched_in_full_exact_cell": 182, "of_which_matched_after_coarsening": 184,
              "matched_control_persons": 130, "matched_control_units": 140}

MATCHED = "matched"
#: The candidate table's columns that matching relies on (besides ``matching.exact`` and the covariates).
MATCHING_INPUT = ("unit", "person", "cohort", "treated", "tie_order")
OFF_SUPPORT = "off_support"
NO_CONTROL = "no_control_in_caliper"


@dataclass(frozen=True)
class CovariateSpec:
    """How one covariate enters the propensity score."""

    name: str
    coding: str
    levels: Mapping[str, tuple[str, ...]] | None = None  # categorical: level -> raw categories; first = reference
    knot_quantiles: tuple[float, ...] | None = None  # spline

    @classmethod
    def from_config(cls, entry: Mapping[str, Any]) -> "CovariateSpec":
        name, coding = str(entry["name"]), str(entry["coding"])
        if coding not in CODINGS:
            raise ConfigError(f"matching.covariates: {name}: unknown coding {coding!r}",
                              hint=f"use one of {', '.join(CODINGS)}")
        levels = None
        if coding == "categorical":
            raw = entry.get("levels")
            if not isinstance(raw, Mapping) or len(raw) < 2:
                raise ConfigError(f"matching.covariates: {name}: a categorical covariate needs at least two levels")
            levels = {str(k): tuple(str(x) for x in v) for k, v in raw.items()}
        knots = None
        if coding == "spline":
            knots = tuple(float(q) for q in entry.get("knot_quantiles", (0.1, 0.5, 0.9)))
            if len(knots) < 3 or sorted(knots) != list(knots) or not all(0 < q < 1 for q in knots):
                raise ConfigError(f"matching.covariates: {name}: knot_quantiles must be at least 3 "
                                  "increasing numbers in (0, 1)")
        return cls(name=name, coding=coding, levels=levels, knot_quantiles=knots)


@dataclass(frozen=True)
class MatchingSpec:
    """The matching rule (``matching`` in config.yaml)."""

    covariates: tuple[CovariateSpec, ...]
    exact: tuple[str, ...] = ("region_pair", "cohort")
    k: int = 25
    caliper_sd: float = 0.2
    ties: bool = True
    common_support: str = "minmax"
    weights: str = "matching"
    ridge_lambda: float = 1.0
    max_abs_coef: float = 10.0
    overlap_bins: int = 20
    balance_threshold: float = 0.1
    coarsen: tuple[str, ...] = ()
    min_controls: int = 1
    prognostic: bool = True

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "MatchingSpec":
        covariates = tuple(CovariateSpec.from_config(c) for c in section["covariates"])
        names = [c.name for c in covariates]
        if len(set(names)) != len(names):
            raise ConfigError("matching.covariates: a covariate is listed twice")
        sep = section.get("separation", {})
        # a key left out takes the field's default above (the one place it is written)
        spec = cls(
            covariates=covariates,
            exact=tuple(section.get("exact", cls.exact)),
            k=int(section["k"]),
            caliper_sd=float(section["caliper_sd"]),
            ties=bool(section.get("ties", cls.ties)),
            common_support=str(section.get("common_support", cls.common_support)),
            weights=str(section.get("weights", cls.weights)),
            ridge_lambda=float(sep.get("ridge_lambda", cls.ridge_lambda)),
            max_abs_coef=float(sep.get("max_abs_coef", cls.max_abs_coef)),
            overlap_bins=int(section.get("overlap_bins", cls.overlap_bins)),
            balance_threshold=float(section.get("balance_threshold", cls.balance_threshold)),
            coarsen=tuple(str(c) for c in section.get("coarsen", cls.coarsen)),
            min_controls=int(section.get("min_controls", cls.min_controls)),
            prognostic=bool(section.get("prognostic_score", cls.prognostic)),
        )
        if len(set(spec.exact)) != len(spec.exact):
            raise ConfigError("matching.exact: a column is listed twice")
        stray = [c for c in spec.coarsen if c not in spec.exact]
        if stray or len(set(spec.coarsen)) != len(spec.coarsen):
            raise ConfigError(f"matching.coarsen: {', '.join(stray) or 'a column listed twice'}: "
                              "every column dropped by the coarsening rule must be listed once in matching.exact",
                              hint="list the exact-matching columns to drop, in the order they are dropped")
        if spec.min_controls < 1:
            raise ConfigError("matching.min_controls must be at least 1")
        if spec.weights not in ("matching", "odds"):
            raise ConfigError("matching.weights must be 'matching' or 'odds'")
        if spec.common_support not in ("minmax", "none"):
            raise ConfigError("matching.common_support must be 'minmax' or 'none'")
        return spec


# --------------------------------------------------------------------------------------
# design


def spline_knots(x: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Knots at the given quantiles of ``x`` (missing values ignored), made strictly increasing."""
    knots = np.quantile(np.asarray(x, dtype=float)[np.isfinite(x)], list(quantiles))
    knots = np.unique(knots)
    if len(knots) < 3:
        raise InputError(f"a spline needs at least 3 distinct knots; the data give {len(knots)}",
                         hint="use a numeric coding or other knot_quantiles for this covariate in matching.covariates")
    return knots


def restricted_cubic_spline(x: np.ndarray, knots: Sequence[float]) -> np.ndarray:
    """Restricted (natural) cubic spline basis of Harrell (2015, sec. 2.4.5): columns
    ``x`` and ``K - 2`` non-linear terms, linear beyond the outer knots.

    Term j: ``(x-t_j)_+^3 - (x-t_{K-1})_+^3 (t_K-t_j)/(t_K-t_{K-1}) + (x-t_K)_+^3 (t_{K-1}-t_j)/(t_K-t_{K-1})``,
    divided by ``(t_K - t_1)^2``.
    """
    x = np.asarray(x, dtype=float)
    t = np.asarray(knots, dtype=float)
    k = len(t)
    scale = (t[-1] - t[0]) ** 2

    def pos3(v: np.ndarray) -> np.ndarray:
        return np.where(v > 0, v, 0.0) ** 3

    columns = [x]
    for j in range(k - 2):
        term = (pos3(x - t[j])
                - pos3(x - t[k - 2]) * (t[k - 1] - t[j]) / (t[k - 1] - t[k - 2])
                + pos3(x - t[k - 1]) * (t[k - 2] - t[j]) / (t[k - 1] - t[k - 2]))
        columns.append(term / scale)
    return np.column_stack(columns)


def _categorical_levels(values: pd.Series, spec: CovariateSpec) -> np.ndarray:
    raw = values.astype("string").fillna("unknown").to_numpy(dtype=object)
    level = np.full(len(raw), None, dtype=object)
    for name, members in spec.levels.items():
        level[np.isin(raw, list(members))] = name
    missing = pd.isna(level)
    if missing.any():
        bad = sorted(set(raw[missing]))
        raise ConfigError(f"matching.covariates: {spec.name}: value(s) {', '.join(map(repr, bad))} belong to no level",
                          hint="list every category of the covariate under one of its levels")
    return level


def design_matrix(data: pd.DataFrame, covariates: Sequence[CovariateSpec]) -> pd.DataFrame:
    """The propensity design (without intercept): one column per indicator, numeric or spline term."""
    columns: dict[str, np.ndarray] = {}
    for spec in covariates:
        if spec.name not in data.columns:
            raise InputError(f"covariate {spec.name!r} is not a column of the candidate table",
                             hint="matching.covariates names columns of data/processed/candidates.parquet")
        values = data[spec.name]
        if spec.coding == "categorical":
            level = _categorical_levels(values, spec)
            for name in list(spec.levels)[1:]:
                columns[f"{spec.name}={name}"] = (level == name).astype(float)
            continue
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if not np.isfinite(x).all():
            raise InputError(f"covariate {spec.name!r} has {int((~np.isfinite(x)).sum())} missing value(s)",
                             hint="every unit needs every propensity covariate; check the register extracts")
        if spec.coding in ("indicator", "numeric"):
            columns[spec.name] = x
        else:
            basis = restricted_cubic_spline(x, spline_knots(x, spec.knot_quantiles))
            columns[spec.name] = basis[:, 0]
            for j in range(1, basis.shape[1]):
                columns[f"{spec.name}'{j}"] = basis[:, j]
    return pd.DataFrame(columns, index=data.index)


def balance_terms(data: pd.DataFrame, covariates: Sequence[CovariateSpec]) -> pd.DataFrame:
    """Covariates as balance is judged: every level of a categorical as an indicator, the others raw."""
    columns: dict[str, np.ndarray] = {}
    for spec in covariates:
        if spec.coding == "categorical":
            level = _categorical_levels(data[spec.name], spec)
            for name in spec.levels:
                columns[f"{spec.name}={name}"] = (level == name).astype(float)
        else:
            columns[spec.name] = pd.to_numeric(data[spec.name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return pd.DataFrame(columns, index=data.index)


INTERACTION = ":"
PROGNOSTIC = "prognostic_score"


def binary_terms(covariates: Sequence[CovariateSpec]) -> list[str]:
    """The binary covariates as balance terms: every ``indicator`` covariate and, of a
    categorical covariate with two levels, its second level (``name=level``)."""
    names = []
    for spec in covariates:
        if spec.coding == "indicator":
            names.append(spec.name)
        elif spec.coding == "categorical" and len(spec.levels) == 2:
            names.append(f"{spec.name}={list(spec.levels)[1]}")
    return names


def interaction_terms(terms: pd.DataFrame, binaries: Sequence[str]) -> pd.DataFrame:
    """Every pairwise product of the binary terms, named ``a:b`` (in the order of ``binaries``)."""
    columns = {}
    for i, a in enumerate(binaries):
        for b in binaries[i + 1:]:
            columns[f"{a}{INTERACTION}{b}"] = terms[a].to_numpy(dtype=float) * terms[b].to_numpy(dtype=float)
    return pd.DataFrame(columns, index=terms.index)


def prognostic_score(X: pd.DataFrame, outcome: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Hansen's (2008) prognostic score: the untreated outcome predicted from the baseline covariates.

    Ordinary least squares of ``outcome`` on an intercept and the propensity design ``X``
    (covariates measured at or before the reference month), fitted on the control units with
    an outcome only (no trainee's outcome enters), and predicted for every unit. Columns that
    are constant among those controls are left out. A minimum-norm least-squares solution is
    used, so collinear terms (e.g. a level absent among controls) give a prediction all the same.
    """
    y = np.asarray(outcome, dtype=float)
    fit_rows = ~np.asarray(treated, dtype=bool) & np.isfinite(y)
    if fit_rows.sum() < 2:
        raise InputError("the prognostic score needs the outcome of at least two control units",
                         hint="check the person x month table and the follow-up of the candidate controls")
    Z = X.to_numpy(dtype=float)
    keep = Z[fit_rows].std(axis=0) > 0
    design = np.column_stack([np.ones(len(y)), Z[:, keep]])
    beta, *_ = np.linalg.lstsq(design[fit_rows], y[fit_rows], rcond=None)
    return design @ beta


# --------------------------------------------------------------------------------------
# propensity score


@dataclass
class PropensityFit:
    """A fitted propensity model: scores and how they were obtained."""

    pscore: np.ndarray
    logit: np.ndarray
    terms: list[str]
    params: np.ndarray  # intercept first, then per standardised column
    std_errors: np.ndarray
    method: str
    converged: bool
    warnings: list[str] = field(default_factory=list)
    n: int = 0
    n_treated: int = 0
    dropped: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The ``ps_model`` table: one row per term with its estimate (per SD of the column), SE,
        the method, the units per group, the residual degrees of freedom (units minus
        parameters), convergence and warnings."""
        table = pd.DataFrame({
            "term": ["(intercept)"] + self.terms,
            "estimate": self.params,
            "se": self.std_errors,
            "method": self.method,
            "n_treated": self.n_treated,
            "n_control": self.n - self.n_treated,
            "df_resid": float(self.n - len(self.params)),
            "converged": int(self.converged),
            "warnings": "; ".join(self.warnings),
        })
        return table[column_names("ps_model")]


def separated_columns(X: pd.DataFrame, treated: np.ndarray) -> list[str]:
    """Binary columns that separate: constant among trainees or among controls but not overall
    (their coefficient has no finite maximum-likelihood estimate)."""
    t = treated.astype(bool)
    reasons = []
    for name in X.columns:
        x = X[name].to_numpy()
        if not np.isin(x, (0.0, 1.0)).all() or x.min() == x.max():
            continue
        if x[t].min() == x[t].max() or x[~t].min() == x[~t].max():
            reasons.append(name)
    return reasons


def _expit(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def propensity_score(X: pd.DataFrame, treated: np.ndarray, *, ridge_lambda: float = 1.0,
                     max_abs_coef: float = 10.0) -> PropensityFit:
    """Logistic propensity score of ``treated`` on ``X``, with a ridge fallback on separation."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning, PerfectSeparationWarning

    y = np.asarray(treated, dtype=float)
    sd = X.std(axis=0, ddof=0).to_numpy()
    constant = sd == 0
    dropped = [c for c, flag in zip(X.columns, constant) if flag]
    Xk = X.loc[:, ~constant]
    Z = (Xk.to_numpy() - Xk.mean(axis=0).to_numpy()) / Xk.std(axis=0, ddof=0).to_numpy()
    design = np.column_stack([np.ones(len(y)), Z])
    terms = list(Xk.columns)
    notes = [f"constant column {c} dropped" for c in dropped]

    separated = separated_columns(Xk, y)
    reasons = [f"{len(separated)} indicator(s) constant among trainees or among controls "
               f"({', '.join(separated)})"] if separated else []
    params = se = None
    converged = False
    if not reasons:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = sm.Logit(y, design).fit(method="newton", maxiter=100, disp=False)
                params, se = np.asarray(result.params), np.asarray(result.bse)
                converged = bool(result.mle_retvals.get("converged", False))
            except (np.linalg.LinAlgError, ValueError) as exc:
                reasons.append(f"maximum likelihood failed: {exc}")
        for w in caught:
            if issubclass(w.category, (PerfectSeparationWarning, ConvergenceWarning, HessianInversionWarning)):
                reasons.append(f"{w.category.__name__}: {w.message}")
        if params is not None and not reasons:
            if not converged:
                reasons.append("maximum likelihood did not converge")
            elif not np.isfinite(params).all() or np.abs(params[1:]).max(initial=0) > max_abs_coef:
                reasons.append(f"a standardised coefficient exceeds {max_abs_coef:g} (quasi-separation)")
    if reasons:
        n = len(y)
        alpha = np.full(design.shape[1], ridge_lambda / n)
        alpha[0] = 0.0
        model = sm.GLM(y, design, family=sm.families.Binomial())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = model.fit_regularized(method="elastic_net", alpha=alpha, L1_wt=0.0)
        params = np.asarray(result.params)
        se = np.full(len(params), np.nan)
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        method = f"ridge-penalised logistic regression (lambda={ridge_lambda:g}): separation detected"
        notes = notes + reasons
        log.warning("propensity score: separation detected (%s); fitted with a ridge penalty lambda=%g",
                    "; ".join(reasons), ridge_lambda)
    else:
        method = "maximum-likelihood logistic regression"
    logit = design @ params
    return PropensityFit(pscore=_expit(logit), logit=logit, terms=terms, params=params, std_errors=se, method=method,
                         converged=converged, warnings=notes, n=len(y), n_treated=int(y.sum()), dropped=dropped)


# --------------------------------------------------------------------------------------
# matching


def caliper_width(logit: np.ndarray, treated: np.ndarray, caliper_sd: float) -> float:
    """``caliper_sd`` times the pooled SD of the logit, ``sqrt((s_t^2 + s_c^2) / 2)``."""
    t = np.asarray(treated, dtype=bool)
    var_t = np.var(logit[t], ddof=1) if t.sum() > 1 else 0.0
    var_c = np.var(logit[~t], ddof=1) if (~t).sum() > 1 else 0.0
    return float(caliper_sd * np.sqrt((var_t + var_c) / 2.0))


def nearest_neighbours(logit: np.ndarray, treated: np.ndarray, strata: np.ndarray, tie_order: np.ndarray, *,
                       k: int, caliper: float, ties: bool = True, common_support: str = "minmax",
                       min_controls: int = 1, select: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """k-nearest-neighbour matching with replacement, exact on ``strata``.

    Returns the pairs (``trainee``, ``control`` as positions in the input, ``distance``) and
    each trainee's status (``matched``, ``off_support``, ``no_control_in_caliper``), indexed by
    position. Controls are considered in ``tie_order``; with ``ties`` every control at the
    k-th distance is included, otherwise the first ``k`` in (distance, ``tie_order``) order.
    A trainee with fewer than ``min_controls`` controls inside the caliper is
    ``no_control_in_caliper``. ``select`` (boolean, default all): the trainees to match.
    """
    logit = np.asarray(logit, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    strata = np.asarray(strata)
    tie_order = np.asarray(tie_order)
    wanted = treated if select is None else treated & np.asarray(select, dtype=bool)
    pairs_t, pairs_c, pairs_d = [], [], []
    status: dict[int, str] = {}
    by_stratum = np.argsort(strata, kind="stable")  # each stratum's rows, in input order
    sorted_strata = strata[by_stratum]
    present = np.unique(strata[wanted]) if wanted.any() else strata[:0]
    starts = np.searchsorted(sorted_strata, present, side="left")
    ends = np.searchsorted(sorted_strata, present, side="right")
    for start, end in zip(starts, ends):
        members = by_stratum[start:end]
        trainees = members[wanted[members]]
        controls = members[~treated[members]]
        if len(trainees) == 0:
            continue
        controls = controls[np.argsort(tie_order[controls], kind="stable")]
        lc = logit[controls]
        lo, hi = (lc.min(), lc.max()) if len(controls) else (np.inf, -np.inf)
        for i in trainees[np.argsort(tie_order[trainees], kind="stable")]:
            lt = logit[i]
            if len(controls) == 0 or (common_support == "minmax" and (lt < lo - _TOL or lt > hi + _TOL)):
                status[int(i)] = OFF_SUPPORT
                continue
            d = np.abs(lc - lt)
            inside = np.flatnonzero(d <= caliper + _TOL)
            if len(inside) < max(min_controls, 1):
                status[int(i)] = NO_CONTROL
                continue
            order = inside[np.lexsort((tie_order[controls[inside]], d[inside]))]
            if len(order) > k:
                if ties:
                    kth = d[order[k - 1]]
                    order = order[d[order] <= kth + _TOL]
                else:
                    order = order[:k]
            status[int(i)] = MATCHED
            pairs_t.extend([int(i)] * len(order))
            pairs_c.extend(controls[order].tolist())
            pairs_d.extend(d[order].tolist())
    pairs = pd.DataFrame({"trainee": np.asarray(pairs_t, dtype=np.int64),
                          "control": np.asarray(pairs_c, dtype=np.int64), "distance": np.asarray(pairs_d, dtype=float)})
    return pairs, pd.Series(status, dtype="string").sort_index()


def cell_levels(exact: Sequence[str], coarsen: Sequence[str]) -> list[tuple[str, ...]]:
    """The exact-matching cells from the finest to the coarsest: ``exact``, then ``exact``
    without the first column of ``coarsen``, without the first two, ... (the coarsening rule)."""
    levels = [tuple(exact)]
    for column in coarsen:
        levels.append(tuple(c for c in levels[-1] if c != column))
    return levels


def exact_columns(data: pd.DataFrame, spec: "MatchingSpec") -> pd.DataFrame:
    """The exact-matching columns as matching uses them: a categorical propensity covariate by
    its collapsed level (``matching.covariates``; e.g. sex ``unknown`` with ``man``), any other
    column by its value (a missing value is a value of its own)."""
    coded = {c.name: c for c in spec.covariates if c.coding == "categorical"}
    out = pd.DataFrame(index=data.index)
    for column in spec.exact:
        if column in coded:
            values = _categorical_levels(data[column], coded[column])
        else:
            values = data[column].astype("string").fillna("<missing>").to_numpy(dtype=object)
        # integer codes in the sorted order of the values as text (what cell_codes sorts by)
        out[column] = pd.factorize(np.asarray(values).astype(str), sort=True)[0].astype(np.int64)
    return out


def cell_codes(data: pd.DataFrame, columns: Sequence[str], extra: np.ndarray | None = None) -> np.ndarray:
    """One integer per row for its cell: the combination of ``columns`` (and ``extra``), numbered
    in the sorted order of the value tuples (each column's values sorted as text; a column of
    non-negative integers is taken as codes already in that order, as :func:`exact_columns` gives)."""
    arrays = [data[c].to_numpy() for c in columns]
    if extra is not None:
        arrays.append(np.asarray(extra))
    if not arrays:
        return np.zeros(len(data), dtype=np.int64)
    code = np.zeros(len(data), dtype=np.int64)
    for values in arrays:
        if values.dtype.kind in "iu" and (len(values) == 0 or values.min() >= 0):
            codes, radix = values.astype(np.int64), int(values.max(initial=-1)) + 1  # codes already (exact_columns)
        else:
            codes, uniques = pd.factorize(values.astype(str), sort=True)
            radix = len(uniques)
        code = code * radix + codes
    return np.unique(code, return_inverse=True)[1].astype(np.int64)


def coarsened_matching(logit: np.ndarray, treated: np.ndarray, cells: Sequence[np.ndarray], tie_order: np.ndarray, *,
                       k: int, caliper: float, ties: bool = True, common_support: str = "minmax", min_controls: int = 1,
                       select: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Nearest-neighbour matching in the finest cell that serves the trainee (the coarsening rule).

    ``cells``: cell codes per row from the finest (all exact columns) to the coarsest. A trainee
    is matched in the first cell where it is on common support and has at least
    ``min_controls`` controls inside the caliper; in the coarsest cell one control suffices, and
    a trainee matched nowhere keeps the status of the coarsest cell (``off_support`` or
    ``no_control_in_caliper``). Returns the pairs and the status as :func:`nearest_neighbours`
    does, and per trainee the level of the cell it was matched in (0 = the full cell).
    """
    treated = np.asarray(treated, dtype=bool)
    pending = treated.copy() if select is None else treated & np.asarray(select, dtype=bool)
    parts, status, level = [], {}, {}
    for j, strata in enumerate(cells):
        last = j == len(cells) - 1
        pairs, st = nearest_neighbours(logit, treated, strata, tie_order, k=k, caliper=caliper, ties=ties,
                                       common_support=common_support, min_controls=1 if last else min_controls,
                                       select=pending)
        done = st.index[(st == MATCHED).to_numpy()].to_numpy(dtype=np.int64)
        parts.append(pairs)
        for i in done:
            status[int(i)], level[int(i)] = MATCHED, j
        pending[done] = False
        if last:
            for i, value in st[st != MATCHED].items():
                status[int(i)], level[int(i)] = str(value), j
        if not pending.any():
            break
    pairs = (pd.concat(parts, ignore_index=True) if parts
             else pd.DataFrame({"trainee": [], "control": [], "distance": []}))
    return (pairs, pd.Series(status, dtype="string").sort_index(),
            pd.Series(level, dtype="int64").sort_index())


def pair_weights(pairs: pd.DataFrame) -> np.ndarray:
    """``1/k_i`` for each pair (``k_i`` = controls matched to the pair's trainee)."""
    k_i = pairs.groupby("trainee")["control"].transform("size").to_numpy()
    return 1.0 / k_i


def control_weights(pairs: pd.DataFrame, *, mode: str = "matching", pscore: np.ndarray | None = None,
                    strata: np.ndarray | None = None) -> pd.Series:
    """Weight per matched control (indexed by position).

    ``matching``: sum over the trainees it serves of ``1/k_i``. ``odds``: ``p/(1-p)`` scaled so
    that the controls of each stratum sum to the stratum's matched trainees.
    """
    w = pd.Series(pair_weights(pairs), index=pairs.index)
    matching = w.groupby(pairs["control"]).sum()
    if mode == "matching":
        return matching
    strata = np.asarray(strata)
    index = matching.index.to_numpy()
    p = np.asarray(pscore, dtype=float)[index]
    odds = pd.Series(p / (1.0 - p), index=matching.index)
    stratum = pd.Series(strata[index], index=matching.index)
    n_trainees = pd.Series(strata[pairs["trainee"].unique()]).value_counts()
    return odds / odds.groupby(stratum).transform("sum") * stratum.map(n_trainees)


# --------------------------------------------------------------------------------------
# balance and overlap


def weighted_mean_var(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and variance ``sum w (x-m)^2 / (V1 - V2/V1)`` (reliability weights;
    equal weights give the usual ``n - 1`` variance)."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    v1, v2 = w.sum(), (w**2).sum()
    if v1 <= 0:
        return float("nan"), float("nan")
    m = float((w * x).sum() / v1)
    denom = v1 - v2 / v1
    var = float((w * (x - m) ** 2).sum() / denom) if denom > 0 else float("nan")
    return m, var


def standardised_differences(terms: pd.DataFrame, treated: np.ndarray, weights: np.ndarray, matched: np.ndarray,
                             indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``balance`` table: standardised mean differences and variance ratios with their units.

    Before: all units, unweighted. After: units with ``matched``, weighted by ``weights``. The
    SMD's denominator is the before-matching ``sqrt((s_t^2 + s_c^2) / 2)`` in both columns.
    ``n_treated_before, n_control_before, n_treated, n_control`` count the units behind each
    column (unweighted); for an indicator term ``n_*_with*`` count the units having the value, so
    that the export can check the units with and without it (empty otherwise). ``indicators``
    names the indicator terms (default: every term whose values are all 0 or 1).
    """
    t = np.asarray(treated, dtype=bool)
    m = np.asarray(matched, dtype=bool)
    w = np.asarray(weights, dtype=float)
    rows = []
    for name in terms.columns:
        x = terms[name].to_numpy(dtype=float)
        mt_b, vt_b = weighted_mean_var(x[t], np.ones(t.sum()))
        mc_b, vc_b = weighted_mean_var(x[~t], np.ones((~t).sum()))
        mt_a, vt_a = weighted_mean_var(x[t & m], w[t & m])
        mc_a, vc_a = weighted_mean_var(x[~t & m], w[~t & m])
        denom = np.sqrt((vt_b + vc_b) / 2.0)

        def smd(diff: float) -> float:
            if denom > 0:
                return diff / denom
            return 0.0 if abs(diff) < _TOL else float("nan")

        def ratio(a: float, b: float) -> float:
            return a / b if b > 0 else float("nan")

        indicator = name in indicators if indicators is not None else bool(np.isin(x[np.isfinite(x)], (0.0, 1.0)).all())

        def with_value(mask: np.ndarray) -> float:
            return float(np.nansum(x[mask])) if indicator else float("nan")

        rows.append({"covariate": name, "smd_before": smd(mt_b - mc_b), "smd_after": smd(mt_a - mc_a),
                     "variance_ratio_before": ratio(vt_b, vc_b), "variance_ratio_after": ratio(vt_a, vc_a),
                     "n_treated_before": int(t.sum()), "n_control_before": int((~t).sum()),
                     "n_treated_with_before": with_value(t), "n_control_with_before": with_value(~t),
                     "n_treated": int((t & m).sum()), "n_control": int((~t & m).sum()),
                     "n_treated_with": with_value(t & m), "n_control_with": with_value(~t & m)})
    table = pd.DataFrame(rows, columns=column_names("balance"))
    for column in ("n_treated_with_before", "n_control_with_before", "n_treated_with", "n_control_with"):
        table[column] = table[column].round().astype("Int64")
    return table


def overlap_table(logit: np.ndarray, treated: np.ndarray, matched: np.ndarray, *, bins: int) -> pd.DataFrame:
    """The ``ps_overlap`` table: units per bin of the logit of the score, per sample (``eligible``:
    all units; ``matched``) and group (``treated``, ``control``). ``bins`` bins of equal width
    between the whole numbers around the lowest and highest logit, the same for every group."""
    logit = np.asarray(logit, dtype=float)
    t = np.asarray(treated, dtype=bool)
    m = np.asarray(matched, dtype=bool)
    lo, hi = float(np.floor(logit.min())), float(np.ceil(logit.max()))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    index = np.clip(np.searchsorted(edges, logit, side="right") - 1, 0, bins - 1)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(index[mask], minlength=bins)

    parts = []
    for sample, selected in (("eligible", np.ones(len(t), dtype=bool)), ("matched", m)):
        for group, members in (("control", ~t), ("treated", t)):
            parts.append(pd.DataFrame({"sample": sample, "group": group, "bin_low": edges[:-1], "bin_high": edges[1:],
                                       "n": count(selected & members).astype(np.int64)}))
    return pd.concat(parts, ignore_index=True)[column_names("ps_overlap")]


# --------------------------------------------------------------------------------------
# the whole step


@dataclass
class MatchResult:
    pairs: pd.DataFrame
    matched: pd.DataFrame
    balance: pd.DataFrame
    overlap: pd.DataFrame
    model: PropensityFit
    status: pd.DataFrame  # trainee unit, status, cell_level (0 = the full exact cell)
    caliper: float
    flow: list[tuple[str, int, str, int]]
    modifier_pairs: pd.DataFrame | None = None
    data: pd.DataFrame | None = None  # the candidates in processing order
    is_matched: np.ndarray | None = None


def _pairs_table(pairs: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    units = data["unit"].astype(str).to_numpy()
    pair_w = pair_weights(pairs) if len(pairs) else np.zeros(0)
    out = pd.DataFrame({
        "trainee_unit": units[pairs["trainee"].to_numpy(dtype=np.int64)] if len(pairs) else np.array([], dtype=object),
        "control_unit": units[pairs["control"].to_numpy(dtype=np.int64)] if len(pairs) else np.array([], dtype=object),
        "cohort": (data["cohort"].astype(str).to_numpy()[pairs["trainee"].to_numpy(dtype=np.int64)] if len(pairs)
                   else np.array([], dtype=object)),
        "distance": pairs["distance"].to_numpy(dtype=float),
        "weight": pair_w,
    }).sort_values(["trainee_unit", "control_unit"], kind="mergesort").reset_index(drop=True)
    for c in ("trainee_unit", "control_unit", "cohort"):
        out[c] = out[c].astype("string")
    return out


def match_candidates(candidates: pd.DataFrame, spec: MatchingSpec, *, outcome: pd.Series | None = None) -> MatchResult:
    """Propensity score, matching, weights, balance and overlap on the candidate table.

    ``candidates`` has one row per unit: ``unit, person, cohort, treated, tie_order``, the
    exact-matching columns and the covariates. Rows are processed in ``tie_order`` order, so
    that nothing depends on the pseudonyms. Matching is exact on ``spec.exact``, coarsened as
    :func:`coarsened_matching` says along ``spec.coarsen``. ``outcome`` (by unit; the control
    units' outcome for :func:`prognostic_score`) adds the prognostic score to the balance table.
    """
    check_read(candidates, "candidates", columns=MATCHING_INPUT)
    missing = [c for c in spec.exact if c not in candidates.columns]
    if missing:
        raise InputError(f"the candidate table lacks column(s) {', '.join(missing)}",
                         hint="matching.exact names columns of data/processed/candidates.parquet")
    data = candidates.sort_values(["tie_order", *spec.exact], kind="mergesort").reset_index(drop=True)
    treated = data["treated"].to_numpy().astype(bool)
    if treated.sum() == 0 or (~treated).sum() == 0:
        raise InputError("the candidate table needs trainees and control candidates to match",
                         hint="check the eligibility counts in the candidates log")
    X = design_matrix(data, spec.covariates)
    fit = propensity_score(X, treated, ridge_lambda=spec.ridge_lambda, max_abs_coef=spec.max_abs_coef)
    exact = exact_columns(data, spec)
    cells = [cell_codes(exact, level) for level in cell_levels(spec.exact, spec.coarsen)]
    caliper = caliper_width(fit.logit, treated, spec.caliper_sd)
    pairs, status, cell_level = coarsened_matching(fit.logit, treated, cells, data["tie_order"].to_numpy(), k=spec.k,
                                                   caliper=caliper, ties=spec.ties, common_support=spec.common_support,
                                                   min_controls=spec.min_controls)
    weights = np.zeros(len(data))
    if len(pairs):
        cw = control_weights(pairs, mode=spec.weights, pscore=fit.pscore, strata=cells[-1])
        weights[cw.index.to_numpy()] = cw.to_numpy()
    matched_trainees = status[status == MATCHED].index.to_numpy(dtype=np.int64)
    weights[matched_trainees] = 1.0
    is_matched = np.zeros(len(data), dtype=bool)
    is_matched[matched_trainees] = True
    if len(pairs):
        is_matched[pairs["control"].to_numpy(dtype=np.int64)] = True

    units = data["unit"].astype(str).to_numpy()
    pairs_out = _pairs_table(pairs, data)

    matched = _matched_table(data, weights, is_matched, fit.pscore)

    balance = _balance_table(data, spec, X, treated, weights, is_matched, outcome)
    poor = balance[balance["smd_after"].abs() >= spec.balance_threshold]
    for row in poor.itertuples(index=False):
        log.warning("balance: |SMD| after matching %.3f >= %g for %s", row.smd_after, spec.balance_threshold,
                    row.covariate)
    overlap = overlap_table(fit.logit, treated, is_matched, bins=spec.overlap_bins)

    trainee_pos = np.flatnonzero(treated)
    status_full = status.reindex(trainee_pos).fillna(OFF_SUPPORT)
    level_full = cell_level.reindex(trainee_pos).fillna(len(cells) - 1).astype(np.int64)
    status_table = pd.DataFrame({"unit": units[trainee_pos], "status": status_full.to_numpy(dtype=object),
                                 "cell_level": level_full.to_numpy()})
    n_matched = int((status_full == MATCHED).sum())
    n_coarsened = int(((status_full == MATCHED).to_numpy() & (level_full.to_numpy() > 0)).sum())
    controls = data[~treated & is_matched]
    flow = [
        ("employees", FLOW_ORDER["excluded_off_common_support"], "excluded_off_common_support",
         int((status_full == OFF_SUPPORT).sum())),
        ("employees", FLOW_ORDER["excluded_no_control_in_caliper"], "excluded_no_control_in_caliper",
         int((status_full == NO_CONTROL).sum())),
        ("employees", FLOW_ORDER["matched"], "matched", n_matched),
        ("employees", FLOW_ORDER["of_which_matched_in_full_exact_cell"], "of_which_matched_in_full_exact_cell",
         n_matched - n_coarsened),
        ("employees", FLOW_ORDER["of_which_matched_after_coarsening"], "of_which_matched_after_coarsening",
         n_coarsened),
        ("controls", FLOW_ORDER["matched_control_persons"], "matched_control_persons",
         int(controls["person"].nunique())),
        ("controls", FLOW_ORDER["matched_control_units"], "matched_control_units", int(len(controls))),
    ]
    log.info("matching: caliper %.4f on the logit; %d of %d trainees matched (%d after coarsening) to %d "
             "control units (%d persons)",
             caliper, n_matched, len(trainee_pos), n_coarsened, len(controls), controls["person"].nunique())
    result = MatchResult(pairs=check_written(pairs_out, "pairs"), matched=check_written(matched, "matched"),
                         balance=balance, overlap=overlap, model=fit,
                         status=status_table.sort_values("unit", kind="mergesort").reset_index(drop=True),
                         caliper=caliper, flow=flow, data=data, is_matched=is_matched)
    return result


def _matched_table(data: pd.DataFrame, weights: np.ndarray, is_matched: np.ndarray, pscore: np.ndarray) -> pd.DataFrame:
    """The matched units with their weight and propensity score, sorted by unit (no tie order)."""
    matched = data[is_matched].copy()
    matched.insert(4, "weight", weights[is_matched])
    matched.insert(5, "pscore", pscore[is_matched])
    matched = matched.drop(columns=["tie_order"])
    front = ["unit", "person", "cohort", "treated", "weight", "pscore"]
    matched = matched[front + [c for c in matched.columns if c not in front]]
    matched = matched.sort_values("unit", kind="mergesort").reset_index(drop=True)
    return matched


def _balance_table(data: pd.DataFrame, spec: MatchingSpec, X: np.ndarray, treated: np.ndarray, weights: np.ndarray,
                   is_matched: np.ndarray, outcome: pd.Series | None) -> pd.DataFrame:
    """Standardised differences before and after matching of the covariates' balance terms, their
    pairwise products of binary terms and (with ``outcome`` and ``spec.prognostic``) the
    prognostic score."""
    terms = balance_terms(data, spec.covariates)
    indicators = [c for c in terms.columns
                  if "=" in c or c in {s.name for s in spec.covariates if s.coding == "indicator"}]
    products = interaction_terms(terms, binary_terms(spec.covariates))
    terms = pd.concat([terms, products], axis=1)
    indicators += list(products.columns)
    if outcome is not None and spec.prognostic:
        y = (pd.to_numeric(pd.Series(outcome), errors="coerce")
             .reindex(data["unit"].astype(str).to_numpy()).to_numpy(dtype=float))
        terms[PROGNOSTIC] = prognostic_score(X, y, treated)
    balance = standardised_differences(terms, treated, weights, is_matched, indicators=indicators)
    return balance


# --------------------------------------------------------------------------------------
# effect modifiers: re-matching within each level


MODIFIER_PAIR_COLUMNS = file_contract("modifier_pairs").column_names  # docs/files.md#modifier_pairs


def modifier_pairs(result: MatchResult, spec: MatchingSpec,
                   modifiers: Sequence[tuple[str, pd.Series, bool]]) -> pd.DataFrame:
    """The pairs of every modifier level (``data/processed/modifier_pairs.parquet``).

    ``modifiers``: per modifier its name, the level of every unit (a Series by unit; trainees
    only where ``rematch`` is false) and ``rematch``. With ``rematch`` the trainees of a level
    (those matched in the main analysis) are matched again among the controls of that level:
    the same scores and caliper, the cells of the main analysis with the modifier added (the
    coarsening rule never drops it), so every control lies in the level of the trainees it
    serves. Without it (a supervisor's answer: controls have no supervisor) a level keeps the
    main pairs of its trainees (the control inherits the trainee's level). ``weight`` is the
    pair weight ``1/k_i``; a control's weight in the level is the sum over its pairs. A trainee
    that finds no control in its level has one row with an empty ``control_unit`` (weight 0).
    """
    data = result.data
    treated = data["treated"].to_numpy().astype(bool)
    units = data["unit"].astype(str)
    main = np.zeros(len(data), dtype=bool)
    main_units = set(result.status.loc[result.status["status"] == MATCHED, "unit"].astype(str))
    main[np.flatnonzero(treated & units.isin(main_units).to_numpy())] = True
    parts = []
    exact_codes = exact_columns(data, spec)
    logit, tie_order = result.model.logit, data["tie_order"].to_numpy()
    for name, unit_level, rematch in modifiers:
        level = unit_level.reindex(units.to_numpy())
        if not rematch:
            trainee_level = unit_level.astype("string")
            pairs = result.pairs
            lev = pairs["trainee_unit"].map(trainee_level)
            parts.append(pd.DataFrame({"modifier": name, "level": lev.to_numpy(dtype=object),
                                       "treated_unit": pairs["trainee_unit"].to_numpy(dtype=object),
                                       "control_unit": pairs["control_unit"].to_numpy(dtype=object),
                                       "weight": pairs["weight"].to_numpy(dtype=float)}))
            continue
        values = level.to_numpy(dtype=object)
        known = pd.notna(values)
        for value in sorted(set(values[main & known])):
            # only the units of the level take part: the level is an exact column never dropped
            rows = np.flatnonzero(known & (values == value))
            exact = exact_codes.iloc[rows]
            cells = [cell_codes(exact, columns) for columns in cell_levels(spec.exact, spec.coarsen)]
            pairs, status, _ = coarsened_matching(logit[rows], treated[rows], cells, tie_order[rows], k=spec.k,
                                                  caliper=result.caliper, ties=spec.ties,
                                                  common_support=spec.common_support, min_controls=spec.min_controls,
                                                  select=main[rows])
            for column in ("trainee", "control"):  # positions in the level -> positions in the table
                pairs[column] = rows[pairs[column].to_numpy(dtype=np.int64)]
            table = _pairs_table(pairs, data)
            unmatched = units.to_numpy()[rows[status.index[(status != MATCHED).to_numpy()].to_numpy(dtype=np.int64)]]
            parts.append(pd.DataFrame({"modifier": name, "level": str(value),
                                       "treated_unit": np.concatenate([table["trainee_unit"].to_numpy(dtype=object),
                                                                       unmatched.astype(object)]),
                                       "control_unit": np.concatenate([table["control_unit"].to_numpy(dtype=object),
                                                                       np.full(len(unmatched), None, dtype=object)]),
                                       "weight": np.concatenate([table["weight"].to_numpy(dtype=float),
                                                                 np.zeros(len(unmatched))])}))
            if len(unmatched):
                log.info("modifier %s = %s: %d trainee unit(s) without a control of the level", name, value,
                         len(unmatched))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(MODIFIER_PAIR_COLUMNS))
    out = out.sort_values(["modifier", "level", "treated_unit", "control_unit"], kind="mergesort",
                          na_position="last").reset_index(drop=True)
    for c in ("modifier", "level", "treated_unit", "control_unit"):
        out[c] = out[c].astype("string")
    out["weight"] = out["weight"].astype(float)
    return check_written(out[list(MODIFIER_PAIR_COLUMNS)], "modifier_pairs")
