"""Change in the supervisors' knowledge, self-efficacy, intention and behaviour over the waves.

Per construct a linear mixed model, fitted by REML::

    score ~ wave  +  (1 + post | training_group)  +  (1 | supervisor)

with wave a categorical fixed effect (the reference wave, T0, as baseline), ``post`` = 1 at every
wave after the reference wave, and supervisors nested in training groups: ``groups=training_group``
with a random intercept and a random post-training slope per group (correlated,
``re_formula="~post"``) and the supervisor as a variance component (supervisor ids are unique
across groups). The training is given per group, so groups can change by different amounts; the
group slope carries that variation into the standard errors of every change, and most into the
comparison of online with on-site groups (a property of the group). Every supervisor contributes
every wave they answered, so under drop-out that depends on earlier observed scores (missing at
random) the estimates stay unbiased, unlike an analysis of complete cases.

The best statsmodels fit over several optimizers is finished by a bounded search of lme4's
profiled REML deviance (:func:`~mentorwijs.supervisors.satterthwaite.polish`); fixed effects,
their conventional covariance sigma^2 (X' V^-1 X)^-1 and the variance components are those of
that optimum (equal to lme4's). Contrasts are wave minus reference wave, with t-based 95%
intervals and two-sided p on Satterthwaite degrees of freedom computed as lmerTest does
(:mod:`~mentorwijs.supervisors.satterthwaite`); when those cannot be computed the df are the
number of training groups minus 1 and the row's warnings say so. ``p_holm`` applies Holm's
step-down correction over all contrasts of all constructs. The effect size is the contrast
divided by the SD (n - 1) of all reference-wave scores of that construct. Waves are whatever
the data hold: a new wave adds rows, no code.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mentorwijs.contracts import column_names
from mentorwijs.errors import InputError
from mentorwijs.supervisors._common import (
    natural_key,
    require_columns,
    require_range,
    require_unique,
    sort_rows,
    sorted_waves,
)
from mentorwijs.supervisors.mixed import (
    DEFAULT_OPTIMIZERS,
    MixedFit,
    fit_mixed_model,
    fixed_effects_covariance,
)
from mentorwijs.supervisors.satterthwaite import RemlDeviance, boundary_notes, polish, satterthwaite

log = logging.getLogger(__name__)

#: Range of a scale score (mean of five-point items).
SCORE_RANGE = (1.0, 5.0)

#: Columns of the tables, in order: their contracts (mentorwijs.contracts).
EFFECT_COLUMNS = column_names("supervisor_effects")
MEAN_COLUMNS = column_names("supervisor_means")
SENSITIVITY_COLUMNS = column_names("supervisor_sensitivity")


# --------------------------------------------------------------------------------------------
# input


def check_supervisors_long(
    long: pd.DataFrame,
    constructs: Sequence[str],
    *,
    reference_wave: str,
    table: str = "supervisors_long",
) -> list[str]:
    """Check the contract of ``supervisors_long`` and return its waves in time order.

    One row per supervisor per wave, each supervisor in one training group, scores within
    1..5 (or missing), the reference wave present.
    """
    require_columns(long, ["supervisor", "training_group", "wave", *constructs], table=table)
    waves = sorted_waves(long["wave"], table=table)
    if reference_wave not in waves:
        raise InputError(
            f"the reference wave {reference_wave!r} is not in the data (waves: {', '.join(waves) or 'none'})",
            file=table,
            column="wave",
            hint="set supervisors.reference_wave in config.yaml to a wave the data hold",
        )
    for column in ("supervisor", "training_group"):
        missing = long[column].isna()
        if missing.any():
            raise InputError(
                f"{column} is missing",
                file=table,
                row=int(np.flatnonzero(missing.to_numpy())[0]) + 1,
                column=column,
                hint="every row needs its supervisor and training group",
            )
    require_unique(long, ["supervisor", "wave"], table=table)
    groups_per = long.groupby("supervisor")["training_group"].nunique()
    if (groups_per > 1).any():
        supervisor = groups_per[groups_per > 1].index[0]
        raise InputError(
            f"supervisor {supervisor!s} is in more than one training group",
            file=table,
            column="training_group",
            hint="a supervisor takes one training: give each supervisor one training group",
        )
    for construct in constructs:
        require_range(long, construct, *SCORE_RANGE, table=table)
        at_reference = long.loc[long["wave"] == reference_wave, construct]
        if at_reference.notna().sum() < 2:
            raise InputError(
                f"{construct} has fewer than two scores at the reference wave {reference_wave}",
                file=table,
                column=construct,
                hint="check supervisors.constructs in config.yaml and the scale scores of the reference wave",
            )
    return waves


# --------------------------------------------------------------------------------------------
# one model, any contrasts


@dataclass
class ContrastResult:
    """Linear combinations of the fixed effects of one fitted model, with the fit's details."""

    fit: MixedFit
    estimates: dict[str, tuple[float, float, float]]  # label -> (estimate, se, df)
    n_obs: int
    n_supervisors: int
    n_groups: int
    notes: list[str] = field(default_factory=list)
    group_variance: float = math.nan
    supervisor_variance: float = math.nan
    residual_variance: float = math.nan
    boundary: list[str] = field(default_factory=list)
    slope_variance: float = math.nan
    slope_covariance: float = math.nan
    reml_loglik: float = math.nan

    @property
    def converged(self) -> int:
        return int(self.fit.ok and self.fit.converged)

    @property
    def warnings(self) -> str:
        # the boundary notes of statsmodels' fit are replaced by those of the final optimum
        kept = [w for w in self.fit.warnings if not w.startswith("boundary: ")]
        return "; ".join(dict.fromkeys([*kept, *(f"boundary: {b}" for b in self.boundary), *self.notes]))


