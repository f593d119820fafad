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
                                       data/interim/exclusions/supervisors_long.csv, data/interim/flow/supervisors_long.csv
  trainees                          -> data/processed/trainees.parquet (hand-over to the register part),
                                       data/linkage/cbs_identifiers.csv (the file sent to CBS),
                                       data/interim/exclusions/trainees.csv, data/interim/flow/trainees.csv

A new wave is a new file plus one entry under `sources.<name>.waves`: only its own jobs and what
depends on them run. No rule receives the whole config.
"""

rule check_questionnaire_wave:
    input:
        raw=lambda w: QN_SOURCES[w.source]["waves"][w.wave],
        codebook=lambda w: QN_SOURCES[w.source]["codebook"],
    output:
        "logs/questionnaires/checks/{source}/{wave}.txt",
    log:
        "logs/questionnaires/check_{source}_{wave}.log",
    wildcard_constraints:
        source="|".join(QN_WAVE_SOURCES),
        wave="T[0-9]+",
    priority: 50
    params:
        source=lambda w: qn_source_params(w),
        options=QN_OPTIONS,
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_check.py"


rule check_questionnaire_file:
    input:
        raw=lambda w: QN_SOURCES[w.source]["file"],
        codebook=lambda w: QN_SOURCES[w.source]["codebook"],
    output:
        "logs/questionnaires/checks/{source}.txt",
    log:
        "logs/questionnaires/check_{source}.log",
    wildcard_constraints:
        source="|".join(QN_FILE_SOURCES),
    priority: 50
    params:
        source=lambda w: qn_source_params(w),
        options=QN_OPTIONS,
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_check.py"


rule ingest_questionnaire_wave:
    input:
        raw=lambda w: QN_SOURCES[w.source]["waves"][w.wave],
        codebook=lambda w: QN_SOURCES[w.source]["codebook"],
        checked="logs/questionnaires/checks/{source}/{wave}.txt",
    output:
        interim="data/interim/{source}/{wave}.parquet",
        missing="data/interim/missing/{source}/{wave}.parquet",
        exclusions="data/interim/exclusions/ingest_{source}_{wave}.csv",
        quality="data/interim/data_quality/ingest_{source}_{wave}.csv",
        linkage="data/linkage/{source}/{wave}.parquet",
    log:
        "logs/questionnaires/ingest_{source}_{wave}.log",
    wildcard_constraints:
        source="|".join(QN_WAVE_SOURCES),
        wave="T[0-9]+",
    params:
        source=lambda w: qn_source_params(w),
        options=QN_OPTIONS,
        synthetic=config["study"]["synthetic"],
        key_env=QN_KEY.get("key_env", "MENTORWIJS_KEY"),
        key_file=QN_KEY.get("key_file"),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_ingest.py"


rule ingest_questionnaire_file:
    input:
        raw=lambda w: QN_SOURCES[w.source]["file"],
        codebook=lambda w: QN_SOURCES[w.source]["codebook"],
        checked="logs/questionnaires/checks/{source}.txt",
    output:
        interim="data/interim/{source}.parquet",
        missing="data/interim/missing/{source}.parquet",
        exclusions="data/interim/exclusions/ingest_{source}.csv",
        quality="data/interim/data_quality/ingest_{source}.csv",
        linkage="data/linkage/{source}.parquet",
    log:
        "logs/questionnaires/ingest_{source}.log",
    wildcard_constraints:
        source="|".join(QN_FILE_SOURCES),
    params:
        source=lambda w: qn_source_params(w),
        options=QN_OPTIONS,
        synthetic=config["study"]["synthetic"],
        key_env=QN_KEY.get("key_env", "MENTORWIJS_KEY"),
        key_file=QN_KEY.get("key_file"),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_ingest.py"


rule combine_questionnaire_waves:
    input:
        interim=lambda w: [f"data/interim/{w.source}/{wave}.parquet" for wave in qn_waves(w.source)],
        missing=lambda w: [f"data/interim/missing/{w.source}/{wave}.parquet" for wave in qn_waves(w.source)],
        codebook=lambda w: QN_SOURCES[w.source]["codebook"],
    output:
        interim="data/interim/{source}.parquet",
        missing="data/interim/missing/{source}.parquet",
    log:
        "logs/questionnaires/combine_{source}.log",
    wildcard_constraints:
        source="|".join(QN_WAVE_SOURCES),
        wave="T[0-9]+",
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_combine.py"


rule questionnaire_reliability:
    input:
        tables=[f"data/interim/{s}.parquet" for s in QN_WAVE_SOURCES],
        codebooks=[QN_SOURCES[s]["codebook"] for s in QN_WAVE_SOURCES],
    output:
        "reports/tables/reliability.csv",
    log:
        "logs/questionnaires/reliability.log",
    params:
        sources=QN_WAVE_SOURCES,
        waves={s: qn_waves(s) for s in QN_WAVE_SOURCES},
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_reliability.py"


rule questionnaire_data_quality:
    input:
        [f"data/interim/data_quality/ingest_{s}.csv" for s in QN_FILE_SOURCES]
        + qn_wave_list("data/interim/data_quality/ingest_{source}_{wave}.csv"),
    output:
        "reports/tables/data_quality.csv",
    log:
        "logs/questionnaires/data_quality.log",
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/questionnaires_quality.py"


rule supervisors_long:
    input:
        survey="data/interim/supervisors.parquet",
        study="data/interim/supervisors_study.parquet",
        invitations="data/interim/invitations.parquet",
        schedule="data/interim/schedule.parquet",
        codebook=QN_SOURCES["supervisors"]["codebook"],
    output:
        table="data/processed/supervisors_long.parquet",
        exclusions="data/interim/exclusions/supervisors_long.csv",
        flow="data/interim/flow/supervisors_long.csv",
    log:
        "logs/questionnaires/supervisors_long.log",
    params:
        waves=qn_waves("supervisors"),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/supervisors_long.py"


rule trainees:
    input:
        employees=f"data/interim/employees/{qn_first_wave('employees')}.parquet",
        linkage=f"data/linkage/employees/{qn_first_wave('employees')}.parquet",
        study="data/interim/supervisors_study.parquet",
        invitations="data/interim/invitations.parquet",
        schedule="data/interim/schedule.parquet",
    output:
        table="data/processed/trainees.parquet",
        identifiers="data/linkage/cbs_identifiers.csv",
        exclusions="data/interim/exclusions/trainees.csv",
        flow="data/interim/flow/trainees.csv",
    log:
        "logs/questionnaires/trainees.log",
    params:
        wave=qn_first_wave("employees"),
        supervisor_covariates=(QN_INGEST.get("handover", {}) or {}).get(
            "supervisor_covariates", ["n_employees_guided", "sector", "org_size", "sheltered_workplace"]
        ),
        cbs_identifiers=QN_INGEST.get("cbs_identifiers", ["bsn", "first_name", "last_name", "birth_date", "postcode"]),
    conda:
        "../envs/mentorwijs.yaml"
    script:
        "../scripts/trainees.py"
