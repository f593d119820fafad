"""The aggregate tables under ``reports/tables/``: what each holds, and reading them strictly.

Figures, report and factsheet are built from these tables only, never from microdata: they
are what leaves the CBS environment (after disclosure control) plus the questionnaire tables.
:data:`TABLE_SPECS` is the single description of every table; the data dictionary
``reports/tables/README.md`` is generated from it (:func:`data_dictionary_markdown`) and a
test keeps the committed file equal to it.

Reading (:func:`read_aggregate_tables`) is strict on what the documents need and tolerant of
the rest: a required table or column that is missing, or a number that is not a number, is an
:class:`~mentorwijs.errors.InputError` naming file, row and column; extra columns are ignored;
a missing optional table is listed in :attr:`AggregateTables.missing` (the report says so in
its warnings appendix). Cells are kept as text, so a suppressed register cell (``<10``) reaches
the documents as written; :func:`numeric` gives a column as floats (suppressed and empty cells
become NaN) for plotting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from mentorwijs.errors import InputError
from mentorwijs.formatting import SUPPRESSED, as_float, is_suppressed

#: Column kinds and what they mean in the data dictionary.
KINDS = {
    "text": "text",
    "integer": "integer",
    "count": "count of units (may be `<10` where suppressed)",
    "number": "number (decimal point, 8 significant digits)",
    "probability": "number between 0 and 1",
    "indicator": "integer 0/1",
}
NUMERIC_KINDS = ("integer", "count", "number", "probability", "indicator")


@dataclass(frozen=True)
class Column:
    """One column of an aggregate table."""

    name: str
    kind: str
    description: str
    required: bool = True


@dataclass(frozen=True)
class TableSpec:
    """One table under ``reports/tables/``.

    ``origin`` says which disclosure policy applies (``register``: CBS output rules;
    ``questionnaire``: the study's own threshold; ``published``: counts the publication itself
    released). ``required``: the report and factsheet cannot be built without the table.
    """

    name: str
    title: str
    description: str
    origin: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    required: bool = False

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind in NUMERIC_KINDS)


def _c(name: str, kind: str, description: str, required: bool = True) -> Column:
    return Column(name, kind, description, required)


_OUTCOME = _c("outcome", "text", "`employed_1h` (at least 1 paid hour in the month), `employed_12h` (at least 12 paid hours a week on average), `employed_3m` (paid in this month and the two before)")
_ESTIMATE_CI = (
    _c("estimate", "number", "difference-in-differences: trained minus control group, change from the reference month, as a difference in probability"),
    _c("se", "number", "standard error, clustered on the person", False),
    _c("ci_low", "number", "lower bound of the pointwise 95% confidence interval"),
    _c("ci_high", "number", "upper bound of the pointwise 95% confidence interval"),
    _c("p", "probability", "two-sided p-value of estimate = 0", False),
)
_MODEL_STATUS = (
    _c("converged", "indicator", "1 when the model converged; 0 rows are listed in the report's warnings appendix", False),
    _c("warnings", "text", "warnings of the fit, `; `-separated (empty: none)", False),
)

TABLE_SPECS: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "flow", "Flow of participants",
            "Counts at each step of the participant flow, per population. A step named "
            "`excluded_<reason>` is drawn as a side box (those leaving the flow); every other "
            "step is a box of the main chain. Counts the publication released are exempt from "
            "suppression.",
            "published", ("population", "order"),
            (
                _c("population", "text", "`supervisors`, `employees` or `controls`"),
                _c("order", "integer", "position of the step within the population (1, 2, ...)"),
                _c("step", "text", "step code, e.g. `invited`, `completed_T0`, `excluded_refused_linkage`, `matched`"),
                _c("n", "count", "units at (or leaving at) this step"),
            ),
            required=True,
        ),
        TableSpec(
            "exclusions", "Exclusions",
            "Every exclusion of every stage: questionnaire stages one row per record, register "
            "stages one row per reason with a count.",
            "register", ("stage", "source", "wave", "record", "reason"),
            (
                _c("stage", "text", "pipeline stage that excluded (e.g. `ingest`, `register`, `matching`)"),
                _c("source", "text", "data source (e.g. `supervisors`, `payroll`)"),
                _c("wave", "text", "wave (empty for register stages)"),
                _c("record", "text", "pseudonymised record (empty for register stages, which count)"),
                _c("reason", "text", "why the record or rows were excluded"),
                _c("n", "count", "records or rows excluded"),
            ),
        ),
        TableSpec(
            "data_quality", "Data quality",
            "Checks of the raw exports (values out of range, missing codes, duplicates) and how often they fired.",
            "questionnaire", ("source", "wave", "check"),
            (
                _c("source", "text", "data source"),
                _c("wave", "text", "wave (empty where not applicable)"),
                _c("check", "text", "what was checked"),
                _c("n", "count", "cells or records the check concerned"),
            ),
        ),
        TableSpec(
            "reliability", "Reliability of the supervisors' scales",
            "Cronbach's alpha of each questionnaire scale per wave (the study did not test reliability).",
            "questionnaire", ("scale", "wave"),
            (
                _c("scale", "text", "`knowledge`, `self_efficacy`, `intention`, `behaviour`"),
                _c("wave", "text", "`T0`, `T1`, ..."),
                _c("alpha", "number", "Cronbach's alpha on complete answers"),
                _c("n", "count", "supervisors with all items answered"),
                _c("n_items", "integer", "items in the scale"),
            ),
        ),
        TableSpec(
            "balance", "Covariate balance",
            "Standardised mean differences (trained minus control, pooled SD) and variance ratios "
            "of the matching covariates before and after matching (after: with matching weights).",
            "register", ("covariate",),
            (
                _c("covariate", "text", "matching covariate (a level of a categorical one as `name=level`)"),
                _c("smd_before", "number", "standardised mean difference before matching"),
                _c("smd_after", "number", "standardised mean difference after matching, weighted"),
                _c("variance_ratio_before", "number", "variance ratio trained/control before matching", False),
                _c("variance_ratio_after", "number", "variance ratio after matching, weighted", False),
            ),
            required=True,
        ),
        TableSpec(
            "ps_overlap", "Propensity-score overlap",
            "Histogram of the propensity score per group, bins of at least 10 units (CBS rules).",
            "register", ("group", "bin_low"),
            (
                _c("group", "text", "`treated` or `control`"),
                _c("bin_low", "number", "lower edge of the bin (propensity score)"),
                _c("bin_high", "number", "upper edge of the bin"),
                _c("n", "count", "units in the bin (before matching)"),
            ),
        ),
        TableSpec(
            "trajectories", "Employment over time",
            "Share employed per month relative to the end of the training, per group (controls weighted by the matching).",
            "register", ("outcome", "group", "month"),
            (
                _OUTCOME,
                _c("group", "text", "`treated` or `control`"),
                _c("month", "integer", "month relative to the end of the training (0 = month of the last meeting)"),
                _c("share", "probability", "weighted share employed"),
                _c("n", "count", "units observed in the month"),
            ),
            required=True,
        ),
        TableSpec(
            "did_by_month", "Difference-in-differences per month",
            "Effect of the training per month relative to the reference month, with pointwise 95% "
            "intervals and a simultaneous 95% band over the follow-up months (key secondary analysis).",
            "register", ("outcome", "month"),
            (
                _OUTCOME,
                _c("month", "integer", "month relative to the end of the training"),
                *_ESTIMATE_CI,
                _c("band_low", "number", "lower bound of the simultaneous 95% band (follow-up months only)", False),
                _c("band_high", "number", "upper bound of the simultaneous 95% band", False),
                _c("n_treated", "count", "trained units observed in the month", False),
                _c("n_control", "count", "control units observed in the month", False),
            ),
            required=True,
        ),
        TableSpec(
            "did_pooled", "Pooled difference-in-differences",
            "Mean of the monthly effects over the follow-up with their joint covariance; for "
            "`employed_1h` this is the primary analysis.",
            "register", ("outcome", "months"),
            (
                _OUTCOME,
                _c("months", "text", "months pooled, e.g. `1-12`"),
                *_ESTIMATE_CI,
            ),
            required=True,
        ),
        TableSpec(
            "placebo", "Placebo analysis",
            "The pooled difference-in-differences with a fake earlier start (reference month -24, "
            "fake follow-up -23..-15): an estimate far from 0 questions common trends.",
            "register", ("outcome", "months"),
            (_OUTCOME, _c("months", "text", "fake post-training months pooled, e.g. `-23--15`"), *_ESTIMATE_CI),
        ),
        TableSpec(
            "km", "Kaplan-Meier estimates",
            "Job retention from the end of the training: share still in the baseline job (`job`) or "
            "in paid work (`work`), weighted, with robust (clustered) intervals; cut where fewer "
            "than 10 units are at risk.",
            "register", ("outcome", "group", "time"),
            (
                _c("outcome", "text", "`job` (end of the baseline job) or `work` (first month without paid work)"),
                _c("group", "text", "`treated` or `control`"),
                _c("time", "integer", "months since the end of the training"),
                _c("n_risk", "count", "units at risk at the start of the month"),
                _c("n_event", "count", "events in the month", False),
                _c("survival", "probability", "Kaplan-Meier estimate after the month"),
                _c("se", "number", "robust standard error of survival", False),
                _c("ci_low", "probability", "lower bound of the 95% interval", False),
                _c("ci_high", "probability", "upper bound of the 95% interval", False),
            ),
            required=True,
        ),
        TableSpec(
            "rmst", "Restricted mean survival time",
            "Months in the baseline job (or in work) within the horizon, per group, and their "
            "difference: the primary survival contrast.",
            "register", ("outcome", "horizon"),
            (
                _c("outcome", "text", "`job` or `work`"),
                _c("horizon", "integer", "horizon in months (12)"),
                _c("rmst_treated", "number", "restricted mean survival time, trained group (months)"),
                _c("rmst_control", "number", "restricted mean survival time, weighted controls (months)"),
                _c("difference", "number", "trained minus control (months)"),
                _c("se", "number", "standard error of the difference (influence functions, clustered on the person)", False),
                _c("ci_low", "number", "lower bound of the 95% interval of the difference"),
                _c("ci_high", "number", "upper bound of the 95% interval of the difference"),
                _c("p", "probability", "two-sided p-value", False),
            ),
            required=True,
        ),
        TableSpec(
            "survival", "Cox models",
            "Hazard ratios of job loss (an average over the follow-up; reported second).",
            "register", ("outcome", "model", "term"),
            (
                _c("outcome", "text", "`job` or `work`"),
                _c("model", "text", "model name (e.g. `cox_weighted`)"),
                _c("term", "text", "model term (e.g. `treated`)"),
                _c("hr", "number", "hazard ratio"),
                _c("ci_low", "number", "lower bound of the robust 95% interval"),
                _c("ci_high", "number", "upper bound of the robust 95% interval"),
                _c("p", "probability", "two-sided p-value", False),
                _c("n", "count", "units", False),
                _c("events", "count", "events", False),
                *_MODEL_STATUS,
            ),
        ),
        TableSpec(
            "ph_test", "Proportional-hazards tests",
            "Tests of proportional hazards per model term (Schoenfeld residuals).",
            "register", ("outcome", "term"),
            (
                _c("outcome", "text", "`job` or `work`"),
                _c("term", "text", "model term"),
                _c("statistic", "number", "test statistic", False),
                _c("p", "probability", "p-value: small values question proportional hazards"),
            ),
        ),
        TableSpec(
            "modifiers", "Effect modifiers",
            "Pooled effect on `employed_1h` per level of a possible modifier, and the interaction "
            "(difference from the reference level). Exploratory.",
            "register", ("modifier", "level"),
            (
                _c("modifier", "text", "characteristic (e.g. `temporary_contract`)"),
                _c("level", "text", "level of the characteristic"),
                _c("n_treated", "count", "trained units at this level"),
                _c("estimate", "number", "pooled difference-in-differences at this level"),
                _c("ci_low", "number", "lower bound of the 95% interval"),
                _c("ci_high", "number", "upper bound of the 95% interval"),
                _c("interaction", "number", "difference from the reference level (empty on the reference level)", False),
                _c("interaction_ci_low", "number", "lower bound of its 95% interval", False),
                _c("interaction_ci_high", "number", "upper bound of its 95% interval", False),
                _c("suppressed", "indicator", "1 when the row was suppressed by disclosure control", False),
            ),
        ),
        TableSpec(
            "sensitivity", "Sensitivity analyses",
            "The primary analysis repeated under other choices (weights, matching, samples).",
            "register", ("analysis", "outcome"),
            (
                _c("analysis", "text", "what was changed (e.g. `odds_weights`)"),
                _OUTCOME,
                _c("estimate", "number", "pooled difference-in-differences"),
                _c("ci_low", "number", "lower bound of the 95% interval"),
                _c("ci_high", "number", "upper bound of the 95% interval"),
                _c("n_treated", "count", "trained units", False),
                *_MODEL_STATUS,
            ),
        ),
        TableSpec(
            "supervisor_effects", "Supervisor outcomes: change from T0",
            "Mixed-model contrasts of each construct at a later wave against T0 (T1 versus T0 is "
            "the primary contrast per construct), Holm-adjusted over the four constructs.",
            "questionnaire", ("construct", "wave"),
            (
                _c("construct", "text", "`knowledge`, `self_efficacy`, `intention`, `behaviour`"),
                _c("wave", "text", "wave compared with T0"),
                _c("estimate", "number", "mean change on the 1-5 scale"),
                _c("ci_low", "number", "lower bound of the 95% interval"),
                _c("ci_high", "number", "upper bound of the 95% interval"),
                _c("p", "probability", "two-sided p-value", False),
                _c("p_holm", "probability", "Holm-adjusted p-value"),
                _c("effect_size", "number", "standardised change (change / SD at T0)", False),
                _c("n", "count", "supervisors in the model", False),
                *_MODEL_STATUS,
            ),
            required=True,
        ),
        TableSpec(
            "supervisor_means", "Supervisor outcomes per wave",
            "Mean score of each construct per wave (1-5 scale).",
            "questionnaire", ("construct", "wave"),
            (
                _c("construct", "text", "`knowledge`, `self_efficacy`, `intention`, `behaviour`"),
                _c("wave", "text", "`T0`, `T1`, ..."),
                _c("mean", "number", "mean scale score"),
                _c("ci_low", "number", "lower bound of the 95% interval", False),
                _c("ci_high", "number", "upper bound of the 95% interval", False),
                _c("n", "count", "supervisors answering"),
            ),
            required=True,
        ),
        TableSpec(
            "attrition", "Attrition of supervisors",
            "Supervisors answering per wave and how many were lost since T0.",
            "questionnaire", ("population", "wave"),
            (
                _c("population", "text", "`supervisors` (or `employees` for the follow-up)"),
                _c("wave", "text", "wave"),
                _c("n", "count", "answering at this wave"),
                _c("lost", "count", "not answering at this wave although they answered at T0", False),
            ),
        ),
        TableSpec(
            "process", "Process evaluation",
            "Dose delivered and received, extra time, satisfaction and contextual factors (supervisors' questionnaire and the schedule).",
            "questionnaire", ("measure", "wave", "category"),
            (
                _c("measure", "text", "what was measured (e.g. `dose_received`, `satisfaction_general`)"),
                _c("wave", "text", "wave (empty for the schedule)"),
                _c("category", "text", "answer category (empty for means)"),
                _c("n", "count", "supervisors (or trainings) in the category, or answering"),
                _c("value", "number", "share of those answering (`statistic` = share) or mean"),
                _c("statistic", "text", "`share` or `mean`", False),
                _c("sd", "number", "standard deviation (means only)", False),
                _c("denominator", "count", "those answering (shares only)", False),
            ),
        ),
        TableSpec(
            "employees_baseline", "Employees' characteristics",
            "The employees' questionnaire (percentages of those answering; means with SD).",
            "questionnaire", ("characteristic", "category"),
            (
                _c("characteristic", "text", "what was asked (e.g. `occupation`)"),
                _c("category", "text", "answer category (empty for means)"),
                _c("n", "count", "employees in the category, or answering"),
                _c("value", "number", "share of those answering (`statistic` = share) or mean"),
                _c("statistic", "text", "`share` or `mean`", False),
                _c("sd", "number", "standard deviation (means only)", False),
                _c("denominator", "count", "those answering (shares only)", False),
            ),
        ),
    )
}

#: Table names in the order of the data dictionary (and of design.md).
TABLE_NAMES = tuple(TABLE_SPECS)


@dataclass
class AggregateTables:
    """The tables a document is built from (cells as text), and the optional ones that were absent."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.tables