def wave_dummies(wave: pd.Series, waves: Sequence[str], reference: str) -> pd.DataFrame:
    """0/1 columns ``wave[Tk]`` for every wave but the reference."""
    return pd.DataFrame(
        {f"wave[{w}]": (wave == w).astype(float).to_numpy() for w in waves if w != reference},
        index=wave.index,
    )


def mixed_contrasts(
    data: pd.DataFrame,
    outcome: str,
    design: pd.DataFrame,
    contrasts: Mapping[str, Mapping[str, float]],
    *,
    post: pd.Series | None = None,
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
) -> ContrastResult:
    """Fit ``outcome ~ design`` with training-group and supervisor random effects (REML).

    ``design`` holds the fixed-effect columns (an intercept is added as ``Intercept``);
    ``contrasts`` maps a label to coefficients on those columns. ``post`` (0/1 per row, 1 after
    the reference wave) adds a random post-training slope per training group, correlated with
    the group's intercept; without it (or when it does not vary) the group has an intercept
    only. A design column without any nonzero value (e.g. a wave nobody answered) is left out
    and every contrast that needs it is missing, with a note. Returns estimate, SE and
    Satterthwaite df of each contrast.
    """
    frame, names, kept, empty, notes, slope = _mixed_frame(data, outcome, design, post)
    formula = "y ~ " + (" + ".join(names[c] for c in kept) if kept else "1")
    model = smf.mixedlm(
        formula,
        frame,
        groups="training_group",
        re_formula="~post" if slope else "1",
        vc_formula={"supervisor": "0 + C(supervisor)"},
    )
    fit = fit_mixed_model(model, reml=True, optimizers=optimizers)
    result = ContrastResult(
        fit=fit,
        estimates={},
        n_obs=len(frame),
        n_supervisors=int(frame["supervisor"].nunique()),
        n_groups=int(frame["training_group"].nunique()),
        notes=notes,
    )
    if not fit.ok:
        result.estimates = {label: (math.nan, math.nan, math.nan) for label in contrasts}
        return result
    try:
        deviance = RemlDeviance(model)
        phi, value = polish(deviance, deviance.phi_from_result(fit.result))
        beta, cov = deviance.fixed(phi)
        inference = satterthwaite(deviance, phi)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        # statsmodels' own optimum stands; the df fall back to groups - 1 (said below)
        reason = str(exc).strip() or type(exc).__name__
        result.notes.append(f"finishing the fit on lme4's deviance failed ({reason}): statsmodels' optimum is reported")
        return _statsmodels_contrasts(result, model, contrasts, names, kept, empty, slope, reason)
    _lme4_contrasts(result, model, contrasts, names, kept, empty, beta, cov, inference)
    cov_re, vcomp, scale = deviance.variances(phi)
    result.group_variance = float(cov_re[0, 0])
    if slope:
        result.slope_variance = float(cov_re[1, 1])
        result.slope_covariance = float(cov_re[1, 0])
    result.supervisor_variance = float(vcomp[0])
    result.residual_variance = float(scale)
    result.reml_loglik = -value / 2
    result.boundary = boundary_notes(deviance, phi, ["training_group", "training_group slope"][: 1 + slope])
    if result.boundary:
        result.notes.append("Satterthwaite df treat a variance at the boundary as known (as lmerTest)")
    return result


