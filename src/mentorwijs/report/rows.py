"""The rows of the report's tables and the paragraphs built from the aggregate tables: one
function per table (labels from the message catalogue, numbers as the tables hold them)."""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import pandas as pd

from mentorwijs import __version__
from mentorwijs.aggregates import TABLE_SPECS, AggregateTables, numeric, suppressed_cells
from mentorwijs.contracts import PRIMARY_METHOD, method_rows, other_method
from mentorwijs.findings import Statement
from mentorwijs.formatting import MISSING, as_float, is_suppressed
from mentorwijs.messages import Messages
from mentorwijs.report.blocks import Numbering, ReportSettings, _cell, _converged, _p, _table, code, group_row


def _pp(m: Messages, value: Any) -> str:
    return m.points(value, 1)


def _pp_ci(m: Messages, low: Any, high: Any) -> str:
    return m.ci(low, high, 1, scale=100)


def flow_rows(flow: pd.DataFrame, m: Messages) -> list[list[str]]:
    order = {"supervisors": 0, "employees": 1, "controls": 2}
    rows = flow.assign(_p=flow["population"].map(lambda p: order.get(p, 9)), _o=numeric(flow, "order"))
    rows = rows.sort_values(["_p", "_o"], kind="mergesort")
    return [[m.label("population", r.population), m.label("flow_step", r.step), m.count(r.n)]
            for r in rows.itertuples(index=False)]


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
        rows.append([m.label("term", r.term), m.num(r.hr, 2), m.ci(r.ci_low, r.ci_high, 2), m.p(r.p),
                     m.count(r.n_event)])
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
    for _, part in (df.sort_values(["_o", "_m", "_t", "_r"], kind="mergesort")
                    .groupby(["_o", "_m", "model"], sort=False)):
        first = part.iloc[0]
        converged = {str(v).strip() for v in part.get("converged", pd.Series(dtype=str))}
        rows.append(group_row(m.t("sections.survival.model_group", outcome=m.label("outcome", first["outcome"]),
                                  model=m.label("model", first["model"]), n_treated=m.count(first["n_treated"]),
                                  events=m.count(first["n_event"]))
                              + ("" if converged <= {"1", ""} else f" ({m.t('sections.survival.not_converged')})")))
        for r in part.itertuples(index=False):
            rows.append([m.label("term", r.term), m.num(r.hr, 2), m.ci(r.ci_low, r.ci_high, 2),
                         m.p(getattr(r, "p", None))])
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
        rows.append([m.label("analysis", f"method_{other}"), m.label("outcome", r.outcome),
                     m.label("estimand", ESTIMAND_DID), value, interval, m.count(getattr(r, "n_treated", None)),
                     _converged(m, getattr(r, "converged", ""))])
    return rows


def primary_rows_of_method(sensitivity: pd.DataFrame, method: str) -> pd.DataFrame:
    """The sensitivity table without its ``primary`` DiD and RMST rows where the primary method is
    not ``matched``: those rows are the matched estimators, which the other-method rows show
    under their own name (:func:`other_method_rows`, :func:`other_rmst_rows`)."""
    if method == PRIMARY_METHOD or "analysis" not in sensitivity.columns or "estimand" not in sensitivity.columns:
        return sensitivity
    estimand = sensitivity["estimand"].astype(str)
    matched = ((sensitivity["analysis"].astype(str) == "primary")
               & ((estimand == ESTIMAND_DID) | estimand.str.startswith("RMST")))
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
        rows.append([m.label("analysis", f"rmst_{other}"), m.label("outcome", r.outcome),
                     m.label("estimand", estimand), value, interval, m.count(getattr(r, "n_treated", None)),
                     _converged(m, getattr(r, "converged", ""))])
    return rows


