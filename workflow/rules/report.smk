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

from pathlib import Path as _Path
import time as _time

from mentorwijs.report.steps import STEPS as REPORT_STEPS
from mentorwijs.report.steps import report_outputs as _report_outputs

# The steps are declared once, in mentorwijs.report.steps.REPORT_STEPS (in order: report_tables,
# exclusions in report_tables.smk, then figures, provenance, technical_report, factsheet): each
# step's named inputs, outputs, function and settings. The rules take input:, output: and params:
# from it and call the step through workflow/scripts/report_step.py; `mentorwijs run --part
# report` runs the same declared steps without Snakemake.

#: Every file part 3 writes under reports/ besides the tables (the inputs of the target `report`).
REPORT_OUTPUTS = _report_outputs(config)


#: The rules' outputs as declared, the files readers get marked for `snakemake --report`
#: (caption workflow/report/<file stem>.rst): rule -> (the output's name, category).
_FOR_READERS = {"figures": ("png", "Figures"), "provenance": ("record", "Documents"),
                "technical_report": ("documents", "Documents"), "factsheet": ("documents", "Documents")}
_RULE_OUTPUTS = {rule_name: REPORT_STEPS[rule_name].outputs(config) for rule_name in _FOR_READERS}
for _reader_rule, (_reader_output, _reader_category) in _FOR_READERS.items():
    _reader_files = _RULE_OUTPUTS[_reader_rule][_reader_output]
    _reader_marked = [report(path, caption=f"../report/{_Path(path).stem}.rst", category=_reader_category)
               for path in (_reader_files if isinstance(_reader_files, list) else [_reader_files])]
    _RULE_OUTPUTS[_reader_rule][_reader_output] = (_reader_marked if isinstance(_reader_files, list)
                                                   else _reader_marked[0])


rule figures:
    input:
        **REPORT_STEPS["figures"].inputs(config),
    output:
        **_RULE_OUTPUTS["figures"],
    log:
        "logs/report/figures.log",
    params:
        **REPORT_STEPS["figures"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report_step.py"


rule provenance:
    input:
        **REPORT_STEPS["provenance"].inputs(config),
    output:
        **_RULE_OUTPUTS["provenance"],
    log:
        "logs/report/provenance.log",
    params:
        # the hash makes any change of the effective config (also --config) rewrite provenance.json
        **REPORT_STEPS["provenance"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report_step.py"


rule technical_report:
    input:
        **REPORT_STEPS["technical_report"].inputs(config),
    output:
        **_RULE_OUTPUTS["technical_report"],
    log:
        "logs/report/technical_report.log",
    params:
        **REPORT_STEPS["technical_report"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report_step.py"


rule factsheet:
    input:
        **REPORT_STEPS["factsheet"].inputs(config),
    output:
        **_RULE_OUTPUTS["factsheet"],
    log:
        "logs/report/factsheet.log",
    params:
        **REPORT_STEPS["factsheet"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report_step.py"


# The run summary for batch users (status per rule log, warnings, versions), written when a
# run ends, whatever its outcome. It carries times, so it lives under logs/.
_RUN_STARTED = _time.time()


onsuccess:
    from mentorwijs.provenance import write_run_summary

    write_run_summary("logs", "logs/run_summary.json", status="success", started=_RUN_STARTED)


onerror:
    from mentorwijs.provenance import write_run_summary

    write_run_summary("logs", "logs/run_summary.json", status="error", started=_RUN_STARTED)
