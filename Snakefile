"""Mentorwijs effect evaluation: from raw exports to report and factsheet.

Targets, one per place the study runs in (README.md, docs/register.md):
  questionnaires   part 1, outside CBS: ingest, de-identify, supervisors_long, the CBS hand-over,
                   and the supervisors' and questionnaire tables under reports/tables/
  register_export  part 2, inside the CBS environment: matched panel, effects, and the
                   disclosure-checked export under export/
  report           part 3, outside again: the exported tables into reports/tables/, figures,
                   report, factsheet, provenance
  all              the three in one place (the synthetic study; the default)

Run `snakemake --cores all` for everything, or name a target. Every rule logs to logs/.
"""

from mentorwijs.system import reproducible_numerics

# every rule's job: one numerical thread and, on x86-64 with AVX2, the same kernels on every
# processor, so the outputs' bytes do not depend on the machine (mentorwijs.system)
reproducible_numerics()

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.json")


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/questionnaires_common.smk"
include: "workflow/rules/questionnaires.smk"
include: "workflow/rules/supervisors.smk"
include: "workflow/rules/register.smk"
include: "workflow/rules/effects.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/report_tables.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        synthetic_outputs(),
        questionnaire_outputs(),
        SUPERVISOR_TABLES,
        REGISTER_STEPS["export"].outputs()["readme"],
        REGISTER_STEPS["export"].outputs()["checksums"],
        REPORT_OUTPUTS,


rule questionnaires:
    input:
        questionnaire_outputs(),
        SUPERVISOR_TABLES,


rule register_export:
    input:
        **REGISTER_STEPS["export"].outputs(),


rule report:
    input:
        REPORT_OUTPUTS,