def _mixed_frame(data: pd.DataFrame, outcome: str, design: pd.DataFrame,
                 post: pd.Series | None) -> tuple[pd.DataFrame, dict[str, str], list[str], list[str], list[str], bool]:
    """The model frame of :func:`mixed_contrasts`: ``y``, the grouping columns and the design
    columns with any nonzero value (renamed x1, x2, ...), plus ``post`` where it varies. Returns the
    frame, the new names, the kept and the empty design columns, the notes and whether the
    training groups get a slope."""
    design = design.loc[data.index]
    empty = [c for c in design.columns if not (design[c] != 0).any()]
    kept = [c for c in design.columns if c not in empty]
    notes = [f"no data for {c}" for c in empty]
    names = {c: f"x{i}" for i, c in enumerate(kept, start=1)}
    frame = pd.DataFrame(
        {
            "y": data[outcome].astype(float).to_numpy(),
            "training_group": data["training_group"].astype(str).to_numpy(),
            "supervisor": data["supervisor"].astype(str).to_numpy(),
            **{names[c]: design[c].astype(float).to_numpy() for c in kept},
        }
    )
    slope = post is not None
    if slope:
        frame["post"] = post.loc[data.index].astype(float).to_numpy()
        if frame["post"].nunique() < 2:
            slope = False
            notes.append("no group slope: every score is on the same side of the reference wave")
    return frame, names, kept, empty, notes, slope


def _lme4_contrasts(result: ContrastResult, model: Any, contrasts: Mapping[str, Mapping[str, float]],
                    names: Mapping[str, str], kept: Sequence[str], empty: Sequence[str], beta: np.ndarray,
                    cov: np.ndarray, inference: Any) -> None:
    """Estimate, SE and Satterthwaite df of each contrast from the fit on lme4's deviance, into
    ``result.estimates`` (missing where a contrast needs an empty column); where the df are not
    available they fall back to training groups - 1, with a note."""
    fe_names = list(model.exog_names)
    position = {"Intercept": fe_names.index("Intercept"), **{c: fe_names.index(names[c]) for c in kept}}
    fallback = result.n_groups - 1
    fell_back = False
    for label, coefficients in contrasts.items():
        if any(c in empty for c, v in coefficients.items() if v != 0):
            result.estimates[label] = (math.nan, math.nan, math.nan)
            continue
        vector = np.zeros(len(beta))
        for column, value_ in coefficients.items():
            vector[position[column]] += value_
        estimate = float(vector @ beta)
        variance = float(vector @ cov @ vector)
        df = inference.df(vector)
        if not math.isfinite(df):
            df, fell_back = float(fallback), True
        result.estimates[label] = (estimate, math.sqrt(variance) if variance >= 0 else math.nan, df)
    if fell_back:
        reason = inference.problem or "the variance parameters do not move the contrast's variance"
        result.notes.append(f"Satterthwaite df not available ({reason}): df = training groups - 1 = {fallback}")


