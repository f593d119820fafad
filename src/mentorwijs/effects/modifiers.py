"""Effect modifiers: the pooled effect within subgroups of trainees, one modifier at a time.

The table reads only the modifier pairs (``data/processed/modifier_pairs.parquet``:
``modifier, level, treated_unit, control_unit, weight``), written by the register part's
matching step (:func:`mentorwijs.matching.modifier_pairs`): for a register characteristic the
trainees of each level are matched again among the controls of the same level (same propensity
scores, the main exact cells plus the modifier), so every control lies in the subgroup it
serves; for a supervisor's answer (controls have no supervisor) the level keeps its trainees'
main pairs. A trainee of a level without a control in it has one row with an empty
``control_unit``. In a level a trainee weighs 1 and a control the sum of its pair weights
``1/k_i`` (the matching weights of the level).

Per level the pooled difference-in-differences (mean of months 1..follow-up) is estimated as in
:func:`mentorwijs.effects.did.did_pooled`: CR2 standard error with its Satterthwaite df, and the
CR1 one as ``se_cr1``; with a covariate table also the regression-adjusted DiD (``method =
adjusted``, the modifier's own column left out: it is constant within a level). The interaction
of a level is its pooled effect minus that of the reference level (the first level in sorted
order), a linear contrast on the stacked, fully interacted regression of the two levels
(y ~ level x month x (1, treated, covariates)) with CR2 clustered on person across the levels,
so that a person in both subgroups (a control re-used, or a person who is a control unit in
several cohorts) is one cluster, and with the contrast's own Satterthwaite df. The stacked
design is block-diagonal by (level, month), so the stacked fit is the levels' monthly fits side
by side (:func:`mentorwijs.effects.smallsample.stack_blocks`) and CR2 factorises per person x
(level, month) block. The minimum detectable interaction (80% power, two-sided 5%) is
(z_0.975 + z_0.80) x its CR2 SE. With 73 trainees these are exploratory: the table reports
estimates and intervals, never a verdict. A level with fewer than ``min_trainees`` trainee
units or fewer than ``min_controls`` control units is suppressed (``suppressed = 1``, estimates
empty, the reason in ``warnings``), not dropped.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from mentorwijs.contracts import column_names
from mentorwijs.effects._common import check_keys, join_warnings, require_columns
from mentorwijs.effects.did import _t_rows, contrast_test, did_fit, pooled_contrast, pooled_estimate, post_months
from mentorwijs.effects.smallsample import satterthwaite_df, stack_blocks
from mentorwijs.errors import InputError

MISSING_LEVEL = "missing"
POWER_MULTIPLIER = float(stats.norm.ppf(0.975) + stats.norm.ppf(0.80))


def modifier_levels(units: pd.DataFrame, spec: str | Mapping) -> tuple[str, pd.Series]:
    """The name and the per-unit level (text) of one modifier.

    ``spec`` is a column name, or a mapping with ``name``, ``column`` and optionally ``below``
    (a number: the levels become ``<below`` and ``>=below``, e.g. a supervisor guiding fewer than
    10 employees). Missing values get the level ``missing``. A numeric column with more than 10
    distinct values needs ``below``.
    """
    if isinstance(spec, str):
        name, column, below = spec, spec, None
    else:
        name = str(spec.get("name", spec.get("column")))
        column = spec.get("column", name)
        below = spec.get("below")
    require_columns(units, ["unit", column], "unit covariate")
    series = units[column]
    if below is not None:
        values = pd.to_numeric(series, errors="coerce")
        level = np.where(values < below, f"<{below:g}", f">={below:g}")
        level = pd.Series(level, index=units.index).where(values.notna(), MISSING_LEVEL)
    else:
        if pd.api.types.is_numeric_dtype(series) and series.nunique() > 10:
            raise InputError(
                f"modifier {name}: column {column} has {series.nunique()} distinct values",
                column=column,
                hint="give the modifier a 'below' threshold to split it in two",
            )
        level = series.map(lambda v: MISSING_LEVEL if pd.isna(v) else (f"{v:g}" if isinstance(v, float) else str(v)))
    return name, pd.Series(level.to_numpy(), index=units["unit"].to_numpy())


def subgroup_weights(pairs: pd.DataFrame, trainee_level: pd.Series) -> pd.DataFrame:
    """Control weight per subgroup: the sum of the pair weights of its trainees in that subgroup.

    Returns ``control_unit, level, weight`` (one row per control unit and level it serves).
    """
    require_columns(pairs, ["trainee_unit", "control_unit", "weight"], "pairs")
    check_keys(pairs, ["trainee_unit", "control_unit"], "pairs")
    levels = pairs["trainee_unit"].map(trainee_level)
    unknown = levels.isna()
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(
            f"pairs refer to trainee unit {pairs['trainee_unit'].iloc[row]!r} that has no covariate row",
            row=row + 1,
            column="trainee_unit",
            hint="the pairs and the matched unit table must come from the same matching run",
        )
    out = pd.DataFrame({"control_unit": pairs["control_unit"].to_numpy(), "level": levels.to_numpy(),
                        "weight": pd.to_numeric(pairs["weight"]).to_numpy()})
    return out.groupby(["control_unit", "level"], as_index=False)["weight"].sum()


def inherited_pairs(pairs: pd.DataFrame, name: str, trainee_level: pd.Series) -> pd.DataFrame:
    """Modifier pairs in which controls inherit the level of the trainee they serve: the main
    ``pairs`` (``trainee_unit, control_unit, weight``) with the trainee's level."""
    require_columns(pairs, ["trainee_unit", "control_unit", "weight"], "pairs")
    levels = pairs["trainee_unit"].map(trainee_level)
    return pd.DataFrame({"modifier": name, "level": levels.to_numpy(dtype=object),
                         "treated_unit": pairs["trainee_unit"].to_numpy(dtype=object),
                         "control_unit": pairs["control_unit"].to_numpy(dtype=object),
                         "weight": pd.to_numeric(pairs["weight"]).to_numpy(dtype=float)})


