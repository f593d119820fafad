"""The register part (inside the CBS Remote Access environment): extracts to matched units.

input:  the register extracts config.yaml names (register.key, register.files), the trainee
        hand-over data/processed/trainees.parquet (written by the questionnaire part)
        and the questionnaire part's flow fragments data/interim/flow/{supervisors_long,trainees}.csv
output: data/interim/register/*.parquet     person x month, employer x month, persons, benefits
        data/processed/candidates.parquet   eligible units with the propensity covariates
        data/processed/pairs.parquet, matched.parquet, modifier_pairs.parquet
        data/processed/panel.parquet, survival.parquet (main_sample marks the main matched units)
        data/processed/results/balance.csv, ps_overlap.csv, ps_model.csv, flow.csv, exclusions.csv
            (result tables: they leave the CBS environment only through the rule `export`)
        data/interim/exclusions/register_*.csv, data/interim/flow/register_*.csv

The steps are declared once, in mentorwijs.register.steps.REGISTER_STEPS (in order:
register_persons, register_payroll, register_benefits, register_candidates, register_matching,
register_panel, register_flow, register_exclusions, then effects and export): each step's
named inputs, outputs, function and settings. Every rule here takes its input:, output: and
params: from that declaration and calls the step through workflow/scripts/register_step.py;
`mentorwijs run --part register` plans the same declared steps without Snakemake. Thresholds of
register.checks have their defaults in mentorwijs.register.check.RegisterChecks.
"""

from mentorwijs.register.steps import STEPS as REGISTER_STEPS


rule register_persons:
    input:
        **REGISTER_STEPS["register_persons"].inputs(config),
    output:
        **REGISTER_STEPS["register_persons"].outputs(),
    log:
        "logs/register/register_persons.log",
    params:
        **REGISTER_STEPS["register_persons"].params(config),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_payroll:
    input:
        **REGISTER_STEPS["register_payroll"].inputs(config),
    output:
        **REGISTER_STEPS["register_payroll"].outputs(),
    log:
        "logs/register/register_payroll.log",
    params:
        **REGISTER_STEPS["register_payroll"].params(config),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_benefits:
    input:
        **REGISTER_STEPS["register_benefits"].inputs(config),
    output:
        **REGISTER_STEPS["register_benefits"].outputs(),
    log:
        "logs/register/register_benefits.log",
    params:
        **REGISTER_STEPS["register_benefits"].params(config),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_candidates:
    input:
        **REGISTER_STEPS["register_candidates"].inputs(config),
    output:
        **REGISTER_STEPS["register_candidates"].outputs(),
    log:
        "logs/register/register_candidates.log",
    params:
        **REGISTER_STEPS["register_candidates"].params(config),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_matching:
    input:
        **REGISTER_STEPS["register_matching"].inputs(config),
    output:
        **REGISTER_STEPS["register_matching"].outputs(),
    log:
        "logs/register/register_matching.log",
    params:
        **REGISTER_STEPS["register_matching"].params(config),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_panel:
    input:
        **REGISTER_STEPS["register_panel"].inputs(config),
    output:
        **REGISTER_STEPS["register_panel"].outputs(),
    log:
        "logs/register/register_panel.log",
    params:
        **REGISTER_STEPS["register_panel"].params(config),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_flow:
    input:
        **REGISTER_STEPS["register_flow"].inputs(config),
    output:
        **REGISTER_STEPS["register_flow"].outputs(),
    log:
        "logs/register/register_flow.log",
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_exclusions:
    input:
        **REGISTER_STEPS["register_exclusions"].inputs(config),
    output:
        **REGISTER_STEPS["register_exclusions"].outputs(),
    log:
        "logs/register/register_exclusions.log",
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"
