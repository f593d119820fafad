"""The questionnaire part's steps, declared once: what each reads and writes, and its settings.

:data:`QUESTIONNAIRE_STEPS` holds one :class:`~mentorwijs.workflow.StepSpec` per Snakemake rule of
``workflow/rules/questionnaires.smk`` and ``supervisors.smk`` (same name): its named inputs and
outputs (paths relative to the repository root; the per-source and per-wave steps declare
patterns with ``{source}`` and ``{wave}``), the stage function it calls and its plain settings
from the configuration. The rules take their ``input:``, ``output:`` and ``params:`` from here;
:func:`run_questionnaires` (``mentorwijs run --part questionnaires``) fills in the same patterns.

In order:

1. ``check_questionnaire_wave`` / ``_file``: raw export + codebook -> the check report (the shared
   validator; every input is checked before anything under ``data/`` or ``reports/`` is written);
2. ``ingest_questionnaire_wave`` / ``_file``: -> interim table, missing reasons, exclusions,
   data-quality fragment and identifiers (:data:`~mentorwijs.ingest.pipeline.WAVE_FILES`,
   :data:`~mentorwijs.ingest.pipeline.SOURCE_FILES`);
3. ``combine_questionnaire_waves``: the waves of one source -> ``data/interim/<source>.parquet``;
4. ``questionnaire_reliability``, ``questionnaire_data_quality``: the gathered tables;
5. ``supervisors_long`` and ``trainees`` (the hand-over to the register part, paths in
   :mod:`mentorwijs.handover`);
6. ``supervisor_analyses``: the supervisors' and employees' tables under ``reports/tables/``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Mapping

import pandas as pd

from mentorwijs.files import FILES
from mentorwijs.handover import SUPERVISORS_LONG_FLOW, TRAINEES, TRAINEES_FLOW
from mentorwijs.ingest.build import WaveTables, wave_sort_key
from mentorwijs.ingest.clean import CleaningOptions
from mentorwijs.ingest.pipeline import (
    CBS_IDENTIFIERS,
    HANDOVER_COVARIATES,
    SOURCE_FILES,
    WAVE_FILES,
    WaveOutputs,
    check_wave_file,
    combine_stage,
    ingest_wave,
    load_source_codebook,
    quality_stage,
    reliability_stage,
    summarise,
    supervisors_long_stage,
    trainees_stage,
    write_wave_outputs,
)
from mentorwijs.workflow import StepSpec, step_log

log = logging.getLogger("mentorwijs")

#: The check reports of the validator (per wave, or per source with one file).
CHECK_WAVE = "logs/questionnaires/checks/{source}/{wave}.txt"
CHECK_FILE = "logs/questionnaires/checks/{source}.txt"
#: The tables the part gathers under reports/tables/.
RELIABILITY = "reports/tables/reliability.csv"
DATA_QUALITY = "reports/tables/data_quality.csv"
SUPERVISORS_LONG = FILES["supervisors_long"].path
CBS_IDENTIFIER_FILE = "data/linkage/cbs_identifiers.csv"
#: The supervisors' and employees' tables (rule supervisor_analyses; mentorwijs.supervisors.TABLES).
SUPERVISOR_TABLE_NAMES = ("supervisor_effects", "supervisor_means", "supervisor_sensitivity", "attrition", "process",
                          "employees_baseline")
SUPERVISOR_TABLE = "reports/tables/{name}.csv"


def combined(kind: str, source: str) -> str:
    """The file ``kind`` (``interim`` or ``missing``) of ``source`` with all its waves."""
    return SOURCE_FILES[kind].format(source=source)


def wave_file(kind: str, source: str, wave: str) -> str:
    return WAVE_FILES[kind].format(source=source, wave=wave)


def wave_sources(config: Mapping[str, Any]) -> list[str]:
    """The sources with waves (``sources.<name>.waves``), sorted."""
    return sorted(s for s, spec in config["sources"].items() if "waves" in spec)


def file_sources(config: Mapping[str, Any]) -> list[str]:
    """The sources with one ``file``, sorted."""
    return sorted(s for s, spec in config["sources"].items() if "file" in spec)


def waves_of(config: Mapping[str, Any], source: str) -> list[str]:
    return sorted(config["sources"][source].get("waves", {}), key=wave_sort_key)


def _wave_list(config: Mapping[str, Any], kind: str) -> list[str]:
    return [wave_file(kind, s, w) for s in wave_sources(config) for w in waves_of(config, s)]


def _raw(config: Mapping[str, Any]) -> Callable[[Any], str]:
    """The raw export of a job (an input function of the wildcards ``source`` and ``wave``)."""
    def raw(wildcards: Any) -> str:
        spec = config["sources"][wildcards.source]
        wave = getattr(wildcards, "wave", None)
        return spec["waves"][wave] if wave is not None and "waves" in spec else spec["file"]
    return raw


def _codebook(config: Mapping[str, Any]) -> Callable[[Any], str]:
    return lambda wildcards: config["sources"][wildcards.source]["codebook"]


def _cleaning(config: Mapping[str, Any]) -> dict[str, Any]:
    """``ingest`` without the hand-over keys: the options of the cleaning rules."""
    ingest = config.get("ingest", {}) or {}
    return {k: v for k, v in ingest.items() if k not in ("cbs_identifiers", "handover")}


def _source_settings(config: Mapping[str, Any]) -> Callable[[Any], dict[str, Any]]:
    def source(wildcards: Any) -> dict[str, Any]:
        spec = config["sources"][wildcards.source]
        return {"format": spec["format"], "separator": spec.get("separator")}
    return source


def _check_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"source": _source_settings(config), "options": _cleaning(config)}


def _ingest_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    key = config.get("pseudonymise", {}) or {}
    return {"source": _source_settings(config), "options": _cleaning(config),
            "synthetic": config["study"]["synthetic"], "key_env": key.get("key_env", "MENTORWIJS_KEY"),
            "key_file": key.get("key_file")}


def _first_employees_wave(config: Mapping[str, Any]) -> str:
    return waves_of(config, "employees")[0]


def handover_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of the stage ``trainees``: the employees' first wave, the supervisor covariates
    handed over and the identifiers CBS needs (``ingest.handover``, ``ingest.cbs_identifiers``)."""
    ingest = config.get("ingest", {}) or {}
    return {"wave": _first_employees_wave(config),
            "supervisor_covariates": (ingest.get("handover", {}) or {}).get("supervisor_covariates",
                                                                             list(HANDOVER_COVARIATES)),
            "cbs_identifiers": ingest.get("cbs_identifiers", list(CBS_IDENTIFIERS))}