def _line(index: int) -> int:
    """Line number in the CSV as an editor shows it (header is line 1)."""
    return index + 2


def validate_table(df: pd.DataFrame, spec: TableSpec, *, file: str | Path | None = None) -> pd.DataFrame:
    """Check a table read as text against its spec; returns it with columns stripped of spaces.

    Raises :class:`InputError` for a missing required column, an empty required table, or a
    cell of a numeric column that is neither a number, empty, nor ``<10``.
    """
    df = df.rename(columns=lambda c: str(c).strip())
    missing = [c for c in spec.required_columns if c not in df.columns]
    if missing:
        raise InputError(
            f"table {spec.name!r} lacks the column(s) {', '.join(missing)}",
            file=file,
            column=missing[0],
            hint=f"the columns of {spec.name}.csv are listed in reports/tables/README.md; rerun the stage that writes it",
        )
    if spec.required and df.empty:
        raise InputError(f"table {spec.name!r} has no rows", file=file, hint="rerun the stage that writes it")
    for column in spec.numeric_columns:
        if column not in df.columns:
            continue
        for index, value in df[column].items():
            if value is None or value == "" or is_suppressed(value):
                continue
            if as_float(value) is None:
                hint = "tables under reports/tables use a decimal point and no thousands separator"
                if spec.name != "flow" and "," in str(value):
                    hint += " (was the file saved by a spreadsheet with Dutch settings?)"
                raise InputError(f"{value!r} is not a number", file=file, row=_line(int(index)), column=column, hint=hint)
    return df


