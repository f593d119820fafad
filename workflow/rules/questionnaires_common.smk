"""Helpers of the questionnaire rules: file lists and plain params derived from config values.

No function hands the whole config to a rule.
"""

QN_SOURCES = config["sources"]
QN_WAVE_SOURCES = sorted(s for s, spec in QN_SOURCES.items() if "waves" in spec)
QN_FILE_SOURCES = sorted(s for s, spec in QN_SOURCES.items() if "file" in spec)
QN_INGEST = config.get("ingest", {}) or {}
QN_OPTIONS = {k: v for k, v in QN_INGEST.items() if k not in ("cbs_identifiers", "handover")}
QN_KEY = config.get("pseudonymise", {}) or {}


def qn_waves(source):
    return sorted(QN_SOURCES[source].get("waves", {}), key=lambda w: int(w[1:]))


def qn_wave_list(pattern, sources=None):
    """`pattern` filled in for every configured (source, wave)."""
    return [pattern.format(source=s, wave=w) for s in (sources or QN_WAVE_SOURCES) for w in qn_waves(s)]


def qn_first_wave(source):
    return qn_waves(source)[0]


def questionnaire_outputs():
    """What the target `questionnaires` builds."""
    return [
        "data/processed/supervisors_long.parquet",
        "data/processed/trainees.parquet",
        "data/linkage/cbs_identifiers.csv",
        "reports/tables/reliability.csv",
        "reports/tables/data_quality.csv",
    ] + [f"data/interim/{s}.parquet" for s in sorted(QN_SOURCES)] + [
        f"data/interim/missing/{s}.parquet" for s in sorted(QN_SOURCES)
    ]


def qn_source_params(wildcards):
    spec = QN_SOURCES[wildcards.source]
    return {"format": spec["format"], "separator": spec.get("separator")}


def questionnaire_exclusion_fragments():
    """The exclusion fragments of the questionnaire stages (ingest per source and wave, the links)."""
    return (
        [f"data/interim/exclusions/ingest_{s}.csv" for s in QN_FILE_SOURCES]
        + qn_wave_list("data/interim/exclusions/ingest_{source}_{wave}.csv")
        + ["data/interim/exclusions/supervisors_long.csv", "data/interim/exclusions/trainees.csv"]
    )