def supervisor_analyses_step(*, inputs: Mapping[str, Any], outputs: Mapping[str, Any],
                             settings: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The rule ``supervisor_analyses`` (the mixed models load only when it runs)."""
    from mentorwijs.supervisors.analyses import supervisor_analyses_files

    return supervisor_analyses_files(inputs, outputs, settings)


def _supervisor_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    from mentorwijs.supervisors.analyses import SETTINGS

    return {key: config["supervisors"][key] for key in SETTINGS}


_WAVE_JOB = {"raw": _raw, "codebook": _codebook}

#: The questionnaire part's steps in order; each is the Snakemake rule of the same name.
QUESTIONNAIRE_STEPS: tuple[StepSpec, ...] = (
    StepSpec("check_questionnaire_wave", check_wave_file, _WAVE_JOB, {"report": CHECK_WAVE}, _check_settings),
    StepSpec("check_questionnaire_file", check_wave_file, _WAVE_JOB, {"report": CHECK_FILE}, _check_settings),
    StepSpec("ingest_questionnaire_wave", ingest_wave, {**_WAVE_JOB, "checked": CHECK_WAVE}, WAVE_FILES,
             _ingest_settings),
    StepSpec("ingest_questionnaire_file", ingest_wave, {**_WAVE_JOB, "checked": CHECK_FILE}, SOURCE_FILES,
             _ingest_settings),
    StepSpec("combine_questionnaire_waves", combine_stage, {
        "interim": lambda config: lambda w: [wave_file("interim", w.source, v) for v in waves_of(config, w.source)],
        "missing": lambda config: lambda w: [wave_file("missing", w.source, v) for v in waves_of(config, w.source)],
        "codebook": _codebook,
    }, {"interim": SOURCE_FILES["interim"], "missing": SOURCE_FILES["missing"]}),
    StepSpec("questionnaire_reliability", reliability_stage, {
        "tables": lambda config: [combined("interim", s) for s in wave_sources(config)],
        "codebooks": lambda config: [config["sources"][s]["codebook"] for s in wave_sources(config)],
    }, {"table": RELIABILITY},
        lambda config: {"sources": wave_sources(config), "waves": {s: waves_of(config, s) for s in wave_sources(config)}}),
    StepSpec("questionnaire_data_quality", quality_stage, {
        "fragments": lambda config: [SOURCE_FILES["quality"].format(source=s) for s in file_sources(config)]
        + _wave_list(config, "quality"),
    }, {"table": DATA_QUALITY}),
    StepSpec("supervisors_long", supervisors_long_stage, {
        "survey": combined("interim", "supervisors"), "study": combined("interim", "supervisors_study"),
        "invitations": combined("interim", "invitations"), "schedule": combined("interim", "schedule"),
        "codebook": lambda config: config["sources"]["supervisors"]["codebook"],
    }, {
        "table": SUPERVISORS_LONG, "exclusions": "data/interim/exclusions/supervisors_long.csv",
        "flow": SUPERVISORS_LONG_FLOW,
    }, lambda config: {"waves": waves_of(config, "supervisors")}),
    StepSpec("trainees", trainees_stage, {
        "employees": lambda config: wave_file("interim", "employees", _first_employees_wave(config)),
        "linkage": lambda config: wave_file("linkage", "employees", _first_employees_wave(config)),
        "study": combined("interim", "supervisors_study"), "invitations": combined("interim", "invitations"),
        "schedule": combined("interim", "schedule"),
    }, {
        "table": TRAINEES, "identifiers": CBS_IDENTIFIER_FILE, "exclusions": "data/interim/exclusions/trainees.csv",
        "flow": TRAINEES_FLOW,
    }, handover_settings),
    StepSpec("supervisor_analyses", supervisor_analyses_step, {
        "supervisors_long": SUPERVISORS_LONG, "supervisors": combined("interim", "supervisors"),
        "schedule": combined("interim", "schedule"), "employees": combined("interim", "employees"),
    }, {name: SUPERVISOR_TABLE.format(name=name) for name in SUPERVISOR_TABLE_NAMES}, _supervisor_settings),
)
#: The declared steps by rule name.
STEPS: dict[str, StepSpec] = {step.name: step for step in QUESTIONNAIRE_STEPS}


def files_of(step: str, config: Mapping[str, Any], **wildcards: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The declared inputs and outputs of ``step`` for one source (and wave): patterns filled in,
    input functions called."""
    names = SimpleNamespace(**{k: v for k, v in wildcards.items() if v is not None})

    def fill(value: Any) -> Any:
        if callable(value):
            return fill(value(names))
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value.format(**vars(names))

    spec = STEPS[step]
    return ({k: fill(v) for k, v in spec.inputs(config).items()}, {k: fill(v) for k, v in spec.outputs().items()})


def questionnaire_targets(config: Mapping[str, Any]) -> list[str]:
    """What the target ``questionnaires`` builds (besides the supervisors' tables)."""
    sources = sorted(config["sources"])
    return ([STEPS["supervisors_long"].outputs()["table"], *[STEPS["trainees"].outputs()[k] for k in ("table", "identifiers")],
             RELIABILITY, DATA_QUALITY]
            + [combined("interim", s) for s in sources] + [combined("missing", s) for s in sources])


def questionnaire_exclusion_fragments(config: Mapping[str, Any]) -> list[str]:
    """The exclusion fragments of the questionnaire stages (ingest per source and wave, the links)."""
    return ([SOURCE_FILES["exclusions"].format(source=s) for s in file_sources(config)]
            + _wave_list(config, "exclusions")
            + [STEPS["supervisors_long"].outputs()["exclusions"], STEPS["trainees"].outputs()["exclusions"]])


def supervisor_tables() -> list[str]:
    """The supervisors' and employees' tables (the outputs of ``supervisor_analyses``)."""
    return list(STEPS["supervisor_analyses"].outputs().values())


# --- the whole part without Snakemake -------------------------------------------------------

#: The sources the trainee hand-over is made from (with the employees' first wave only).
HANDOVER_SOURCES = ("employees", "invitations", "schedule", "supervisors_study")
#: Where each step logs in ``mentorwijs run --part questionnaires``: the ``log:`` of its rule.
#: The run checks and cleans every source before it writes (the step ``ingest`` in two phases,
#: both in the ingest log); its ingest does the checks of the ``check_questionnaire_*`` rules
#: (their reports under ``logs/questionnaires/checks/`` are the rules' own).
LOGS = {
    "ingest_questionnaire_wave": "logs/questionnaires/ingest_{source}_{wave}.log",
    "ingest_questionnaire_file": "logs/questionnaires/ingest_{source}.log",
    "combine_questionnaire_waves": "logs/questionnaires/combine_{source}.log",
    "questionnaire_reliability": "logs/questionnaires/reliability.log",
    "questionnaire_data_quality": "logs/questionnaires/data_quality.log",
    "supervisors_long": "logs/questionnaires/supervisors_long.log",
    "trainees": "logs/questionnaires/trainees.log",
    "supervisor_analyses": "logs/supervisor_analyses.log",
}


def _logged(root: Path, step: str, *, mode: str = "w", **wildcards: str | None) -> Any:
    """The package's messages into the log of ``step`` (for one source and wave) under ``root``."""
    return step_log(root / LOGS[step].format(**{k: v for k, v in wildcards.items() if v is not None}), mode=mode)


def _log_summary(tables: WaveTables, source: str, wave: str | None, file: str,
                 progress: Callable[[str], None]) -> None:
    """The ingest's summary, as the rule logs it (notes as warnings), and to ``progress``."""
    notes = {f"  warning: {note}" for note in tables.notes}  # columns not read, optional columns absent
    for line in summarise(tables, source=source, wave=wave, file=file):
        if line in notes:
            log.warning("%s", line.strip()[len("warning: "):])
        else:
            log.info("%s", line)
        progress(line)


def _jobs(sources: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str | None]]:
    """One ingest job per source and wave (sources with one ``file`` have no wave)."""
    jobs: list[tuple[str, str | None]] = []
    for source in sorted(sources):
        if "file" in sources[source]:
            jobs.append((source, None))
        jobs.extend((source, wave) for wave in sorted(sources[source].get("waves", {}), key=wave_sort_key))
    return jobs