def read_table(path: str | Path, spec: TableSpec) -> pd.DataFrame:
    """Read one aggregate table as text (``<10`` and empty cells kept) and validate it."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=path, hint="tables under reports/tables are UTF-8") from None
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty (not even a header)", file=path, hint="rerun the stage that writes it") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"not a comma-separated table: {exc}", file=path, hint="tables under reports/tables are comma-separated") from None
    return validate_table(df, spec, file=path)


def read_aggregate_tables(directory: str | Path | None = None, *, names: Iterable[str] | None = None,
                          paths: Mapping[str, str | Path] | None = None) -> AggregateTables:
    """Read the tables ``names`` (default: all) from ``directory`` (``<name>.csv``) or from ``paths``.

    A missing required table is an :class:`InputError`; a missing optional one is listed in
    ``missing``. ``paths`` (name -> file) wins over ``directory`` for the names it holds.
    """
    wanted = list(names) if names is not None else list(TABLE_NAMES)
    paths = dict(paths or {})
    result = AggregateTables()
    missing = []
    for name in wanted:
        if name not in TABLE_SPECS:
            raise ValueError(f"unknown aggregate table {name!r}")
        spec = TABLE_SPECS[name]
        if name in paths:
            path = Path(paths[name])
        elif directory is not None:
            path = Path(directory) / f"{name}.csv"
        else:
            path = None
        if path is None or not path.is_file():
            if spec.required:
                raise InputError(
                    f"the required table {name!r} is missing",
                    file=path,
                    hint=f"the report needs {name}.csv; run the stage that writes it (see reports/tables/README.md)",
                )
            missing.append(name)
            continue
        result.tables[name] = read_table(path, spec)
    result.missing = tuple(missing)
    return result


def numeric(df: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats for plotting: empty and suppressed (``<10``) cells become NaN."""
    if column not in df.columns:
        return pd.Series(float("nan"), index=df.index, dtype=float)
    return pd.to_numeric(df[column].map(lambda v: "" if is_suppressed(v) else v).replace("", None), errors="coerce").astype(float)


