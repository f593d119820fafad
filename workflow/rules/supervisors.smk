"""The supervisors' outcomes, process evaluation and employees' tables (part 1, outside CBS).

input:  data/processed/supervisors_long.parquet (scale scores per supervisor per wave),
        data/interim/supervisors.parquet (survey items: process questions),
        data/interim/schedule.parquet (training groups: delivery mode, meetings),
        data/interim/employees.parquet (employees' questionnaire and follow-up)
output: reports/tables/supervisor_effects.csv, supervisor_means.csv, supervisor_sensitivity.csv,
        attrition.csv, process.csv, employees_baseline.csv
"""

SUPERVISOR_TABLES = [
    f"reports/tables/{name}.csv"
    for name in ("supervisor_effects", "supervisor_means", "supervisor_sensitivity", "attrition", "process",
                 "employees_baseline")
]


rule supervisor_analyses:
    input:
        supervisors_long="data/processed/supervisors_long.parquet",
        supervisors="data/interim/supervisors.parquet",
        schedule="data/interim/schedule.parquet",
        employees="data/interim/employees.parquet",
    output:
        supervisor_effects="reports/tables/supervisor_effects.csv",
        supervisor_means="reports/tables/supervisor_means.csv",
        supervisor_sensitivity="reports/tables/supervisor_sensitivity.csv",
        attrition="reports/tables/attrition.csv",
        process="reports/tables/process.csv",
        employees_baseline="reports/tables/employees_baseline.csv",
    log:
        "logs/supervisor_analyses.log",
    params:
        constructs=config["supervisors"]["constructs"],
        reference_wave=config["supervisors"]["reference_wave"],
        primary_wave=config["supervisors"]["primary_wave"],
        optimizers=config["supervisors"]["optimizers"],
        employees_guided_cutoff=config["supervisors"]["employees_guided_cutoff"],
        baseline_covariates=config["supervisors"]["baseline_covariates"],
        employees_followup_wave=config["supervisors"]["employees_followup_wave"],
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/supervisor_analyses.py"
