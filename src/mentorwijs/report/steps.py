"""The report part's steps, declared once: what each reads and writes, and its settings.

:data:`REPORT_STEPS` holds one :class:`~mentorwijs.workflow.StepSpec` per Snakemake rule of
``workflow/rules/report_tables.smk`` and ``report.smk`` (same name): its named inputs and outputs
(paths relative to the repository root), the function it calls and its plain settings from the
configuration. The rules take their ``input:``, ``output:`` and ``params:`` from here (and wrap
the documents and figures for ``snakemake --report``); :func:`report_plan` (``mentorwijs run
--part report``) lists the same steps in order with their arguments. In order:

1. ``report_tables``: the exported register tables (``export/tables/``, the rule ``export``'s
   outputs) -> ``reports/tables/<name>.csv`` (checked against their contracts, copied unchanged);
2. ``exclusions``: the exported register stages and the questionnaire stages' exclusion
   fragments -> ``reports/tables/exclusions.csv``;
3. ``figures``: aggregate tables -> PNG and SVG per figure and ``figures.json`` (captions,
   alternative texts);
4. ``provenance``: every aggregate table -> ``reports/provenance.json`` (versions, effective
   configuration and its hash, input hashes, commit, seed);
5. ``technical_report``, ``factsheet``: tables, figures (and provenance, the power planner's
   table when it is there) -> ``reports/report.<format>``, ``reports/factsheet.<format>`` for
   the formats of ``report.formats``.

Nothing here loads the report's libraries (matplotlib, WeasyPrint) before a step runs, so the
declaration can be read where they are not installed.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePath, PurePosixPath
from typing import Any, Callable, Mapping, Sequence

from mentorwijs.contracts import REGISTER_TABLES, TABLE_NAMES
from mentorwijs.ingest.steps import questionnaire_exclusion_fragments
from mentorwijs.register.steps import STEPS as REGISTER_STEPS
from mentorwijs.workflow import FromConfig, PlannedStep, StepSpec, part_log_folder, plan_of, run_plan

log = logging.getLogger(__name__)

PathLike = str | PurePath

#: Every aggregate table (:mod:`mentorwijs.contracts`): the documents read them, provenance hashes them.
REPORT_TABLES: dict[str, str] = {name: f"reports/tables/{name}.csv" for name in TABLE_NAMES}
#: The register tables the rule ``report_tables`` copies (exclusions are gathered by the rule ``exclusions``).
PUBLISHED_TABLES = [name for name in REGISTER_TABLES if name != "exclusions"]
#: The rule ``export``'s tables by name (declared in :data:`mentorwijs.register.steps.REGISTER_STEPS`).
EXPORTED = {PurePosixPath(path).stem: path for path in REGISTER_STEPS["export"].outputs()["exported"]}
FIGURE_TABLES = ["flow", "ps_overlap", "balance", "trajectories", "did_by_month", "did_pooled", "modifiers",
                 "sensitivity", "supervisor_means", "km"]
FACTSHEET_TABLES = ["flow", "trajectories", "did_by_month", "did_pooled", "rmst", "supervisor_effects",
                    "supervisor_means", "process"]
FIGURES = ["flow", "ps_overlap", "balance", "trajectories", "did_by_month", "modifiers", "supervisor_means", "km",
           "sensitivity", "factsheet"]
#: The formats every figure is drawn in.
FIGURE_FORMATS = ("png", "svg")
FIGURES_FOLDER = "reports/figures"
MANIFEST = f"{FIGURES_FOLDER}/figures.json"
PROVENANCE = "reports/provenance.json"
#: The power planner's table (``mentorwijs power``) where ``effects.validate.power.out`` does not
#: name one; the report's limitations state the power a study of this size had, when it is there.
POWER_TABLE = "docs/validation/power.csv"


def figure_file(name: str, fmt: str) -> str:
    return f"{FIGURES_FOLDER}/{name}.{fmt}"


def document_file(document: str, fmt: str) -> str:
    """``reports/report.<fmt>`` or ``reports/factsheet.<fmt>``."""
    return f"reports/{document}.{fmt}"


def report_formats(config: Mapping[str, Any]) -> list[str]:
    """The documents' formats (``report.formats``)."""
    return list(config["report"]["formats"])


