"""Sensitivity analyses on already-built inputs.

Each analysis changes one thing about the primary analysis and re-estimates the three headline
numbers (pooled difference-in-differences, RMST difference, hazard ratio) where the change
applies. Re-matching with other settings (caliper, k, exact variables) is done by the matching
part; its panel and survival tables are passed here as extra ``variants``.

Analyses (names as in ``effects.sensitivity`` of config.yaml):

- ``primary``: the primary analysis itself, as the row to compare with;
- ``unweighted``: every unit weighs 1 (ignores that a control may stand for several trainees);
- ``odds_weights``: controls weighted by the odds of their propensity score p/(1-p) (one
  reading of "weighted according to its propensity score"), normalised per cohort;
- ``person_fe``: person fixed effects in the difference-in-differences;
- ``cohort_month_fe``: cohort x month fixed effects (each cohort its own calendar trend);
- ``cluster=<column>``: standard errors clustered on another column (e.g. the employer);
- ``cloglog``: the discrete-time complementary log-log model instead of Cox (hazard ratio).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from mentorwijs.contracts import column_names
from mentorwijs.effects._common import indicator, join_warnings, require_columns
from mentorwijs.effects.did import did_fit, did_pooled_table
from mentorwijs.effects.survival import cloglog_model, cox_model, rmst
from mentorwijs.effects._common import z_summary
from mentorwijs.errors import InputError

#: Columns of the ``sensitivity`` table (its contract).
COLUMNS = column_names("sensitivity")


def unweighted(table: pd.DataFrame, *, weight: str = "weight") -> pd.DataFrame:
    """A copy of a panel or survival table with every weight set to 1."""
    require_columns(table, [weight], "input")
    out = table.copy()
    out[weight] = 1.0
    return out


def odds_weights(table: pd.DataFrame, *, pscore: str = "pscore", by: str | None = "cohort",
                 weight: str = "weight") -> pd.DataFrame:
    """A copy with odds weights: trainees 1, controls p/(1-p) of their propensity score ``pscore``.

    With ``by`` (default ``cohort``) the control weights are rescaled within each cohort so that
    they sum to the cohort's number of trainee units, as the matching weights do (the propensity
    score does not contain the cohort, on which matching is exact). In a panel the sums are taken
    over units, not person-months.
    """
    require_columns(table, ["unit", "treated", pscore, *([by] if by else [])], "input")
    p = pd.to_numeric(table[pscore], errors="coerce").to_numpy(dtype=float)
    bad = ~((p > 0) & (p < 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"propensity score {table[pscore].iloc[row]!r} is not strictly between 0 and 1",
                         row=row + 1, column=pscore, hint="odds weights need 0 < pscore < 1")
    treated = indicator(table, "treated", "input") == 1
    w = np.where(treated, 1.0, p / (1 - p))
    out = table.copy()
    out[weight] = w
    if by:
        units = out.drop_duplicates("unit")
        trainees = units[units["treated"] == 1].groupby(by).size()
        control_sum = units[units["treated"] == 0].groupby(by)[weight].sum()
        scale = (trainees / control_sum).reindex(out[by]).to_numpy()
        out[weight] = np.where(treated, 1.0, w * np.nan_to_num(scale, nan=0.0))
    return out


def _did_row(analysis, panel, outcome, reference_month, followup_months, level, **kw) -> dict:
    try:
        fit = did_fit(panel, outcome, reference_month, **kw)
        row = did_pooled_table(fit, followup_months=followup_months, level=level).iloc[0].to_dict()
        return {"analysis": analysis, "outcome": outcome, "estimand": "pooled difference-in-differences",
                **{k: row[k] for k in ("estimate", "se", "ci_low", "ci_high", "p", "n_treated", "n_control",
                                       "n_clusters", "df_resid", "converged", "warnings")}}
    except InputError as exc:
        return _failed(analysis, outcome, "pooled difference-in-differences", exc.problem)


def _failed(analysis, outcome, estimand, message) -> dict:
    return {"analysis": analysis, "outcome": outcome, "estimand": estimand, "estimate": np.nan, "se": np.nan,
            "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "n_treated": pd.NA, "n_control": pd.NA,
            "n_clusters": pd.NA, "df_resid": np.nan, "converged": 0, "warnings": message}


def _rmst_row(analysis, survival, outcome, horizon, level, **kw) -> dict:
    try:
        r = rmst(survival, outcome, horizon, level=level, **kw).iloc[0]
    except InputError as exc:
        return _failed(analysis, outcome, f"RMST difference at {horizon} months", exc.problem)
    positive = pd.to_numeric(survival[kw.get("weight", "weight")], errors="coerce").to_numpy() > 0
    n_clusters = int(survival.loc[positive, kw.get("cluster", "person")].nunique())
    return {"analysis": analysis, "outcome": outcome, "estimand": f"RMST difference at {horizon} months",
            "estimate": r["difference"], "se": r["se"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
            "p": r["p"], "n_treated": r["n_treated"], "n_control": r["n_control"], "n_clusters": n_clusters,
            "df_resid": n_clusters - 1, "converged": 1, "warnings": r["warnings"]}


def _cox_row(analysis, survival, outcome, level, **kw) -> dict:
    try:
        res = cox_model(survival, outcome, **kw)
    except InputError as exc:
        return _failed(analysis, outcome, "hazard ratio (Cox)", exc.problem)
    b, se = res.coef[0], res.se[0]
    low, high, p = z_summary(b, se, level)
    return {"analysis": analysis, "outcome": outcome, "estimand": "hazard ratio (Cox)", "estimate": float(np.exp(b)),
            "se": float(se), "ci_low": float(np.exp(low)), "ci_high": float(np.exp(high)), "p": float(p),
            **{k: res.counts[k] for k in ("n_treated", "n_control", "n_clusters", "df_resid")},
            "converged": int(res.converged), "warnings": join_warnings(res.warnings)}


def sensitivity_analyses(
    panel: pd.DataFrame,
    survival: pd.DataFrame,
    *,
    analyses: Sequence[str],
    outcome: str,
    survival_outcome: str,
    reference_month: int,
    followup_months: int | None,
    rmst_horizon: int = 12,
    variants: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """The ``sensitivity`` table: one row per analysis x estimand.

    ``estimand`` is ``pooled difference-in-differences`` (of ``outcome``), ``RMST difference at
    h months`` or ``hazard ratio (Cox)`` / ``hazard ratio (cloglog)`` (of ``survival_outcome``);
    ``se`` is on the estimate's scale (log scale for hazard ratios). ``variants`` maps extra
    analysis names to (panel, survival) built elsewhere (e.g. re-matched), estimated like the
    primary analysis. Every row carries the units behind it (``n_treated``, ``n_control``), the
    clusters of its model and their degrees of freedom (``n_clusters``, ``df_resid``),
    ``converged`` and ``warnings``.
    """
    rows: list[dict] = []
    did_kw = dict(outcome=outcome, reference_month=reference_month, followup_months=followup_months, level=level)

    def headline(name: str, pnl: pd.DataFrame, srv: pd.DataFrame, **kw) -> None:
        rows.append(_did_row(name, pnl, **did_kw, **kw))
        rows.append(_rmst_row(name, srv, survival_outcome, rmst_horizon, level, **kw))
        rows.append(_cox_row(name, srv, survival_outcome, level, **kw))

    for name in analyses:
        if name == "primary":
            headline(name, panel, survival)
        elif name == "unweighted":
            headline(name, unweighted(panel), unweighted(survival))
        elif name == "odds_weights":
            headline(name, odds_weights(panel), odds_weights(survival))
        elif name == "person_fe":
            rows.append(_did_row(name, panel, **did_kw, fixed_effects="person"))
        elif name == "cohort_month_fe":
            rows.append(_did_row(name, panel, **did_kw, fixed_effects="cohort_month"))
        elif name.startswith("cluster="):
            column = name.split("=", 1)[1]
            require_columns(panel, [column], "panel")
            require_columns(survival, [column], "survival")
            headline(name, panel, survival, cluster=column)
        elif name == "cloglog":
            try:
                r = cloglog_model(survival, survival_outcome, level=level).iloc[0]
                rows.append({"analysis": name, "outcome": survival_outcome, "estimand": "hazard ratio (cloglog)",
                             "estimate": r["hr"], "se": r["se"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                             "p": r["p"], **{k: r[k] for k in ("n_treated", "n_control", "n_clusters", "df_resid")},
                             "converged": r["converged"], "warnings": r["warnings"]})
            except InputError as exc:
                rows.append(_failed(name, survival_outcome, "hazard ratio (cloglog)", exc.problem))
        else:
            raise InputError(
                f"unknown sensitivity analysis {name!r}",
                hint="use primary, unweighted, odds_weights, person_fe, cohort_month_fe, cloglog or cluster=<column>",
            )
    for name, (pnl, srv) in (variants or {}).items():
        headline(name, pnl, srv)
    table = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("n_treated", "n_control", "n_clusters"):
        table[column] = table[column].astype("Int64")
    table["df_resid"] = pd.to_numeric(table["df_resid"], errors="coerce").astype(float)
    table["converged"] = table["converged"].astype("int64")
    return table