def _statsmodels_contrasts(result, model, contrasts, names, kept, empty, slope, reason):
    """Contrasts from statsmodels' optimum when lme4's deviance cannot be used, df = groups - 1."""
    fitted = result.fit.result
    fe_names = list(model.exog_names)
    position = {"Intercept": fe_names.index("Intercept"), **{c: fe_names.index(names[c]) for c in kept}}
    beta = np.asarray(fitted.fe_params, dtype=float)
    cov = fixed_effects_covariance(result.fit)
    df = float(result.n_groups - 1)
    for label, coefficients in contrasts.items():
        if any(c in empty for c, v in coefficients.items() if v != 0):
            result.estimates[label] = (math.nan, math.nan, math.nan)
            continue
        vector = np.zeros(len(beta))
        for column, value in coefficients.items():
            vector[position[column]] += value
        variance = float(vector @ cov @ vector)
        result.estimates[label] = (float(vector @ beta), math.sqrt(variance) if variance >= 0 else math.nan, df)
    result.notes.append(f"Satterthwaite df not available ({reason}): df = training groups - 1 = {result.n_groups - 1}")
    cov_re = np.asarray(fitted.cov_re, dtype=float)
    result.group_variance = float(cov_re[0, 0])
    if slope:
        result.slope_variance = float(cov_re[1, 1])
        result.slope_covariance = float(cov_re[1, 0])
    result.supervisor_variance = float(np.atleast_1d(np.asarray(fitted.vcomp, dtype=float))[0])
    result.residual_variance = float(fitted.scale)
    result.reml_loglik = result.fit.loglik
    result.boundary = [f"{name} variance estimated at 0" for name in result.fit.boundary]
    return result


def _interval(estimate: float, se: float, df: float, level: float) -> tuple[float, float, float]:
    """t-based confidence interval and two-sided p on ``df`` degrees of freedom."""
    if not (math.isfinite(estimate) and math.isfinite(se) and math.isfinite(df)) or se <= 0 or df <= 0:
        return math.nan, math.nan, math.nan
    t = float(stats.t.ppf(0.5 + level / 2, df))
    p = float(2 * stats.t.sf(abs(estimate / se), df))
    return estimate - t * se, estimate + t * se, p


def _holm(p: pd.Series) -> pd.Series:
    out = pd.Series(np.nan, index=p.index, dtype=float)
    mask = p.notna()
    if mask.any():
        out[mask] = multipletests(p[mask].to_numpy(), method="holm")[1]
    return out


# --------------------------------------------------------------------------------------------
# main analysis