def report_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The documents' settings (:class:`~mentorwijs.report.blocks.ReportSettings` without the
    anchors, regions, analysis settings and power)."""
    return dict(
        language=config["report"]["language"],
        title=config["report"].get("title"),
        synthetic=bool(config["study"]["synthetic"]),
        study_name=config["study"]["name"],
        seed=config["study"]["seed"],
        full_report=config["report"].get("full_report"),
        contact=config["report"].get("contact"),
    )


def analysis_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The analysis settings the report's methods list: the analyses' own sections, without the
    Monte Carlo and power planner's settings (``effects.validate``), which no result of the report used."""
    settings = {key: config[key] for key in ("matching", "effects", "supervisors", "disclosure") if key in config}
    if "effects" in settings:
        settings["effects"] = {k: v for k, v in settings["effects"].items() if k != "validate"}
    return settings


def power_table(config: Mapping[str, Any]) -> str:
    """The power planner's table (``effects.validate.power.out``); read only when the file is there."""
    return config["effects"].get("validate", {}).get("power", {}).get("out", POWER_TABLE)


# --------------------------------------------------------------------------------------
# steps (each logs what the rule's log shows)


def report_tables_step(*, exported: Sequence[PathLike], tables: Sequence[PathLike]) -> None:
    """Copy the exported register tables into ``reports/tables/`` after each passed its contract."""
    from mentorwijs.aggregates import publish_tables

    names = publish_tables({Path(p).stem: p for p in exported}, {Path(p).stem: p for p in tables})
    log.info("copied %d exported tables into reports/tables: %s", len(names), ", ".join(names))


def exclusions_step(*, register: PathLike, fragments: Sequence[PathLike], table: PathLike) -> None:
    """The exported register stages plus the questionnaire stages, counted (never a record)."""
    from mentorwijs.flow import write_report_exclusions

    path = write_report_exclusions(register, list(fragments), table)
    log.info("exclusions of the register stages (exported) and of %d questionnaire stage(s) in %s",
             len(fragments), path)


def figures_step(*, png: Sequence[PathLike], svg: Sequence[PathLike], manifest: PathLike, language: str,
                 synthetic: bool, reference_month: int, primary_method: str, **tables: PathLike) -> None:
    """Draw every figure whose tables are present (PNG and SVG) and write the manifest beside them."""
    from mentorwijs.aggregates import read_aggregate_tables
    from mentorwijs.figures import draw_figures
    from mentorwijs.messages import load_messages

    found = read_aggregate_tables(names=list(tables), paths=dict(tables))
    records = draw_figures(found, Path(manifest).parent, load_messages(language), synthetic=synthetic,
                           reference_month=reference_month, method=primary_method)
    for name in found.missing:
        log.warning("optional table %s is missing: its figure is not drawn", name)
    log.info("drew %d figures in %s", len(records), language)


def provenance_step(*, record: PathLike, config: Mapping[str, Any], seed: int | None, root: PathLike,
                    **tables: PathLike) -> None:
    """``provenance.json``: versions, the effective configuration and its hash, the tables' hashes
    (paths relative to ``root``), the commit checked out in ``root`` and the seed."""
    from mentorwijs.provenance import file_hashes, git_state, provenance_record, write_json

    commit, dirty = git_state(root)
    written = provenance_record(dict(config), file_hashes(list(tables.values()), root=root), seed=seed,
                                commit=commit, dirty=dirty)
    write_json(record, written)
    log.info("config %s, commit %s%s, %d inputs", written["config_hash"][:12], commit or "unknown",
             " (uncommitted changes)" if dirty else "", len(written["inputs"]))


