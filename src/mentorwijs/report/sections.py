"""What the templates show: the report built per section (:data:`REPORT_SECTIONS`, in the
publication's order) and the factsheet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from mentorwijs.aggregates import AggregateTables, numeric
from mentorwijs.contracts import method_rows
from mentorwijs.errors import InputError
from mentorwijs.figures import FigureRecord
from mentorwijs.findings import NO_CLEAR_EFFECT, followup_months, key_findings, statements
from mentorwijs.formatting import MISSING
from mentorwijs.messages import Messages, load_messages
from mentorwijs.report.blocks import Numbering, ReportSettings, _figure, _p, _table
from mentorwijs.report.rows import (
    _pp,
    _pp_ci,
    _step,
    attrition_rows,
    confounding_rows,
    convergence_rows,
    data_quality_rows,
    described_rows,
    exclusion_rows,
    flow_rows,
    matched_controls,
    matched_employees,
    methods_blocks,
    modifier_table_rows,
    months_text,
    other_method_rows,
    other_rmst_rows,
    ph_test_rows,
    placebo_rows,
    power_paragraph,
    primary_method,
    primary_rows_of_method,
    process_statement,
    provenance_blocks,
    sensitivity_table_rows,
    suppressed_rows,
    survival_rows,
)


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

    def table(self, caption: str, header: list[str], rows: list[Any], align: str,
              notes: Iterable[str] = ()) -> dict[str, Any]:
        """The next numbered table."""
        return _table(self.numbering, self.m, caption, header, rows, align, notes=notes)

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
    flow_table = b.table(m.t("tables.flow"), [m.t("columns.population"), m.t("columns.step"), m.t("columns.n")],
                         flow_rows(flow, m), "llr")
    return b.section("flow", [flow_fig, flow_table], figure=flow_fig["number"] if flow_fig else MISSING,
                     table=flow_table["number"])


def _characteristics_section(b: _ReportBuild) -> dict[str, Any]:
    m, tables = b.m, b.tables
    blocks: list[dict[str, Any] | None] = []
    if "employees_baseline" in tables:
        blocks.append(b.table(m.t("tables.employees_baseline"),
                              [m.t("columns.characteristic"), m.t("columns.wave"), m.t("columns.category"),
                               m.t("columns.n"), m.t("columns.value")],
                              described_rows(tables.get("employees_baseline"), m), "lllrr"))
    balance = tables.get("balance")
    blocks.append(b.table(m.t("tables.balance"),
                          [m.t("columns.covariate"), m.t("columns.smd_before"), m.t("columns.smd_after"),
                           m.t("columns.vr_before"), m.t("columns.vr_after")],
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
                [m.t("columns.outcome"), m.t("columns.months"), m.t("columns.estimate"), m.t("columns.ci"),
                 m.t("columns.p")],
                [[m.label("outcome", r.outcome), months_text(r.months), _pp(m, r.estimate),
                  _pp_ci(m, r.ci_low, r.ci_high), m.p(getattr(r, "p", None))]
                 for r in pooled.itertuples(index=False)], "llrrr"),
        b.fig("trajectories"), b.fig("did_by_month"),
    ]
    for outcome in dict.fromkeys(by_month["outcome"]):
        blocks.append(_month_table(b, by_month, outcome))
    if "placebo" in tables:
        blocks.append(b.table(m.t("tables.placebo"),
                              [m.t("columns.outcome"), m.t("columns.months"), m.t("columns.estimate"),
                               m.t("columns.ci"), m.t("columns.p")],
                              placebo_rows(method_rows(tables.get("placebo"), method), m), "llrrr"))
    return b.section("employment", blocks)


def _month_table(b: _ReportBuild, by_month: pd.DataFrame, outcome: Any) -> dict[str, Any]:
    """The effect per month after the start for one outcome (months from 1 on)."""
    m = b.m
    rows = by_month[(by_month["outcome"] == outcome) & (numeric(by_month, "month") >= 1)]
    rows = rows.assign(_m=numeric(rows, "month")).sort_values("_m")
    return b.table(m.t("sections.employment.outcome_table", outcome=m.label("outcome", outcome)),
                   [m.t("columns.month"), m.t("columns.estimate"), m.t("columns.ci"), m.t("columns.band"),
                    m.t("columns.p"), m.t("columns.n_treated"), m.t("columns.n_control")],
                   [[m.num(r.month, 0), _pp(m, r.estimate), _pp_ci(m, r.ci_low, r.ci_high),
                     _pp_ci(m, getattr(r, "band_low", None), getattr(r, "band_high", None)),
                     m.p(getattr(r, "p", None)),
                     m.count(getattr(r, "n_treated", None)), m.count(getattr(r, "n_control", None))]
                    for r in rows.itertuples(index=False)], "rrrrrrr")


def _modifiers_section(b: _ReportBuild) -> dict[str, Any]:
    m = b.m
    n_trained = m.count(matched_employees(b.tables.get("flow")))
    if "modifiers" in b.tables:
        blocks = [b.fig("modifiers"),
                  b.table(m.t("tables.modifiers"),
                          [m.t("columns.level"), m.t("columns.n_treated"), m.t("columns.estimate"),
                           m.t("columns.ci"), m.t("columns.interaction"), m.t("columns.ci")],
                          modifier_table_rows(method_rows(b.tables.get("modifiers"), b.method), m), "lrrrrr")]
    else:
        blocks = [_p(m.t("warnings.table_missing", table="modifiers.csv"))]
    return b.section("modifiers", blocks, n=n_trained)


def _supervisors_section(b: _ReportBuild) -> dict[str, Any]:
    m, tables = b.m, b.tables
    effects = tables.get("supervisor_effects")
    blocks = [
        b.table(m.t("tables.supervisor_effects"),
                [m.t("columns.construct"), m.t("columns.wave"), m.t("columns.change"), m.t("columns.ci"),
                 m.t("columns.p"), m.t("columns.p_holm"), m.t("columns.effect_size"), m.t("columns.n")],
                [[m.label("construct", r.construct), m.label("wave", r.wave), m.num(r.estimate, 2, sign=True),
                  m.ci(r.ci_low, r.ci_high, 2), m.p(getattr(r, "p", None)), m.p(r.p_holm),
                  m.num(getattr(r, "effect_size", None), 2), m.count(getattr(r, "n", None))]
                 for r in effects.itertuples(index=False)], "llrrrrrr"),
        b.fig("supervisor_means"),
    ]
    if "reliability" in tables:
        blocks.append(b.table(m.t("tables.reliability"),
                              [m.t("columns.scale"), m.t("columns.wave"), m.t("columns.alpha"), m.t("columns.n"),
                               m.t("columns.n_items")],
                              [[m.label("construct", r.scale), m.label("wave", r.wave), m.num(r.alpha, 2),
                                m.count(r.n), m.num(r.n_items, 0)]
                               for r in tables.get("reliability").itertuples(index=False)], "llrrr"))
    if "attrition" in tables:
        blocks.append(b.table(m.t("tables.attrition"),
                              [m.t("columns.variable"), m.t("columns.stayed"), m.t("columns.dropped"),
                               m.t("columns.std_diff")],
                              attrition_rows(tables.get("attrition"), m), "lrrr",
                              notes=[m.t("sections.supervisors.attrition_note")]))
    return b.section("supervisors", blocks)


def _process_section(b: _ReportBuild) -> dict[str, Any]:
    m = b.m
    if "process" in b.tables:
        blocks = [b.table(m.t("tables.process"),
                          [m.t("columns.measure"), m.t("columns.wave"), m.t("columns.category"), m.t("columns.n"),
                           m.t("columns.value")],
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
        b.table(rmst_title,
                [m.t("columns.outcome"), m.t("columns.horizon"), m.t("columns.rmst_treated"),
                 m.t("columns.rmst_control"), m.t("columns.difference"), m.t("columns.ci"), m.t("columns.p")],
                [[m.label("outcome", r.outcome), m.num(r.horizon, 0), m.num(r.rmst_treated, 2),
                  m.num(r.rmst_control, 2), m.num(r.difference, 2, sign=True), m.ci(r.ci_low, r.ci_high, 2),
                  m.p(getattr(r, "p", None))]
                 for r in rmst.itertuples(index=False)], "lrrrrrr"),
    ]
    if "survival" in tables:
        blocks.append(b.table(m.t("tables.survival"),
                              [m.t("columns.term"), m.t("columns.hr"), m.t("columns.ci"), m.t("columns.p")],
                              survival_rows(tables.get("survival"), m), "lrrr",
                              notes=[m.t("sections.survival.model_note")]))
    if "ph_test" in tables:
        blocks.append(b.table(m.t("tables.ph_test"),
                              [m.t("columns.term"), m.t("columns.hr"), m.t("columns.ci"), m.t("columns.p"),
                               m.t("columns.events")],
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
                          [m.t("columns.analysis"), m.t("columns.outcome"), m.t("columns.estimand"),
                           m.t("columns.value"), m.t("columns.ci"), m.t("columns.n_treated"),
                           m.t("columns.converged")],
                          rows, "lllrrrl")]
    else:
        blocks = [_p(m.t("warnings.table_missing", table="sensitivity.csv"))]
    if "confounding" in tables:
        blocks.append(b.table(m.t("tables.confounding"),
                              [m.t("columns.estimand"), m.t("columns.outcome"), m.t("columns.value"),
                               m.t("columns.ci"), m.t("columns.evalue"), m.t("columns.evalue_ci"),
                               m.t("columns.bias_to_null")],
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
    blocks.append(b.table(m.t("tables.missing"), [m.t("columns.table")], [[t] for t in missing_items], "l")
                  if missing_items else _p(m.t("warnings.none_missing")))
    conv = convergence_rows(tables, m)
    blocks.append(b.table(m.t("tables.convergence"),
                          [m.t("columns.table"), m.t("columns.row"), m.t("columns.converged"),
                           m.t("columns.warnings")],
                          conv, "llll")
                  if conv else _p(m.t("warnings.none_convergence")))
    supp = suppressed_rows(tables, m)
    blocks.append(b.table(m.t("tables.suppressed"), [m.t("columns.table"), m.t("columns.cells")], supp, "lr")
                  if supp else _p(m.t("warnings.none_suppressed")))
    if "exclusions" in tables:
        blocks.append(b.table(m.t("tables.exclusions"), [m.t("columns.reason"), m.t("columns.n")],
                              exclusion_rows(tables.get("exclusions"), m), "lr",
                              notes=[m.t("sections.warnings.exclusions_note")]))
    else:
        blocks.append(_p(m.t("warnings.none_exclusions")))
    if "data_quality" in tables:
        blocks.append(b.table(m.t("tables.data_quality"),
                              [m.t("columns.source"), m.t("columns.wave"), m.t("columns.column"),
                               m.t("columns.check"), m.t("columns.n")],
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


def factsheet_context(tables: AggregateTables, figures: Sequence[FigureRecord],
                      settings: ReportSettings) -> dict[str, Any]:
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
    followup = (followup_months(findings.employment.details.get("months", ""))
                or settings.anchors.get("followup_months"))
    figure = {f.name: f for f in figures}.get("factsheet")
    if figure is None:
        raise InputError("the factsheet figure is missing from the figure manifest",
                         hint="draw the figures first (rule figures)")
    where = (m.t("factsheet.where_given", where=settings.full_report) if settings.full_report
             else m.t("factsheet.where_default"))
    verdict = findings.employment.verdict
    return {
        "kind": "factsheet",
        "lang": settings.language,
        "title": m.t("document.factsheet_title"),
        "kicker": settings.title or m.t("document.factsheet_kicker"),
        "synthetic": settings.synthetic,
        "tiles": tiles,
        "statements": said,
        "figure": {"kind": "figure", "id": "figure-factsheet", "name": "factsheet", "title": figure.title,
                   "caption": figure.caption, "alt": figure.alt},
        "followup": m.num(followup, 0),
        "means": m.t(f"factsheet.means_{verdict}"),
        "caveat": m.t("factsheet.caveat", n=m.count(trained)),
        "where": where,
        "where_url": (settings.full_report
                      if settings.full_report and re.match(r"^https?://", settings.full_report) else None),
        "contact": m.t("factsheet.contact", contact=settings.contact) if settings.contact else None,
        "citation": m.t("document.citation"),
        "m": m,
        "primary_verdict": verdict,
        "claims_no_effect": verdict == NO_CLEAR_EFFECT,
        "keywords": m.t("document.keywords"),
    }
