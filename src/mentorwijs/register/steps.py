"""The register part's steps: files in, files out.

Each step reads its inputs, calls the pure functions of :mod:`mentorwijs.register` and
:mod:`mentorwijs.matching`, and writes its outputs (whole or not at all). The steps are declared
once, in :data:`REGISTER_STEPS` (name = Snakemake rule, named inputs and outputs, function,
settings from the configuration): the rules of ``workflow/rules/register.smk``, ``effects.smk``
and ``export.smk`` take their ``input:``, ``output:`` and ``params:`` from it, and
:func:`register_plan` (``mentorwijs run --part register``) lists the same steps in order with
their arguments. The limits of ``register.checks`` have their defaults in
:class:`~mentorwijs.register.check.RegisterChecks`.

Steps and outputs (paths relative to the repository root, see :data:`PATHS`):

1. ``register_persons``: person file, education, deaths, migration, linkage key and the
   trainee hand-over -> persons and migrations (interim), linkage exclusions and flow;
2. ``register_payroll``: payroll files and business register -> person x month table,
   employer x month table, employers, businesses (interim), payroll exclusions;
3. ``register_benefits``: SECM spells -> monthly benefit flags (interim);
4. ``register_candidates``: residence chain and the above -> ``candidates.parquet``;
5. ``register_matching``: -> ``pairs``, ``matched``, ``modifier_pairs`` (re-matched within each
   level of each effect modifier) and the result tables ``balance``, ``ps_overlap``, ``ps_model``;
6. ``register_panel``: -> ``panel.parquet``, ``survival.parquet`` (the matched units and every
   unit of the modifier pairs; ``main_sample`` marks the main matched sample);
7. ``register_flow``: all flow fragments (the questionnaire part's too) -> the result table ``flow``;
8. ``register_exclusions``: the register stages' exclusion fragments -> the result table ``exclusions``.

Result tables are written to ``data/processed/results/<table>.csv`` (their contracts:
:mod:`mentorwijs.contracts`); they leave the CBS environment only through the export. The plan
(:func:`register_plan`, for ``mentorwijs run --part register``) adds the two steps of the
rules ``effects`` (:func:`effects_plan_step`, which calls
:func:`mentorwijs.effects.tables.effects_step`: the effect tables) and
``export`` (:func:`export_step`: the disclosure check into ``export/``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path, PurePath
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from mentorwijs.errors import InputError
from mentorwijs.files import FILES
from mentorwijs.register.check import RegisterChecks
from mentorwijs.handover import SUPERVISORS_LONG_FLOW, TRAINEES, TRAINEES_FLOW
from mentorwijs.flow import Exclusions, write_exclusions, write_exclusions_table, write_flow, write_flow_fragment
from mentorwijs.tables import read_parquet, write_csv_table, write_parquet
from mentorwijs.workflow import PlannedStep, StepSpec, part_log_folder, plan_of, run_plan

log = logging.getLogger(__name__)

PathLike = str | PurePath

#: Every file the register part writes, by name (relative to the repository root).
PATHS: dict[str, str] = {
    "persons": "data/interim/register/persons.parquet",
    "migrations": "data/interim/register/migrations.parquet",
    "person_months": "data/interim/register/person_months.parquet",
    "employer_months": "data/interim/register/employer_months.parquet",
    "employers": "data/interim/register/employers.parquet",
    "businesses": "data/interim/register/businesses.parquet",
    "benefits": "data/interim/register/benefits.parquet",
    "exclusions_linkage": "data/interim/exclusions/register_linkage.csv",
    "exclusions_payroll": "data/interim/exclusions/register_payroll.csv",
    "exclusions_benefits": "data/interim/exclusions/register_benefits.csv",
    "exclusions_candidates": "data/interim/exclusions/register_candidates.csv",
    "exclusions_matching": "data/interim/exclusions/register_matching.csv",
    "flow_linkage": "data/interim/flow/register_linkage.csv",
    "flow_candidates": "data/interim/flow/register_candidates.csv",
    "flow_matching": "data/interim/flow/register_matching.csv",
    "candidates": FILES["candidates"].path,
    "pairs": FILES["pairs"].path,
    "modifier_pairs": FILES["modifier_pairs"].path,
    "matched": FILES["matched"].path,
    "panel": FILES["panel"].path,
    "survival": FILES["survival"].path,
    "balance": "data/processed/results/balance.csv",
    "ps_overlap": "data/processed/results/ps_overlap.csv",
    "ps_model": "data/processed/results/ps_model.csv",
    "flow": "data/processed/results/flow.csv",
    "exclusions": "data/processed/results/exclusions.csv",
}
#: Where the result tables go (one CSV per register table) and where the export writes.
RESULTS_FOLDER = "data/processed/results"
EXPORT_FOLDER = "export"
#: The register stages' exclusion fragments (gathered into the result table ``exclusions``).
REGISTER_EXCLUSIONS = ("exclusions_linkage", "exclusions_payroll", "exclusions_benefits", "exclusions_candidates",
                       "exclusions_matching")

#: The columns of the employer x month table the candidate step reads (for the years in the job).
TENURE_COLUMNS = ("pid", "employer", "month", "job_start")

#: Flow orders written by the linkage step (population employees).
FLOW_ORDER = {"excluded_not_found_in_register": 110, "found_in_register": 120}


def window_of(section: Mapping[str, str]) -> tuple[int, int]:
    """``register.window`` as integer months (first, last)."""
    from mentorwijs.errors import ConfigError
    from mentorwijs.register.calendar import month_code

    first, last = month_code(section["first"]), month_code(section["last"])
    if last < first:
        raise ConfigError("register.window: last is before first")
    return first, last


def _spec(variables: Mapping | None, codes: Mapping | None) -> tuple[dict, dict]:
    """``register.variables`` and ``register.codes`` merged over the defaults of docs/raw-data.md."""
    from mentorwijs.register import spec

    return spec.variables(variables), spec.codes(codes)


def _pseudonym_key(synthetic: bool) -> bytes:
    from mentorwijs.pseudonymise import load_key

    return load_key(synthetic=synthetic)


# --------------------------------------------------------------------------------------
# steps


def _require_usable(file: PathLike, n_rows: int, exclusions: Exclusions, before: Mapping, kind: str,
                    warn_share: float) -> None:
    """Stop when an extract has rows and the parsing just done excluded every one of them; log a
    warning when it excluded more than ``warn_share`` of them (the rules of ``check-register``:
    :func:`mentorwijs.register.check.no_usable_row`, :func:`~mentorwijs.register.check.many_excluded`)."""
    from mentorwijs.register.check import excluded_by_reason, many_excluded, no_usable_row

    counts = excluded_by_reason(exclusions, before)
    problem = no_usable_row(file, n_rows, counts, kind=kind)
    if problem is not None:
        raise problem
    warning = many_excluded(n_rows, counts, threshold=warn_share)
    if warning:
        log.warning("%s: %s", Path(file).name, warning)


def persons_step(*, key_file: PathLike, persons_file: PathLike, education_file: PathLike, deaths_file: PathLike,
                 migration_file: PathLike, trainees_file: PathLike, out_persons: PathLike, out_migrations: PathLike,
                 out_exclusions: PathLike, out_flow: PathLike, study_number: str, variables: Mapping, codes: Mapping,
                 unknown_birth_month: int, max_bad_share: float, synthetic: bool,
                 warn_excluded_share: float) -> None:
    """Register persons with pseudonyms and fixed characteristics; link the trainees."""
    from mentorwijs.register import persons as P
    from mentorwijs.register.extracts import read_extract

    v, codes = _spec(variables, codes)
    variables = v
    exclusions = Exclusions()
    trainees = P.check_trainees(read_parquet(trainees_file), file=trainees_file)
    raw = read_extract(persons_file, [v["person_type"], v["person"], *v["persons"].values()], kind="person")
    persons = P.person_table(raw, variables=v, codes=codes, unknown_birth_month=unknown_birth_month, file=persons_file,
                             exclusions=exclusions)
    _require_usable(persons_file, raw.num_rows, exclusions, {}, "person", warn_excluded_share)
    log.info("person file: %d persons found in the register", len(persons))
    raw = read_extract(education_file, [v["person_type"], v["person"], v["education"]["level"]], kind="education")
    before = dict(exclusions.rows)
    persons = P.add_education(persons, raw, variables=v, codes=codes, exclusions=exclusions, file=education_file)
    _require_usable(education_file, raw.num_rows, exclusions, before, "education", warn_excluded_share)
    raw = read_extract(deaths_file, [v["person_type"], v["person"], v["deaths"]["date"]], kind="deaths",
                       allow_empty=True)
    before = dict(exclusions.rows)
    persons = P.add_deaths(persons, raw, variables=v, codes=codes, file=deaths_file, max_bad_share=max_bad_share,
                           exclusions=exclusions)
    _require_usable(deaths_file, raw.num_rows, exclusions, before, "deaths", warn_excluded_share)
    raw = read_extract(migration_file, [v["person_type"], v["person"], v["migration"]["date"], v["migration"]["type"]],
                       kind="migration", allow_empty=True)
    before = dict(exclusions.rows)
    migrations = P.migration_events(persons, raw, variables=v, codes=codes, file=migration_file,
                                    max_bad_share=max_bad_share, exclusions=exclusions)
    _require_usable(migration_file, raw.num_rows, exclusions, before, "migration", warn_excluded_share)
    key = read_extract(key_file, [study_number, v["person_type"], v["person"]], kind="linkage key")
    linkage = P.link_trainees(trainees, key, persons, study_number=study_number, variables=v, codes=codes,
                              pseudonym_key=_pseudonym_key(synthetic), key_file=key_file)
    for reason, n in linkage.not_found.items():
        exclusions.add("trainees", reason, n)
    n_not_found = sum(linkage.not_found.values())
    log.info("linkage: %d trainees handed over, %d found, %d not found (%s)", linkage.n_trainees, len(linkage.found),
             n_not_found, ", ".join(f"{k.split(': ')[-1]} {v}" for k, v in linkage.not_found.items()))
    write_parquet(linkage.persons, out_persons)
    write_parquet(migrations, out_migrations)
    write_exclusions(exclusions, out_exclusions)
    write_flow_fragment([("employees", FLOW_ORDER["excluded_not_found_in_register"], "excluded_not_found_in_register",
                          n_not_found),
                         ("employees", FLOW_ORDER["found_in_register"], "found_in_register", len(linkage.found))],
                        out_flow)


def payroll_step(*, payroll_files: Sequence[PathLike], businesses_file: PathLike, persons: PathLike,
                 out_person_months: PathLike, out_employer_months: PathLike, out_employers: PathLike,
                 out_businesses: PathLike, out_exclusions: PathLike, variables: Mapping, codes: Mapping,
                 window: Mapping[str, str], max_bad_share: float, synthetic: bool,
                 min_month_share: float, warn_excluded_share: float) -> None:
    """Income statements -> person x month and employer x month tables.

    The payroll files are streamed (:func:`mentorwijs.register.payroll.stream_month_tables`):
    memory does not grow with the payroll rows, only with the month tables. Its sizes are
    :data:`mentorwijs.register.payroll.STREAM_SIZES`; the outputs do not depend on them.
    """
    import tempfile

    from mentorwijs.pseudonymise import pseudonymise
    from mentorwijs.register import payroll as Y
    from mentorwijs.register.check import coverage_message
    from mentorwijs.register.extracts import read_extract
    from mentorwijs.tables import ParquetPieces

    variables, codes = _spec(variables, codes)
    win = window_of(window)
    exclusions = Exclusions()
    person_table = read_parquet(persons)

    def after_file(path: PathLike, n_rows: int, before: Mapping) -> None:
        _require_usable(path, n_rows, exclusions, before, "payroll", warn_excluded_share)

    spill_root = Path(out_person_months).parent
    spill_root.mkdir(parents=True, exist_ok=True)
    # the month tables are written as their pieces come (in pid order), the statements spilled
    # under a temporary folder beside them; an error removes both and leaves no output
    with ParquetPieces(out_person_months) as pm_sink, ParquetPieces(out_employer_months) as em_sink, \
            tempfile.TemporaryDirectory(prefix=".payroll-", dir=spill_root) as folder:
        def on_chunk(pm: pd.DataFrame, em: pd.DataFrame) -> None:
            pm_sink.add(pm)
            em_sink.add(em)

        tables = Y.stream_month_tables(payroll_files, person_table, variables=variables, codes=codes, window=win,
                                       max_bad_share=max_bad_share, exclusions=exclusions, folder=folder,
                                       after_file=after_file, on_chunk=on_chunk, **Y.STREAM_SIZES)
        del person_table
        problem = coverage_message(tables.coverage, window=win, min_share=min_month_share)
        if problem:
            raise InputError(problem, file=Path(payroll_files[0]).parent,
                             hint="bring the payroll files of every year of register.window, or narrow the "
                                  "window in config.yaml")
        log.info("payroll: %d netted statements, %d person-months, %d employer-months, %d employers",
                 tables.n_statements, tables.n_person_months, tables.n_employer_months, len(tables.employers))
        raw = read_extract(businesses_file, list(variables["businesses"].values()), kind="business register")
        business = Y.businesses(raw, tables.employers, variables=variables, codes=codes, file=businesses_file,
                                max_bad_share=max_bad_share)
        del raw
    employers = pd.DataFrame({
        "employer": range(len(tables.employers)),
        "employer_pseudonym": pseudonymise(pd.Series(tables.employers, dtype="string"), _pseudonym_key(synthetic),
                                           "employer"),
    })
    employers["employer"] = employers["employer"].astype("int32")
    write_parquet(employers, out_employers)
    write_parquet(business, out_businesses)
    write_exclusions(exclusions, out_exclusions)


def benefits_step(*, socioeconomic_file: PathLike, persons: PathLike, out_benefits: PathLike, out_exclusions: PathLike,
                  variables: Mapping, codes: Mapping, window: Mapping[str, str], max_bad_share: float,
                  warn_excluded_share: float) -> None:
    """SECM spells -> monthly benefit flags."""
    from mentorwijs.register.extracts import read_extract
    from mentorwijs.register.socioeconomic import benefit_months, socioeconomic_columns

    variables, codes = _spec(variables, codes)
    exclusions = Exclusions()
    raw = read_extract(socioeconomic_file, socioeconomic_columns(variables), kind="socio-economic (SECM)")
    benefits = benefit_months(raw, read_parquet(persons), variables=variables, codes=codes, window=window_of(window),
                              file=socioeconomic_file, max_bad_share=max_bad_share, exclusions=exclusions)
    _require_usable(socioeconomic_file, raw.num_rows, exclusions, {}, "socio-economic (SECM)", warn_excluded_share)
    write_parquet(benefits, out_benefits)
    write_exclusions(exclusions, out_exclusions)


def candidates_step(*, persons: PathLike, person_months: PathLike, employer_months: PathLike, employers: PathLike,
                    businesses: PathLike, benefits: PathLike, residence_file: PathLike, addresses_file: PathLike,
                    municipality_regions_file: PathLike, trainees_file: PathLike, out_candidates: PathLike,
                    out_exclusions: PathLike, out_flow: PathLike, variables: Mapping, codes: Mapping,
                    pairs: Mapping[str, Sequence[str]], anchors: Mapping, candidates: Mapping,
                    window: Mapping[str, str], max_bad_share: float, warn_excluded_share: float) -> None:
    """Eligible trainees and candidates, stacked per cohort, with their covariates."""
    from mentorwijs.register import residence as R
    from mentorwijs.register.candidates import Anchors, EligibilityRule, RegionLookup, build_candidates
    from mentorwijs.register.extracts import extract_columns, read_extract
    from mentorwijs.register.persons import TRAINEE, check_trainees

    variables, codes = _spec(variables, codes)
    exclusions = Exclusions()
    person_table = read_parquet(persons)
    residence = read_extract(residence_file, R.residence_columns(variables), kind="residence")
    spells = R.residence_spells(residence, person_table, variables=variables, codes=codes, file=residence_file,
                                max_bad_share=max_bad_share, exclusions=exclusions)
    _require_usable(residence_file, residence.num_rows, exclusions, {}, "residence", warn_excluded_share)
    del residence
    av = variables["addresses"]
    years = R.year_columns(extract_columns(addresses_file, kind="address"), av["municipality"])
    if not years:
        from mentorwijs.errors import InputError

        raise InputError(f"no municipality column named like {av['municipality']!r}", file=addresses_file,
                         hint="set register.variables.addresses.municipality to the pattern of the year "
                              "columns (e.g. gem{year})")
    addresses = R.address_municipalities(
        read_extract(addresses_file, [av["object_type"], av["object"], *years.values()], kind="address"),
        variables=variables, years=years)
    regions = R.municipality_regions(
        read_extract(municipality_regions_file, list(variables["municipality_regions"].values()), kind="municipality"),
        variables=variables, file=municipality_regions_file)
    trainees = check_trainees(read_parquet(trainees_file), file=trainees_file)
    found = person_table.loc[person_table["group"] == TRAINEE, ["person", "pid"]]
    result = build_candidates(
        trainees=trainees, found=found, persons=person_table, person_months=read_parquet(person_months, release=True),
        benefits=read_parquet(benefits),
        employer_months=read_parquet(employer_months, columns=TENURE_COLUMNS, release=True),
        businesses=read_parquet(businesses), employers=read_parquet(employers),
        regions_at=RegionLookup(spells, addresses, regions), pairs=pairs, anchors=Anchors.from_config(anchors),
        rule=EligibilityRule.from_config(candidates), window=window_of(window), trainees_file=str(trainees_file))
    for (source, reason), n in result.removed.items():
        exclusions.add(source, reason, n)
        log.info("eligibility: %s %s: %d units", source, reason, n)
    c = result.candidates
    log.info("candidates: %d trainee units and %d control units (%d persons) in %d cohorts", int(c["treated"].sum()),
             int((c["treated"] == 0).sum()), c.loc[c["treated"] == 0, "person"].nunique(), c["cohort"].nunique())
    write_parquet(c, out_candidates)
    write_exclusions(exclusions, out_exclusions)
    write_flow_fragment(result.flow, out_flow)


def modifier_specs(candidates: pd.DataFrame, trainees: pd.DataFrame,
                   modifiers: Sequence[Mapping | str]) -> list[tuple[str, pd.Series, bool]]:
    """Per modifier of ``effects.modifiers``: its name, the level of every unit and whether the
    level's trainees are re-matched among controls of the same level (a register characteristic,
    a column of the candidate table) or keep their main pairs (a supervisor's answer, ``sup_*``,
    handed over with the trainee: controls have no supervisor)."""
    from mentorwijs.effects.modifiers import modifier_levels
    from mentorwijs.errors import InputError
    from mentorwijs.register.panel import supervisor_columns

    sup = supervisor_columns(trainees)
    specs = []
    for spec in modifiers:
        column = spec if isinstance(spec, str) else spec.get("column", spec.get("name"))
        if column in candidates.columns:
            name, level = modifier_levels(candidates, spec)
            specs.append((name, level, True))
        elif column in sup:
            values = trainees.drop_duplicates("person").set_index("person")[column]
            units = candidates.loc[candidates["treated"] == 1, ["unit", "person"]].copy()
            units[column] = values.reindex(units["person"].astype(str).to_numpy()).to_numpy()
            name, level = modifier_levels(units.reset_index(drop=True), spec)
            specs.append((name, level, False))
        else:
            raise InputError(f"effect modifier column {column!r} is neither a column of the candidate table nor a "
                             "supervisor characteristic (sup_*) of the trainee hand-over",
                             column=str(column), hint="check effects.modifiers in config.yaml")
    return specs


def matching_step(*, candidates: PathLike, out_pairs: PathLike, out_matched: PathLike, out_balance: PathLike,
                  out_overlap: PathLike, out_model: PathLike, out_exclusions: PathLike, out_flow: PathLike,
                  matching: Mapping, out_modifier_pairs: PathLike | None = None, modifiers: Sequence = (),
                  trainees_file: PathLike | None = None, persons: PathLike | None = None,
                  person_months: PathLike | None = None, migrations: PathLike | None = None,
                  window: Mapping[str, str] | None = None, anchors: Mapping | None = None) -> None:
    """Propensity score, matching, weights, balance and overlap; the re-matched modifier pairs.

    With ``persons``, ``person_months``, ``migrations``, ``window`` and ``anchors`` the balance
    table gains the prognostic score (the control units' share of months employed in follow-up,
    predicted from the covariates). With ``out_modifier_pairs`` the pairs of every level of every
    modifier of ``modifiers`` are written (:func:`mentorwijs.matching.modifier_pairs`).
    """
    from mentorwijs.matching import MATCHED, NO_CONTROL, OFF_SUPPORT, MatchingSpec, match_candidates
    from mentorwijs.matching import modifier_pairs as rematch

    spec = MatchingSpec.from_config(matching)
    table = read_parquet(candidates)
    outcome = None
    if persons is not None and person_months is not None and migrations is not None and window and anchors:
        from mentorwijs.register.candidates import Anchors
        from mentorwijs.register.panel import employment_share

        started = time.perf_counter()
        outcome = employment_share(table, read_parquet(persons), read_parquet(person_months, release=True),
                                   read_parquet(migrations), window=window_of(window),
                                   anchors=Anchors.from_config(anchors))
        log.info("prognostic score: follow-up employment of %d units in %.1f s", int(outcome.notna().sum()),
                 time.perf_counter() - started)
    started = time.perf_counter()
    result = match_candidates(table, spec, outcome=outcome)
    log.info("matching in %.1f s", time.perf_counter() - started)
    exclusions = Exclusions()
    for status, n in result.status["status"].value_counts().items():
        if status != MATCHED:
            exclusions.add("matching", {OFF_SUPPORT: "trainee off common support (outside the controls' score range)",
                                        NO_CONTROL: "trainee off common support (no "
                                                    "control within the caliper)"}[status], int(n))
    log.info("propensity model: %s", result.model.method)
    write_parquet(result.pairs, out_pairs)
    write_parquet(result.matched, out_matched)
    write_csv_table(result.balance, out_balance, sort_by=["covariate"])
    write_csv_table(result.overlap, out_overlap, sort_by=["sample", "group", "bin_low"])
    write_csv_table(result.model.table(), out_model, sort_by=["term"])
    write_exclusions(exclusions, out_exclusions)
    write_flow_fragment(result.flow, out_flow)
    if out_modifier_pairs is not None:
        trainees = read_parquet(trainees_file) if trainees_file is not None else pd.DataFrame({"person": []})
        started = time.perf_counter()
        pairs = rematch(result, spec, modifier_specs(table, trainees, modifiers))
        for (name, level), g in pairs.groupby(["modifier", "level"], sort=True):
            log.info("modifier %s = %s: %d trainee units, %d control units", name, level, g["treated_unit"].nunique(),
                     g["control_unit"].nunique())
        log.info("modifier pairs: %d rows in %.1f s", len(pairs), time.perf_counter() - started)
        write_parquet(pairs, out_modifier_pairs)


def panel_step(*, matched: PathLike, trainees_file: PathLike, persons: PathLike, person_months: PathLike,
               employer_months: PathLike, migrations: PathLike, out_panel: PathLike, out_survival: PathLike,
               window: Mapping[str, str], anchors: Mapping, candidates: Mapping,
               modifier_pairs: PathLike | None = None, candidate_table: PathLike | None = None) -> None:
    """Matched units in event time: panel and survival tables.

    With ``modifier_pairs`` (and ``candidate_table``) the tables also hold every unit of the
    modifier pairs that the main matching did not use (weight 0); the column ``main_sample``
    (1/0) marks the units of the main matched sample, which the main analyses keep.
    """
    from mentorwijs.register.candidates import Anchors, EligibilityRule
    from mentorwijs.register.panel import analysis_units, matched_panel_and_survival

    units = read_parquet(matched)
    if modifier_pairs is not None:
        units = analysis_units(units, read_parquet(modifier_pairs), read_parquet(candidate_table))
    panel, survival = matched_panel_and_survival(
        units, read_parquet(trainees_file), read_parquet(persons), read_parquet(person_months, release=True),
        read_parquet(employer_months, release=True), read_parquet(migrations), window=window_of(window),
        anchors=Anchors.from_config(anchors), rule=EligibilityRule.from_config(candidates))
    log.info("panel: %d rows for %d units; survival: %d job ends, %d ends of paid work", len(panel),
             len(survival), int(survival["event_job"].sum()), int(survival["event_work"].sum()))
    write_parquet(panel, out_panel)
    write_parquet(survival, out_survival)


def flow_step(*, fragments: Sequence[PathLike], out_flow: PathLike) -> None:
    """Gather every flow fragment into the flow table: every ``*.csv`` in the folder of the first
    declared fragment (the register's own; the questionnaire part's lie beside them, and a part
    may add fragments the declaration does not list)."""
    write_flow(sorted(Path(fragments[0]).parent.glob("*.csv")), out_flow)


def exclusions_step(*, fragments: Sequence[PathLike], out_exclusions: PathLike) -> None:
    """Count the register stages' exclusions per stage, source and reason (the ``exclusions`` table)."""
    write_exclusions_table(fragments, out_exclusions)


