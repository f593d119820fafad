"""Mentorwijs effect evaluation: from raw exports to report and factsheet.

Targets (see README.md):
  all             the three parts in one place (the synthetic study)
  simulate        the built-in synthetic raw study (when study.synthetic is true)
  questionnaires  part 1 (outside CBS): ingest, de-identify, supervisors_long, the CBS hand-over
  register        part 2 (CBS environment): matched panel, survival, balance, flow

Run `snakemake --cores all` for everything, or name a target. Every rule logs to logs/.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.json")


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/questionnaires_common.smk"
include: "workflow/rules/questionnaires.smk"
include: "workflow/rules/register.smk"


rule all:
    default_target: True
    input:
        synthetic_outputs(),
        questionnaire_outputs(),


rule questionnaires:
    input:
        questionnaire_outputs(),


rule register:
    input:
        "data/processed/panel.parquet",
        "data/processed/survival.parquet",
        "reports/tables/balance.csv",
        "reports/tables/ps_overlap.csv",
        "reports/tables/flow.csv",