def supervisor_effects(
    long: pd.DataFrame,
    constructs: Sequence[str],
    *,
    reference_wave: str = "T0",
    primary_wave: str = "T1",
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Change per construct and wave against the reference wave, and model-based wave means.

    Returns ``(effects, means)``:

    - ``effects``: one row per construct and later wave (key ``construct, wave``): the contrast
      wave minus reference (``estimate``) with t-based CI and p on Satterthwaite ``df``,
      Holm-adjusted p over all rows,
      ``effect_size`` (contrast / SD of the construct's reference-wave scores), ``n`` (supervisors
      scored at that wave), ``primary`` (1 for the primary contrast), the winning optimizer,
      convergence and warnings, the variance components (the group slope's variance and its
      covariance with the group intercept included) and ``boundary`` (1 when a variance is
      estimated at zero or the group covariance is singular: a boundary result, not an error).
    - ``means``: one row per construct and wave: the model-estimated mean score with CI, df and n.
    """
    waves = check_supervisors_long(long, constructs, reference_wave=reference_wave)
    long = long.reset_index(drop=True)
    effect_rows, mean_rows = [], []
    for construct in constructs:
        data = long.loc[long[construct].notna()]
        design = wave_dummies(data["wave"], waves, reference_wave)
        later = [w for w in waves if w != reference_wave]
        contrasts = {f"wave[{w}]": {f"wave[{w}]": 1.0} for w in later}
        means = {w: {"Intercept": 1.0, **({f"wave[{w}]": 1.0} if w != reference_wave else {})} for w in waves}
        fitted = mixed_contrasts(
            data, construct, design, {**contrasts, **{f"mean {w}": v for w, v in means.items()}},
            post=data["wave"] != reference_wave, optimizers=optimizers,
        )
        if fitted.boundary:
            log.warning("%s: boundary result: %s", construct, "; ".join(fitted.boundary))
        counts = data["wave"].value_counts()
        reference_scores = data.loc[data["wave"] == reference_wave, construct].astype(float)
        sd_reference = float(reference_scores.std(ddof=1)) if len(reference_scores) > 1 else math.nan
        common = {
            "converged": fitted.converged,
            "warnings": fitted.warnings,
        }
        for w in later:
            effect_rows.append(_effect_row(fitted, construct, w, reference_wave, primary_wave, counts, sd_reference,
                                           common, level))
        for w in waves:
            estimate, se, df = fitted.estimates[f"mean {w}"]
            low, high, _ = _interval(estimate, se, df, level)
            mean_rows.append(
                {"construct": construct, "wave": w, "mean": estimate, "ci_low": low, "ci_high": high,
                 "n": int(counts.get(w, 0)), "se": se, **common, "df": df}
            )
    effects = pd.DataFrame(effect_rows, columns=[c for c in EFFECT_COLUMNS if c != "p_holm"])
    effects.insert(EFFECT_COLUMNS.index("p_holm"), "p_holm", _holm(effects["p"]))
    effects = sort_rows(effects[EFFECT_COLUMNS], ["construct", "wave"])
    means = sort_rows(pd.DataFrame(mean_rows, columns=MEAN_COLUMNS), ["construct", "wave"])
    return effects, means


def _effect_row(fitted: ContrastResult, construct: str, w: str, reference_wave: str, primary_wave: str,
                counts: pd.Series, sd_reference: float, common: Mapping[str, Any], level: float) -> dict[str, Any]:
    """The effects row of wave ``w`` of one construct: the contrast against the reference wave with
    its interval, effect size and counts, and the fit's variance components."""
    estimate, se, df = fitted.estimates[f"wave[{w}]"]
    low, high, p = _interval(estimate, se, df, level)
    return {
        "construct": construct,
        "wave": w,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "p": p,
        "effect_size": estimate / sd_reference if sd_reference > 0 else math.nan,
        "n": int(counts.get(w, 0)),
        **common,
        "optimizer": fitted.fit.optimizer or "",
        "group_variance": fitted.group_variance,
        "boundary": int(bool(fitted.boundary)),
        "contrast": f"{w} - {reference_wave}",
        "primary": int(w == primary_wave),
        "se": se,
        "n_reference": int(counts.get(reference_wave, 0)),
        "n_obs": fitted.n_obs,
        "n_supervisors": fitted.n_supervisors,
        "n_groups": fitted.n_groups,
        "supervisor_variance": fitted.supervisor_variance,
        "residual_variance": fitted.residual_variance,
        "reml_loglik": fitted.reml_loglik,
        "df": df,
        "group_slope_variance": fitted.slope_variance,
        "group_slope_covariance": fitted.slope_covariance,
    }


# --------------------------------------------------------------------------------------------
# sensitivity


def category_labels(values: pd.Series) -> pd.Series:
    """Categories as text; whole numbers without a decimal part ('2', not '2.0')."""

    def label(value: object) -> object:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return np.nan
        if isinstance(value, (int, np.integer)):
            return str(int(value))
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))
        return str(value)

    return values.map(label)


def covariate_design(data: pd.DataFrame, covariates: Mapping[str, str], *,
                     table: str = "supervisors_long") -> pd.DataFrame:
    """Fixed-effect columns of baseline covariates: numeric as is, categorical as 0/1 dummies.

    ``covariates`` maps a column to ``numeric`` or ``categorical``; a categorical covariate's
    first level in natural order is the reference. Rows with a missing covariate get NaN.
    """
    require_columns(data, list(covariates), table=table)
    columns = {}
    for name, kind in covariates.items():
        if kind == "numeric":
            values = pd.to_numeric(data[name], errors="coerce")
            bad = values.isna() & data[name].notna()
            if bad.any():
                raise InputError(
                    f"value {data[name][bad].iloc[0]!r} is not a number",
                    file=table,
                    row=int(np.flatnonzero(bad.to_numpy())[0]) + 1,
                    column=name,
                    hint="declare the covariate categorical in supervisors.baseline_covariates, or fix the value",
                )
            columns[name] = values.astype(float)
        elif kind == "categorical":
            labels = category_labels(data[name])
            levels = sorted(labels.dropna().unique(), key=natural_key)
            for level in levels[1:]:
                columns[f"{name}[{level}]"] = (labels == level).astype(float).where(labels.notna())
        else:
            raise InputError(
                f"covariate {name!r} has type {kind!r}",
                column=name,
                hint="a baseline covariate is 'numeric' or 'categorical'",
            )
    return pd.DataFrame(columns, index=data.index)


