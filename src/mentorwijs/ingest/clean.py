"""From a raw export to the cleaned table of one source and wave.

:func:`parse_wave` reads what every record is (its file row, id, test site, Qualtrics status,
completeness) and what every cell means; it raises :class:`~mentorwijs.errors.InputError` for
problems with the file (the shared validator behind ``mentorwijs check`` and the pipeline).
:func:`select_records` applies the record rules, each configurable and each exclusion
logged with its reason: test participants (Castor site ``TES``), Qualtrics responses whose status
is not kept (previews, tests, spam), ids that are missing or do not match the codebook's
pattern, incomplete submissions, and one submission per respondent per wave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from mentorwijs.codebook import Codebook
from mentorwijs.errors import InputError
from mentorwijs.ingest.columns import ItemColumns, find_column, optional_absent, resolve_columns, undeclared_columns
from mentorwijs.ingest.readers import RawTable, normalise_header
from mentorwijs.ingest.values import (
    ID_REPAIRED,
    NUMERIC_TYPES,
    Problem,
    parse_date,
    parse_item,
    parse_number,
    repair_id,
)

#: Qualtrics response types (formats.md); the labels appear in choice-text exports.
QUALTRICS_STATUS = {
    0: "IP Address",
    1: "Survey Preview",
    2: "Survey Test",
    4: "Imported",
    8: "Spam",
    9: "Survey Preview Spam",
    16: "Offline",
    17: "Offline Survey Preview",
}
DUPLICATE_POLICIES = ("latest_complete", "first_complete", "error")


@dataclass(frozen=True)
class CleaningOptions:
    """The configurable record rules (config.yaml ``ingest``)."""

    test_sites: tuple[str, ...] = ("TES",)
    qualtrics_keep_status: tuple[int, ...] = (0, 4, 16)
    duplicates: str = "latest_complete"
    keep_incomplete: bool = False
    complete_progress: float = 100.0
    data_quality_first_n: int = 5

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> "CleaningOptions":
        values = dict(values or {})
        known = {k: values[k] for k in cls.__dataclass_fields__ if k in values}
        for key in ("test_sites", "qualtrics_keep_status"):
            if key in known:
                known[key] = tuple(known[key])
        options = cls(**known)
        if options.duplicates not in DUPLICATE_POLICIES:
            raise InputError(f"unknown duplicate policy {options.duplicates!r}",
                             hint=f"set ingest.duplicates to one of {', '.join(DUPLICATE_POLICIES)}")
        return options


@dataclass
class WaveData:
    """One source and wave, parsed: one row per raw record (aligned across the frames)."""

    source: str
    wave: str | None
    file: Path
    format: str
    encoding: str | None
    separator: str | None
    records: pd.DataFrame  # row, id, test, status, complete, progress, completed_at, exclusion
    values: pd.DataFrame
    codes: pd.DataFrame
    reasons: pd.DataFrame
    columns: dict[str, ItemColumns]
    outputs: dict[str, list[str]]  # item name -> its output column(s)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # file-level warnings (columns not read, optional columns absent)

    @property
    def kept(self) -> pd.Series:
        return self.records["exclusion"].isna()


def _column(table: RawTable, name: str) -> list[str]:
    column = find_column(table.columns, name)
    return [""] * len(table.frame) if column is None else [str(v).strip() for v in table.frame[column]]


def select_wave_rows(table: RawTable, codebook: Codebook, wave: str | None) -> tuple[pd.DataFrame, list[int]]:
    """The records of ``wave``: Castor survey rows whose Survey Package Name is the wave's package."""
    if table.format != "castor_survey" or wave is None:
        return table.frame.reset_index(drop=True), list(table.lines)
    package = codebook.wave_setting(wave, "package")
    if package is None:
        return table.frame.reset_index(drop=True), list(table.lines)
    names = _column(table, "survey package name")
    mask = [n.lower() == str(package).strip().lower() for n in names]
    if not any(mask):
        found = sorted({n for n in names if n})
        raise InputError(
            f"the file holds no survey of wave {wave} (Survey Package Name {package!r}); packages found: "
            f"{', '.join(repr(f) for f in found[:8]) or 'none'}",
            file=table.file, column=find_column(table.columns, "survey package name"),
            hint=f"name the file that holds wave {wave}, or set 'waves: {{{wave}: {{package: ...}}}}' in "
                 f"{codebook.source or 'the codebook'}",
        )
    frame = table.frame[mask].reset_index(drop=True)
    lines = [line for line, keep in zip(table.lines, mask) if keep]
    return frame, lines


def _status(text: str) -> int | None:
    number = parse_number(text)
    if number is not None and float(number).is_integer():
        return int(number)
    for code, label in QUALTRICS_STATUS.items():
        if text.lower() == label.lower():
            return code
    return None


