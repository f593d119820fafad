"""The supervisors' outcomes, process evaluation and employees' tables (part 1, outside CBS).

input:  data/processed/supervisors_long.parquet (scale scores per supervisor per wave),
        data/interim/supervisors.parquet (survey items: process questions),
        data/interim/schedule.parquet (training groups: delivery mode, meetings),
        data/interim/employees.parquet (employees' questionnaire and follow-up)
output: reports/tables/supervisor_effects.csv, supervisor_means.csv, supervisor_sensitivity.csv,
        attrition.csv, process.csv, employees_baseline.csv

Input, output and params are declared once, in mentorwijs.ingest.steps.QUESTIONNAIRE_STEPS
["supervisor_analyses"]; `mentorwijs run --part questionnaires` runs the same step.
"""

SUPERVISOR_TABLES = _qn_steps.supervisor_tables()


rule supervisor_analyses:
    input:
        **QUESTIONNAIRE_STEPS["supervisor_analyses"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["supervisor_analyses"].outputs(),
    log:
        QUESTIONNAIRE_LOGS["supervisor_analyses"],
    params:
        **QUESTIONNAIRE_STEPS["supervisor_analyses"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/supervisor_analyses.py"
