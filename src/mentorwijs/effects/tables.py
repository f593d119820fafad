"""Every register-derived effect table at once: the library entry of the rule ``effects``.

:func:`effect_tables` takes the matched analysis tables of the register part (design.md:
``panel``, ``survival``, ``pairs``, ``matched``) and its settings, and returns the tables
``trajectories, did_by_month, did_pooled, placebo, km, rmst, survival, ph_test, modifiers,
sensitivity, confounding`` with exactly the columns of their contracts
(:mod:`mentorwijs.contracts`), rows sorted by their keys. Per panel outcome the month x treated
regression is fitted once (:func:`~mentorwijs.effects.did.did_fit`) and gives both the monthly
table and the pooled effect; per survival outcome the Kaplan-Meier curves, the RMST, the Cox
models (primary and adjusted), the discrete-time cloglog model and the proportional-hazards
check. Modifiers, sensitivity analyses and E-values concern the primary outcomes.

Joined before estimation (:func:`analysis_inputs`): the propensity score (``pscore``, for the
odds-weights sensitivity analysis) and any cluster column a sensitivity analysis names (e.g.
``employer``) from ``matched`` onto the panel; columns of ``matched`` the survival table lacks
onto it (it is the unit table of the modifiers: it carries the supervisors' ``sup_*`` columns).

Weighted tables carry the check-only column ``dominance_share`` (the share of a figure's total
matching weight carried by its ``dominance_units`` largest units, the larger of the two groups):
the export's dominance rule reads it, and it never leaves the CBS environment.

:func:`effects_step` reads the four parquet files, calls :func:`effect_tables` and writes one
CSV per table (``data/processed/results/<table>.csv``); the Snakemake rule and
``mentorwijs run --part register`` both call it. Its settings are one
:class:`~mentorwijs.effects.settings.EffectSettings` (``EffectSettings.from_config(config)``).
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePath
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from mentorwijs.contracts import CONTRACTS, DOMINANCE_COLUMN, EFFECT_TABLES
from mentorwijs.effects._common import require_columns
from mentorwijs.effects.confounding import confounding_table
from mentorwijs.effects.did import (
    METHODS,
    did_by_month_table,
    did_fit,
    did_pooled_table,
    placebo,
    post_months,
    trajectories,
)
from mentorwijs.effects.modifiers import modifiers as modifier_table
from mentorwijs.effects.sensitivity import sensitivity_analyses
from mentorwijs.effects.settings import EffectSettings
from mentorwijs.effects.survival import (
    RMST_ADJUSTED_COLUMNS,
    SURVIVAL_TABLE_COLUMNS,
    cloglog_model,
    cox_models,
    kaplan_meier,
    ph_test,
    restricted_time_sd,
    rmst,
    rmst_adjusted,
    stack_rows,
)
from mentorwijs.errors import InputError

#: The marker column of the panel and survival tables (:data:`mentorwijs.register.panel.MAIN_SAMPLE`).
MAIN_SAMPLE = "main_sample"

log = logging.getLogger(__name__)

#: The tables :func:`effect_tables` returns (their contracts name rule ``effects``).
TABLES = EFFECT_TABLES


# ---------------------------------------------------------------------------------------------
# inputs


def analysis_inputs(panel: pd.DataFrame, survival: pd.DataFrame, matched: pd.DataFrame, *,
                    join: Sequence[str] = ("pscore",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The panel and survival tables with the unit columns ``join`` (and every column of
    ``matched`` the survival table lacks) added from ``matched``, by ``unit``.

    Every unit of the panel and of the survival table must have its row in ``matched``.
    """
    require_columns(matched, ["unit", *join], "matched")
    require_columns(panel, ["unit"], "panel")
    require_columns(survival, ["unit"], "survival")
    if matched["unit"].duplicated().any():
        raise InputError("the matched table has more than one row per unit", column="unit",
                         hint="data/processed/matched.parquet has one row per matched unit")
    units = matched.set_index("unit")
    for name, table in (("panel", panel), ("survival", survival)):
        unknown = pd.Index(table["unit"].unique()).difference(units.index)
        if len(unknown):
            raise InputError(f"the {name} table has {len(unknown)} unit(s) without a row in the matched table",
                             column="unit", hint="panel, survival and matched must come from the same matching run")
    add = [c for c in join if c not in panel.columns]
    if add:
        panel = panel.join(units[add], on="unit")
    extra = [c for c in units.columns if c not in survival.columns]
    if extra:
        survival = survival.join(units[extra], on="unit")
    return panel, survival