def _document(kind: str, *, documents: Sequence[PathLike], manifest: PathLike, settings: Mapping[str, Any],
              anchors: Mapping[str, Any], region_pairs: Any, analysis_settings: Mapping[str, Any],
              provenance: PathLike | None, power: PathLike | None, tables: Mapping[str, PathLike]) -> None:
    from mentorwijs.aggregates import TABLE_SPECS, read_aggregate_tables
    from mentorwijs.power import read_power
    from mentorwijs.provenance import read_provenance
    from mentorwijs.report import ReportSettings, write_factsheet, write_report

    full = ReportSettings(**settings, anchors=anchors, region_pairs=region_pairs, analysis_settings=analysis_settings,
                          power=read_power(power).to_dict("records") if power is not None else ())
    paths = {name: path for name, path in tables.items() if name in TABLE_SPECS}
    found = read_aggregate_tables(names=list(paths), paths=paths)
    for name in found.missing:
        log.warning("optional table %s is missing; the report says so in its warnings appendix", name)
    outputs = {Path(path).suffix.lstrip("."): path for path in documents}
    figures_dir = Path(manifest).parent
    if kind == "report":
        result = write_report(found, figures_dir, full, html_path=outputs.get("html"), pdf_path=outputs.get("pdf"),
                              provenance=read_provenance(provenance))
    else:
        result = write_factsheet(found, figures_dir, full, html_path=outputs.get("html"), pdf_path=outputs.get("pdf"))
    if "pages" in result:
        log.info("%s.pdf: %d pages", kind, result["pages"])
    log.info("wrote %s in %s", ", ".join(sorted(str(p) for p in outputs.values())), full.language)


def technical_report_step(*, documents: Sequence[PathLike], manifest: PathLike, figures: Sequence[PathLike],
                          provenance: PathLike, formats: Sequence[str], settings: Mapping[str, Any],
                          anchors: Mapping[str, Any], region_pairs: Any, analysis_settings: Mapping[str, Any],
                          power: PathLike | None = None, **tables: PathLike) -> None:
    """``reports/report.<format>`` from every aggregate table, the figures and the provenance record."""
    _document("report", documents=documents, manifest=manifest, settings=settings, anchors=anchors,
              region_pairs=region_pairs, analysis_settings=analysis_settings, provenance=provenance, power=power,
              tables=tables)


def factsheet_step(*, documents: Sequence[PathLike], manifest: PathLike, figures: Sequence[PathLike],
                   formats: Sequence[str], settings: Mapping[str, Any], anchors: Mapping[str, Any], region_pairs: Any,
                   analysis_settings: Mapping[str, Any], **tables: PathLike) -> None:
    """``reports/factsheet.<format>`` (two pages) from its tables and the factsheet's figure."""
    _document("factsheet", documents=documents, manifest=manifest, settings=settings, anchors=anchors,
              region_pairs=region_pairs, analysis_settings=analysis_settings, provenance=None, power=None,
              tables=tables)


# --------------------------------------------------------------------------------------
# the declaration: each step once, read by workflow/rules/report_tables.smk and report.smk
# and by the plan of ``mentorwijs run --part report``


def _figures_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"language": config["report"]["language"], "synthetic": bool(config["study"]["synthetic"]),
            "reference_month": config["anchors"]["reference_month"],
            "primary_method": config["effects"].get("primary_method", "matched")}


def _provenance_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The hash makes any change of the effective configuration (also --config) rewrite provenance.json."""
    from mentorwijs.config import config_hash

    return {"config_hash": config_hash(config), "seed": config["study"]["seed"]}


def _provenance_arguments(files: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The record needs the whole effective configuration (its params carry only the hash) and the
    folder the paths are relative to: the one holding ``reports/``."""
    root = Path(files["record"]).parents[len(PurePosixPath(PROVENANCE).parts) - 1]
    return {**files, "config": config, "seed": config["study"]["seed"], "root": root}


