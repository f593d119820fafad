"""The technical report and the two-page factsheet, as HTML and PDF, from aggregate tables.

Inputs are the tables under ``reports/tables/`` (:mod:`mentorwijs.aggregates`), the figures
and their manifest (:mod:`mentorwijs.figures`) and, for the report, ``provenance.json``. The
documents hold no statistics of their own: numbers come from the tables, wording from the
message catalogue (:mod:`mentorwijs.messages`) and the inference hierarchy
(:mod:`mentorwijs.findings`), layout from the Jinja2 templates in ``mentorwijs/templates/``.

- :func:`report_context` / :func:`factsheet_context` build what a template shows (pure);
- :func:`render_html` fills a template for a medium: ``html`` embeds PNG figures, ``pdf``
  embeds the vector (SVG) figures; both as ``data:`` URIs, so no document refers to a local
  file;
- :func:`render_pdf` lays the HTML out with WeasyPrint into a tagged PDF (PDF/UA-1, figures
  with alternative texts) with the shipped fonts, no dates and no file identifier, so the same
  input gives the same bytes; the URL fetcher only accepts ``data:`` URIs;
- :func:`write_report` and :func:`write_factsheet` do all of that for files.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import pandas as pd

from mentorwijs import __version__
from mentorwijs.aggregates import TABLE_SPECS, AggregateTables, numeric, read_aggregate_tables, suppressed_cells
from mentorwijs.contracts import PRIMARY_METHOD, method_rows, other_method
from mentorwijs.errors import InputError
from mentorwijs.figures import FigureRecord, read_manifest
from mentorwijs.findings import NO_CLEAR_EFFECT, Statement, followup_months, key_findings, statements
from mentorwijs.formatting import MISSING, as_float, is_suppressed
from mentorwijs.messages import Messages, load_messages

FORMATS = ("html", "pdf")
#: Fonts embedded in every PDF (files in ``mentorwijs/fonts``): family, weight, file.
#: The figures' SVG text names 'DejaVu Sans' (matplotlib's font): it is served from the same
#: shipped files, never from the system's fonts.
FONTS = tuple((family, weight, filename) for family in ("Mentorwijs Sans", "DejaVu Sans")
              for weight, filename in ((400, "DejaVuSans.ttf"), (700, "DejaVuSans-Bold.ttf")))


@dataclass(frozen=True)
class ReportSettings:
    """Plain values from the configuration that the documents show (never the whole config).

    ``anchors``: the ``anchors`` section; ``region_pairs``: ``regions.pairs``;
    ``analysis_settings``: further analysis sections (shown in the methods as they are);
    ``full_report``: where the full report is (a URL or a text; None: next to the factsheet);
    ``contact``: who to ask (None: no contact line);
    ``power``: the rows of the power planner's table (docs/validation/power.csv), from which the
    limitations state the power a study of this size had to detect the synthetic study's effect.
    """

    language: str = "nl"
    title: str | None = None
    synthetic: bool = False
    study_name: str = "Mentorwijs"
    seed: int | None = None
    anchors: Mapping[str, Any] = field(default_factory=dict)
    region_pairs: Mapping[str, Sequence[str]] = field(default_factory=dict)
    analysis_settings: Mapping[str, Any] = field(default_factory=dict)
    full_report: str | None = None
    contact: str | None = None
    alpha: float = 0.05
    power: Sequence[Mapping[str, Any]] = ()


# ---------------------------------------------------------------------------------------------
# blocks of a document


class Numbering:
    """Consecutive numbers of tables and figures in the order they are placed."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self) -> int:
        self.tables += 1
        return self.tables

    def figure(self) -> int:
        self.figures += 1
        return self.figures


def _table(numbering: Numbering, m: Messages, caption: str, header: list[str], rows: list[list[str]], align: str,
           notes: Iterable[str] = (), anchor: str = "") -> dict[str, Any]:
    number = numbering.table()
    notes = list(notes)
    flat = [_cell_text(c) for r in rows if not isinstance(r, Mapping) for c in r]
    if any(c == "<10" or "<10" in c.split() for c in flat):
        notes.append(m.t("document.suppressed_note"))
    return {"kind": "table", "id": anchor or f"table-{number}", "number": number, "caption": caption, "header": header,
            "rows": rows, "align": list(align), "notes": notes}


def group_row(text: str) -> dict[str, str]:
    """A row of a table that heads the rows under it (drawn across all columns): what they share,
    written once instead of in every row."""
    return {"group": text}


def code(text: Any) -> dict[str, str]:
    """A table cell holding a name a reader types or looks up as it is (a file, a setting of the
    configuration): shown in monospace, never translated."""
    return {"code": "" if text is None else str(text)}


def _cell_text(cell: Any) -> str:
    return cell["code"] if isinstance(cell, Mapping) else str(cell)


def _figure(numbering: Numbering, figures: Mapping[str, FigureRecord], name: str) -> dict[str, Any] | None:
    record = figures.get(name)
    if record is None:
        return None
    number = numbering.figure()
    return {"kind": "figure", "id": f"figure-{name}", "name": name, "number": number, "title": record.title,
            "caption": record.caption, "alt": record.alt}


def _p(text: str) -> dict[str, Any]:
    return {"kind": "p", "text": text}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    return text if text else MISSING


def _converged(m: Messages, value: Any) -> str:
    text = str(value).strip()
    return m.t("columns.yes") if text == "1" else m.t("columns.no") if text == "0" else MISSING


# ---------------------------------------------------------------------------------------------
# tables of the report


def _pp(m: Messages, value: Any) -> str:
    return m.points(value, 1)


def _pp_ci(m: Messages, low: Any, high: Any) -> str:
    return m.ci(low, high, 1, scale=100)


def flow_rows(flow: pd.DataFrame, m: Messages) -> list[list[str]]:
    order = {"supervisors": 0, "employees": 1, "controls": 2}
    rows = flow.assign(_p=flow["population"].map(lambda p: order.get(p, 9)), _o=numeric(flow, "order"))
    rows = rows.sort_values(["_p", "_o"], kind="mergesort")
    return [[m.label("population", r.population), m.label("flow_step", r.step), m.count(r.n)] for r in rows.itertuples(index=False)]


def _value_cell(m: Messages, row: Any) -> str:
    """A share as a percentage with its count, or a mean with its SD (process, employees_baseline)."""
    share, mean = getattr(row, "share", ""), getattr(row, "mean", "")
    if str(share or "").strip():
        text = m.pct(share, 0)
        count = getattr(row, "count", "")
        return f"{text} ({m.count(count)})" if str(count or "").strip() else text
    if not str(mean or "").strip():
        return MISSING
    text = m.num(mean, 1)
    sd = getattr(row, "sd", "")
    if as_float(sd) is not None or is_suppressed(sd):
        text += f" ({m.num(sd, 1)})"
    return text


def category_label(m: Messages, measure: str, category: str, label: str = "") -> str:
    """The words of an answer category: the catalogue's label for the measure, else its general
    label, else the table's own label, else the code."""
    if not category:
        return MISSING
    for kind in (f"category_{measure}", "category"):
        if m.has(f"labels.{kind}.{category}"):
            return m.label(kind, category)
    return label or category


