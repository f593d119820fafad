"""The questionnaire part as stages with explicit inputs and outputs.

Each stage function takes plain values (paths, a codebook, options, the key) and is what a
workflow script calls; the steps are declared in :mod:`mentorwijs.ingest.steps`, whose
:func:`~mentorwijs.ingest.steps.run_questionnaires` runs every stage in order without Snakemake,
after checking every input first, so an erroneous input changes nothing under ``data/`` or
``reports/``. :func:`check_file` is the validator shared by ``mentorwijs check`` and the
pipeline: the same reading, parsing and record rules, without writing anything.

Outputs (relative to the repository root; see :data:`WAVE_FILES`, :data:`SOURCE_FILES` and
:data:`mentorwijs.ingest.steps.QUESTIONNAIRE_STEPS`):

- ``data/interim/<source>/<wave>.parquet`` and ``data/interim/<source>.parquet`` (all waves)
- ``data/interim/missing/<source>/<wave>.parquet`` and ``data/interim/missing/<source>.parquet``
- ``data/interim/exclusions/<stage>.csv``, ``data/interim/flow/<stage>.csv``
- ``data/interim/data_quality/<stage>.csv`` gathered into ``reports/tables/data_quality.csv``
- ``data/linkage/<source>/<wave>.parquet`` and ``data/linkage/cbs_identifiers.csv`` (identifiers:
  outside every analysis input, git-ignored, mode 0600: owner only; every other file gets the
  usual mode of a new file, 0666 less the umask)
- ``data/processed/supervisors_long.parquet``, ``data/processed/trainees.parquet``
- ``reports/tables/reliability.csv``
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from mentorwijs.codebook import Codebook, load_codebook
from mentorwijs.contracts import column_names
from mentorwijs.errors import ConfigError, InputError
from mentorwijs.files import check_written
from mentorwijs.ingest.build import (
    WaveTables,
    build_wave,
    combine_missing,
    combine_waves,
    wave_sort_key,
)
from mentorwijs.ingest.clean import CleaningOptions, parse_wave
from mentorwijs.ingest.links import cbs_identifier_file, link_supervisors_long, link_trainees
from mentorwijs.ingest.output import read_csv_table, write_csv_table, write_parquet
from mentorwijs.tables import read_parquet
from mentorwijs.ingest.quality import QUALITY_COLUMNS
from mentorwijs.ingest.readers import read_raw
from mentorwijs.ingest.scales import reliability
from mentorwijs.ingest.values import Problem

log = logging.getLogger("mentorwijs")

RELIABILITY_COLUMNS = column_names("reliability")
#: Default identifiers CBS needs for linkage (canonical names; config ingest.cbs_identifiers).
CBS_IDENTIFIERS = ("bsn", "first_name", "last_name", "birth_date", "postcode")
#: Default supervisor covariates handed over with the trainees (config ingest.handover).
HANDOVER_COVARIATES = ("n_employees_guided", "sector", "org_size", "sheltered_workplace")


def stage_name(source: str, wave: str | None) -> str:
    return f"ingest_{source}" + (f"_{wave}" if wave else "")


@dataclass(frozen=True)
class WaveOutputs:
    """Where one ingest job writes (relative paths)."""

    interim: str
    missing: str
    exclusions: str
    quality: str
    linkage: str


#: Where one ingest job of a source with waves writes (the rule ``ingest_questionnaire_wave``).
WAVE_FILES = {
    "interim": "data/interim/{source}/{wave}.parquet",
    "missing": "data/interim/missing/{source}/{wave}.parquet",
    "exclusions": "data/interim/exclusions/ingest_{source}_{wave}.csv",
    "quality": "data/interim/data_quality/ingest_{source}_{wave}.csv",
    "linkage": "data/linkage/{source}/{wave}.parquet",
}
#: Where the ingest job of a source with one file writes (``ingest_questionnaire_file``); its
#: ``interim`` and ``missing`` are also where the waves of a source are combined.
SOURCE_FILES = {
    "interim": "data/interim/{source}.parquet",
    "missing": "data/interim/missing/{source}.parquet",
    "exclusions": "data/interim/exclusions/ingest_{source}.csv",
    "quality": "data/interim/data_quality/ingest_{source}.csv",
    "linkage": "data/linkage/{source}.parquet",
}


def wave_outputs(source: str, wave: str | None) -> WaveOutputs:
    """The outputs of the ingest job of ``source`` and ``wave`` (None: a source with one file)."""
    if wave is None:
        return WaveOutputs(**{kind: pattern.format(source=source) for kind, pattern in SOURCE_FILES.items()})
    return WaveOutputs(**{kind: pattern.format(source=source, wave=wave) for kind, pattern in WAVE_FILES.items()})


def load_source_codebook(path: str | Path, *, source: str, fmt: str) -> Codebook:
    """The source's codebook; its instrument and format must agree with config.yaml."""
    codebook = load_codebook(path)
    if codebook.instrument != source:
        raise InputError(f"the codebook is for instrument {codebook.instrument!r}, but config.yaml names it "
                         f"for source {source!r}", file=path,
                         hint=f"point sources.{source}.codebook at the right codebook, or fix its 'instrument'")
    if codebook.format != fmt:
        raise InputError(f"the codebook says format {codebook.format!r}, but config.yaml says {fmt!r} "
                         f"for source {source!r}", file=path,
                         hint="make the two agree (config.yaml sources.<name>.format and the codebook's 'format')")
    return codebook