def _record_meta(table: RawTable, frame: pd.DataFrame, lines: list[int], codebook: Codebook,
                 options: CleaningOptions) -> tuple[pd.DataFrame, list[Problem]]:
    sub = RawTable(table.file, table.format, frame, lines)
    ids = _column(sub, codebook.id_column)
    n = len(frame)
    problems: list[Problem] = []
    repaired_ids, test = [], [False] * n
    sites = _column(sub, "site abbreviation") if table.format == "castor_study" else [""] * n
    test_sites = [s.upper() for s in options.test_sites]
    for i, raw in enumerate(ids):
        if table.format in ("castor_study", "castor_survey"):
            site = sites[i].upper()
            test[i] = site in test_sites or any(raw.upper().startswith(s) for s in test_sites if s)
        value, repaired = repair_id(raw, codebook.id_pattern)
        if repaired and not test[i]:
            problems.append(Problem(ID_REPAIRED, codebook.id_name, lines[i], "(withheld)", codebook.id_column))
        repaired_ids.append(value)
    status: list[Any] = [pd.NA] * n
    complete = [True] * n
    progress: list[float] = [np.nan] * n
    completed_at: list[Any] = [pd.NaT] * n
    if table.format == "castor_survey":
        for i, (p, c) in enumerate(zip(_column(sub, "survey progress"), _column(sub, "survey completed on"))):
            progress[i] = parse_number(p) if parse_number(p) is not None else 0.0
            stamp = parse_date(c, "dmy")[0] if c else None
            completed_at[i] = stamp if stamp is not None else pd.NaT
            complete[i] = progress[i] >= options.complete_progress and stamp is not None
    elif table.format == "qualtrics":
        finished = _column(sub, "finished")
        recorded = _column(sub, "recordeddate")
        ended = _column(sub, "enddate")
        prog = _column(sub, "progress")
        for i, text in enumerate(_column(sub, "status")):
            status[i] = _status(text)
            complete[i] = finished[i].lower() in ("1", "true")
            progress[i] = parse_number(prog[i]) if parse_number(prog[i]) is not None else np.nan
            stamp = parse_date(recorded[i] or ended[i], "ymd")[0] if (recorded[i] or ended[i]) else None
            completed_at[i] = stamp if stamp is not None else pd.NaT
    records = pd.DataFrame({
        "row": pd.Series(lines, dtype="int64"),
        "id": pd.Series(repaired_ids, dtype="string"),
        "test": pd.Series(test, dtype=bool),
        "status": pd.Series(status, dtype="Int64"),
        "complete": pd.Series(complete, dtype=bool),
        "progress": pd.Series(progress, dtype="float64"),
        "completed_at": pd.Series(completed_at, dtype="datetime64[ns]"),
        "exclusion": pd.Series([pd.NA] * n, dtype="string"),
    })
    return records, problems


def parse_wave(table: RawTable, codebook: Codebook, source: str, wave: str | None,
               options: CleaningOptions = CleaningOptions()) -> WaveData:
    """Parse the records of one wave: metadata per record and every item's values and reasons.

    Raises :class:`InputError` for problems with the file as a whole (missing declared columns,
    a column of the wrong type, month-first dates, a wave absent from the file).
    """
    if wave is not None and not codebook.declares_wave(wave):
        raise InputError(
            f"wave {wave} is unknown to the codebook of source {source!r}: it declares no item for that wave",
            file=codebook.source or None,
            hint=f"remove wave {wave} from sources.{source}.waves in config.yaml, or declare its items in the codebook",
        )
    frame, lines = select_wave_rows(table, codebook, wave)
    sub = RawTable(table.file, table.format, frame, lines, header_rows=table.header_rows)
    columns = resolve_columns(sub, codebook, wave)
    notes = optional_absent(sub, codebook, wave, columns) + undeclared_columns(sub, codebook, wave, columns)
    records, problems = _record_meta(table, frame, lines, codebook, options)
    values, codes, reasons, outputs = {}, {}, {}, {}
    for name, cols in columns.items():
        parsed = parse_item(cols, table, frame, lines, codebook)
        outputs[name] = list(parsed.values)
        values.update(parsed.values)
        codes.update(parsed.codes)
        reasons.update(parsed.reasons)
        problems.extend(parsed.problems)
    index = pd.RangeIndex(len(frame))
    data = WaveData(source, wave, Path(table.file), table.format, table.encoding, table.separator, records,
                    pd.DataFrame(values, index=index), pd.DataFrame(codes, index=index),
                    pd.DataFrame(reasons, index=index), columns, outputs, problems, notes)
    select_records(data, codebook, options)
    return data


def analysis_columns(data: WaveData) -> list[str]:
    """Output columns that go into the analysis tables (not identifiers, not free text)."""
    return [c for name, cols in data.columns.items() if cols.item.type not in ("identifier", "free_text")
            for c in data.outputs[name]]