def described_rows(df: pd.DataFrame, m: Messages) -> list[list[str]]:
    """Rows of a process or employees table (``measure, wave, category, label, n, count, share,
    mean, sd``): measure, wave, category, n, value (share with its count, or mean with its SD).

    The measure (and wave) is written once for consecutive rows of the same measure.
    """
    out = []
    previous = None
    for r in df.itertuples(index=False):
        code = (r.measure, r.wave)
        name = m.label("measure", r.measure) if code != previous else ""
        previous = code
        category = str(r.category or "")
        out.append([name, m.label("wave", r.wave) if str(r.wave or "").strip() else MISSING,
                    category_label(m, str(r.measure), category, str(getattr(r, "label", "") or "")),
                    m.count(r.n), _value_cell(m, r)])
    return out


def months_text(months: Any) -> str:
    """A range of months as written in a table (``1..12``), for a reader (``1–12``)."""
    text = str(months or "").strip()
    return text.replace("..", "\u2013") if text else MISSING


ESTIMAND_DID = "pooled difference-in-differences"


def estimand_value(m: Messages, estimand: str, estimate: Any, low: Any, high: Any) -> tuple[str, str]:
    """An estimate and its interval on their own scale: percentage points for a difference in
    probability, months for an RMST difference, a ratio for a hazard ratio."""
    if estimand == ESTIMAND_DID:
        return _pp(m, estimate), _pp_ci(m, low, high)
    if estimand.startswith("RMST"):
        return m.num(estimate, 2, sign=True), m.ci(low, high, 2)
    return m.num(estimate, 2), m.ci(low, high, 2)


def baseline_variable_label(m: Messages, variable: str) -> str:
    """A baseline characteristic of the attrition table: its label, or for ``<construct>_<wave>``
    (a construct's score at the reference wave) the construct at that wave."""
    if not any(m.has(f"labels.{kind}.{variable}") for kind in ("variable", "covariate")):
        construct, _, wave = variable.rpartition("_")
        if construct and m.has(f"labels.construct.{construct}") and re.fullmatch(r"T\d+", wave):
            return m.t("labels.score_at_wave", construct=m.label("construct", construct), wave=wave)
    return m.label("variable", variable)


def attrition_rows(attrition: pd.DataFrame, m: Messages) -> list[Any]:
    """Per later wave (a group row) and baseline variable: stayed versus dropped out (counts,
    means with SD, shares of each category by its label)."""

    def value(statistic: str, v: Any, sd: Any) -> str:
        if statistic == "count":
            return m.count(v)
        if statistic == "share":
            return m.pct(v, 0)
        text = m.num(v, 1)
        return text + (f" ({m.num(sd, 1)})" if as_float(sd) is not None else "")

    rows: list[Any] = []
    previous = None
    for r in attrition.itertuples(index=False):
        if r.wave != previous:
            rows.append(group_row(m.label("wave", r.wave)))
            previous = r.wave
        variable = baseline_variable_label(m, str(r.variable))
        if str(r.category or "").strip():
            variable += f": {m.category(str(r.variable), str(r.category))}"
        statistic = str(r.statistic)
        rows.append([variable, value(statistic, r.value_stayed, r.sd_stayed),
                     value(statistic, r.value_dropped, r.sd_dropped), m.num(getattr(r, "std_diff", None), 2)])
    return rows


def modifier_table_rows(modifiers: pd.DataFrame, m: Messages) -> list[Any]:
    """Per modifier (a group row) its levels: trainees, effect with CI, difference from the
    reference level with CI."""
    rows: list[Any] = []
    previous = None
    for r in modifiers.itertuples(index=False):
        if r.modifier != previous:
            rows.append(group_row(m.label("modifier", r.modifier)))
            previous = r.modifier
        suppressed = str(getattr(r, "suppressed", "0")).strip() == "1" and as_float(r.estimate) is None
        estimate = m.t("figures.text.forest_suppressed") if suppressed else _pp(m, r.estimate)
        rows.append([m.category(r.modifier, r.level), m.count(r.n_treated), estimate,
                     MISSING if suppressed else _pp_ci(m, r.ci_low, r.ci_high),
                     _pp(m, getattr(r, "interaction", None)),
                     _pp_ci(m, getattr(r, "interaction_ci_low", None), getattr(r, "interaction_ci_high", None))])
    return rows


def ph_test_rows(ph_test: pd.DataFrame, m: Messages) -> list[Any]:
    """The test of proportional hazards per outcome (a group row): the hazard ratio early and late
    in the follow-up and their ratio."""
    rows: list[Any] = []
    previous = None
    for r in ph_test.itertuples(index=False):
        if r.outcome != previous:
            rows.append(group_row(m.label("outcome", r.outcome)))
            previous = r.outcome
        rows.append([m.label("term", r.term), m.num(r.hr, 2), m.ci(r.ci_low, r.ci_high, 2), m.p(r.p), m.count(r.n_event)])
    return rows


#: Order of the models in the Cox table, and of the terms within a model (then as the table has them).
MODEL_ORDER = ("primary", "adjusted", "cloglog")
TERM_ORDER = ("treated", "robust score test")


def survival_rows(survival: pd.DataFrame, m: Messages) -> list[Any]:
    """The Cox (and discrete-time) models: one group row per outcome and model naming what every
    row of it shares (trainees, events, convergence), then term, hazard ratio, CI and p."""
    df = survival.assign(
        _o=survival["outcome"].map({o: i for i, o in enumerate(dict.fromkeys(survival["outcome"]))}),
        _m=survival["model"].map(lambda v: MODEL_ORDER.index(v) if v in MODEL_ORDER else len(MODEL_ORDER)),
        _t=survival["term"].map(lambda v: TERM_ORDER.index(v) if v in TERM_ORDER else len(TERM_ORDER)),
        _r=range(len(survival)))
    rows: list[Any] = []
    for _, part in df.sort_values(["_o", "_m", "_t", "_r"], kind="mergesort").groupby(["_o", "_m", "model"], sort=False):
        first = part.iloc[0]
        converged = {str(v).strip() for v in part.get("converged", pd.Series(dtype=str))}
        rows.append(group_row(m.t("sections.survival.model_group", outcome=m.label("outcome", first["outcome"]),
                                  model=m.label("model", first["model"]), n_treated=m.count(first["n_treated"]),
                                  events=m.count(first["n_event"]))
                              + ("" if converged <= {"1", ""} else f" ({m.t('sections.survival.not_converged')})")))
        for r in part.itertuples(index=False):
            rows.append([m.label("term", r.term), m.num(r.hr, 2), m.ci(r.ci_low, r.ci_high, 2), m.p(getattr(r, "p", None))])
    return rows


