"""Part 3, what readers get: figures, report, factsheet and provenance, from aggregate tables only.

input:  reports/tables/<table>.csv, the aggregate tables the documents read (data dictionary:
        reports/tables/README.md); never microdata
output: reports/figures/<figure>.png and .svg plus reports/figures/figures.json (captions,
        alternative texts); reports/report.html|pdf; reports/factsheet.html|pdf (formats from
        report.formats); reports/provenance.json
logs:   logs/report/<rule>.log; the run summary logs/run_summary.json (written when a run ends)

The documents are written in report.language (nl or en) at the same paths:
    snakemake --cores all --config 'report={language: en}'
Files that carry a time (the run summary, `snakemake --report logs/workflow-report.html`) go
under logs/, never under reports/.
"""

import os
import time as _time

from mentorwijs.config import config_hash as _config_hash
from mentorwijs.contracts import TABLE_NAMES as _TABLE_NAMES

# Every aggregate table (mentorwijs.contracts): the documents read them, provenance hashes them.
REPORT_TABLES = {name: f"reports/tables/{name}.csv" for name in _TABLE_NAMES}
FIGURE_TABLES = ["flow", "ps_overlap", "balance", "trajectories", "did_by_month", "did_pooled", "modifiers",
                 "sensitivity", "supervisor_means", "km"]
FACTSHEET_TABLES = ["flow", "trajectories", "did_by_month", "did_pooled", "rmst", "supervisor_effects",
                    "supervisor_means", "process"]
FIGURES = ["flow", "ps_overlap", "balance", "trajectories", "did_by_month", "modifiers", "supervisor_means", "km",
           "sensitivity", "factsheet"]
REPORT_FORMATS = list(config["report"]["formats"])
REPORT_SETTINGS = dict(
    language=config["report"]["language"],
    title=config["report"].get("title"),
    synthetic=bool(config["study"]["synthetic"]),
    study_name=config["study"]["name"],
    seed=config["study"]["seed"],
    full_report=config["report"].get("full_report"),
    contact=config["report"].get("contact"),
)


# The power planner's table (`mentorwijs power`, docs/validation/power.csv): the report's limitations
# state the power a study of this size had; read when the file is there (it is committed).
POWER_TABLE = config["effects"].get("validate", {}).get("power", {}).get("out", "docs/validation/power.csv")
POWER_INPUT = {"power": POWER_TABLE} if os.path.isfile(POWER_TABLE) else {}


# The analysis settings the report's methods list: the analyses' own sections, without the
# Monte Carlo and power planner's settings (effects.validate), which no result of the report used.
ANALYSIS_SETTINGS = {key: config[key] for key in ("matching", "effects", "supervisors", "disclosure") if key in config}
if "effects" in ANALYSIS_SETTINGS:
    ANALYSIS_SETTINGS["effects"] = {k: v for k, v in ANALYSIS_SETTINGS["effects"].items() if k != "validate"}


#: Every file part 3 writes under reports/ (the inputs of a target rule for the part).
REPORT_OUTPUTS = (
    [f"reports/figures/{name}.{fmt}" for name in FIGURES for fmt in ("png", "svg")]
    + ["reports/figures/figures.json", "reports/provenance.json"]
    + [f"reports/{doc}.{fmt}" for doc in ("report", "factsheet") for fmt in REPORT_FORMATS]
)


rule figures:
    input:
        **{name: REPORT_TABLES[name] for name in FIGURE_TABLES},
    output:
        [
            report(f"reports/figures/{name}.png", caption=f"../report/{name}.rst", category="Figures")
            for name in FIGURES
        ]
        + [f"reports/figures/{name}.svg" for name in FIGURES]
        + ["reports/figures/figures.json"],
    log:
        "logs/report/figures.log",
    params:
        language=config["report"]["language"],
        synthetic=bool(config["study"]["synthetic"]),
        reference_month=config["anchors"]["reference_month"],
        primary_method=config["effects"].get("primary_method", "matched"),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/figures.py"


rule provenance:
    input:
        **REPORT_TABLES,
    output:
        report("reports/provenance.json", caption="../report/provenance.rst", category="Documents"),
    log:
        "logs/report/provenance.log",
    params:
        # the hash makes any change of the effective config (also --config) rewrite provenance.json
        config_hash=_config_hash(config),
        seed=config["study"]["seed"],
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/provenance.py"


rule technical_report:
    input:
        **REPORT_TABLES,
        manifest="reports/figures/figures.json",
        figures=[f"reports/figures/{name}.{fmt}" for name in FIGURES for fmt in ("png", "svg")],
        provenance="reports/provenance.json",
        **POWER_INPUT,
    output:
        [report(f"reports/report.{fmt}", caption="../report/report.rst", category="Documents") for fmt in REPORT_FORMATS],
    log:
        "logs/report/technical_report.log",
    params:
        formats=REPORT_FORMATS,
        settings=REPORT_SETTINGS,
        anchors=config["anchors"],
        region_pairs=config["regions"]["pairs"],
        analysis_settings=ANALYSIS_SETTINGS,
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report.py"


rule factsheet:
    input:
        **{name: REPORT_TABLES[name] for name in FACTSHEET_TABLES},
        manifest="reports/figures/figures.json",
        figures=["reports/figures/factsheet.png", "reports/figures/factsheet.svg"],
    output:
        [report(f"reports/factsheet.{fmt}", caption="../report/factsheet.rst", category="Documents") for fmt in REPORT_FORMATS],
    log:
        "logs/report/factsheet.log",
    params:
        formats=REPORT_FORMATS,
        settings=REPORT_SETTINGS,
        anchors=config["anchors"],
        region_pairs=config["regions"]["pairs"],
        analysis_settings={},
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report.py"


# The run summary for batch users (status per rule log, warnings, versions), written when a
# run ends, whatever its outcome. It carries times, so it lives under logs/.
_RUN_STARTED = _time.time()


onsuccess:
    from mentorwijs.provenance import write_run_summary

    write_run_summary("logs", "logs/run_summary.json", status="success", started=_RUN_STARTED)


onerror:
    from mentorwijs.provenance import write_run_summary

    write_run_summary("logs", "logs/run_summary.json", status="error", started=_RUN_STARTED)