def select_records(data: WaveData, codebook: Codebook, options: CleaningOptions) -> None:
    """Set ``records.exclusion`` for every record a rule excludes (in place)."""
    rec = data.records
    reason: list[str | None] = [None] * len(rec)
    for i in range(len(rec)):
        if rec.at[i, "test"]:
            reason[i] = f"test participant (site {', '.join(options.test_sites)})"
        elif data.format == "qualtrics":
            status = rec.at[i, "status"]
            if pd.isna(status) or int(status) not in options.qualtrics_keep_status:
                label = QUALTRICS_STATUS.get(int(status), "unknown") if not pd.isna(status) else "missing"
                reason[i] = f"Qualtrics status {'' if pd.isna(status) else int(status)} ({label.lower()}) not kept"
        if reason[i] is None:
            ident = rec.at[i, "id"]
            if pd.isna(ident) or ident == "":
                reason[i] = "id missing"
            elif codebook.id_pattern and not re.fullmatch(codebook.id_pattern, str(ident)):
                reason[i] = "id does not match the codebook's pattern"
    rec["exclusion"] = pd.Series(reason, dtype="string")
    # records that reach the per-respondent rules: checked at the input boundary (data quality)
    rec["candidate"] = rec["exclusion"].isna()
    candidates = rec.loc[rec["exclusion"].isna(), ["id", "complete"]]
    submissions = candidates.groupby("id", sort=True)["id"].transform("size").to_numpy()
    # a respondent with one submission keeps it, unless it is incomplete and incomplete ones are
    # not kept (the rule below for a group of one, without a group per respondent: most are)
    if not options.keep_incomplete:
        for i in candidates.index[(submissions == 1) & ~candidates["complete"].to_numpy(dtype=bool)]:
            rec.at[i, "exclusion"] = _incomplete_reason(rec.loc[i], data.format)
    items = analysis_columns(data)
    for ident, group in rec.loc[candidates.index[submissions > 1]].groupby("id", sort=True):
        complete = group[group["complete"]]
        pool = complete if len(complete) or not options.keep_incomplete else group
        if len(pool) == 0:
            for i in group.index:
                rec.at[i, "exclusion"] = _incomplete_reason(rec.loc[i], data.format)
            continue
        order = pool.assign(_t=pool["completed_at"].fillna(pd.Timestamp.min)).sort_values(["_t", "row"])
        chosen = order.index[0] if options.duplicates == "first_complete" else order.index[-1]
        for i in group.index:
            if i == chosen:
                continue
            if i not in pool.index:
                rec.at[i, "exclusion"] = _incomplete_reason(rec.loc[i], data.format)
                continue
            conflict = _conflicting(data.values, items, i, chosen)
            if conflict and options.duplicates == "error":
                raise InputError(
                    f"respondent has two complete submissions with conflicting answers (rows {rec.at[chosen, 'row']} "
                    f"and {rec.at[i, 'row']})", file=data.file, row=int(rec.at[i, "row"]),
                    hint="delete the wrong submission in the export, or set ingest.duplicates to latest_complete",
                )
            policy = "first complete" if options.duplicates == "first_complete" else "latest complete"
            rec.at[i, "exclusion"] = (f"duplicate submission{' with conflicting answers' if conflict else ''}: "
                                      f"row {rec.at[chosen, 'row']} kept ({policy})")
            if conflict:
                data.problems.append(Problem("duplicate id with conflicting answers", codebook.id_name,
                                             int(rec.at[i, "row"]), "(withheld)", codebook.id_column))


def _incomplete_reason(record: pd.Series, fmt: str) -> str:
    if fmt == "qualtrics":
        return "not finished"
    progress = record["progress"]
    shown = "0" if pd.isna(progress) else f"{progress:g}"
    return f"incomplete (progress {shown}%)"


def _conflicting(values: pd.DataFrame, items: Sequence[str], a: int, b: int) -> bool:
    for column in items:
        x, y = values.at[a, column], values.at[b, column]
        if pd.isna(x) and pd.isna(y):
            continue
        if pd.isna(x) != pd.isna(y) or x != y:
            return True
    return False


def out_of_range(data: WaveData) -> pd.DataFrame:
    """Boolean frame: numeric values outside their item's range (set to missing by cleaning)."""
    flags = pd.DataFrame(False, index=data.values.index, columns=data.values.columns)
    for name, cols in data.columns.items():
        item = cols.item
        if item.type in NUMERIC_TYPES and item.range is not None and name in data.values:
            values = data.values[name]
            flags[name] = values.notna() & ((values < item.range[0]) | (values > item.range[1]))
    return flags


__all__ = [
    "CleaningOptions",
    "WaveData",
    "parse_wave",
    "analysis_columns",
    "select_records",
    "select_wave_rows",
    "out_of_range",
    "normalise_header",
]