def _modifier_covariates(survival: pd.DataFrame, matched: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The adjustment covariates of every unit of the survival table (also the units only the
    modifier pairs use): its own columns, and those it lacks from ``matched`` by ``unit`` as
    :func:`analysis_inputs` joins them (a unit without a value is an error of the adjusted fit)."""
    own = [c for c in columns if c in survival.columns]
    units = survival[["unit", *own]]
    missing = [c for c in columns if c not in own]
    if missing:
        require_columns(matched, ["unit", *missing], "matched")
        units = units.join(matched.drop_duplicates("unit").set_index("unit")[missing], on="unit")
    return units[["unit", *columns]]


def main_sample(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the main matched sample, without the ``main_sample`` marker (the panel and
    survival tables also hold the units only the re-matched modifier pairs use)."""
    if MAIN_SAMPLE not in table.columns:
        return table
    keep = table[MAIN_SAMPLE].to_numpy() == 1
    return table.loc[keep].drop(columns=[MAIN_SAMPLE]).reset_index(drop=True)


def cluster_columns(analyses: Sequence[str]) -> list[str]:
    """The columns that ``cluster=<column>`` sensitivity analyses name."""
    return [a.split("=", 1)[1] for a in analyses if a.startswith("cluster=")]


# ---------------------------------------------------------------------------------------------
# dominance


def _top_share(weights: np.ndarray, n: int) -> float:
    weights = np.sort(np.abs(np.asarray(weights, dtype=float)))[::-1]
    total = weights.sum()
    return float(weights[:n].sum() / total) if total > 0 else 0.0


def cell_dominance(panel: pd.DataFrame, outcome: str, n: int, *, weight: str = "weight") -> pd.Series:
    """Per (treated, month): the share of the cell's matching weight carried by its ``n`` largest
    units, over the observed person-months with a value of ``outcome`` and a positive weight."""
    w = pd.to_numeric(panel[weight], errors="coerce")
    keep = (panel["observed"] == 1) & panel[outcome].notna() & (w > 0)
    data = pd.DataFrame({"treated": panel.loc[keep, "treated"].astype(int).to_numpy(),
                         "month": panel.loc[keep, "month"].astype(int).to_numpy(), "w": w[keep].to_numpy()})
    return data.groupby(["treated", "month"])["w"].apply(lambda s: _top_share(s.to_numpy(), n))


def _months_dominance(cells: pd.Series, months: Sequence[int]) -> float:
    """The largest cell share over both groups and ``months``."""
    wanted = cells[cells.index.get_level_values("month").isin(list(months))]
    return float(wanted.max()) if len(wanted) else float("nan")


def unit_dominance(survival: pd.DataFrame, n: int, *, weight: str = "weight") -> float:
    """The larger, over the two groups, of the share of the group's weight carried by its ``n`` largest units."""
    w = pd.to_numeric(survival[weight], errors="coerce")
    keep = w > 0
    return max((_top_share(w[keep & (survival["treated"] == g)].to_numpy(), n) for g in (0, 1)), default=0.0)


# ---------------------------------------------------------------------------------------------
# the tables


def _contract_table(name: str, parts: Sequence[pd.DataFrame], *, dominance: bool | None = None) -> pd.DataFrame:
    """Stack ``parts`` into table ``name``: its contract's columns in order (plus the check-only
    dominance column where the contract has it), rows sorted by its key."""
    c = CONTRACTS[name]
    columns = list(c.column_names) + ([DOMINANCE_COLUMN] if (c.dominance if dominance is None else dominance) else [])
    for part in parts:
        missing = [col for col in columns if col not in part.columns]
        if missing:
            raise ValueError(f"table {name}: the estimator gave no column(s) {', '.join(missing)}")  # a bug, not input
    table = stack_rows(parts, columns)
    keys = list(c.keys)
    if len(table):
        table = table.sort_values(keys, kind="mergesort", na_position="last").reset_index(drop=True)
    return table


def _placebo_rows(panel: pd.DataFrame, outcome: str, reference_month: int, post: Sequence[int], level: float,
                  cells: pd.Series, covariates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The placebo rows of one outcome (``covariates``: the adjusted placebo), or one row saying
    why the placebo is not defined for it."""
    first, last = int(post[0]), int(post[1])
    method = "matched" if covariates is None else "adjusted"
    try:
        table = placebo(panel, outcome, reference_month=reference_month, post_months=(first, last), level=level,
                        covariates=covariates)
    except InputError as exc:
        reason = f"placebo not estimable: {exc.problem}"
        log.warning("%s", reason)
        row = {c: np.nan for c in CONTRACTS["placebo"].column_names}
        row.update(outcome=outcome, method=method, term="pooled", month=pd.NA, n_treated=pd.NA, n_control=pd.NA,
                   n_clusters=pd.NA, converged=0, warnings=reason)
        row[DOMINANCE_COLUMN] = np.nan
        return pd.DataFrame([row])
    months = table["month"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    fake = list(range(first, last + 1))
    table[DOMINANCE_COLUMN] = [
        _months_dominance(cells, [int(m), reference_month]) if np.isfinite(m)
        else _months_dominance(cells, [*fake, reference_month])
        for m in months
    ]
    return table


def _survival_outcome_tables(survival: pd.DataFrame, outcome: str, *, horizon: int, level: float, split_month: int,
                             covariates: Sequence[str], dominance: float) -> dict[str, pd.DataFrame]:
    km = kaplan_meier(survival, outcome, level=level)
    restricted = [rmst(survival, outcome, horizon, level=level).assign(method="matched")]
    if covariates:
        restricted.append(rmst_adjusted(survival, outcome, horizon, list(covariates), level=level))
    restricted = stack_rows(restricted, RMST_ADJUSTED_COLUMNS).assign(**{DOMINANCE_COLUMN: dominance})
    cox = cox_models(survival, outcome, covariates=list(covariates), level=level)
    cloglog = cloglog_model(survival, outcome, level=level)
    models = stack_rows([cox, cloglog], SURVIVAL_TABLE_COLUMNS).assign(**{DOMINANCE_COLUMN: dominance})
    ph = ph_test(survival, outcome, split_month=split_month, level=level).assign(**{DOMINANCE_COLUMN: dominance})
    return {"km": km, "rmst": restricted, "survival": models, "ph_test": ph}


def _confounding(did_pooled: pd.DataFrame, rmst_table: pd.DataFrame, models: pd.DataFrame, km: pd.DataFrame,
                 survival: pd.DataFrame, *, outcome: str, survival_outcome: str, horizon: int,
                 primary_method: str = "matched") -> pd.DataFrame:
    pooled = did_pooled[(did_pooled["outcome"] == outcome) & (did_pooled["method"] == primary_method)]
    rm = rmst_table[(rmst_table["outcome"] == survival_outcome) & (rmst_table["horizon"] == horizon)
                    & (rmst_table["method"] == primary_method)]
    rm = rm[np.isfinite(rm["difference"].astype(float))]
    cox = models[(models["outcome"] == survival_outcome) & (models["model"] == "primary")
                 & (models["term"] == "treated")]
    rmst_row = rmst_sd = None
    if len(rm):
        sd = restricted_time_sd(survival, survival_outcome, horizon)
        if sd > 0:
            rmst_row, rmst_sd = rm.iloc[0], sd
        else:
            log.warning("confounding: the restricted time of %s has no spread among controls; no E-value for the RMST",
                        survival_outcome)
    share = None
    control = km[(km["outcome"] == survival_outcome) & (km["group"] == "control") & (km["time"] <= horizon - 1)]
    if len(control):
        share = 1.0 - float(control.sort_values("time")["survival"].iloc[-1])
    cox_row = cox.iloc[0] if len(cox) and np.isfinite(float(cox.iloc[0]["hr"])) else None
    return confounding_table(pooled=(pooled.iloc[0] if len(pooled) and np.isfinite(float(pooled.iloc[0]["estimate"]))
                                     else None),
                             rmst_row=rmst_row, rmst_sd=rmst_sd, cox_row=cox_row, control_event_share=share)


def effect_tables(
    panel: pd.DataFrame,
    survival: pd.DataFrame,
    pairs: pd.DataFrame,
    matched: pd.DataFrame,
    *,
    settings: EffectSettings,
    modifier_pairs: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every register-derived effect table (see the module docstring), by name.

    ``settings`` (:class:`~mentorwijs.effects.settings.EffectSettings`): ``band_draws`` and
    ``band_seed`` are the multiplier draws and seed of the simultaneous band (the same seed for
    every outcome); ``dominance_units`` the policy's ``dominance.n``. The placebo of an outcome
    that is not defined at ``placebo_reference_month`` (``employed_3m`` needs the two months
    before it) is one row saying so in ``warnings``.

    ``did_by_month``, ``did_pooled`` and ``placebo`` hold both DiD estimators (column ``method``):
    ``matched`` (weighted cell means) and ``adjusted`` (month x ``adjusted_covariates`` added, the
    covariates taken per unit from the survival table); ``rmst`` likewise holds both RMST
    differences per survival outcome (``matched``: :func:`rmst`; ``adjusted``:
    :func:`rmst_adjusted` with the same covariates). ``primary_method`` names the one the
    E-values (confounding) and the report use; with no ``adjusted_covariates`` only ``matched``
    rows are written.
    """
    s = settings
    outcomes, survival_outcomes, sensitivity = list(s.outcomes), list(s.survival_outcomes), list(s.sensitivity)
    adjusted_covariates, modifiers = list(s.adjusted_covariates), [dict(m) for m in s.modifiers]
    primary_outcome, primary_survival_outcome = s.primary_outcome, s.primary_survival_outcome
    reference_month, followup_months, level, rmst_horizon = (s.reference_month, s.followup_months, s.level,
                                                             s.rmst_horizon)
    _check_primary(s.primary_method, adjusted_covariates, outcomes, primary_outcome, survival_outcomes,
                   primary_survival_outcome)
    all_panel, all_survival = panel, survival
    panel, survival = main_sample(panel), main_sample(survival)
    panel, survival = analysis_inputs(panel, survival, matched,
                                      join=list(dict.fromkeys(["pscore", *cluster_columns(sensitivity)])))
    n = int(s.dominance_units)
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    unit_covariates = survival[["unit", *adjusted_covariates]] if adjusted_covariates else None

    _did_parts(parts, panel, outcomes, unit_covariates, n, reference_month=reference_month,
               followup_months=followup_months, placebo_reference_month=s.placebo_reference_month,
               placebo_post_months=list(s.placebo_post_months), band_draws=s.band_draws, band_seed=s.band_seed,
               level=level)

    dominance = unit_dominance(survival, n)
    for outcome in survival_outcomes:
        log.info("survival: %s", outcome)
        for name, table in _survival_outcome_tables(survival, outcome, horizon=rmst_horizon, level=level,
                                                    split_month=s.ph_split_month, covariates=adjusted_covariates,
                                                    dominance=dominance).items():
            parts[name].append(table)

    if modifiers:
        log.info("effect modifiers: %d", len(modifiers))
        if modifier_pairs is None:
            raise InputError("effect modifiers need the re-matched modifier pairs",
                             hint="pass data/processed/modifier_pairs.parquet (rule register_matching writes it)")
        parts["modifiers"].append(modifier_table(
            all_panel, modifier_pairs, modifiers, outcome=primary_outcome, reference_month=reference_month,
            followup_months=followup_months, min_trainees=s.min_subgroup_trainees, level=level,
            covariates=(_modifier_covariates(all_survival, matched, adjusted_covariates) if adjusted_covariates
                        else None)))
    if sensitivity:
        log.info("sensitivity analyses: %s", ", ".join(sensitivity))
        parts["sensitivity"].append(sensitivity_analyses(
            panel, survival, analyses=list(sensitivity), outcome=primary_outcome,
            survival_outcome=primary_survival_outcome, reference_month=reference_month,
            followup_months=followup_months, rmst_horizon=rmst_horizon, level=level))

    tables = {name: _contract_table(name, parts[name]) for name in TABLES if name != "confounding"}
    tables["confounding"] = _contract_table("confounding", [_confounding(
        tables["did_pooled"], tables["rmst"], tables["survival"], tables["km"], survival, outcome=primary_outcome,
        survival_outcome=primary_survival_outcome, horizon=rmst_horizon, primary_method=s.primary_method)])
    return {name: tables[name] for name in TABLES}


def _check_primary(primary_method: str, adjusted_covariates: Sequence[str], outcomes: Sequence[str],
                   primary_outcome: str, survival_outcomes: Sequence[str], primary_survival_outcome: str) -> None:
    """The primary method is known (and adjusted only with covariates); the primary outcomes are
    among the outcomes."""
    if primary_method not in METHODS:
        raise InputError(f"unknown primary method {primary_method!r}",
                         hint="effects.primary_method is matched or adjusted")
    if primary_method == "adjusted" and not adjusted_covariates:
        raise InputError("the primary method is adjusted but effects.adjusted_covariates is empty",
                         hint="list the covariates or use effects.primary_method: matched")
    if primary_outcome not in outcomes:
        raise InputError(f"the primary outcome {primary_outcome!r} is not among the outcomes {list(outcomes)}",
                         hint="check effects.primary_outcome and effects.outcomes")
    if primary_survival_outcome not in survival_outcomes:
        raise InputError(f"the primary survival outcome {primary_survival_outcome!r} is not among "
                         f"{list(survival_outcomes)}",
                         hint="check effects.primary_survival_outcome and effects.survival_outcomes")


def _did_parts(parts: dict[str, list[pd.DataFrame]], panel: pd.DataFrame, outcomes: Sequence[str],
               unit_covariates: pd.DataFrame | None, n: int, *, reference_month: int, followup_months: int,
               placebo_reference_month: int, placebo_post_months: Sequence[int], band_draws: int, band_seed: int,
               level: float) -> None:
    """Per outcome: the trajectories, and per DiD estimator (matched; adjusted where
    ``unit_covariates`` are given) the effects per month, the pooled effect and the placebo, each
    with the dominance share of the cells behind it (``n`` largest units); appended to ``parts``."""
    shares = trajectories(panel, list(outcomes))
    for outcome in outcomes:
        log.info("difference-in-differences: %s", outcome)
        cells = cell_dominance(panel, outcome, n)
        mine = shares[shares["outcome"] == outcome].copy()
        mine[DOMINANCE_COLUMN] = [float(cells.get((int(g == "treated"), int(m)), np.nan))
                                  for g, m in zip(mine["group"], mine["month"])]
        parts["trajectories"].append(mine)
        for covariates in [None] + ([unit_covariates] if unit_covariates is not None else []):
            fit = did_fit(panel, outcome, reference_month, covariates=covariates)
            by_month = did_by_month_table(fit, followup_months=followup_months, band_draws=band_draws, seed=band_seed,
                                          level=level)
            by_month[DOMINANCE_COLUMN] = [_months_dominance(cells, [int(m), reference_month])
                                          for m in by_month["month"]]
            parts["did_by_month"].append(by_month)
            pooled = did_pooled_table(fit, followup_months=followup_months, level=level)
            pooled[DOMINANCE_COLUMN] = _months_dominance(cells, [*post_months(fit, followup_months), reference_month])
            parts["did_pooled"].append(pooled)
            parts["placebo"].append(_placebo_rows(panel, outcome, placebo_reference_month, placebo_post_months, level,
                                                  cells, covariates))
            del fit  # the adjusted fit keeps per-cluster parts of its df: free them before the next


# ---------------------------------------------------------------------------------------------
# settings and files


def write_effect_tables(tables: Mapping[str, pd.DataFrame], paths: Mapping[str, str | PurePath]) -> None:
    """Write each table to its path (the project's CSV: 8 significant digits, rows in key order),
    each file whole or not at all."""
    from mentorwijs.tables import write_csv_table

    unknown = sorted(set(paths) - set(tables))
    if unknown:
        raise KeyError(f"no table named {unknown[0]!r}")
    for name, path in paths.items():
        write_csv_table(tables[name], path, sort_by=None)


def effects_step(*, panel: str | PurePath, survival: str | PurePath, pairs: str | PurePath, matched: str | PurePath,
                 out_folder: str | PurePath, settings: EffectSettings | Mapping[str, Any],
                 modifier_pairs: str | PurePath | None = None) -> dict[str, Path]:
    """Read the matched analysis tables, compute every effect table, write ``<out_folder>/<table>.csv``.

    The tables are checked against their declarations (:mod:`mentorwijs.files`) as they are read.
    ``settings``: an :class:`EffectSettings`, or its plain values (:meth:`EffectSettings.as_params`,
    as a Snakemake rule's ``params`` carry them)."""
    from mentorwijs.files import read_checked

    if not isinstance(settings, EffectSettings):
        settings = EffectSettings.from_params(settings)
    tables = effect_tables(read_checked("panel", panel), read_checked("survival", survival),
                           read_checked("pairs", pairs), read_checked("matched", matched),
                           modifier_pairs=(read_checked("modifier_pairs", modifier_pairs) if modifier_pairs is not None
                                           else None),
                           settings=settings)
    paths = {name: Path(out_folder) / f"{name}.csv" for name in TABLES}
    write_effect_tables(tables, paths)
    for name in TABLES:
        log.info("%s: %d rows", name, len(tables[name]))
    return paths


__all__ = ["TABLES", "EffectSettings", "analysis_inputs", "cell_dominance", "effect_tables", "effects_step",
           "unit_dominance", "write_effect_tables"]