def placebo_rows(placebo: pd.DataFrame, m: Messages) -> list[list[str]]:
    """The pooled placebo effect per outcome with the fake follow-up months it averages (an
    outcome without an estimate shows its reason from ``warnings``)."""
    rows = []
    for outcome, part in placebo.groupby("outcome", sort=False):
        months = numeric(part, "month").dropna()
        span = f"{_signed(months.min())}\u2013{_signed(months.max())}" if len(months) else MISSING
        pooled = part[part["term"].astype(str) == "pooled"]
        for r in pooled.itertuples(index=False):
            if as_float(r.estimate) is None and not is_suppressed(r.estimate):
                rows.append([m.label("outcome", outcome), span, MISSING, _cell(getattr(r, "warnings", "")), MISSING])
                continue
            rows.append([m.label("outcome", outcome), span, _pp(m, r.estimate), _pp_ci(m, r.ci_low, r.ci_high),
                         m.p(getattr(r, "p", None))])
    return rows


def primary_method(settings: ReportSettings) -> str:
    """The DiD estimator the documents report first (config ``effects.primary_method``)."""
    return str((settings.analysis_settings.get("effects") or {}).get("primary_method") or PRIMARY_METHOD)


def other_method_rows(did_pooled: pd.DataFrame | None, m: Messages, method: str) -> list[list[str]]:
    """Sensitivity-table rows of the DiD estimator that is not the primary one (its pooled effect
    on the primary outcome), in the columns of :func:`sensitivity_table_rows`."""
    if did_pooled is None or "method" not in did_pooled.columns:
        return []
    other = other_method(method)
    rows = []
    for r in method_rows(did_pooled, other).itertuples(index=False):
        if str(r.outcome) != "employed_1h":
            continue
        value, interval = estimand_value(m, ESTIMAND_DID, r.estimate, r.ci_low, r.ci_high)
        rows.append([m.label("analysis", f"method_{other}"), m.label("outcome", r.outcome), m.label("estimand", ESTIMAND_DID),
                     value, interval, m.count(getattr(r, "n_treated", None)), _converged(m, getattr(r, "converged", ""))])
    return rows


def primary_rows_of_method(sensitivity: pd.DataFrame, method: str) -> pd.DataFrame:
    """The sensitivity table without its ``primary`` DiD and RMST rows where the primary method is
    not ``matched``: those rows are the matched estimators, which the other-method rows show
    under their own name (:func:`other_method_rows`, :func:`other_rmst_rows`)."""
    if method == PRIMARY_METHOD or "analysis" not in sensitivity.columns or "estimand" not in sensitivity.columns:
        return sensitivity
    estimand = sensitivity["estimand"].astype(str)
    matched = (sensitivity["analysis"].astype(str) == "primary") & ((estimand == ESTIMAND_DID) | estimand.str.startswith("RMST"))
    return sensitivity[~matched]


def other_rmst_rows(rmst: pd.DataFrame | None, m: Messages, method: str, outcome: str = "job") -> list[list[str]]:
    """Sensitivity-table rows of the RMST estimator that is not the primary one (its difference on
    the primary survival outcome ``outcome`` at each horizon), in the columns of
    :func:`sensitivity_table_rows`."""
    if rmst is None or "method" not in rmst.columns:
        return []
    other = other_method(method)
    rows = []
    for r in method_rows(rmst, other).itertuples(index=False):
        if str(r.outcome) != outcome:
            continue
        estimand = f"RMST difference at {int(float(r.horizon))} months"
        value, interval = estimand_value(m, estimand, r.difference, r.ci_low, r.ci_high)
        rows.append([m.label("analysis", f"rmst_{other}"), m.label("outcome", r.outcome), m.label("estimand", estimand),
                     value, interval, m.count(getattr(r, "n_treated", None)), _converged(m, getattr(r, "converged", ""))])
    return rows


def sensitivity_table_rows(sensitivity: pd.DataFrame, m: Messages) -> list[list[str]]:
    """Each sensitivity analysis with its estimand, the estimate on its own scale and its interval."""
    rows = []
    for r in sensitivity.itertuples(index=False):
        estimand = str(getattr(r, "estimand", ESTIMAND_DID) or ESTIMAND_DID)
        value, interval = estimand_value(m, estimand, r.estimate, r.ci_low, r.ci_high)
        rows.append([m.label("analysis", r.analysis), m.label("outcome", r.outcome), m.label("estimand", estimand), value,
                     interval, m.count(getattr(r, "n_treated", None)), _converged(m, getattr(r, "converged", ""))])
    return rows


def confounding_rows(confounding: pd.DataFrame, m: Messages) -> list[list[str]]:
    """E-values of the headline estimates and the additive bias that would remove the pooled effect."""
    rows = []
    for r in confounding.itertuples(index=False):
        estimand = str(r.estimand)
        value, interval = estimand_value(m, estimand, r.estimate, r.ci_low, r.ci_high)
        bias = _pp(m, r.bias_to_null_estimate) if estimand == ESTIMAND_DID else m.num(r.bias_to_null_estimate, 2)
        rows.append([m.label("estimand", estimand), m.label("outcome", r.outcome), value, interval,
                     m.num(r.evalue_estimate, 2), m.num(r.evalue_ci, 2), bias])
    return rows