def ingest_wave(path: str | Path, *, source: str, fmt: str, codebook: Codebook, wave: str | None, key: bytes,
                separator: str | None = None, options: CleaningOptions = CleaningOptions()) -> WaveTables:
    """Read, check, clean and pseudonymise one source and wave (nothing is written)."""
    sheet = codebook.wave_setting(wave, "sheet") if wave is not None else None
    table = read_raw(path, fmt, separator=separator, sheet=sheet)
    data = parse_wave(table, codebook, source, wave, options)
    return build_wave(data, codebook, key, stage=stage_name(source, wave), options=options)


def write_wave_outputs(tables: WaveTables, outputs: WaveOutputs, root: str | Path = ".") -> None:
    root = Path(root)
    write_parquet(tables.interim, root / outputs.interim)
    write_parquet(tables.missing, root / outputs.missing)
    write_csv_table(tables.exclusions, root / outputs.exclusions)
    write_csv_table(tables.quality, root / outputs.quality)
    write_parquet(tables.linkage, root / outputs.linkage, private=True)  # identifiers: owner only


_INCOMPLETE = re.compile(r"^incomplete \(progress ([0-9.]+)%\)$")
_DUPLICATE = re.compile(r"^duplicate submission( with conflicting answers)?: row [0-9]+ kept \((.*)\)$")


def reason_group(reason: str) -> str:
    """The reason an exclusion is listed under: the progress value or the kept row left out."""
    if _INCOMPLETE.match(reason):
        return "incomplete"
    match = _DUPLICATE.match(reason)
    if match:
        return f"duplicate submission{match.group(1) or ''} (the {match.group(2)} one kept)"
    return reason


def grouped_exclusions(reasons: pd.Series, *, verbose: bool = False) -> list[str]:
    """Lines ``excluded <n>: <reason>``, one per kind of reason (details indented under ``verbose``).

    Incomplete submissions are one line with the range of their progress ("incomplete (progress
    0% to 95%)"), duplicate submissions one line per policy.
    """
    counts = reasons.value_counts()
    groups: dict[str, dict[str, int]] = {}
    for reason, n in counts.items():
        groups.setdefault(reason_group(str(reason)), {})[str(reason)] = int(n)
    lines = []
    for group in sorted(groups):
        details = groups[group]
        label = group
        if group == "incomplete":
            shown = sorted({float(_INCOMPLETE.match(r).group(1)) for r in details})
            label = (f"incomplete (progress {shown[0]:g}%)" if len(shown) == 1
                     else f"incomplete (progress {shown[0]:g}% to {shown[-1]:g}%)")
        lines.append(f"  excluded {sum(details.values())}: {label}")
        if verbose and (len(details) > 1 or next(iter(details)) != label):
            lines.extend(f"      {n}: {reason}"
                         for reason, n in sorted(details.items(), key=lambda kv: _natural(kv[0])))
    return lines


def _natural(text: str) -> list:
    return [float(part) if part.replace(".", "", 1).isdigit() else part
            for part in re.split(r"([0-9]+(?:\.[0-9]+)?)", text)]