def _ingest_step(wave: str | None) -> str:
    return "ingest_questionnaire_wave" if wave is not None else "ingest_questionnaire_file"


def run_questionnaires(config: Mapping[str, Any], root: str | Path = ".", *, key: bytes | None = None,
                       progress: Callable[[str], None] = lambda line: None,
                       handover_only: bool = False) -> dict[str, pd.DataFrame]:
    """Run the questionnaire part in-process: ingest every source and wave, combine, link, hand over.

    The paths are those of :data:`QUESTIONNAIRE_STEPS`, each step logs where its rule logs
    (:data:`LOGS`; ``progress`` gets the ingest summaries too). Every input is read and checked
    before anything under ``data/`` or ``reports/`` is written; returns the main tables.
    ``handover_only`` runs only what the trainee hand-over (``data/processed/trainees.parquet``)
    needs: the ingest of :data:`HANDOVER_SOURCES` (the employees' first wave only) and the stage
    ``trainees``, with the same functions and outputs as the full part (the chain validation's
    replications, whose synthetic studies hold only these questionnaire files). The supervisors'
    tables are the step ``supervisor_analyses`` (:func:`run_supervisor_analyses`).
    """
    from mentorwijs.pseudonymise import load_key

    root = Path(root)
    ingest = config.get("ingest", {}) or {}
    options = CleaningOptions.from_mapping(ingest)
    if key is None:
        pseudo = config.get("pseudonymise", {}) or {}
        key = load_key(synthetic=bool(config["study"]["synthetic"]), key_file=pseudo.get("key_file"), repo_root=root,
                       env_var=pseudo.get("key_env", "MENTORWIJS_KEY"))
    sources = dict(config["sources"])
    if handover_only:
        first_wave = _first_employees_wave(config)
        sources = {s: spec for s, spec in sources.items() if s in HANDOVER_SOURCES}
        sources["employees"] = {**sources["employees"], "waves": {first_wave: sources["employees"]["waves"][first_wave]}}
    config = {**config, "sources": sources}
    codebooks = {s: load_source_codebook(root / spec["codebook"], source=s, fmt=spec["format"]) for s, spec in sources.items()}
    results: dict[tuple[str, str | None], WaveTables] = {}
    for source, wave in _jobs(sources):  # 1. check and clean everything in memory
        spec = sources[source]
        inputs, _ = files_of(_ingest_step(wave), config, source=source, wave=wave)
        with _logged(root, _ingest_step(wave), source=source, wave=wave):
            results[(source, wave)] = ingest_wave(root / inputs["raw"], source=source, fmt=spec["format"],
                                                  codebook=codebooks[source], wave=wave, key=key,
                                                  separator=spec.get("separator"), options=options)
            _log_summary(results[(source, wave)], source, wave, inputs["raw"], progress)
    for (source, wave), tables in results.items():  # 2. write
        with _logged(root, _ingest_step(wave), mode="a", source=source, wave=wave):
            outputs = files_of(_ingest_step(wave), config, source=source, wave=wave)[1]
            write_wave_outputs(tables, WaveOutputs(**outputs), root)
    for source in wave_sources(config):
        inputs, outputs = files_of("combine_questionnaire_waves", config, source=source)
        with _logged(root, "combine_questionnaire_waves", source=source):
            table = combine_stage([root / p for p in inputs["interim"]], [root / p for p in inputs["missing"]],
                                  codebooks[source], root / outputs["interim"], root / outputs["missing"])
            log.info("%s: %d rows from %d wave(s)", source, len(table), len(inputs["interim"]))
    if handover_only:
        return {"trainees": _handover(config, root)}
    inputs, outputs = files_of("questionnaire_reliability", config)
    params = STEPS["questionnaire_reliability"].params(config)
    with _logged(root, "questionnaire_reliability"):
        frame = reliability_stage({s: root / p for s, p in zip(params["sources"], inputs["tables"])}, codebooks,
                                  root / outputs["table"], params["waves"])
        log.info("Cronbach's alpha for %d scale-wave combinations", len(frame))
    inputs, outputs = files_of("questionnaire_data_quality", config)
    with _logged(root, "questionnaire_data_quality"):
        frame = quality_stage(sorted(root / p for p in inputs["fragments"]), root / outputs["table"])
        log.info("%d data-quality rows from %d stage(s)", len(frame), len(inputs["fragments"]))
    inputs, outputs = files_of("supervisors_long", config)
    with _logged(root, "supervisors_long"):
        long = supervisors_long_stage(
            *(root / inputs[k] for k in ("survey", "study", "invitations", "schedule")), codebooks["supervisors"],
            **{k: root / v for k, v in outputs.items() if k != "table"}, out=root / outputs["table"],
            **STEPS["supervisors_long"].params(config))
        log.info("supervisors_long: %d rows, %d supervisors", len(long), long["supervisor"].nunique())
    return {"supervisors_long": long, "trainees": _handover(config, root)}