def export_step(*, results: PathLike, out_export: PathLike, disclosure: Mapping, tables: Sequence[str]) -> None:
    """The disclosure check of the result tables ``tables`` into ``out_export`` (rule ``export``)."""
    from mentorwijs.disclosure import DisclosurePolicy, export_tables

    result = export_tables(results, out_export, DisclosurePolicy.from_config(disclosure), kinds=list(tables))
    counts = result.log["action"].value_counts().sort_index()
    log.info("exported %d tables; output-check log: %s", len(tables), ", ".join(f"{n} {a}" for a, n in counts.items()))


def effects_plan_step(*, config: Mapping[str, Any], **paths: Any) -> None:
    """The rule ``effects`` as a step of the plan, with its settings from ``config``.

    The effects code (scipy, statsmodels) is imported only when this step runs: a run that
    stops at a damaged extract in its first step exits without loading it.
    """
    from mentorwijs.effects.settings import EffectSettings
    from mentorwijs.effects.tables import effects_step

    effects_step(**paths, settings=EffectSettings.from_config(config))


def _release_memory() -> None:
    """Give memory of a finished step back (Arrow keeps freed buffers in its pool otherwise)."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


# --------------------------------------------------------------------------------------
# the declaration: each step once, read by workflow/rules/register.smk, effects.smk, export.smk
# and by the plan of ``mentorwijs run --part register``


def _register_file(kind: str) -> Callable[[Mapping[str, Any]], Any]:
    """The register extract ``register.files.<kind>`` (a path, or a list for the payroll years)."""
    return lambda config: config["register"]["files"][kind]


def _extract_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    reg = config["register"]
    return {"variables": reg.get("variables", {}), "codes": reg.get("codes", {})}


def _persons_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    checks = RegisterChecks.from_config(config)
    return {"study_number": config["register"]["key"]["study_number"], **_extract_settings(config),
            "unknown_birth_month": int(config["candidates"].get("unknown_birth_month", 7)),
            "max_bad_share": checks.max_bad_share, "warn_excluded_share": checks.warn_excluded_share,
            "synthetic": bool(config["study"]["synthetic"])}


def _payroll_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    checks = RegisterChecks.from_config(config)
    return {**_extract_settings(config), "window": config["register"]["window"], "max_bad_share": checks.max_bad_share,
            "warn_excluded_share": checks.warn_excluded_share, "min_month_share": checks.min_month_share,
            "synthetic": bool(config["study"]["synthetic"])}


def _benefits_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    checks = RegisterChecks.from_config(config)
    return {**_extract_settings(config), "window": config["register"]["window"], "max_bad_share": checks.max_bad_share,
            "warn_excluded_share": checks.warn_excluded_share}


def _candidates_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    checks = RegisterChecks.from_config(config)
    return {**_extract_settings(config), "pairs": config["regions"]["pairs"], "anchors": config["anchors"],
            "candidates": config["candidates"], "window": config["register"]["window"],
            "max_bad_share": checks.max_bad_share, "warn_excluded_share": checks.warn_excluded_share}


def _matching_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    modifiers = [dict(m) if not isinstance(m, str) else m for m in config["effects"].get("modifiers") or []]
    return {"matching": config["matching"], "modifiers": modifiers, "window": config["register"]["window"],
            "anchors": config["anchors"]}


def _panel_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    return {"window": config["register"]["window"], "anchors": config["anchors"], "candidates": config["candidates"]}


def _result(name: str) -> str:
    return f"{RESULTS_FOLDER}/{name}.csv"


def _effect_outputs() -> list[str]:
    from mentorwijs.contracts import EFFECT_TABLES

    return [_result(name) for name in EFFECT_TABLES]


def _export_tables() -> list[str]:
    """The register tables of :mod:`mentorwijs.contracts` (each a kind of the disclosure registry), sorted."""
    from mentorwijs.contracts import REGISTER_TABLES

    return sorted(REGISTER_TABLES)


def _effects_arguments(files: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's call of the rule ``effects`` (files as paths): the matched tables, the results folder
    and the configuration (:func:`effects_plan_step` derives the settings as the rule's params do)."""
    paths = {name: files[name] for name in ("panel", "survival", "pairs", "matched", "modifier_pairs")}
    return {**paths, "out_folder": files["tables"][0].parent, "config": config}


