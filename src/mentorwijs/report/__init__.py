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

The package has one module per job; everything is importable from ``mentorwijs.report``:
:mod:`.blocks` (the settings, numbered tables and figures, paragraphs), :mod:`.rows` (the rows
of each table and the paragraphs built from the tables), :mod:`.sections` (the report per
section, the factsheet), :mod:`.render` (HTML and PDF); writing the files is here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from mentorwijs.aggregates import AggregateTables
    from mentorwijs.report.blocks import ReportSettings

#: The names the package re-exports, by the module that defines them. They load on first use,
#: so that importing ``mentorwijs.report.steps`` (the declaration the rules read, also where the
#: report's libraries, matplotlib and WeasyPrint, are not installed) loads none of them.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "blocks": ("FORMATS", "Numbering", "ReportSettings", "code", "group_row"),
    "render": ("FONT_SCHEME", "FONTS", "MARGIN_TOLERANCE_PT", "PX_PER_PT", "SOURCE_DATE_EPOCH", "RenderedPdf",
            "data_uri", "figure_sources", "font_css", "render_html", "render_pdf"),
    "rows": ("ESTIMAND_DID", "KEY_LABELS", "MODEL_ORDER", "TERM_ORDER", "attrition_rows", "baseline_variable_label",
            "category_label", "column_label", "confounding_rows", "convergence_rows", "data_quality_rows",
            "described_rows", "estimand_value", "exclusion_rows", "flow_rows", "matched_controls", "matched_employees",
            "methods_blocks", "modifier_table_rows", "months_text", "other_method_rows", "other_rmst_rows",
            "ph_test_rows", "placebo_rows", "power_paragraph", "primary_method", "primary_rows_of_method",
            "process_statement", "provenance_blocks", "sensitivity_table_rows", "source_label", "stage_label",
            "suppressed_rows", "survival_rows", "wave_cell"),
    "sections": ("REPORT_SECTIONS", "factsheet_context", "report_context"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


def _write(path: str | Path, data: bytes) -> None:
    """Write through a temporary file, so that a failure never leaves a partial output."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _tables(tables: AggregateTables | str | Path) -> AggregateTables:
    from mentorwijs.aggregates import AggregateTables, read_aggregate_tables

    return tables if isinstance(tables, AggregateTables) else read_aggregate_tables(tables)


def write_document(kind: str, tables: AggregateTables | str | Path, figures_dir: str | Path, settings: ReportSettings, *,
                   html_path: str | Path | None = None, pdf_path: str | Path | None = None,
                   provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write the report or factsheet (``kind``) as HTML and/or PDF; returns what was written.

    Everything is rendered before anything is written, so an error leaves no partial output.
    """
    from mentorwijs.figures import read_manifest
    from mentorwijs.report.render import figure_sources, render_html, render_pdf
    from mentorwijs.report.sections import factsheet_context, report_context

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


__all__ = [
    "ESTIMAND_DID",
    "FONTS",
    "FONT_SCHEME",
    "FORMATS",
    "KEY_LABELS",
    "MARGIN_TOLERANCE_PT",
    "MODEL_ORDER",
    "Numbering",
    "PX_PER_PT",
    "REPORT_SECTIONS",
    "RenderedPdf",
    "ReportSettings",
    "SOURCE_DATE_EPOCH",
    "TERM_ORDER",
    "attrition_rows",
    "baseline_variable_label",
    "category_label",
    "code",
    "column_label",
    "confounding_rows",
    "convergence_rows",
    "data_quality_rows",
    "data_uri",
    "described_rows",
    "estimand_value",
    "exclusion_rows",
    "factsheet_context",
    "figure_sources",
    "flow_rows",
    "font_css",
    "group_row",
    "matched_controls",
    "matched_employees",
    "methods_blocks",
    "modifier_table_rows",
    "months_text",
    "other_method_rows",
    "other_rmst_rows",
    "ph_test_rows",
    "placebo_rows",
    "power_paragraph",
    "primary_method",
    "primary_rows_of_method",
    "process_statement",
    "provenance_blocks",
    "render_html",
    "render_pdf",
    "report_context",
    "sensitivity_table_rows",
    "source_label",
    "stage_label",
    "suppressed_rows",
    "survival_rows",
    "wave_cell",
    "write_document",
    "write_factsheet",
    "write_report",
]