def _handover(config: Mapping[str, Any], root: Path) -> pd.DataFrame:
    """The stage ``trainees`` on the ingested sources under ``root``: the hand-over to the register part."""
    inputs, outputs = files_of("trainees", config)
    with _logged(root, "trainees"):
        table = trainees_stage(
            *(root / inputs[k] for k in ("employees", "linkage", "study", "invitations", "schedule")),
            **handover_settings(config), out=root / outputs["table"], identifiers_out=root / outputs["identifiers"],
            exclusions=root / outputs["exclusions"], flow=root / outputs["flow"])
        log.info("trainees handed over: %d (identifier file written for CBS)", len(table))
    return table


def run_supervisor_analyses(config: Mapping[str, Any], root: str | Path = ".") -> dict[str, pd.DataFrame]:
    """The step ``supervisor_analyses`` under ``root`` (``mentorwijs run --part questionnaires``)."""
    root = Path(root)
    inputs, outputs = files_of("supervisor_analyses", config)
    with _logged(root, "supervisor_analyses"):
        tables = supervisor_analyses_step(inputs={k: root / v for k, v in inputs.items()},
                                          outputs={k: root / v for k, v in outputs.items()},
                                          settings=STEPS["supervisor_analyses"].params(config))
        for name, table in tables.items():
            log.info("%s: %d rows", name, len(table))
    return tables
