"""Part 3's tables (outside CBS): what came out of the CBS environment, and the exclusions.

input:  export/tables/<name>.csv   the register part's disclosure-checked tables (rule `export`)
        data/interim/exclusions/<stage>.csv of the questionnaire stages (ingest, supervisors_long,
        trainees: the study's own data)
output: reports/tables/<name>.csv  for every exported table except exclusions (copied unchanged,
                                   after a check against its contract)
        reports/tables/exclusions.csv  the exported register stages plus the questionnaire stages,
                                   counted per stage, source, wave and reason (never a record)

The supervisors' and questionnaire tables are written to reports/tables/ by their own rules
(the study's own threshold, disclosure.questionnaire).
"""

from mentorwijs.report.steps import STEPS as REPORT_STEPS

# The steps are declared once, in mentorwijs.report.steps.REPORT_STEPS (report.smk reads the
# rest of them); the rules call them through workflow/scripts/report_step.py.


rule report_tables:
    input:
        **REPORT_STEPS["report_tables"].inputs(config),
    output:
        **REPORT_STEPS["report_tables"].outputs(config),
    log:
        "logs/report/report_tables.log",
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report_step.py"


rule exclusions:
    input:
        **REPORT_STEPS["exclusions"].inputs(config),
    output:
        **REPORT_STEPS["exclusions"].outputs(config),
    log:
        "logs/report/exclusions.log",
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/report_step.py"