def subgroup_estimate(sub: pd.DataFrame, outcome: str, reference_month: int, followup_months: int | None, *,
                      weight: str = "weight", cluster: str = "person") -> tuple[Any, float, float, pd.Series]:
    """The pooled difference-in-differences of one level with CR1 inference: the fit, estimate,
    CR1 SE and the per-cluster CR1 influence values (indexed by cluster). :func:`modifiers`
    reports CR2 (:func:`mentorwijs.effects.did.contrast_test`); this stays for callers that
    combine CR1 influence values across fits."""
    fit = did_fit(sub, outcome, reference_month, weight=weight, cluster=cluster)
    est, se, infl = pooled_estimate(fit, post_months(fit, followup_months))
    return fit, est, se, pd.Series(infl, index=fit.clusters)


def _level_panel(panel: pd.DataFrame, pairs: pd.DataFrame, weight: str) -> tuple[pd.DataFrame, int, int, int]:
    """The panel of one level: its trainees with a control (weight 1) and its controls (the sum
    of their pair weights); the numbers of trainee units with a control, without one, and of
    control units."""
    has_control = pairs["control_unit"].notna()
    trainees = pd.Index(pairs.loc[has_control, "treated_unit"].astype(str).unique())
    without = pd.Index(pairs["treated_unit"].astype(str).unique()).difference(trainees)
    cw = pairs[has_control].groupby(pairs.loc[has_control, "control_unit"].astype(str))["weight"].sum()
    units = panel["unit"].astype(str)
    treated = panel["treated"].to_numpy() == 1
    tr = panel[treated & units.isin(trainees).to_numpy()].copy()
    co = panel[~treated & units.isin(cw.index).to_numpy()].copy()
    missing = trainees.difference(units[treated]).union(cw.index.difference(units[~treated]))
    if len(missing):
        raise InputError(f"modifier pairs refer to unit {missing[0]!r} that the panel lacks ({len(missing)} unit(s))",
                         column="treated_unit" if missing[0] in trainees else "control_unit",
                         hint="the panel must hold every unit of data/processed/modifier_pairs.parquet "
                              "(rule register_panel)")
    tr[weight] = 1.0
    co[weight] = co["unit"].astype(str).map(cw).to_numpy(dtype=float)
    return pd.concat([tr, co], ignore_index=True), len(trainees), len(without), len(cw)


