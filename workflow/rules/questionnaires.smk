"""Part 1 (outside CBS): the questionnaires, from raw exports to de-identified tables.

Per source and wave (config.yaml `sources.<name>.waves`, or `file` for a source without waves):
  check_questionnaire_wave / _file  raw export + codebook -> logs/questionnaires/checks/<source>[/<wave>].txt
                                    (the shared validator; runs first, so an erroneous input stops
                                    the run before anything under data/ or reports/ is written)
  ingest_questionnaire_wave / _file raw export + codebook ->
                                    data/interim/<source>/<wave>.parquet (or data/interim/<source>.parquet),
                                    data/interim/missing/<source>[/<wave>].parquet,
                                    data/interim/exclusions/ingest_<source>[_<wave>].csv,
                                    data/interim/data_quality/ingest_<source>[_<wave>].csv,
                                    data/linkage/<source>[/<wave>].parquet (identifiers; git-ignored)
Per source with waves:
  combine_questionnaire_waves       -> data/interim/<source>.parquet, data/interim/missing/<source>.parquet
Gathered:
  questionnaire_reliability         -> reports/tables/reliability.csv
  questionnaire_data_quality        -> reports/tables/data_quality.csv
  supervisors_long                  -> data/processed/supervisors_long.parquet,
                                       data/interim/exclusions/supervisors_long.csv,
                                       data/interim/flow/supervisors_long.csv
  trainees                          -> data/processed/trainees.parquet (hand-over to the register part),
                                       data/linkage/cbs_identifiers.csv (the file sent to CBS),
                                       data/interim/exclusions/trainees.csv, data/interim/flow/trainees.csv

The steps are declared once, in mentorwijs.ingest.steps.QUESTIONNAIRE_STEPS (named inputs and
outputs as {source}/{wave} patterns, the stage function, the plain settings): every rule here
takes its input:, output: and params: from it, and `mentorwijs run --part questionnaires` fills
in the same patterns. The rules' logs are mentorwijs.ingest.steps.LOGS (QUESTIONNAIRE_LOGS), where
`mentorwijs run --part questionnaires` logs too; the check rules' logs are the rules' own.

A new wave is a new file plus one entry under `sources.<name>.waves`: only its own jobs and what
depends on them run. No rule receives the whole config.
"""

rule check_questionnaire_wave:
    input:
        **QUESTIONNAIRE_STEPS["check_questionnaire_wave"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["check_questionnaire_wave"].outputs(),
    log:
        "logs/questionnaires/check_{source}_{wave}.log",
    wildcard_constraints:
        source="|".join(QN_WAVE_SOURCES),
        wave="T[0-9]+",
    priority: 50
    params:
        **QUESTIONNAIRE_STEPS["check_questionnaire_wave"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_check.py"


rule check_questionnaire_file:
    input:
        **QUESTIONNAIRE_STEPS["check_questionnaire_file"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["check_questionnaire_file"].outputs(),
    log:
        "logs/questionnaires/check_{source}.log",
    wildcard_constraints:
        source="|".join(QN_FILE_SOURCES),
    priority: 50
    params:
        **QUESTIONNAIRE_STEPS["check_questionnaire_file"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_check.py"


rule ingest_questionnaire_wave:
    input:
        **QUESTIONNAIRE_STEPS["ingest_questionnaire_wave"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["ingest_questionnaire_wave"].outputs(),
    log:
        QUESTIONNAIRE_LOGS["ingest_questionnaire_wave"],
    wildcard_constraints:
        source="|".join(QN_WAVE_SOURCES),
        wave="T[0-9]+",
    params:
        **QUESTIONNAIRE_STEPS["ingest_questionnaire_wave"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_ingest.py"


rule ingest_questionnaire_file:
    input:
        **QUESTIONNAIRE_STEPS["ingest_questionnaire_file"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["ingest_questionnaire_file"].outputs(),
    log:
        QUESTIONNAIRE_LOGS["ingest_questionnaire_file"],
    wildcard_constraints:
        source="|".join(QN_FILE_SOURCES),
    params:
        **QUESTIONNAIRE_STEPS["ingest_questionnaire_file"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_ingest.py"


rule combine_questionnaire_waves:
    input:
        **QUESTIONNAIRE_STEPS["combine_questionnaire_waves"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["combine_questionnaire_waves"].outputs(),
    log:
        QUESTIONNAIRE_LOGS["combine_questionnaire_waves"],
    wildcard_constraints:
        source="|".join(QN_WAVE_SOURCES),
        wave="T[0-9]+",
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_combine.py"


rule questionnaire_reliability:
    input:
        **QUESTIONNAIRE_STEPS["questionnaire_reliability"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["questionnaire_reliability"].outputs(),
    log:
        QUESTIONNAIRE_LOGS["questionnaire_reliability"],
    params:
        **QUESTIONNAIRE_STEPS["questionnaire_reliability"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_reliability.py"


rule questionnaire_data_quality:
    input:
        **QUESTIONNAIRE_STEPS["questionnaire_data_quality"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["questionnaire_data_quality"].outputs(),
    log:
        QUESTIONNAIRE_LOGS["questionnaire_data_quality"],
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_quality.py"


rule supervisors_long:
    input:
        **QUESTIONNAIRE_STEPS["supervisors_long"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["supervisors_long"].outputs(),
    log:
        QUESTIONNAIRE_LOGS["supervisors_long"],
    params:
        **QUESTIONNAIRE_STEPS["supervisors_long"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/supervisors_long.py"


rule trainees:
    input:
        **QUESTIONNAIRE_STEPS["trainees"].inputs(config),
    output:
        **QUESTIONNAIRE_STEPS["trainees"].outputs(),
    log:
        QUESTIONNAIRE_LOGS["trainees"],
    params:
        **QUESTIONNAIRE_STEPS["trainees"].params(config),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/trainees.py"