def _export_arguments(files: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`export_step` from the rule ``export``'s files (paths): the folders and the table names."""
    return {"results": files["tables"][0].parent, "out_export": files["readme"].parent,
            "disclosure": config["disclosure"], "tables": [p.stem for p in files["tables"]]}


#: The register part's steps in order; each is the Snakemake rule of the same name.
REGISTER_STEPS: tuple[StepSpec, ...] = (
    StepSpec("register_persons", persons_step, {
        "key_file": lambda config: config["register"]["key"]["path"], "persons_file": _register_file("persons"),
        "education_file": _register_file("education"), "deaths_file": _register_file("deaths"),
        "migration_file": _register_file("migration"), "trainees_file": TRAINEES,
    }, {
        "out_persons": PATHS["persons"], "out_migrations": PATHS["migrations"],
        "out_exclusions": PATHS["exclusions_linkage"], "out_flow": PATHS["flow_linkage"],
    }, _persons_settings),
    StepSpec("register_payroll", payroll_step, {
        "payroll_files": _register_file("payroll"), "businesses_file": _register_file("businesses"),
        "persons": PATHS["persons"],
    }, {
        "out_person_months": PATHS["person_months"], "out_employer_months": PATHS["employer_months"],
        "out_employers": PATHS["employers"], "out_businesses": PATHS["businesses"],
        "out_exclusions": PATHS["exclusions_payroll"],
    }, _payroll_settings),
    StepSpec("register_benefits", benefits_step, {
        "socioeconomic_file": _register_file("socioeconomic"), "persons": PATHS["persons"],
    }, {"out_benefits": PATHS["benefits"], "out_exclusions": PATHS["exclusions_benefits"]}, _benefits_settings),
    StepSpec("register_candidates", candidates_step, {
        "persons": PATHS["persons"], "person_months": PATHS["person_months"],
        "employer_months": PATHS["employer_months"], "employers": PATHS["employers"],
        "businesses": PATHS["businesses"], "benefits": PATHS["benefits"],
        "residence_file": _register_file("residence"), "addresses_file": _register_file("addresses"),
        "municipality_regions_file": _register_file("municipality_regions"), "trainees_file": TRAINEES,
    }, {
        "out_candidates": PATHS["candidates"], "out_exclusions": PATHS["exclusions_candidates"],
        "out_flow": PATHS["flow_candidates"],
    }, _candidates_settings),
    StepSpec("register_matching", matching_step, {
        "candidates": PATHS["candidates"], "trainees_file": TRAINEES, "persons": PATHS["persons"],
        "person_months": PATHS["person_months"], "migrations": PATHS["migrations"],
    }, {
        "out_pairs": PATHS["pairs"], "out_modifier_pairs": PATHS["modifier_pairs"], "out_matched": PATHS["matched"],
        "out_balance": PATHS["balance"], "out_overlap": PATHS["ps_overlap"], "out_model": PATHS["ps_model"],
        "out_exclusions": PATHS["exclusions_matching"], "out_flow": PATHS["flow_matching"],
    }, _matching_settings),
    StepSpec("register_panel", panel_step, {
        "matched": PATHS["matched"], "modifier_pairs": PATHS["modifier_pairs"], "candidate_table": PATHS["candidates"],
        "trainees_file": TRAINEES, "persons": PATHS["persons"], "person_months": PATHS["person_months"],
        "employer_months": PATHS["employer_months"], "migrations": PATHS["migrations"],
    }, {"out_panel": PATHS["panel"], "out_survival": PATHS["survival"]}, _panel_settings),
    # the register's own fragments first: the step gathers every fragment in the folder of the first
    StepSpec("register_flow", flow_step, {
        "fragments": (PATHS["flow_linkage"], PATHS["flow_candidates"], PATHS["flow_matching"],
                      SUPERVISORS_LONG_FLOW, TRAINEES_FLOW),
    }, {"out_flow": PATHS["flow"]}),
    StepSpec("register_exclusions", exclusions_step, {
        "fragments": tuple(PATHS[name] for name in REGISTER_EXCLUSIONS),
    }, {"out_exclusions": PATHS["exclusions"]}),
    # the rule `effects` (effects.smk; its params are the effect settings, see effects_plan_step)
    StepSpec("effects", effects_plan_step, {
        "panel": PATHS["panel"], "survival": PATHS["survival"], "pairs": PATHS["pairs"], "matched": PATHS["matched"],
        "modifier_pairs": PATHS["modifier_pairs"],
    }, {"tables": _effect_outputs}, call=_effects_arguments),
    # the rule `export` (export.smk): what may leave the CBS environment
    StepSpec("export", export_step, {
        "tables": lambda config: [_result(name) for name in _export_tables()],
    }, {
        "exported": lambda: [f"{EXPORT_FOLDER}/tables/{name}.csv" for name in _export_tables()],
        "check_log": f"{EXPORT_FOLDER}/output_check_log.csv", "readme": f"{EXPORT_FOLDER}/README.md",
        "checksums": f"{EXPORT_FOLDER}/SHA256SUMS",
    }, lambda config: {"disclosure": config["disclosure"]}, call=_export_arguments),
)
#: The declared steps by rule name.
STEPS: dict[str, StepSpec] = {step.name: step for step in REGISTER_STEPS}


def register_plan(config: Mapping[str, Any], *, root: PathLike = Path("."),
                  out_root: PathLike | None = None) -> list[PlannedStep]:
    """The register part's steps (:data:`REGISTER_STEPS`) in order, with inputs under ``root``
    and outputs under ``out_root`` (default ``root``).

    Paths are built with :mod:`pathlib` from the declaration's forward-slash paths, so the
    plan is the same on Windows.
    """
    from mentorwijs.errors import ConfigError

    for section in ("candidates", "matching", "effects", "disclosure"):
        if section not in config:
            raise ConfigError(f"config.yaml has no {section!r} section",
                              hint="the register part needs candidates, matching, effects and disclosure")
    return plan_of(REGISTER_STEPS, config, root=root, out_root=out_root)



def run_register(config: Mapping[str, Any], *, root: PathLike = Path("."), out_root: PathLike | None = None,
                 log_folder: PathLike | None = None, progress: Callable[[str], None] = lambda message: None,
                 skip: Sequence[str] = ()) -> dict[str, float]:
    """Run the register part's steps in order, without a workflow engine.

    Each step logs to ``<log_folder>/<step>.log`` (default ``logs/register`` under ``out_root``).
    Returns the seconds each step took. An :class:`~mentorwijs.errors.InputError` stops the run.
    ``skip`` names steps not to run (the chain validation skips ``export``: nothing leaves).
    """
    folder = part_log_folder("register", root=root, out_root=out_root, log_folder=log_folder)
    plan = register_plan(config, root=root, out_root=out_root)
    return run_plan(plan, folder, progress=progress, skip=skip, after_step=_release_memory)