def suppressed_cells(df: pd.DataFrame) -> int:
    """How many cells of a table hold the suppression mark ``<10``."""
    return int(sum(df[c].map(is_suppressed).sum() for c in df.columns))


def data_dictionary_markdown() -> str:
    """The text of ``reports/tables/README.md``: every table, its keys and its columns."""
    lines = [
        "# Data dictionary of the aggregate tables",
        "",
        "Generated from `mentorwijs.aggregates.TABLE_SPECS` (a test keeps this file equal to it).",
        "These tables are all that figures, report and factsheet are built from. Every table is",
        "UTF-8, comma-separated, with a decimal point and numbers to 8 significant digits, one row",
        "per key, rows sorted by the key. Indicator columns are integers 0/1 and `month` is an",
        "integer. A cell suppressed by disclosure control holds the text `<10`, and its count (n)",
        "goes with it. Tables of register origin follow the CBS output rules; questionnaire tables",
        "the study's own threshold; published counts (the flow chart) are exempt.",
        "",
        "Required tables must be present for the report; a missing optional table is named in",
        "the report's warnings appendix. Extra columns are allowed and ignored by the documents.",
        "",
        "| table | origin | required | key |",
        "|---|---|---|---|",
    ]
    for spec in TABLE_SPECS.values():
        lines.append(f"| [`{spec.name}`](#{spec.name}) | {spec.origin} | {'yes' if spec.required else 'no'} | {', '.join(spec.keys)} |")
    for spec in TABLE_SPECS.values():
        lines += [
            "",
            f"## {spec.name}",
            "",
            f"**{spec.title}.** {spec.description}",
            "",
            f"File `{spec.name}.csv`; origin: {spec.origin}; key: {', '.join(f'`{k}`' for k in spec.keys)}.",
            "",
            "| column | type | required | meaning |",
            "|---|---|---|---|",
        ]
        for column in spec.columns:
            lines.append(f"| `{column.name}` | {KINDS[column.kind]} | {'yes' if column.required else 'no'} | {column.description} |")
    return "\n".join(lines) + "\n"


__all__ = [
    "AggregateTables", "Column", "SUPPRESSED", "TABLE_NAMES", "TABLE_SPECS", "TableSpec",
    "data_dictionary_markdown", "numeric", "read_aggregate_tables", "read_table",
    "suppressed_cells", "validate_table",
]
