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

Every rule calls one step of mentorwijs.register.steps through workflow/scripts/register_step.py;
`mentorwijs run --part register` runs the same steps (and those of the rules `effects` and
`export`) without Snakemake.
"""

REGISTER = config["register"]
REGISTER_FILES = REGISTER["files"]
REGISTER_CHECKS = REGISTER.get("checks", {})


rule register_persons:
    input:
        key_file=REGISTER["key"]["path"],
        persons_file=REGISTER_FILES["persons"],
        education_file=REGISTER_FILES["education"],
        deaths_file=REGISTER_FILES["deaths"],
        migration_file=REGISTER_FILES["migration"],
        trainees_file="data/processed/trainees.parquet",
    output:
        out_persons="data/interim/register/persons.parquet",
        out_migrations="data/interim/register/migrations.parquet",
        out_exclusions="data/interim/exclusions/register_linkage.csv",
        out_flow="data/interim/flow/register_linkage.csv",
    log:
        "logs/register/register_persons.log",
    params:
        study_number=REGISTER["key"]["study_number"],
        variables=REGISTER.get("variables", {}),
        codes=REGISTER.get("codes", {}),
        unknown_birth_month=config["candidates"]["unknown_birth_month"],
        max_bad_share=REGISTER_CHECKS.get("max_bad_share", 0.01),
        warn_excluded_share=REGISTER_CHECKS.get("warn_excluded_share", 0.1),
        synthetic=config["study"]["synthetic"],
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_payroll:
    input:
        payroll_files=REGISTER_FILES["payroll"],
        businesses_file=REGISTER_FILES["businesses"],
        persons="data/interim/register/persons.parquet",
    output:
        out_person_months="data/interim/register/person_months.parquet",
        out_employer_months="data/interim/register/employer_months.parquet",
        out_employers="data/interim/register/employers.parquet",
        out_businesses="data/interim/register/businesses.parquet",
        out_exclusions="data/interim/exclusions/register_payroll.csv",
    log:
        "logs/register/register_payroll.log",
    params:
        variables=REGISTER.get("variables", {}),
        codes=REGISTER.get("codes", {}),
        window=REGISTER["window"],
        max_bad_share=REGISTER_CHECKS.get("max_bad_share", 0.01),
        warn_excluded_share=REGISTER_CHECKS.get("warn_excluded_share", 0.1),
        min_month_share=REGISTER_CHECKS.get("min_month_share", 0.5),
        synthetic=config["study"]["synthetic"],
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_benefits:
    input:
        socioeconomic_file=REGISTER_FILES["socioeconomic"],
        persons="data/interim/register/persons.parquet",
    output:
        out_benefits="data/interim/register/benefits.parquet",
        out_exclusions="data/interim/exclusions/register_benefits.csv",
    log:
        "logs/register/register_benefits.log",
    params:
        variables=REGISTER.get("variables", {}),
        codes=REGISTER.get("codes", {}),
        window=REGISTER["window"],
        max_bad_share=REGISTER_CHECKS.get("max_bad_share", 0.01),
        warn_excluded_share=REGISTER_CHECKS.get("warn_excluded_share", 0.1),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_candidates:
    input:
        persons="data/interim/register/persons.parquet",
        person_months="data/interim/register/person_months.parquet",
        employer_months="data/interim/register/employer_months.parquet",
        employers="data/interim/register/employers.parquet",
        businesses="data/interim/register/businesses.parquet",
        benefits="data/interim/register/benefits.parquet",
        residence_file=REGISTER_FILES["residence"],
        addresses_file=REGISTER_FILES["addresses"],
        municipality_regions_file=REGISTER_FILES["municipality_regions"],
        trainees_file="data/processed/trainees.parquet",
    output:
        out_candidates="data/processed/candidates.parquet",
        out_exclusions="data/interim/exclusions/register_candidates.csv",
        out_flow="data/interim/flow/register_candidates.csv",
    log:
        "logs/register/register_candidates.log",
    params:
        variables=REGISTER.get("variables", {}),
        codes=REGISTER.get("codes", {}),
        pairs=config["regions"]["pairs"],
        anchors=config["anchors"],
        candidates=config["candidates"],
        window=REGISTER["window"],
        max_bad_share=REGISTER_CHECKS.get("max_bad_share", 0.01),
        warn_excluded_share=REGISTER_CHECKS.get("warn_excluded_share", 0.1),
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_matching:
    input:
        candidates="data/processed/candidates.parquet",
        trainees_file="data/processed/trainees.parquet",
        persons="data/interim/register/persons.parquet",
        person_months="data/interim/register/person_months.parquet",
        migrations="data/interim/register/migrations.parquet",
    output:
        out_pairs="data/processed/pairs.parquet",
        out_modifier_pairs="data/processed/modifier_pairs.parquet",
        out_matched="data/processed/matched.parquet",
        out_balance="data/processed/results/balance.csv",
        out_overlap="data/processed/results/ps_overlap.csv",
        out_model="data/processed/results/ps_model.csv",
        out_exclusions="data/interim/exclusions/register_matching.csv",
        out_flow="data/interim/flow/register_matching.csv",
    log:
        "logs/register/register_matching.log",
    params:
        matching=config["matching"],
        modifiers=config["effects"].get("modifiers") or [],
        window=REGISTER["window"],
        anchors=config["anchors"],
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_panel:
    input:
        matched="data/processed/matched.parquet",
        modifier_pairs="data/processed/modifier_pairs.parquet",
        candidate_table="data/processed/candidates.parquet",
        trainees_file="data/processed/trainees.parquet",
        persons="data/interim/register/persons.parquet",
        person_months="data/interim/register/person_months.parquet",
        employer_months="data/interim/register/employer_months.parquet",
        migrations="data/interim/register/migrations.parquet",
    output:
        out_panel="data/processed/panel.parquet",
        out_survival="data/processed/survival.parquet",
    log:
        "logs/register/register_panel.log",
    params:
        window=REGISTER["window"],
        anchors=config["anchors"],
        candidates=config["candidates"],
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_flow:
    input:
        # the questionnaire part's fragments first (orders below 110 for the employees)
        fragments=[
            "data/interim/flow/supervisors_long.csv",
            "data/interim/flow/trainees.csv",
            "data/interim/flow/register_linkage.csv",
            "data/interim/flow/register_candidates.csv",
            "data/interim/flow/register_matching.csv",
        ],
    output:
        out_flow="data/processed/results/flow.csv",
    log:
        "logs/register/register_flow.log",
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"


rule register_exclusions:
    input:
        fragments=[
            "data/interim/exclusions/register_linkage.csv",
            "data/interim/exclusions/register_payroll.csv",
            "data/interim/exclusions/register_benefits.csv",
            "data/interim/exclusions/register_candidates.csv",
            "data/interim/exclusions/register_matching.csv",
        ],
    output:
        out_exclusions="data/processed/results/exclusions.csv",
    log:
        "logs/register/register_exclusions.log",
    conda:
        "../envs/register.yaml"
    script:
        "../scripts/register_step.py"