def complete_cases(data: pd.DataFrame, construct: str, waves: Sequence[str]) -> pd.DataFrame:
    """Rows of the supervisors with a score on ``construct`` at every one of ``waves``."""
    scored = data.loc[data[construct].notna()]
    per = scored.groupby("supervisor")["wave"].nunique()
    keep = per.index[per == len(waves)]
    return scored.loc[scored["supervisor"].isin(keep)]


def _sensitivity_rows(analysis, construct, fitted, wanted, level):
    rows = []
    for (wave, subgroup), (label, n) in wanted.items():
        estimate, se, df = fitted.estimates[label]
        low, high, p = _interval(estimate, se, df, level)
        rows.append(
            {
                "analysis": analysis,
                "construct": construct,
                "wave": wave,
                "subgroup": subgroup,
                "estimate": estimate,
                "se": se,
                "ci_low": low,
                "ci_high": high,
                "p": p,
                "n": int(n),
                "n_supervisors": fitted.n_supervisors,
                "converged": fitted.converged,
                "warnings": fitted.warnings,
                "optimizer": fitted.fit.optimizer or "",
                "boundary": int(bool(fitted.boundary)),
                "df": df,
            }
        )
    return rows


def _modifier_analysis(data, construct, waves, reference_wave, modifier, levels, optimizers):
    """Wave x modifier interaction: change per level and the difference of changes."""
    data = data.loc[modifier.loc[data.index].notna()]
    group = modifier.loc[data.index]
    design = wave_dummies(data["wave"], waves, reference_wave)
    later = [w for w in waves if w != reference_wave]
    reference_level = levels[0]
    for lv in levels[1:]:
        design[f"m[{lv}]"] = (group == lv).astype(float)
        for w in later:
            design[f"wave[{w}]:m[{lv}]"] = design[f"wave[{w}]"] * design[f"m[{lv}]"]
    contrasts, wanted = {}, {}
    for w in later:
        in_wave = data["wave"] == w
        for lv in levels:
            coefficients = {f"wave[{w}]": 1.0}
            if lv != reference_level:
                coefficients[f"wave[{w}]:m[{lv}]"] = 1.0
            contrasts[f"{w} {lv}"] = coefficients
            wanted[(w, str(lv))] = (f"{w} {lv}", int((in_wave & (group == lv)).sum()))
        for lv in levels[1:]:
            contrasts[f"{w} {lv} - {reference_level}"] = {f"wave[{w}]:m[{lv}]": 1.0}
            n = int((in_wave & group.isin([lv, reference_level])).sum())
            wanted[(w, f"{lv} - {reference_level}")] = (f"{w} {lv} - {reference_level}", n)
    fitted = mixed_contrasts(data, construct, design, contrasts, post=data["wave"] != reference_wave,
                             optimizers=optimizers)
    return fitted, wanted