def _flatten(settings: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key in sorted(settings):
        value = settings[key]
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out += _flatten(value, name + ".")
        else:
            out.append((name, value))
    return out


def _setting_text(value: Any, m: Messages) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text.replace(".", ",") if m.language == "nl" else text
    if isinstance(value, (list, tuple)):
        return ", ".join(_setting_text(v, m) for v in value)
    return MISSING if value is None else str(value)


def _signed(value: Any) -> str:
    number = as_float(value)
    if number is None:
        return str(value)
    return f"\u2212{abs(int(number))}" if number < 0 else str(int(number))


def methods_blocks(settings: ReportSettings, m: Messages, numbering: Numbering) -> list[dict[str, Any]]:
    """The methods, written from the effective configuration's values."""
    a = dict(settings.anchors)
    blocks = []
    needed = ("reference_month", "covariate_window_months", "marker_window_months", "panel_first_month", "followup_months")
    if all(k in a for k in needed):
        blocks.append(_p(m.t("methods.anchors", **{k: _signed(a[k]) for k in needed})))
    if "placebo_reference_month" in a and len(a.get("placebo_post_months", ())) == 2:
        first, last = a["placebo_post_months"]
        blocks.append(_p(m.t("methods.placebo", placebo_reference_month=_signed(a["placebo_reference_month"]),
                             placebo_first=_signed(first), placebo_last=_signed(last))))
    if "job_gap_months" in a:
        blocks.append(_p(m.t("methods.survival", job_gap_months=_signed(a["job_gap_months"]))))
    if settings.region_pairs:
        pairs = "; ".join(f"{region} \u2194 {', '.join(controls)}" for region, controls in sorted(settings.region_pairs.items()))
        blocks.append(_p(m.t("methods.regions", pairs=pairs)))
    blocks.append(_p(m.t("methods.matching")))
    blocks.append(_p(m.t("methods.hierarchy")))
    blocks.append(_p(m.t("methods.data", name=settings.study_name,
                         synthetic=m.t("methods.synthetic_yes" if settings.synthetic else "methods.synthetic_no"),
                         seed=MISSING if settings.seed is None else str(settings.seed))))
    flat = _flatten(settings.analysis_settings)
    if flat:
        blocks.append(_p(m.t("methods.settings_intro")))
        blocks.append(_table(numbering, m, m.t("tables.settings"), [m.t("columns.setting"), m.t("columns.value")],
                             [[code(name), code(_setting_text(value, m))] for name, value in flat], "ll"))
    return blocks


#: How the key columns of a model table are labelled when a row is named in the appendix.
KEY_LABELS = {"outcome": "outcome", "model": "model", "term": "term", "analysis": "analysis", "construct": "construct",
              "wave": "wave", "estimand": "estimand", "modifier": "modifier"}


def _row_description(row: pd.Series, keys: Sequence[str], m: Messages) -> str:
    return ", ".join(m.label(KEY_LABELS[k], row[k]) if k in KEY_LABELS else str(row[k])
                     for k in keys if k in row.index and str(row[k]).strip())


def convergence_rows(tables: AggregateTables, m: Messages) -> list[list[Any]]:
    """Rows of models that did not converge or carry warnings (table, row, converged, warnings)."""
    rows: list[list[Any]] = []
    for name in ("survival", "sensitivity", "supervisor_effects"):
        df = tables.get(name)
        if df is None:
            continue
        keys = TABLE_SPECS[name].keys
        for _, row in df.iterrows():
            converged = str(row.get("converged", "")).strip()
            warning = str(row.get("warnings", "")).strip()
            if converged == "0" or warning:
                rows.append([code(f"{name}.csv"), _row_description(row, keys, m), _converged(m, converged),
                             "; ".join(m.diagnostic(w) for w in warning.split("; ")) if warning else MISSING])
    return rows


def suppressed_rows(tables: AggregateTables, m: Messages) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for name, df in tables.tables.items():
        cells = suppressed_cells(df)
        if cells:
            rows.append([code(f"{name}.csv"), m.count(cells)])
    return rows


def stage_label(m: Messages, stage: Any) -> str:
    """A pipeline stage (``ingest_supervisors_T1``, ``register_payroll``) in words."""
    stage = str(stage or "").strip()
    if not stage:
        return MISSING
    if m.has(f"labels.stage.{stage}"):
        return m.label("stage", stage)
    if stage.startswith("ingest_"):
        return m.label("stage", "ingest")
    return stage.replace("_", " ")


def wave_cell(m: Messages, wave: Any) -> str:
    wave = str(wave or "").strip()
    return m.label("wave", wave) if wave else MISSING


def source_label(m: Messages, source: Any) -> str:
    source = str(source or "").strip()
    return m.label("source", source) if source else MISSING


def column_label(m: Messages, column: Any) -> str:
    """A column of a questionnaire named in a data check: its label, or for a scale item
    (``knowledge_4``) the scale and the question's number."""
    column = str(column or "").strip()
    if not column:
        return MISSING
    for kind in ("column", "measure", "construct", "covariate", "variable"):
        if m.has(f"labels.{kind}.{column}"):
            return m.label(kind, column)
    scale, _, number = column.rpartition("_")
    if number.isdigit() and m.has(f"labels.construct.{scale}"):
        return m.t("labels.item", scale=m.label("construct", scale), number=number)
    return column.replace("_", " ")


def exclusion_rows(exclusions: pd.DataFrame, m: Messages) -> list[Any]:
    """Exclusions grouped by stage, source and wave (a group row each), then reason and number:
    records counted, register counts added.

    A group holding a suppressed cell shows the known total with ``+ <10``.
    """
    keys = ["stage", "source", "wave", "reason"]
    out: list[Any] = []
    previous = None
    for key, group in exclusions.groupby(keys, sort=True, dropna=False):
        if key[:3] != previous:
            parts = [stage_label(m, key[0]), source_label(m, key[1])] + ([wave_cell(m, key[2])] if str(key[2]).strip() else [])
            out.append(group_row(" \u00b7 ".join(dict.fromkeys(parts))))  # a source named as its stage once
            previous = key[:3]
        known = numeric(group, "n").sum()
        hidden = int(group["n"].map(is_suppressed).sum())
        if hidden and known == 0:
            total = "<10" if hidden == 1 else f"{hidden} \u00d7 <10"
        elif hidden:
            total = f"{m.count(known)} + <10"
        else:
            total = m.count(known)
        out.append([m.diagnostic(key[3]) if str(key[3]).strip() else MISSING, total])
    return out


def data_quality_rows(quality: pd.DataFrame, m: Messages) -> list[list[str]]:
    """The first case of each data check: source, wave, column and check in words, cases failed."""
    first = quality[quality["example"].astype(str).str.strip() == "1"] if "example" in quality.columns else quality
    return [[source_label(m, r.source), wave_cell(m, r.wave), column_label(m, r.column), m.diagnostic(r.check),
             m.count(r.n_failed)] for r in first.itertuples(index=False)]


def provenance_blocks(provenance: Mapping[str, Any] | None, m: Messages, numbering: Numbering) -> list[dict[str, Any]]:
    if not provenance:
        return [_p(m.t("provenance.missing"))]
    commit = provenance.get("commit") or m.t("provenance.commit_unknown")
    if provenance.get("dirty"):
        commit += f" ({m.t('provenance.dirty')})"
    versions = provenance.get("versions", {})
    summary = [
        [m.t("provenance.config_hash"), code(provenance.get("config_hash", MISSING))],
        [m.t("provenance.commit"), code(commit) if provenance.get("commit") else commit],
        [m.t("provenance.seed"), _cell(provenance.get("seed"))],
        [m.t("provenance.package"), str(versions.get("mentorwijs", __version__))],
        [m.t("provenance.python"), str(versions.get("python", MISSING))],
    ]
    blocks = [_table(numbering, m, m.t("tables.provenance"), [m.t("columns.item"), m.t("columns.value")], summary, "ll")]
    packages = [[code(name), str(version)] for name, version in sorted(versions.items()) if name not in ("python", "mentorwijs")]
    if packages:
        blocks.append(_table(numbering, m, m.t("tables.versions"), [m.t("columns.package"), m.t("columns.version")], packages, "ll"))
    inputs = [[code(name), code(str(digest)[:16])] for name, digest in sorted(provenance.get("inputs", {}).items())]
    if inputs:
        blocks.append(_table(numbering, m, m.t("tables.inputs"), [m.t("columns.file"), m.t("columns.sha256")], inputs, "ll"))
    return blocks


def matched_employees(flow: pd.DataFrame) -> Any:
    """The n of the last step of the employees' main chain (the matched trainees), as exported."""
    return _last_step(flow, "employees")


def matched_controls(flow: pd.DataFrame) -> Any:
    """The matched controls as distinct persons (the published count), else the controls' last step."""
    persons = _step(flow, "controls", "matched_control_persons")
    return persons if persons is not None else _last_step(flow, "controls")


def _last_step(flow: pd.DataFrame, population: str) -> Any:
    rows = flow[(flow["population"] == population) & ~flow["step"].astype(str).str.startswith(("excluded_", "of_which_"))]
    if rows.empty:
        return None
    return rows.assign(_o=numeric(rows, "order")).sort_values("_o").iloc[-1]["n"]


def _step(flow: pd.DataFrame, population: str, step: str) -> Any:
    rows = flow[(flow["population"] == population) & (flow["step"] == step)]
    return rows.iloc[0]["n"] if len(rows) else None


def power_paragraph(power: Sequence[Mapping[str, Any]], trainees: Any, method: str, m: Messages) -> dict[str, Any] | None:
    """The power this study's size had to detect the synthetic study's planted effect on the primary
    outcome (the power planner's row at exactly this many matched trainees), else None."""
    if not power:
        return None
    try:
        n = int(float(trainees))
    except (TypeError, ValueError):  # suppressed or missing
        return None
    rows = [r for r in power if r.get("estimator") == "did_pooled" and str(r.get("method")) == method
            and float(r.get("trainees", -1)) == n]
    if not rows:
        return None
    r = rows[0]
    return _p(m.t("power.sentence", n=m.count(n), effect=m.points(r["mean_truth"], 1), power=m.pct(r["power"], 0),
                  low=m.pct(r["power_low"], 0), high=m.pct(r["power_high"], 0), replications=m.count(r["replications"])))


def process_statement(process: pd.DataFrame | None, m: Messages) -> Statement | None:
    """The delivery finding of the factsheet (descriptive): full attendance and general satisfaction."""
    if process is None:
        return None
    dose = process[process["measure"] == "dose_received"]
    satisfaction = process[process["measure"] == "satisfaction_general"]
    if dose.empty or satisfaction.empty:
        return None
    top = dose.assign(_c=numeric(dose, "category")).sort_values("_c").iloc[-1]
    mean = m.num(satisfaction.iloc[0]["mean"], 1)
    return Statement("process", m.t("findings.process.title"), m.t("findings.process.headline", mean=mean),
                     m.t("findings.process.text", share=m.pct(top["share"], 0), mean=mean), "descriptive")


@dataclass
class _ReportBuild:
    """What the sections of the report share: the tables, the settings, the messages, the figures,
    the provenance, and the one numbering of tables and figures, advanced in the publication's
    order (so the section builders run in that order)."""

    tables: AggregateTables
    settings: ReportSettings
    m: Messages
    figures: Mapping[str, FigureRecord]
    provenance: Mapping[str, Any] | None = None
    numbering: Numbering = field(default_factory=Numbering)
    missing_figures: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        return primary_method(self.settings)

    def fig(self, name: str) -> dict[str, Any] | None:
        """The next numbered figure, or None (and the figure is named among the missing ones)."""
        block = _figure(self.numbering, self.figures, name)
        if block is None:
            self.missing_figures.append(name)
        return block

    def table(self, caption: str, columns: Sequence[str], rows: list[Any], align: str,
              notes: Iterable[str] = ()) -> dict[str, Any]:
        """The next numbered table; ``columns`` are keys of the messages' ``columns``."""
        return _table(self.numbering, self.m, caption, [self.m.t(f"columns.{c}") for c in columns], rows, align,
                      notes=notes)

    def section(self, key: str, blocks: list[dict[str, Any] | None], appendix: bool = False, intro: bool = True,
                **values: Any) -> dict[str, Any]:
        """A section: its title, its intro (where the messages have one) and its blocks."""
        m = self.m
        body = [b for b in blocks if b is not None]
        if intro and m.has(f"sections.{key}.intro"):
            body.insert(0, _p(m.t(f"sections.{key}.intro", **values)))
        return {"id": key, "title": m.t(f"sections.{key}.title"), "blocks": body, "appendix": appendix}


def _summary_section(b: _ReportBuild) -> dict[str, Any]:
    findings = key_findings(b.tables, alpha=b.settings.alpha, method=b.method)
    said = statements(findings, b.m)
    extra = process_statement(b.tables.get("process"), b.m)
    said = said + ([extra] if extra else [])
    return b.section("summary", [{"kind": "statements", "items": said}])


def _flow_section(b: _ReportBuild) -> dict[str, Any]:
    m = b.m
    flow = b.tables.get("flow")
    flow_fig = b.fig("flow")
    flow_table = b.table(m.t("tables.flow"), ("population", "step", "n"), flow_rows(flow, m), "llr")
    return b.section("flow", [flow_fig, flow_table], figure=flow_fig["number"] if flow_fig else MISSING,
                     table=flow_table["number"])


def _characteristics_section(b: _ReportBuild) -> dict[str, Any]:
    m, tables = b.m, b.tables
    blocks: list[dict[str, Any] | None] = []
    if "employees_baseline" in tables:
        blocks.append(b.table(m.t("tables.employees_baseline"), ("characteristic", "wave", "category", "n", "value"),
                              described_rows(tables.get("employees_baseline"), m), "lllrr"))
    balance = tables.get("balance")
    blocks.append(b.table(m.t("tables.balance"), ("covariate", "smd_before", "smd_after", "vr_before", "vr_after"),
                          [[m.label("covariate", r.covariate), m.num(r.smd_before, 2), m.num(r.smd_after, 2),
                            m.num(getattr(r, "variance_ratio_before", None), 2),
                            m.num(getattr(r, "variance_ratio_after", None), 2)]
                           for r in balance.itertuples(index=False)], "lrrrr"))
    blocks += [b.fig("balance"), b.fig("ps_overlap")]
    return b.section("characteristics", blocks)


def _employment_section(b: _ReportBuild) -> dict[str, Any]:
    m, tables, method = b.m, b.tables, b.method
    pooled = method_rows(tables.get("did_pooled"), method)
    by_month = method_rows(tables.get("did_by_month"), method)
    blocks = [
        b.table(m.t("tables.did_pooled_method", method=m.label("did_method", method)),
                ("outcome", "months", "estimate", "ci", "p"),
                [[m.label("outcome", r.outcome), months_text(r.months), _pp(m, r.estimate), _pp_ci(m, r.ci_low, r.ci_high),
                  m.p(getattr(r, "p", None))] for r in pooled.itertuples(index=False)], "llrrr"),
        b.fig("trajectories"), b.fig("did_by_month"),
    ]
    for outcome in dict.fromkeys(by_month["outcome"]):
        blocks.append(_month_table(b, by_month, outcome))
    if "placebo" in tables:
        blocks.append(b.table(m.t("tables.placebo"), ("outcome", "months", "estimate", "ci", "p"),
                              placebo_rows(method_rows(tables.get("placebo"), method), m), "llrrr"))
    return b.section("employment", blocks)


def _month_table(b: _ReportBuild, by_month: pd.DataFrame, outcome: Any) -> dict[str, Any]:
    """The effect per month after the start for one outcome (months from 1 on)."""
    m = b.m
    rows = by_month[(by_month["outcome"] == outcome) & (numeric(by_month, "month") >= 1)]
    rows = rows.assign(_m=numeric(rows, "month")).sort_values("_m")
    return b.table(m.t("sections.employment.outcome_table", outcome=m.label("outcome", outcome)),
                   ("month", "estimate", "ci", "band", "p", "n_treated", "n_control"),
                   [[m.num(r.month, 0), _pp(m, r.estimate), _pp_ci(m, r.ci_low, r.ci_high),
                     _pp_ci(m, getattr(r, "band_low", None), getattr(r, "band_high", None)), m.p(getattr(r, "p", None)),
                     m.count(getattr(r, "n_treated", None)), m.count(getattr(r, "n_control", None))]
                    for r in rows.itertuples(index=False)], "rrrrrrr")


def _modifiers_section(b: _ReportBuild) -> dict[str, Any]:
    m = b.m
    n_trained = m.count(matched_employees(b.tables.get("flow")))
    if "modifiers" in b.tables:
        blocks = [b.fig("modifiers"),
                  b.table(m.t("tables.modifiers"), ("level", "n_treated", "estimate", "ci", "interaction", "ci"),
                          modifier_table_rows(method_rows(b.tables.get("modifiers"), b.method), m), "lrrrrr")]
    else:
        blocks = [_p(m.t("warnings.table_missing", table="modifiers.csv"))]
    return b.section("modifiers", blocks, n=n_trained)


def _supervisors_section(b: _ReportBuild) -> dict[str, Any]:
    m, tables = b.m, b.tables
    effects = tables.get("supervisor_effects")
    blocks = [
        b.table(m.t("tables.supervisor_effects"), ("construct", "wave", "change", "ci", "p", "p_holm", "effect_size", "n"),
                [[m.label("construct", r.construct), m.label("wave", r.wave), m.num(r.estimate, 2, sign=True),
                  m.ci(r.ci_low, r.ci_high, 2), m.p(getattr(r, "p", None)), m.p(r.p_holm),
                  m.num(getattr(r, "effect_size", None), 2), m.count(getattr(r, "n", None))]
                 for r in effects.itertuples(index=False)], "llrrrrrr"),
        b.fig("supervisor_means"),
    ]
    if "reliability" in tables:
        blocks.append(b.table(m.t("tables.reliability"), ("scale", "wave", "alpha", "n", "n_items"),
                              [[m.label("construct", r.scale), m.label("wave", r.wave), m.num(r.alpha, 2), m.count(r.n),
                                m.num(r.n_items, 0)] for r in tables.get("reliability").itertuples(index=False)], "llrrr"))
    if "attrition" in tables:
        blocks.append(b.table(m.t("tables.attrition"), ("variable", "stayed", "dropped", "std_diff"),
                              attrition_rows(tables.get("attrition"), m), "lrrr",
                              notes=[m.t("sections.supervisors.attrition_note")]))
    return b.section("supervisors", blocks)


def _process_section(b: _ReportBuild) -> dict[str, Any]:
    m = b.m
    if "process" in b.tables:
        blocks = [b.table(m.t("tables.process"), ("measure", "wave", "category", "n", "value"),
                          described_rows(b.tables.get("process"), m), "lllrr")]
    else:
        blocks = [_p(m.t("warnings.table_missing", table="process.csv"))]
    return b.section("process", blocks)


def _survival_section(b: _ReportBuild) -> dict[str, Any]:
    m, tables, method = b.m, b.tables, b.method
    rmst = method_rows(tables.get("rmst"), method)
    rmst_title = (m.t("tables.rmst_method", method=m.label("rmst_method", method))
                  if "method" in tables.get("rmst").columns else m.t("tables.rmst"))
    blocks = [
        b.fig("km"),
        b.table(rmst_title, ("outcome", "horizon", "rmst_treated", "rmst_control", "difference", "ci", "p"),
                [[m.label("outcome", r.outcome), m.num(r.horizon, 0), m.num(r.rmst_treated, 2), m.num(r.rmst_control, 2),
                  m.num(r.difference, 2, sign=True), m.ci(r.ci_low, r.ci_high, 2), m.p(getattr(r, "p", None))]
                 for r in rmst.itertuples(index=False)], "lrrrrrr"),
    ]
    if "survival" in tables:
        blocks.append(b.table(m.t("tables.survival"), ("term", "hr", "ci", "p"), survival_rows(tables.get("survival"), m),
                              "lrrr", notes=[m.t("sections.survival.model_note")]))
    if "ph_test" in tables:
        blocks.append(b.table(m.t("tables.ph_test"), ("term", "hr", "ci", "p", "events"),
                              ph_test_rows(tables.get("ph_test"), m), "lrrrr"))
    return b.section("survival", blocks)


def _sensitivity_section(b: _ReportBuild) -> dict[str, Any]:
    m, tables, method = b.m, b.tables, b.method
    if "sensitivity" in tables:
        rows = (sensitivity_table_rows(primary_rows_of_method(tables.get("sensitivity"), method), m)
                + other_method_rows(tables.get("did_pooled"), m, method)
                + other_rmst_rows(tables.get("rmst"), m, method))
        blocks = [b.fig("sensitivity"),
                  b.table(m.t("tables.sensitivity"),
                          ("analysis", "outcome", "estimand", "value", "ci", "n_treated", "converged"), rows, "lllrrrl")]
    else:
        blocks = [_p(m.t("warnings.table_missing", table="sensitivity.csv"))]
    if "confounding" in tables:
        blocks.append(b.table(m.t("tables.confounding"),
                              ("estimand", "outcome", "value", "ci", "evalue", "evalue_ci", "bias_to_null"),
                              confounding_rows(tables.get("confounding"), m), "llrrrrr"))
    return b.section("sensitivity", blocks)


def _limitations_section(b: _ReportBuild) -> dict[str, Any]:
    m = b.m
    flow = b.tables.get("flow")
    n_trained = m.count(matched_employees(flow))
    limitations = [text.format(n=n_trained) for text in m.tree("limitations")]
    return b.section("limitations", [{"kind": "list", "items": limitations},
                                     power_paragraph(b.settings.power, matched_employees(flow), b.method, m)])


def _methods_section(b: _ReportBuild) -> dict[str, Any]:
    return b.section("methods", methods_blocks(b.settings, b.m, b.numbering), intro=False)


def _warnings_section(b: _ReportBuild) -> dict[str, Any]:
    """Appendix: missing tables and figures (those the earlier sections asked for), models that did
    not converge, suppressed cells, exclusions and data-quality checks."""
    m, tables = b.m, b.tables
    blocks = []
    missing_items = [m.t("warnings.missing_item", table=f"{name}.csv") for name in tables.missing]
    missing_items += [m.t("warnings.figure_missing", figure=f"{name}.png") for name in b.missing_figures
                      if name not in tables.missing]
    blocks.append(b.table(m.t("tables.missing"), ("table",), [[t] for t in missing_items], "l")
                  if missing_items else _p(m.t("warnings.none_missing")))
    conv = convergence_rows(tables, m)
    blocks.append(b.table(m.t("tables.convergence"), ("table", "row", "converged", "warnings"), conv, "llll")
                  if conv else _p(m.t("warnings.none_convergence")))
    supp = suppressed_rows(tables, m)
    blocks.append(b.table(m.t("tables.suppressed"), ("table", "cells"), supp, "lr")
                  if supp else _p(m.t("warnings.none_suppressed")))
    if "exclusions" in tables:
        blocks.append(b.table(m.t("tables.exclusions"), ("reason", "n"), exclusion_rows(tables.get("exclusions"), m), "lr",
                              notes=[m.t("sections.warnings.exclusions_note")]))
    else:
        blocks.append(_p(m.t("warnings.none_exclusions")))
    if "data_quality" in tables:
        blocks.append(b.table(m.t("tables.data_quality"), ("source", "wave", "column", "check", "n"),
                              data_quality_rows(tables.get("data_quality"), m), "llllr"))
    return b.section("warnings", blocks, appendix=True)


def _provenance_section(b: _ReportBuild) -> dict[str, Any]:
    return b.section("provenance", provenance_blocks(b.provenance, b.m, b.numbering), appendix=True)


#: The report's sections in the publication's order; each numbers its tables and figures in turn.
REPORT_SECTIONS = (
    _summary_section, _flow_section, _characteristics_section, _employment_section, _modifiers_section,
    _supervisors_section, _process_section, _survival_section, _sensitivity_section, _limitations_section,
    _methods_section, _warnings_section, _provenance_section,
)


def _number_sections(sections: list[dict[str, Any]], m: Messages) -> None:
    """Sections are numbered 1, 2, ...; appendices "Appendix A", "Appendix B", ..."""
    letter = 0
    for number, s in enumerate(sections, start=1):
        if s["appendix"]:
            s["number"] = f"{m.t('document.appendix')} {chr(ord('A') + letter)}"
            letter += 1
        else:
            s["number"] = str(number)


def report_context(tables: AggregateTables, figures: Sequence[FigureRecord], settings: ReportSettings,
                   provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report template shows, in the publication's order.

    Sections (:data:`REPORT_SECTIONS`, one builder each): summary, flow, characteristics and
    balance, employment effects per outcome, modifiers, supervisor outcomes, process evaluation,
    survival, sensitivity analyses, limitations, methods; appendices: warnings and provenance.
    """
    m = load_messages(settings.language)
    b = _ReportBuild(tables, settings, m, {f.name: f for f in figures}, provenance)
    sections = [build(b) for build in REPORT_SECTIONS]
    _number_sections(sections, m)
    return {
        "kind": "report",
        "lang": settings.language,
        "title": settings.title or m.t("document.report_title"),
        "subtitle": m.t("document.report_subtitle"),
        "citation": m.t("document.citation"),
        "built_from": m.t("document.built_from"),
        "synthetic": settings.synthetic,
        "sections": sections,
        "m": m,
        "figures": b.figures,
        "keywords": m.t("document.keywords"),
    }


def factsheet_context(tables: AggregateTables, figures: Sequence[FigureRecord], settings: ReportSettings) -> dict[str, Any]:
    """Everything the two-page factsheet shows: who took part, key findings, one figure, meaning."""
    m = load_messages(settings.language)
    flow = tables.get("flow")
    findings = key_findings(tables, alpha=settings.alpha, method=primary_method(settings))
    said = statements(findings, m)
    extra = process_statement(tables.get("process"), m)
    if extra:
        said.append(extra)
    tiles = []
    supervisors = _step(flow, "supervisors", "completed_T0")
    if supervisors is not None:
        tiles.append({"n": m.count(supervisors), "text": m.t("factsheet.who_supervisors")})
    process = tables.get("process")
    if process is not None:
        delivered = process[process["measure"] == "dose_delivered"]
        total = numeric(delivered, "n").dropna()
        if len(total):
            tiles.append({"n": m.count(total.iloc[0]), "text": m.t("factsheet.who_trainings")})
    trained = matched_employees(flow)
    if trained is not None:
        tiles.append({"n": m.count(trained), "text": m.t("factsheet.who_employees")})
    controls = matched_controls(flow)
    if controls is not None:
        tiles.append({"n": m.count(controls), "text": m.t("factsheet.who_controls")})
    followup = followup_months(findings.employment.details.get("months", "")) or settings.anchors.get("followup_months")
    figure = {f.name: f for f in figures}.get("factsheet")
    if figure is None:
        raise InputError("the factsheet figure is missing from the figure manifest", hint="draw the figures first (rule figures)")
    where = m.t("factsheet.where_given", where=settings.full_report) if settings.full_report else m.t("factsheet.where_default")
    verdict = findings.employment.verdict
    return {
        "kind": "factsheet",
        "lang": settings.language,
        "title": m.t("document.factsheet_title"),
        "kicker": settings.title or m.t("document.factsheet_kicker"),
        "synthetic": settings.synthetic,
        "tiles": tiles,
        "statements": said,
        "figure": {"kind": "figure", "id": "figure-factsheet", "name": "factsheet", "title": figure.title, "caption": figure.caption, "alt": figure.alt},
        "followup": m.num(followup, 0),
        "means": m.t(f"factsheet.means_{verdict}"),
        "caveat": m.t("factsheet.caveat", n=m.count(trained)),
        "where": where,
        "where_url": settings.full_report if settings.full_report and re.match(r"^https?://", settings.full_report) else None,
        "contact": m.t("factsheet.contact", contact=settings.contact) if settings.contact else None,
        "citation": m.t("document.citation"),
        "m": m,
        "primary_verdict": verdict,
        "claims_no_effect": verdict == NO_CLEAR_EFFECT,
        "keywords": m.t("document.keywords"),
    }


# ---------------------------------------------------------------------------------------------
# rendering


def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("mentorwijs", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def figure_sources(figures: Sequence[FigureRecord], directory: str | Path, medium: str) -> dict[str, str]:
    """Figure name -> ``data:`` URI of the file for the medium (PNG for HTML, SVG for PDF)."""
    fmt, mime = ("png", "image/png") if medium == "html" else ("svg", "image/svg+xml")
    out = {}
    for record in figures:
        name = record.files.get(fmt)
        if name is None:
            raise InputError(f"figure {record.name!r} has no {fmt.upper()} file", file=Path(directory) / "figures.json",
                             hint="draw the figures with both formats (png, svg)")
        path = Path(directory) / name
        if not path.is_file():
            raise InputError("figure file is missing", file=path, hint="draw the figures again (rule figures)")
        out[record.name] = data_uri(path.read_bytes(), mime)
    return out


def render_html(template: str, context: Mapping[str, Any], *, medium: str, sources: Mapping[str, str]) -> str:
    """Fill ``template`` (``report.html.j2`` or ``factsheet.html.j2``) for ``medium`` (html or pdf)."""
    if medium not in ("html", "pdf"):
        raise ValueError(f"medium {medium!r} is not html or pdf")
    return _environment().get_template(template).render(**context, medium=medium, sources=sources)


FONT_SCHEME = "mentorwijs-font"


def font_css() -> str:
    """``@font-face`` rules of the shipped fonts, addressed as ``mentorwijs-font:<file>``.

    :func:`render_pdf`'s URL fetcher serves those names from the package; no path of the
    file system ever appears in a stylesheet or in the PDF (fonts are embedded as data).
    """
    return "\n".join(
        f"@font-face {{ font-family: '{family}'; font-weight: {weight}; font-style: normal; "
        f"src: url({FONT_SCHEME}:{filename}) format('truetype'); }}"
        for family, weight, filename in FONTS
    )


def _fetcher():
    """A WeasyPrint URL fetcher for ``data:`` URIs and the shipped fonts, and nothing else."""
    import weasyprint
    from weasyprint.urls import URLFetcherResponse

    class ShippedOnly(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith(FONT_SCHEME + ":"):
                name = url[len(FONT_SCHEME) + 1:]
                if name not in {f for _, _, f in FONTS}:
                    raise ValueError(f"not a shipped font: {name}")
                data = resources.files("mentorwijs").joinpath("fonts", name).read_bytes()
                return URLFetcherResponse(url, body=data, headers={"Content-Type": "font/ttf"})
            return super().fetch(url, headers)

    return ShippedOnly(allowed_protocols={"data", FONT_SCHEME})


@dataclass(frozen=True)
class RenderedPdf:
    """A rendered PDF: its bytes, its number of pages and the text laid out on each page.

    ``margin_texts``: per page, the text of the page margins (running header, page numbers).
    ``beyond_margin``: every run of text in the page body whose right end lies beyond the text
    block's right edge (into the right margin or off the paper): page (from 1), the text, and by
    how many points it passes the edge. Empty for a document whose tables fit.
    """

    data: bytes
    pages: int
    page_texts: tuple[str, ...] = ()
    margin_texts: tuple[str, ...] = ()
    beyond_margin: tuple[tuple[int, str, float], ...] = ()


def _page_texts(document: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text of every page as laid out, and of its margin boxes, for checks of what a page shows."""
    from weasyprint.formatting_structure import boxes

    def walk(box: Any) -> Iterator[str]:
        if isinstance(box, boxes.TextBox):
            yield box.text
        for child in getattr(box, "children", ()) or ():
            yield from walk(child)

    pages, margins = [], []
    for page in document.pages:
        root = page._page_box
        pages.append(" ".join(walk(root)))
        margins.append(" ".join(text for child in root.children if isinstance(child, boxes.MarginBox) for text in walk(child)))
    return tuple(pages), tuple(margins)


#: CSS pixels (WeasyPrint's unit of layout) per PDF point.
PX_PER_PT = 96 / 72
#: Overshoot below this many points is rounding, not a word in the margin.
MARGIN_TOLERANCE_PT = 0.5


def _beyond_margin(document: Any) -> tuple[tuple[int, str, float], ...]:
    """Runs of text that pass the right edge of the text block, from the positions WeasyPrint
    laid them out at (the same coordinates it writes into the PDF): page, text, overshoot (pt).

    Text of the page margin boxes (running header, page numbers) is outside the text block by
    design and not checked; text inside figures is part of the SVG image, which the image box
    holds within the block.
    """
    from weasyprint.formatting_structure import boxes

    found = []

    def walk(box: Any, page: int, right: float) -> None:
        if isinstance(box, boxes.MarginBox):
            return
        if isinstance(box, boxes.TextBox) and box.text.strip():
            over = (box.position_x + box.width - right) / PX_PER_PT
            if over > MARGIN_TOLERANCE_PT:
                found.append((page, box.text.strip(), round(over, 1)))
        for child in getattr(box, "children", ()) or ():
            walk(child, page, right)

    for number, page in enumerate(document.pages, start=1):
        root = page._page_box
        walk(root, number, root.content_box_x() + root.width)
    return tuple(found)


def render_pdf(html: str) -> RenderedPdf:
    """Lay out ``html`` as a tagged PDF/UA-1 document with the shipped fonts and no dates.

    No base URL and a fetcher that accepts ``data:`` URIs and the shipped fonts only: nothing
    else is read from the file system and no ``file://`` link can arise. WeasyPrint writes no
    creation date without a ``dcterms.created`` meta element, and no file identifier unless
    asked; fonts are subset deterministically.
    """
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fetcher = _fetcher()
    fonts = FontConfiguration()
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher).render(
        stylesheets=[weasyprint.CSS(string=font_css(), font_config=fonts, url_fetcher=fetcher)], font_config=fonts,
    )
    with _fixed_source_date():
        data = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=False)
    return RenderedPdf(data, len(document.pages), *_page_texts(document), beyond_margin=_beyond_margin(document))