def _interaction(entry: dict, ref: dict) -> tuple[float, float, float]:
    """The interaction of a level (its pooled effect minus the reference level's) as a linear
    contrast on the stacked regression of the two levels, clustered on person across them:
    estimate, CR2 SE and Satterthwaite df (see the module docstring)."""
    fits = [entry["fit"], ref["fit"]]
    union = pd.Index(entry["fit"].clusters).union(pd.Index(ref["fit"].clusters))
    blocks, maps, contrast = [], [], []
    for fit, sign in zip(fits, (1.0, -1.0)):
        c = entry["contrast"] if fit is entry["fit"] else ref["contrast"]
        # the pooled effect on the fit's monthly treated coefficients: sum_m c_m (b_m - b_r)
        r = fit.column(fit.reference_month)
        on_coef = c.copy()
        on_coef[r] -= c.sum()
        keep = np.flatnonzero(on_coef != 0)
        blocks.append(keep)
        maps.append(union.get_indexer(fit.clusters))
        contrast.append(sign * on_coef[keep])
    stacked = stack_blocks([f.parts for f in fits], blocks, maps, len(union))
    c = np.concatenate(contrast)
    score = stacked.score_cr2 @ c
    return entry["test"].estimate - ref["test"].estimate, float(np.sqrt(score @ score)), satterthwaite_df(stacked, c)