def _document_settings(analyses: bool) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def settings(config: Mapping[str, Any]) -> dict[str, Any]:
        return {"formats": report_formats(config), "settings": report_settings(config), "anchors": config["anchors"],
                "region_pairs": config["regions"]["pairs"],
                "analysis_settings": analysis_settings(config) if analyses else {}}
    return settings


def _documents(document: str) -> FromConfig:
    return FromConfig(lambda config: [document_file(document, fmt) for fmt in report_formats(config)])


#: The report part's steps in order; each is the Snakemake rule of the same name.
REPORT_STEPS: tuple[StepSpec, ...] = (
    StepSpec("report_tables", report_tables_step, {"exported": [EXPORTED[name] for name in PUBLISHED_TABLES]},
             {"tables": [REPORT_TABLES[name] for name in PUBLISHED_TABLES]}),
    StepSpec("exclusions", exclusions_step, {
        "register": EXPORTED["exclusions"], "fragments": questionnaire_exclusion_fragments,
    }, {"table": REPORT_TABLES["exclusions"]}),
    StepSpec("figures", figures_step, {name: REPORT_TABLES[name] for name in FIGURE_TABLES}, {
        "png": [figure_file(name, "png") for name in FIGURES], "svg": [figure_file(name, "svg") for name in FIGURES],
        "manifest": MANIFEST,
    }, _figures_settings),
    StepSpec("provenance", provenance_step, REPORT_TABLES, {"record": PROVENANCE}, _provenance_settings,
             call=_provenance_arguments),
    StepSpec("technical_report", technical_report_step, {
        **REPORT_TABLES, "manifest": MANIFEST,
        "figures": [figure_file(name, fmt) for name in FIGURES for fmt in FIGURE_FORMATS],
        "provenance": PROVENANCE, "power": power_table,
    }, {"documents": _documents("report")}, _document_settings(analyses=True), optional=frozenset({"power"})),
    StepSpec("factsheet", factsheet_step, {
        **{name: REPORT_TABLES[name] for name in FACTSHEET_TABLES}, "manifest": MANIFEST,
        "figures": [figure_file("factsheet", fmt) for fmt in FIGURE_FORMATS],
    }, {"documents": _documents("factsheet")}, _document_settings(analyses=False)),
)
#: The declared steps by rule name.
STEPS: dict[str, StepSpec] = {step.name: step for step in REPORT_STEPS}
#: The steps whose outputs readers get (the target ``report``; the tables come with them).
DOCUMENT_STEPS = ("figures", "provenance", "technical_report", "factsheet")


def report_outputs(config: Mapping[str, Any]) -> list[str]:
    """Every file the document steps write under ``reports/`` (the inputs of the target ``report``)."""
    return [path for name in DOCUMENT_STEPS for value in STEPS[name].outputs(config).values()
            for path in (value if isinstance(value, list) else [value])]


def report_plan(config: Mapping[str, Any], *, root: PathLike = Path("."),
                out_root: PathLike | None = None) -> list[PlannedStep]:
    """The report part's steps (:data:`REPORT_STEPS`) in order, with inputs under ``root`` and
    outputs under ``out_root`` (default ``root``). Paths are built with :mod:`pathlib`."""
    return plan_of(REPORT_STEPS, config, root=root, out_root=out_root)


def run_report(config: Mapping[str, Any], *, root: PathLike = Path("."), out_root: PathLike | None = None,
               log_folder: PathLike | None = None, progress: Callable[[str], None] = lambda message: None,
               skip: Sequence[str] = ()) -> dict[str, float]:
    """Run the report part's steps in order, without a workflow engine.

    Each step logs to ``<log_folder>/<step>.log`` (default ``logs/report`` under ``out_root``).
    Returns the seconds each step took. An :class:`~mentorwijs.errors.InputError` stops the run.
    """
    folder = part_log_folder("report", root=root, out_root=out_root, log_folder=log_folder)
    return run_plan(report_plan(config, root=root, out_root=out_root), folder, progress=progress, skip=skip)