def summarise(tables: WaveTables, *, source: str, wave: str | None, file: str | Path,
              verbose: bool = False) -> list[str]:
    """Lines for a log or the terminal: counts, exclusions by kind of reason, warnings (no identifiers).

    ``verbose`` lists under each kind of reason its detailed reasons (progress values, kept rows).
    """
    label = f"{source} {wave}" if wave else source
    encoding = f" ({tables.encoding})" if tables.encoding else ""
    lines = [f"{label}: {Path(file).as_posix()}{encoding}: {tables.rows_in} rows, {len(tables.interim)} kept, "
             f"{len(tables.exclusions)} excluded"]
    lines.extend(grouped_exclusions(tables.exclusions["reason"], verbose=verbose))
    for note in tables.notes:
        lines.append(f"  warning: {note}")
    for problem in sorted(tables.problems, key=lambda p: (p.row or 0, p.column, p.check)):
        lines.append(f"  warning: {problem.describe()}")
    return lines


#: Default of ``ingest.warn_excluded_share``: ``check`` warns when more of a file's rows are excluded.
WARN_EXCLUDED_SHARE = 0.5


def dominant_exclusion(tables: WaveTables) -> tuple[str, int] | None:
    """The most frequent kind of exclusion reason of a file and its count (None: nothing excluded)."""
    counts = tables.exclusions["reason"].map(lambda r: reason_group(str(r))).value_counts()
    if counts.empty:
        return None
    return str(counts.index[0]), int(counts.iloc[0])


def excluded_share_warning(tables: WaveTables, *, file: str | Path, threshold: float) -> str | None:
    """A warning when more than ``threshold`` of a file's rows are excluded but some survive (none
    surviving is the error of :func:`empty_result`): the file, the share, the count and the
    dominant reason."""
    n_excluded = len(tables.exclusions)
    if tables.rows_in == 0 or len(tables.interim) == 0 or n_excluded / tables.rows_in <= threshold:
        return None
    dominant = dominant_exclusion(tables)
    reason = f"; most as '{dominant[0]}' ({dominant[1]} rows)" if dominant else ""
    return (f"{Path(file).as_posix()}: {n_excluded} of {tables.rows_in} rows excluded "
            f"({n_excluded / tables.rows_in:.1%}), more than ingest.warn_excluded_share ({threshold:g}){reason}; check "
            "that the export is the final, complete one")


def empty_result(tables: WaveTables, *, options: CleaningOptions, codebook: Codebook) -> tuple[str, str] | None:
    """(problem, fix) when no row of a file with rows survives the cleaning rules, else None."""
    if tables.rows_in == 0 or len(tables.interim) > 0:
        return None
    dominant = dominant_exclusion(tables)
    if dominant is None:
        return None
    reason, n = dominant
    book = codebook.source or "the codebook"
    fixes = {
        "id does not match the codebook's pattern": "check that the id column holds the study's ids, or correct "
                                                    f"id.pattern in {book}",
        "id missing": f"check that the id column is filled, or correct id.column in {book}",
        "incomplete": "the file holds only incomplete submissions: check that it is the final export, or set "
                      "ingest.keep_incomplete / ingest.complete_progress in config.yaml",
        "not finished": "the file holds only unfinished responses: check that it is the final export, or set "
                        "ingest.keep_incomplete in config.yaml",
    }
    fix = fixes.get(reason)
    if fix is None and reason.startswith("test participant"):
        fix = "every row is a test participant: check the site column, or ingest.test_sites in config.yaml"
    if fix is None and reason.startswith("Qualtrics status"):
        fix = "check the responses' status (previews, tests), or ingest.qualtrics_keep_status in config.yaml"
    if fix is None:
        fix = "check the file and the cleaning rules (ingest in config.yaml, docs/questionnaires.md)"
    return (f"no row survives the cleaning rules: all {tables.rows_in} rows are excluded, "
            f"{n} of them as '{reason}'", fix)


def combine_stage(interim: Sequence[str | Path], missing: Sequence[str | Path], codebook: Codebook,
                  out_interim: str | Path, out_missing: str | Path) -> pd.DataFrame:
    """Stack the per-wave tables of one source into ``data/interim/<source>.parquet`` (and missing)."""
    tables = [read_parquet(p) for p in interim]
    combined = combine_waves(tables, codebook.id_name, list(codebook.scales))
    write_parquet(combined, out_interim)
    write_parquet(combine_missing([read_parquet(p) for p in missing]), out_missing)
    return combined