def sensitivity_table_rows(sensitivity: pd.DataFrame, m: Messages) -> list[list[str]]:
    """Each sensitivity analysis with its estimand, the estimate on its own scale and its interval."""
    rows = []
    for r in sensitivity.itertuples(index=False):
        estimand = str(getattr(r, "estimand", ESTIMAND_DID) or ESTIMAND_DID)
        value, interval = estimand_value(m, estimand, r.estimate, r.ci_low, r.ci_high)
        rows.append([m.label("analysis", r.analysis), m.label("outcome", r.outcome), m.label("estimand", estimand),
                     value, interval, m.count(getattr(r, "n_treated", None)),
                     _converged(m, getattr(r, "converged", ""))])
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
    needed = ("reference_month", "covariate_window_months", "marker_window_months", "panel_first_month",
              "followup_months")
    if all(k in a for k in needed):
        blocks.append(_p(m.t("methods.anchors", **{k: _signed(a[k]) for k in needed})))
    if "placebo_reference_month" in a and len(a.get("placebo_post_months", ())) == 2:
        first, last = a["placebo_post_months"]
        blocks.append(_p(m.t("methods.placebo", placebo_reference_month=_signed(a["placebo_reference_month"]),
                             placebo_first=_signed(first), placebo_last=_signed(last))))
    if "job_gap_months" in a:
        blocks.append(_p(m.t("methods.survival", job_gap_months=_signed(a["job_gap_months"]))))
    if settings.region_pairs:
        pairs = "; ".join(f"{region} \u2194 {', '.join(controls)}"
                          for region, controls in sorted(settings.region_pairs.items()))
        blocks.append(_p(m.t("methods.regions", pairs=pairs)))
    blocks.append(_p(m.t("methods.matching")))
    if m.has(f"methods.estimator.{primary_method(settings)}"):
        blocks.append(_p(m.t(f"methods.estimator.{primary_method(settings)}")))
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
            parts = ([stage_label(m, key[0]), source_label(m, key[1])]
                     + ([wave_cell(m, key[2])] if str(key[2]).strip() else []))
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
    blocks = [_table(numbering, m, m.t("tables.provenance"), [m.t("columns.item"), m.t("columns.value")],
                     summary, "ll")]
    packages = [[code(name), str(version)] for name, version in sorted(versions.items())
                if name not in ("python", "mentorwijs")]
    if packages:
        blocks.append(_table(numbering, m, m.t("tables.versions"), [m.t("columns.package"), m.t("columns.version")],
                             packages, "ll"))
    inputs = [[code(name), code(str(digest)[:16])] for name, digest in sorted(provenance.get("inputs", {}).items())]
    if inputs:
        blocks.append(_table(numbering, m, m.t("tables.inputs"), [m.t("columns.file"), m.t("columns.sha256")],
                             inputs, "ll"))
    return blocks


def matched_employees(flow: pd.DataFrame) -> Any:
    """The n of the last step of the employees' main chain (the matched trainees), as exported."""
    return _last_step(flow, "employees")


def matched_controls(flow: pd.DataFrame) -> Any:
    """The matched controls as distinct persons (the published count), else the controls' last step."""
    persons = _step(flow, "controls", "matched_control_persons")
    return persons if persons is not None else _last_step(flow, "controls")


def _last_step(flow: pd.DataFrame, population: str) -> Any:
    rows = flow[(flow["population"] == population)
                & ~flow["step"].astype(str).str.startswith(("excluded_", "of_which_"))]
    if rows.empty:
        return None
    return rows.assign(_o=numeric(rows, "order")).sort_values("_o").iloc[-1]["n"]


def _step(flow: pd.DataFrame, population: str, step: str) -> Any:
    rows = flow[(flow["population"] == population) & (flow["step"] == step)]
    return rows.iloc[0]["n"] if len(rows) else None


def power_paragraph(power: Sequence[Mapping[str, Any]], trainees: Any, method: str,
                    m: Messages) -> dict[str, Any] | None:
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
                  low=m.pct(r["power_low"], 0), high=m.pct(r["power_high"], 0),
                  replications=m.count(r["replications"])))


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