def modifiers(
    panel: pd.DataFrame,
    modifier_pairs: pd.DataFrame,
    specs: Sequence[str | Mapping],
    *,
    outcome: str,
    reference_month: int,
    followup_months: int | None = None,
    min_trainees: int = 10,
    min_controls: int | None = None,
    level: float = 0.95,
    weight: str = "weight",
    cluster: str = "person",
    covariates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Subgroup pooled effects and interactions, one row per method x modifier x level, from the modifier pairs.

    ``specs``: the modifiers (names, or mappings with ``name``) in the order of the table.
    ``panel``: every unit of ``modifier_pairs`` (weights are taken from the pairs).
    ``covariates``: a unit table (``unit`` and the columns of ``effects.adjusted_covariates``,
    one row per unit of the modifier pairs) for the regression-adjusted rows (``method =
    "adjusted"``, as :func:`mentorwijs.effects.did.did_fit`); within a level the modifier's own
    column is constant and is left out of the adjustment. Without it only ``matched`` rows.
    Columns (the ``modifiers`` contract): ``outcome, method, modifier, level, reference_level,
    n_treated, n_control`` (trainee units with a control at this level and control units of the
    level), ``estimate, se, df, ci_low, ci_high, p, se_cr1`` (pooled effect in the subgroup:
    CR2 SE with its Satterthwaite df, t intervals with that df; the CR1 SE), ``interaction,
    interaction_se, interaction_df, interaction_ci_low, interaction_ci_high, interaction_p``
    (difference from the reference level: a contrast on the stacked regression of the two
    levels, CR2 clustered on person across levels, Satterthwaite df; empty on the reference
    row), ``detectable_interaction`` (the minimum detectable interaction: the smallest with 80%
    power at two-sided 5%, from its CR2 SE), ``n_clusters`` and ``df_resid`` (persons in the
    subgroup's regression and n_clusters - 1), ``suppressed`` (1 when the level, or the
    reference, has fewer than ``min_trainees`` trainee units or ``min_controls`` control units;
    default ``min_trainees``), ``converged``, ``warnings``.
    """
    require_columns(panel, ["unit", "treated", weight, cluster], "panel")
    require_columns(modifier_pairs, ["modifier", "level", "treated_unit", "control_unit", "weight"], "modifier pairs")
    if covariates is not None:
        require_columns(covariates, ["unit"], "covariate")
    min_controls = min_trainees if min_controls is None else min_controls
    methods = [("matched", None)] + ([("adjusted", covariates)] if covariates is not None else [])
    rows: list[dict] = []
    level_panels: dict = {}  # (modifier, level) -> _level_panel(...), shared by the two methods
    for method, units in methods:
        for spec in specs:
            name = spec if isinstance(spec, str) else str(spec.get("name", spec.get("column")))
            column = name if isinstance(spec, str) else str(spec.get("column", name))
            adjust = None if units is None else units[[c for c in units.columns if c != column]]
            rows += _modifier_rows(panel, modifier_pairs, name, method, adjust, outcome=outcome,
                                   reference_month=reference_month, followup_months=followup_months,
                                   min_trainees=min_trainees, min_controls=min_controls, level=level,
                                   weight=weight, cluster=cluster, cache=level_panels)
    table = pd.DataFrame(rows, columns=column_names("modifiers"))
    table["n_clusters"] = table["n_clusters"].astype("Int64")
    return table


def _modifier_rows(panel, modifier_pairs, name, method, covariates, *, outcome, reference_month, followup_months,
                   min_trainees, min_controls, level, weight, cluster, cache: dict) -> list[dict]:
    mine = modifier_pairs[modifier_pairs["modifier"].astype(str) == name]
    if not len(mine):
        raise InputError(f"the modifier pairs have no rows for modifier {name!r}", column="modifier",
                         hint="rerun rule register_matching with the same effects.modifiers")
    levels = sorted(mine["level"].astype(str).unique(), key=lambda v: (v == MISSING_LEVEL, v))
    fits = {}
    for lev in levels:
        if (name, lev) not in cache:
            cache[name, lev] = _level_panel(panel, mine[mine["level"].astype(str) == lev], weight)
        sub, n_tr, n_without, n_co = cache[name, lev]
        entry = {"n_treated": n_tr, "n_control": n_co, "fit": None, "notes": []}
        if n_without:
            entry["notes"].append(f"{n_without} trainee unit(s) without a control of this level within "
                                  "the caliper: left out")
        if n_tr < min_trainees:
            entry["notes"].append(f"fewer than {min_trainees} trainees: suppressed")
        elif n_co < min_controls:
            entry["notes"].append(f"fewer than {min_controls} control units: suppressed")
        else:
            try:
                fit = did_fit(sub, outcome, reference_month, weight=weight, cluster=cluster, covariates=covariates)
                contrast = pooled_contrast(fit, post_months(fit, followup_months))
                entry.update(fit=fit, contrast=contrast, test=contrast_test(fit, contrast))
            except InputError as exc:
                entry["notes"].append(exc.problem)
        fits[lev] = entry
    reference = levels[0]
    ref = fits[reference]
    rows = []
    for lev in levels:
        entry = fits[lev]
        suppressed = entry["fit"] is None
        row = {
            "outcome": outcome, "method": method, "modifier": name, "level": lev, "reference_level": reference,
            "n_treated": entry["n_treated"], "n_control": entry["n_control"],
            "estimate": np.nan, "se": np.nan, "df": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
            "se_cr1": np.nan, "interaction": np.nan, "interaction_se": np.nan, "interaction_df": np.nan,
            "interaction_ci_low": np.nan, "interaction_ci_high": np.nan, "interaction_p": np.nan,
            "detectable_interaction": np.nan, "n_clusters": pd.NA, "df_resid": np.nan,
            "suppressed": int(suppressed), "converged": int(not suppressed and entry["fit"].converged),
        }
        notes = list(entry["notes"])
        if not suppressed:
            fit, test = entry["fit"], entry["test"]
            low, high, p = (float(x[0]) for x in _t_rows(test.estimate, test.se_cr2, test.df, level))
            row.update(estimate=test.estimate, se=test.se_cr2, df=test.df, ci_low=float(low), ci_high=float(high),
                       p=float(p), se_cr1=test.se_cr1, n_clusters=int(fit.n_clusters), df_resid=fit.df)
            notes += list(fit.warnings)
            if lev != reference:
                if ref["fit"] is None:
                    row["suppressed"] = 1
                    notes.append("reference level suppressed: no interaction")
                else:
                    inter, ise, idf = _interaction(entry, ref)
                    ilow, ihigh, ip = (float(x[0]) for x in _t_rows(inter, ise, idf, level))
                    row.update(interaction=inter, interaction_se=ise, interaction_df=idf,
                               interaction_ci_low=float(ilow), interaction_ci_high=float(ihigh),
                               interaction_p=float(ip), detectable_interaction=POWER_MULTIPLIER * ise)
        row["warnings"] = join_warnings(notes)
        rows.append(row)
    return rows