def reliability_stage(tables: Mapping[str, str | Path], codebooks: Mapping[str, Codebook], out: str | Path,
                      waves: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Cronbach's alpha per scale per wave of every source with scales: reports/tables/reliability.csv.

    ``waves`` (per source, the configured waves) gives a wave without respondents its rows (n = 0).
    """
    parts = []
    for source in sorted(tables):
        codebook = codebooks[source]
        if not codebook.scales:
            continue
        table = read_parquet(tables[source])
        present = set(table["wave"].dropna()) if "wave" in table else set()
        chosen = sorted(set((waves or {}).get(source, [])) | present, key=wave_sort_key)
        parts.append(reliability(table, codebook, chosen or None))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RELIABILITY_COLUMNS)
    frame = frame.assign(_w=frame["wave"].map(wave_sort_key)).sort_values(["scale", "_w"], kind="mergesort")
    frame = frame[RELIABILITY_COLUMNS].reset_index(drop=True)
    write_csv_table(frame, out)
    return frame


def quality_stage(fragments: Sequence[str | Path], out: str | Path) -> pd.DataFrame:
    """Gather the data-quality fragments into reports/tables/data_quality.csv."""
    parts = [read_csv_table(p) for p in fragments]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=QUALITY_COLUMNS)
    if len(frame):
        order = frame.assign(_r=pd.to_numeric(frame["row"], errors="coerce"), _e=pd.to_numeric(frame["example"]))
        frame = frame.loc[order.sort_values(["stage", "column", "check", "_e"], kind="mergesort").index]
    frame = frame[QUALITY_COLUMNS].reset_index(drop=True)
    write_csv_table(frame, out)
    return frame


def supervisors_long_stage(survey: str | Path, study: str | Path, invitations: str | Path, schedule: str | Path,
                           codebook: Codebook, *, out: str | Path, exclusions: str | Path, flow: str | Path,
                           waves: Sequence[str] | None = None) -> pd.DataFrame:
    """data/processed/supervisors_long.parquet with its exclusions and flow fragment."""
    scale_items = [i.name for i in codebook.items if i.scale]
    table, excluded, flow_rows = link_supervisors_long(
        read_parquet(survey), read_parquet(study), read_parquet(invitations), read_parquet(schedule),
        scale_items=scale_items, scales=list(codebook.scales), waves=waves)
    check_written(table, "supervisors_long")
    write_parquet(table, out)
    write_csv_table(excluded, exclusions)
    write_csv_table(flow_rows, flow)
    return table


def trainees_stage(employees: str | Path, linkage: str | Path, study: str | Path, invitations: str | Path,
                   schedule: str | Path, *, wave: str, supervisor_covariates: Sequence[str],
                   cbs_identifiers: Sequence[str], out: str | Path, identifiers_out: str | Path,
                   exclusions: str | Path, flow: str | Path) -> pd.DataFrame:
    """data/processed/trainees.parquet (the hand-over), the CBS identifier file, exclusions and flow."""
    table, excluded, flow_rows = link_trainees(
        read_parquet(employees), read_parquet(study), read_parquet(invitations), read_parquet(schedule),
        supervisor_covariates=supervisor_covariates, wave=wave)
    check_written(table, "trainees")
    ids = cbs_identifier_file(table, read_parquet(linkage), cbs_identifiers)
    write_csv_table(ids, identifiers_out, private=True)  # identifiers for CBS: owner only
    write_parquet(table, out)
    write_csv_table(excluded, exclusions)
    write_csv_table(flow_rows, flow)
    return table


# --- the whole part without Snakemake -------------------------------------------------------

@dataclass(frozen=True)
class Job:
    source: str
    wave: str | None
    file: str
    format: str
    codebook: str
    separator: str | None


def source_jobs(sources: Mapping[str, Mapping[str, Any]]) -> list[Job]:
    """One job per source and wave (sources with one ``file`` have no wave)."""
    jobs = []
    for source in sorted(sources):
        spec = sources[source]
        if "file" in spec:
            jobs.append(Job(source, None, spec["file"], spec["format"], spec["codebook"], spec.get("separator")))
        for wave in sorted(spec.get("waves", {}), key=wave_sort_key):
            jobs.append(Job(source, wave, spec["waves"][wave], spec["format"], spec["codebook"], spec.get("separator")))
    return jobs


@dataclass
class CheckReport:
    """What ``mentorwijs check`` prints: per wave the counts, exclusions and warnings."""

    file: str
    source: str
    format: str
    encoding: str | None
    waves: list[str | None]
    lines: list[str] = field(default_factory=list)
    n_warnings: int = 0
    errors: list[InputError] = field(default_factory=list)  # problems found after reading (a file nobody survives)


def check_file(path: str | Path, *, source: str, sources: Mapping[str, Mapping[str, Any]], root: str | Path = ".",
               wave: str | None = None, options: CleaningOptions = CleaningOptions(), verbose: bool = False,
               warn_excluded_share: float = WARN_EXCLUDED_SHARE) -> CheckReport:
    """Check one raw file against its source's format and codebook, as the pipeline would.

    Errors in the file raise :class:`InputError`; a file from which no row survives the cleaning
    rules is an error in ``report.errors``; row-level problems that cleaning handles, columns
    the codebook does not declare, absent optional columns and more than ``warn_excluded_share``
    of the rows excluded are listed as warnings. Nothing is written.
    """
    if not 0 <= warn_excluded_share <= 1:
        raise ConfigError(f"the share of excluded rows that gives a warning is {warn_excluded_share!r}",
                          hint="give a share between 0 and 1 (ingest.warn_excluded_share, --warn-excluded-share)")
    root = Path(root)
    if source not in sources:
        raise InputError(f"unknown source {source!r}",
                         hint=f"use one of {', '.join(sorted(sources))} (config.yaml 'sources')")
    spec = sources[source]
    configured = spec.get("waves", {})
    if wave is not None:
        if "file" in spec:
            raise InputError(f"source {source!r} has no waves (it has one file)", hint="leave out --wave")
        if wave not in configured:
            raise InputError(f"unknown wave {wave!r} for source {source!r} (config.yaml has "
                             f"{', '.join(sorted(configured, key=wave_sort_key)) or 'none'})",
                             hint=f"add the wave to sources.{source}.waves in config.yaml, or name a configured wave")
        waves: list[str | None] = [wave]
    elif "file" in spec:
        waves = [None]
    else:
        target = Path(path).resolve()
        waves = [w for w in sorted(configured, key=wave_sort_key) if (root / configured[w]).resolve() == target]
        if not waves:
            raise InputError(f"the file is not named for any wave of source {source!r} in config.yaml", file=path,
                             hint="say which wave it holds with --wave, after adding it to config.yaml")
    codebook = load_source_codebook(root / spec["codebook"], source=source, fmt=spec["format"])
    report = CheckReport(Path(path).as_posix(), source, spec["format"], None, waves)
    for w in waves:
        tables = _check_tables(path, source=source, fmt=spec["format"], codebook=codebook, wave=w,
                               separator=spec.get("separator"), options=options)
        report.lines.extend(summarise(tables, source=source, wave=w, file=path, verbose=verbose))
        report.n_warnings += len(tables.problems) + len(tables.notes)
        many = excluded_share_warning(tables, file=path, threshold=warn_excluded_share)
        if many:
            report.lines.append(f"  warning: {many}")
            report.n_warnings += 1
        report.encoding = tables.encoding
        empty = empty_result(tables, options=options, codebook=codebook)
        if empty:
            report.errors.append(InputError(empty[0] + (f" (wave {w})" if w else ""), file=Path(path).as_posix(),
                                            hint=empty[1]))
    return report


def _check_tables(path: str | Path, *, source: str, fmt: str, codebook: Codebook, wave: str | None,
                  separator: str | None, options: CleaningOptions) -> WaveTables:
    key = os.urandom(32)  # throwaway: nothing is written and pseudonyms are never shown
    return ingest_wave(path, source=source, fmt=fmt, codebook=codebook, wave=wave, key=key, separator=separator,
                       options=options)


def check_wave_file(path: str | Path, *, source: str, fmt: str, codebook: Codebook, wave: str | None,
                    separator: str | None = None, options: CleaningOptions = CleaningOptions()) -> list[str]:
    """The validator of one source and wave: the report lines (counts, exclusions, warnings).

    Raises :class:`InputError` for an erroneous file; writes nothing.
    """
    tables = _check_tables(path, source=source, fmt=fmt, codebook=codebook, wave=wave, separator=separator,
                           options=options)
    return summarise(tables, source=source, wave=wave, file=path)


def write_text(text: str, path: str | Path) -> None:
    """Write a small text file (a check report) atomically."""
    from mentorwijs.tables import atomic_write

    atomic_write(path, text.encode("utf-8"))


__all__ = [
    "CheckReport", "Job", "WaveOutputs", "check_file", "check_wave_file", "write_text", "combine_stage", "ingest_wave",
    "load_source_codebook", "quality_stage", "reliability_stage", "source_jobs", "stage_name", "summarise",
    "supervisors_long_stage", "trainees_stage", "wave_outputs", "write_wave_outputs", "Problem",
]
