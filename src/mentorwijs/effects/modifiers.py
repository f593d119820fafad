"""Effect modifiers: the pooled effect within subgroups of trainees, one modifier at a time.

A subgroup is defined by the trainee's value of the modifier (from the per-unit covariate
table). Controls have no value of their own that matters: they inherit the subgroup of the
trainees they were matched to, through ``pairs`` (``trainee_unit, control_unit, weight``). A
control serving trainees of several subgroups is in each of them with the pair weights of those
trainees, so its matching weight is split over the subgroups (the sum over subgroups is its
matching weight).

Per subgroup the pooled difference-in-differences (mean of months 1..follow-up) is estimated as
in :func:`mentorwijs.effects.did.did_pooled`. The interaction of a level is its pooled effect
minus that of the reference level (the first level in sorted order), with a variance from the
per-person influence values of both subgroup fits, so that a person who is a control in both
subgroups is not counted as independent evidence twice. The minimum detectable interaction
(80% power, two-sided 5%) is (z_0.975 + z_0.80) x its SE. With 73 trainees these are
exploratory: the table reports estimates and intervals, never a verdict.
Subgroups with fewer than ``min_trainees`` trainee units are suppressed (``suppressed = 1``,
estimates empty), not dropped.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from mentorwijs.contracts import column_names
from mentorwijs.effects._common import check_keys, join_warnings, require_columns, t_summary
from mentorwijs.effects.did import did_fit, pooled_estimate, post_months
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


def _subgroup_panel(panel: pd.DataFrame, level: str, trainee_level: pd.Series, cweights: pd.DataFrame, weight: str) -> pd.DataFrame:
    treated = panel["treated"].to_numpy() == 1
    units_in = trainee_level.index[trainee_level.to_numpy() == level]
    trainees = panel[treated & panel["unit"].isin(units_in).to_numpy()]
    cw = cweights[cweights["level"] == level].set_index("control_unit")["weight"]
    controls = panel[~treated & panel["unit"].isin(cw.index).to_numpy()].copy()
    controls[weight] = controls["unit"].map(cw).to_numpy()
    return pd.concat([trainees, controls], ignore_index=True)


def modifiers(
    panel: pd.DataFrame,
    pairs: pd.DataFrame,
    units: pd.DataFrame,
    specs: Sequence[str | Mapping],
    *,
    outcome: str,
    reference_month: int,
    followup_months: int | None = None,
    min_trainees: int = 10,
    level: float = 0.95,
    weight: str = "weight",
    cluster: str = "person",
) -> pd.DataFrame:
    """Subgroup pooled effects and interactions, one row per modifier x level.

    ``units``: one row per unit with the modifier columns (the matched or survival table).
    Columns (the ``modifiers`` contract): ``outcome, modifier, level, reference_level,
    n_treated, n_control`` (trainee units and control units with a share of weight in the
    subgroup), ``estimate, se, ci_low, ci_high, p`` (pooled effect in the subgroup),
    ``interaction, interaction_se, interaction_ci_low, interaction_ci_high, interaction_p``
    (difference from the reference level; empty on the reference row),
    ``detectable_interaction`` (the minimum detectable interaction: the smallest with 80% power at two-sided 5%, from
    its SE), ``n_clusters`` and ``df_resid`` (persons in the subgroup's regression and its
    degrees of freedom, n_clusters - 1), ``suppressed`` (1 when the subgroup, or the reference,
    has fewer than ``min_trainees`` trainee units), ``converged``, ``warnings``.
    """
    require_columns(panel, ["unit", "treated", weight, cluster], "panel")
    treated_units = pd.Index(panel.loc[panel["treated"] == 1, "unit"].unique())
    rows = []
    for spec in specs:
        name, unit_level = modifier_levels(units, spec)
        if unit_level.index.duplicated().any():
            raise InputError(f"the unit covariate table has duplicate units (modifier {name})", column="unit")
        missing = treated_units.difference(unit_level.index)
        if len(missing):
            raise InputError(f"trainee unit {missing[0]!r} has no row in the unit covariate table (modifier {name})",
                             column="unit", hint="pass the matched table with one row per matched unit")
        trainee_level = unit_level.loc[treated_units]
        cweights = subgroup_weights(pairs, trainee_level)
        levels = sorted(trainee_level.unique(), key=lambda v: (v == MISSING_LEVEL, v))
        fits = {}
        for lev in levels:
            n_tr = int((trainee_level == lev).sum())
            sub = _subgroup_panel(panel, lev, trainee_level, cweights, weight)
            n_co = int(sub.loc[sub["treated"] == 0, "unit"].nunique())
            entry = {"n_treated": n_tr, "n_control": n_co, "fit": None, "notes": []}
            if n_tr >= min_trainees and n_co > 0:
                try:
                    fit = did_fit(sub, outcome, reference_month, weight=weight, cluster=cluster)
                    post = post_months(fit, followup_months)
                    est, se, infl = pooled_estimate(fit, post)
                    entry.update(fit=fit, estimate=est, se=se, influence=pd.Series(infl, index=fit.clusters))
                except InputError as exc:
                    entry["notes"].append(exc.problem)
            elif n_tr < min_trainees:
                entry["notes"].append(f"fewer than {min_trainees} trainees: suppressed")
            fits[lev] = entry
        reference = levels[0]
        ref = fits[reference]
        for lev in levels:
            entry = fits[lev]
            suppressed = entry["fit"] is None
            row = {
                "outcome": outcome, "modifier": name, "level": lev, "reference_level": reference,
                "n_treated": entry["n_treated"], "n_control": entry["n_control"],
                "estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan,
                "interaction": np.nan, "interaction_se": np.nan, "interaction_ci_low": np.nan,
                "interaction_ci_high": np.nan, "interaction_p": np.nan, "detectable_interaction": np.nan,
                "n_clusters": pd.NA, "df_resid": np.nan,
                "suppressed": int(suppressed), "converged": int(not suppressed and entry["fit"].converged),
            }
            notes = list(entry["notes"])
            if not suppressed:
                fit = entry["fit"]
                low, high, p = t_summary(entry["estimate"], entry["se"], fit.df, level)
                row.update(estimate=entry["estimate"], se=entry["se"], ci_low=float(low), ci_high=float(high), p=float(p),
                           n_clusters=int(fit.n_clusters), df_resid=fit.df)
                notes += list(fit.warnings)
                if lev != reference:
                    if ref["fit"] is None:
                        row["suppressed"] = 1
                        notes.append("reference level suppressed: no interaction")
                    else:
                        a, b = entry["influence"], ref["influence"]
                        union = a.index.union(b.index)
                        d = a.reindex(union, fill_value=0.0).to_numpy() - b.reindex(union, fill_value=0.0).to_numpy()
                        inter = entry["estimate"] - ref["estimate"]
                        ise = float(np.sqrt(d @ d))
                        ilow, ihigh, ip = t_summary(inter, ise, len(union) - 1, level)
                        row.update(interaction=inter, interaction_se=ise, interaction_ci_low=float(ilow),
                                   interaction_ci_high=float(ihigh), interaction_p=float(ip),
                                   detectable_interaction=POWER_MULTIPLIER * ise)
            row["warnings"] = join_warnings(notes)
            rows.append(row)
    table = pd.DataFrame(rows, columns=column_names("modifiers"))
    table["n_clusters"] = table["n_clusters"].astype("Int64")
    return table