def supervisor_sensitivity(
    long: pd.DataFrame,
    constructs: Sequence[str],
    *,
    reference_wave: str = "T0",
    covariates: Mapping[str, str] | None = None,
    guided_cutoff: float = 10,
    mode_column: str = "mode",
    optimizers: Sequence[str] = DEFAULT_OPTIMIZERS,
    level: float = 0.95,
    main_effects: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Sensitivity analyses of the change per construct (key ``analysis, construct, wave, subgroup``).

    ``analysis``:

    - ``all_available``: the main model on every available score (``subgroup`` ``all``);
    - ``complete_cases``: the same model on the supervisors scored at every wave only;
    - ``adjusted``: the main model plus the baseline ``covariates`` (supervisors with a missing
      covariate are left out, and the warnings say how many);
    - ``by_mode``: wave x delivery mode (``mode_column``); rows per mode (the change within that
      mode) and ``<level> - <reference level>`` (the interaction: difference of the changes);
    - ``by_employees_guided``: the same for ``n_employees_guided`` below ``guided_cutoff``
      (``<10``, reference) against at or above it (``>=10``).

    Every model has the group slope of the main model. Intervals are t-based on Satterthwaite
    df (column ``df``); for ``by_mode`` the group slope is what makes the online - on-site
    difference honest, since mode is a property of the training group. ``n`` counts the supervisors scored at the wave
    in the rows' subgroup(s). ``main_effects``, the table :func:`supervisor_effects` returned for the
    same data and level, gives the ``all_available`` rows without fitting the models again.
    """
    waves = check_supervisors_long(long, constructs, reference_wave=reference_wave)
    require_columns(long, [mode_column, "n_employees_guided"], table="supervisors_long")
    long = long.reset_index(drop=True)
    covariates = dict(covariates or {})
    later = [w for w in waves if w != reference_wave]
    rows = []
    for construct in constructs:
        data = long.loc[long[construct].notna()]
        design = wave_dummies(data["wave"], waves, reference_wave)
        contrasts = {f"wave[{w}]": {f"wave[{w}]": 1.0} for w in later}

        def simple(analysis, subset, design_, extra_notes=()):
            fitted = mixed_contrasts(
                subset, construct, design_.loc[subset.index], contrasts,
                post=subset["wave"] != reference_wave, optimizers=optimizers,
            )
            fitted.notes.extend(extra_notes)
            counts = subset["wave"].value_counts()
            wanted = {(w, "all"): (f"wave[{w}]", counts.get(w, 0)) for w in later}
            return _sensitivity_rows(analysis, construct, fitted, wanted, level)

        if main_effects is None:
            rows += simple("all_available", data, design)
        else:
            reused = main_effects.loc[main_effects["construct"] == construct]
            rows += reused.assign(analysis="all_available", subgroup="all")[SENSITIVITY_COLUMNS].to_dict("records")
        rows += simple("complete_cases", complete_cases(data, construct, waves), design)

        if covariates:
            extra = covariate_design(data, covariates)
            complete = extra.notna().all(axis=1)
            left_out = data.loc[~complete, "supervisor"].nunique()
            notes = [f"{left_out} supervisors without every baseline covariate left out"] if left_out else []
            subset = data.loc[complete]
            rows += simple("adjusted", subset, pd.concat([design, extra], axis=1).loc[subset.index], notes)

        rows += _subgroup_rows(data, construct, waves, reference_wave, mode_column=mode_column,
                               guided_cutoff=guided_cutoff, optimizers=optimizers, level=level)
    table = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    return sort_rows(table, ["analysis", "construct", "wave", "subgroup"])


def _subgroup_rows(data: pd.DataFrame, construct: str, waves: Sequence[str], reference_wave: str, *,
                   mode_column: str, guided_cutoff: float, optimizers: Sequence[str], level: float) -> list[dict]:
    """The ``by_mode`` and ``by_employees_guided`` rows of one construct: wave x subgroup models,
    or one row saying that fewer than two subgroups are in the data."""
    rows: list[dict] = []
    mode = category_labels(data[mode_column])
    mode_levels = sorted(mode.dropna().unique(), key=natural_key)
    guided = pd.to_numeric(data["n_employees_guided"], errors="coerce")
    below, above = f"<{guided_cutoff:g}", f">={guided_cutoff:g}"
    guided_group = pd.Series(np.where(guided < guided_cutoff, below, above), index=data.index).where(guided.notna())
    for analysis, modifier, levels in (
        ("by_mode", mode, mode_levels),
        ("by_employees_guided", guided_group, [below, above]),
    ):
        missing = int(data.loc[modifier.isna(), "supervisor"].nunique())
        present = [lv for lv in levels if (modifier == lv).any()]
        if len(present) < 2:
            log.warning("%s, %s: fewer than two subgroups in the data; no interaction estimated", construct, analysis)
            rows.append(
                {
                    "analysis": analysis, "construct": construct, "wave": "", "subgroup": "", "estimate": math.nan,
                    "se": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p": math.nan,
                    "n": int(modifier.notna().sum()),
                    "n_supervisors": int(data.loc[modifier.notna(), "supervisor"].nunique()), "converged": 0,
                    "warnings": f"fewer than two subgroups ({', '.join(present) or 'none'}): not estimable",
                    "optimizer": "", "boundary": 0, "df": math.nan,
                }
            )
            continue
        fitted, wanted = _modifier_analysis(data, construct, waves, reference_wave, modifier, present, optimizers)
        if missing:
            fitted.notes.append(f"{missing} supervisors without {analysis[3:]} left out")
        rows += _sensitivity_rows(analysis, construct, fitted, wanted, level)
    return rows