#: SOURCE_DATE_EPOCH while fonts are subset: 2022-01-01T00:00:00Z, the fixed date of every
#: file the project writes (see mentorwijs.simulate.writers.FIXED_TIMESTAMP).
SOURCE_DATE_EPOCH = "1640995200"


@contextlib.contextmanager
def _fixed_source_date() -> Iterator[None]:
    """Set ``SOURCE_DATE_EPOCH`` for the duration of the block, then restore it.

    Where WeasyPrint subsets fonts with fontTools (no HarfBuzz subsetter on the system),
    fontTools stamps the current time into each embedded font's ``head`` table unless this
    variable is set (the reproducible-builds convention).
    """
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def _write(path: str | Path, data: bytes) -> None:
    """Write through a temporary file, so that a failure never leaves a partial output."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _tables(tables: AggregateTables | str | Path) -> AggregateTables:
    return tables if isinstance(tables, AggregateTables) else read_aggregate_tables(tables)


def write_document(kind: str, tables: AggregateTables | str | Path, figures_dir: str | Path, settings: ReportSettings, *,
                   html_path: str | Path | None = None, pdf_path: str | Path | None = None,
                   provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write the report or factsheet (``kind``) as HTML and/or PDF; returns what was written.

    Everything is rendered before anything is written, so an error leaves no partial output.
    """
    tables = _tables(tables)
    figures = read_manifest(figures_dir, settings.language)
    if kind == "report":
        context, template = report_context(tables, figures, settings, provenance), "report.html.j2"
    elif kind == "factsheet":
        context, template = factsheet_context(tables, figures, settings), "factsheet.html.j2"
    else:
        raise ValueError(f"unknown document {kind!r}")
    outputs: dict[str, bytes] = {}
    result: dict[str, Any] = {"context": context}
    if html_path is not None:
        html = render_html(template, context, medium="html", sources=figure_sources(figures, figures_dir, "html"))
        outputs[str(html_path)] = html.encode("utf-8")
    if pdf_path is not None:
        pdf = render_pdf(render_html(template, context, medium="pdf", sources=figure_sources(figures, figures_dir, "pdf")))
        outputs[str(pdf_path)] = pdf.data
        result["pages"] = pdf.pages
        result["page_texts"] = pdf.page_texts
        result["margin_texts"] = pdf.margin_texts
        result["beyond_margin"] = pdf.beyond_margin
    for path, data in outputs.items():
        _write(path, data)
    return result


def write_report(tables: AggregateTables | str | Path, figures_dir: str | Path, settings: ReportSettings, *,
                 html_path: str | Path | None = None, pdf_path: str | Path | None = None,
                 provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write ``report.html`` and/or ``report.pdf``."""
    return write_document("report", tables, figures_dir, settings, html_path=html_path, pdf_path=pdf_path, provenance=provenance)


def write_factsheet(tables: AggregateTables | str | Path, figures_dir: str | Path, settings: ReportSettings, *,
                    html_path: str | Path | None = None, pdf_path: str | Path | None = None) -> dict[str, Any]:
    """Write ``factsheet.html`` and/or ``factsheet.pdf`` (two A4 pages)."""
    return write_document("factsheet", tables, figures_dir, settings, html_path=html_path, pdf_path=pdf_path)
