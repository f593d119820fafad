"""The contract of every file that carries microdata from one rule to the next.

:mod:`mentorwijs.contracts` declares the aggregate result tables; this module declares the
Parquet files in ``data/processed/`` that one rule writes and another reads: the trainee
hand-over (the one file that enters CBS), the supervisors' long table, the candidate table,
the matched pairs and units, the modifier pairs, the event-time panel and the survival table.
Each has exactly one :class:`FileContract` in :data:`FILES`: its path, the key that is unique
(one row per key), its columns with a kind, whether they may be missing, the values or range
the code relies on, and a one-line meaning. Columns that depend on the configuration (the
matching covariates, the supervisor covariates, the questionnaire's scales and items) are
described once in ``extra`` and not checked.

The producer and the consumer check a frame against the same declaration:

- :func:`check_written` just before the producer writes it: a failure is a bug in this
  package (:class:`ContractError`, never an input problem);
- :func:`check_read` right after the consumer reads it: a failure is an :class:`InputError`
  naming the file, the column, the first offending row and the section of ``docs/files.md``
  that documents the file (the file was changed or comes from another version).

The checks are vectorised (one pass per column, no Python per row) so that a national panel
(a million persons x 72 months) costs a fraction of a second per column. ``docs/files.md`` is
generated from these declarations by :func:`markdown` (``python -m mentorwijs.files``), and a
test checks that the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mentorwijs.errors import InputError

#: Column kinds: what a consumer may rely on.
FILE_KINDS = {
    "text": "text",
    "month": "text `YYYY-MM` (a calendar month)",
    "date": "date (a Parquet timestamp or date)",
    "integer": "integer",
    "number": "number (integer or decimal)",
    "indicator": "integer 0/1",
}
DOCS = "docs/files.md"
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


class ContractError(RuntimeError):
    """A producer is about to write a file that breaks its contract: a bug in this package."""


@dataclass(frozen=True)
class FileColumn:
    """One column: ``kind`` (:data:`FILE_KINDS`), whether missing values are allowed, the allowed
    text values or the numeric range ``[low, high]`` where the code relies on them."""

    name: str
    kind: str
    meaning: str
    nullable: bool = False
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    required: bool = True  # False: present only in some configurations, checked where present

    def rule(self) -> str:
        """The allowed values in words (for the docs)."""
        if self.values:
            return ", ".join(f"`{v}`" for v in self.values)
        if self.kind == "indicator":
            return "0, 1"
        if self.low is not None and self.high is not None:
            return f"{self.low:g} to {self.high:g}"
        if self.low is not None:
            return f">= {self.low:g}"
        if self.high is not None:
            return f"<= {self.high:g}"
        return ""


@dataclass(frozen=True)
class FileContract:
    """One file that crosses a rule boundary."""

    name: str
    path: str
    meaning: str
    written_by: str
    read_by: str
    key: tuple[str, ...]
    columns: tuple[FileColumn, ...]
    extra: str = ""  # the columns that depend on the configuration (not checked)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> FileColumn:
        return next(c for c in self.columns if c.name == name)

    @property
    def anchor(self) -> str:
        return f"{DOCS}#{self.name}"


def _col(name: str, kind: str, meaning: str, *, nullable: bool = False, values: Sequence[str] = (),
         low: float | None = None, high: float | None = None, required: bool = True) -> FileColumn:
    assert kind in FILE_KINDS, kind
    return FileColumn(name, kind, meaning, nullable, tuple(values), low, high, required)


_UNIT = _col("unit", "text", "the unit: `<person>:<cohort>` (a person at one cohort month)")
_PERSON = _col("person", "text", "pseudonymised person")
_COHORT = _col("cohort", "month",
               "calendar month of the last training meeting (month 0); for a control the trainees' cohort "
               "it was a candidate for")
_TREATED = _col("treated", "indicator", "1 for a trainee's unit, 0 for a control candidate")
_WEIGHT = _col("weight", "number", "matching weight (trainees 1, controls the share of their trainees' weight)", low=0)
_MAIN = _col("main_sample", "indicator", "1 for a unit of the main matched sample, 0 for a unit only the re-matched "
             "modifier pairs use (weight 0); present when effect modifiers are configured", required=False)
_GROUP = _col("training_group", "text", "the training group (schedule)")


def _questionnaire_files() -> list[FileContract]:
    """The files the questionnaire part writes: the hand-over and the supervisors' long table."""
    return [
        FileContract(
            "trainees", "data/processed/trainees.parquet",
            "the hand-over to CBS: one row per employee who consented to register linkage and whose "
            "supervisor's training group is in the schedule",
            "rule `trainees` (mentorwijs.ingest.links.link_trainees)",
            "the register part (mentorwijs.register.persons.check_trainees; rules `register_persons`, "
            "`register_candidates`, `register_matching`, `register_panel`)",
            ("person",),
            (_col("person", "text", "pseudonym of the employee's study number"),
             _GROUP,
             _col("region", "text", "labour-market region of the training group"),
             _col("cohort", "month", "calendar month of the group's last meeting (month 0 of the follow-up)"),
             _col("first_meeting", "date", "date of the group's first meeting", nullable=True),
             _col("last_meeting", "date", "date of the group's last meeting"),
             _col("mode", "text", "delivery mode of the group", nullable=True),
             _col("supervisor", "text", "pseudonym of the employee's supervisor")),
            "`sup_<covariate>` (number, may be missing): each supervisor covariate of "
            "`ingest.handover.supervisor_covariates`",
        ),
        FileContract(
            "supervisors_long", "data/processed/supervisors_long.parquet",
            "the supervisors' questionnaires: one row per supervisor per wave completed",
            "rule `supervisors_long` (mentorwijs.ingest.links.link_supervisors_long)",
            "rule `supervisor_analyses` (mentorwijs.supervisors.analyses)",
            ("supervisor", "wave"),
            (_col("supervisor", "text", "pseudonym of the supervisor"),
             _GROUP,
             _col("wave", "text", "questionnaire wave (`T0`, `T1`, ...)"),
             _col("mode", "text", "delivery mode of the group", nullable=True),
             _col("region", "text", "labour-market region of the training group", nullable=True),
             _col("cohort", "month", "calendar month of the group's last meeting", nullable=True)),
            "`completed_on` (date, when the survey has it), the scale scores (number), the survey's "
            "other items and the study export's baseline covariates, as the codebooks name them "
            "(docs/canonical-names.md)",
        ),
    ]


def _matching_files() -> list[FileContract]:
    """The register part's files up to the matching: the candidates and the matched sample."""
    return [
        FileContract(
            "candidates", "data/processed/candidates.parquet",
            "trainees' units and eligible control candidates at each cohort month, with the matching covariates",
            "rule `register_candidates` (mentorwijs.register.candidates.build_candidates)",
            "rules `register_matching` and `register_panel` (mentorwijs.matching.match_candidates, "
            "mentorwijs.register.panel.analysis_units)",
            ("unit",),
            (_UNIT, _PERSON, _COHORT,
             _col("region_pair", "text", "the region (pair) within which controls are matched"),
             _col("region", "text", "labour-market region of residence"),
             _TREATED,
             _col("training_group", "text", "the trainee's training group (missing for a control)", nullable=True),
             _col("tie_order", "integer", "order of the person in the person file; matching breaks ties by it", low=0)),
            "the matching covariates of `register.covariates` and `matching` (sex, age, education, ...), as "
            "docs/register.md describes them",
        ),
        FileContract(
            "pairs", "data/processed/pairs.parquet",
            "the matched pairs: one row per trainee unit and control unit",
            "rule `register_matching` (mentorwijs.matching.match_candidates)",
            "rule `effects` (mentorwijs.effects)",
            ("trainee_unit", "control_unit"),
            (_col("trainee_unit", "text", "the trainee's unit"),
             _col("control_unit", "text", "the matched control's unit"),
             _COHORT,
             _col("distance", "number", "distance of the two units' propensity-score logits", low=0),
             _col("weight", "number", "the control's weight in the pair", low=0)),
        ),
        FileContract(
            "matched", "data/processed/matched.parquet",
            "the matched sample: one row per unit in a matched pair",
            "rule `register_matching` (mentorwijs.matching.match_candidates)",
            "rules `register_panel` and `effects` (mentorwijs.register.panel, mentorwijs.effects)",
            ("unit",),
            (_UNIT, _PERSON, _COHORT, _TREATED, _WEIGHT),
            "the candidate table's other columns (the matching covariates) and the propensity score `pscore`",
        ),
        FileContract(
            "modifier_pairs", "data/processed/modifier_pairs.parquet",
            "the pairs re-matched within each level of each effect modifier",
            "rule `register_matching` (mentorwijs.matching.modifier_pairs)",
            "rules `register_panel` and `effects` (mentorwijs.register.panel.analysis_units, "
            "mentorwijs.effects.modifiers)",
            ("modifier", "level", "treated_unit", "control_unit"),
            (_col("modifier", "text", "the effect modifier (`effects.modifiers`)"),
             _col("level", "text", "the modifier's level"),
             _col("treated_unit", "text", "the trainee's unit"),
             _col("control_unit", "text",
                  "the re-matched control's unit (missing with weight 0: no control in the level)", nullable=True),
             _col("weight", "number", "the control's weight within the level", low=0)),
        ),
    ]


def _panel_files() -> list[FileContract]:
    """The register part's files to the effects: the event-time panel and the survival view."""
    return [
        FileContract(
            "panel", "data/processed/panel.parquet",
            "the event-time panel: one row per analysed unit per month relative to the end of the training",
            "rule `register_panel` (mentorwijs.register.panel.matched_panel_and_survival)",
            "rule `effects` (mentorwijs.effects.did, mentorwijs.effects.modifiers)",
            ("unit", "month"),
            (_UNIT, _PERSON, _COHORT, _TREATED, _WEIGHT,
             _col("month", "integer", "month relative to the end of the training (0 = cohort month)"),
             _col("hours", "number", "paid hours in the month (missing when not observed)", nullable=True, low=0),
             _col("observed", "indicator", "1 while the person lives in the country and is alive"),
             _col("employed_1h", "indicator", "at least 1 paid hour in the month (missing when not observed)",
                  nullable=True),
             _col("employed_12h", "indicator", "at least 12 paid hours a week on average (missing when not observed)",
                  nullable=True),
             _col("employed_3m", "indicator", "employed_1h in this month and the two before (missing when one is not "
                  "observed)", nullable=True),
             _col("job_held", "indicator", "the baseline job is still held (missing when not observed)", nullable=True),
             _MAIN),
        ),
        FileContract(
            "survival", "data/processed/survival.parquet",
            "the survival view: one row per analysed unit, time to the end of the baseline job and to the first month "
            "without work",
            "rule `register_panel` (mentorwijs.register.panel.matched_panel_and_survival)",
            "rule `effects` (mentorwijs.effects.survival)",
            ("unit",),
            (_UNIT, _PERSON, _COHORT, _TREATED, _WEIGHT,
             _col("time_job", "integer", "whole months from month 0 to the end of the baseline job or censoring",
                  low=0),
             _col("event_job", "indicator", "1 when the baseline job ended, 0 when censored"),
             _col("time_work", "integer", "whole months from month 0 to the first month without paid work or censoring",
                  low=0),
             _col("event_work", "indicator", "1 when a month without paid work came, 0 when censored"),
             _MAIN),
            "the matching covariates carried over from the matched table and the supervisor covariates `sup_*`",
        ),
    ]


def _contracts() -> dict[str, FileContract]:
    return {f.name: f for f in (*_questionnaire_files(), *_matching_files(), *_panel_files())}


#: Every file that crosses a rule boundary, by name.
FILES: dict[str, FileContract] = _contracts()


def file_contract(name: str) -> FileContract:
    try:
        return FILES[name]
    except KeyError:
        raise KeyError(f"no file contract named {name!r}; known: {', '.join(FILES)}") from None


# --- checks ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Breach:
    """What is wrong: the problem, the column and the 0-based position of the first offending row."""

    problem: str
    column: str | None = None
    position: int | None = None


def _first(mask) -> int:
    return int(np.flatnonzero(np.asarray(mask, dtype=bool))[0])


def _is_text(dtype) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype))


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def _kind_breach(series: pd.Series, col: FileColumn) -> Breach | None:
    dtype = series.dtype
    if col.kind in ("text", "month"):
        ok = _is_text(dtype)
    elif col.kind == "date":  # a Parquet date32 column reads as Python dates (object)
        ok = pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_object_dtype(dtype)
    elif col.kind == "integer":
        ok = pd.api.types.is_integer_dtype(dtype)
    else:  # number, indicator
        ok = _numeric(series) or pd.api.types.is_bool_dtype(dtype)
    if not ok:
        return Breach(f"column {col.name!r} has type {dtype}, expected {FILE_KINDS[col.kind]}", col.name, None)
    return None


_NA = object()  # stands for a missing text value: compares unequal to every text


def _plain(series: pd.Series) -> np.ndarray:
    """The column as a NumPy array that compares elementwise (text: objects, :data:`_NA` for missing;
    numbers: float64 with NaN)."""
    if _is_text(series.dtype) or pd.api.types.is_object_dtype(series.dtype):
        return series.to_numpy(dtype=object, na_value=_NA)
    return series.to_numpy(dtype="float64", na_value=np.nan)


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Positions where a value differs from the one before (the first row included): a column
    repeated along sorted rows (a unit's cohort over its months) is checked once per run."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))


def _text_breach(values: np.ndarray, col: FileColumn) -> Breach | None:
    """Missing values, months and allowed values of a text column, checked on the first row of
    each run of equal values (each distinct value of a run once)."""
    starts = _run_starts(values)
    heads = values[starts]
    missing = np.fromiter((v is _NA for v in heads), dtype=bool, count=len(heads))
    if not col.nullable and missing.any():
        return Breach(f"column {col.name!r} is missing a value (it may not be missing)", col.name,
                      int(starts[_first(missing)]))
    if col.kind != "month" and not col.values:
        return None
    if col.kind == "month":
        def is_bad(v) -> bool:
            return not (isinstance(v, str) and _MONTH.fullmatch(v))
        what = "a month YYYY-MM"
    else:
        def is_bad(v) -> bool:
            return v not in col.values
        what = "one of " + ", ".join(col.values)
    bad = {v for v in pd.unique(heads[~missing]) if is_bad(v)}
    if not bad:
        return None
    row = int(starts[_first(np.fromiter((v in bad for v in heads), dtype=bool, count=len(heads)) & ~missing)])
    return Breach(f"column {col.name!r} has {str(values[row])!r}, expected {what}", col.name, row)


def _numeric_breach(series: pd.Series, col: FileColumn) -> Breach | None:
    """Missing values, 0/1 and the range of a numeric column: the minimum and maximum first, the
    offending row only when they show one."""
    if not col.nullable and series.hasnans:
        return Breach(f"column {col.name!r} is missing a value (it may not be missing)", col.name,
                      _first(series.isna().to_numpy()))
    low = 0 if col.kind == "indicator" else col.low
    high = 1 if col.kind == "indicator" else col.high
    if low is None and high is None:
        return None
    smallest, largest = series.min(skipna=True), series.max(skipna=True)
    if pd.isna(smallest):  # every value missing (or no rows)
        return None
    integral = (col.kind != "indicator" or pd.api.types.is_integer_dtype(series.dtype)
                or pd.api.types.is_bool_dtype(series.dtype))
    if integral and not (low is not None and smallest < low) and not (high is not None and largest > high):
        return None
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    if col.kind == "indicator":
        bad = ~np.isnan(values) & (values != 0) & (values != 1)
        expected = "expected 0 or 1"
    else:
        bad = np.zeros(len(values), dtype=bool)
        if low is not None:
            bad |= values < low
        if high is not None:
            bad |= values > high
        expected = f"outside {col.rule()}"
    if not bad.any():
        return None
    row = _first(bad)
    return Breach(f"column {col.name!r} has {values[row]:g}, {expected}", col.name, row)


def _value_breach(series: pd.Series, col: FileColumn, plain: np.ndarray | None = None) -> Breach | None:
    if col.kind in ("text", "month"):
        return _text_breach(_plain(series) if plain is None else plain, col)
    if col.kind == "date":
        if not col.nullable and series.hasnans:
            return Breach(f"column {col.name!r} is missing a value (it may not be missing)", col.name,
                          _first(series.isna().to_numpy()))
        return None
    return _numeric_breach(series, col)


def _strictly_increasing(frame: pd.DataFrame, key: Sequence[str], plain: dict[str, np.ndarray] | None = None) -> bool:
    """Rows sorted strictly by ``key`` (then the key is unique): the fast path for the files the
    producers write in key order. The first key column is compared once per run of equal values
    (a unit's months), the others by adjacent rows within a run."""
    values = [plain[c] if plain is not None and c in plain else _plain(frame[c]) for c in key]
    if len(frame) < 2:
        return True
    starts = _run_starts(values[0])
    heads = values[0][starts]
    try:
        with np.errstate(invalid="ignore"):
            if not (heads[1:] > heads[:-1]).all():
                return False
            later = np.zeros(len(frame) - 1, dtype=bool)
            later[starts[1:] - 1] = True  # a new run of the first column: later than the row before
            tied = ~later
            for column in values[1:]:
                later |= tied & (column[1:] > column[:-1])
                tied &= column[1:] == column[:-1]
    except TypeError:  # values that do not compare (mixed types, a missing text): the slow path decides
        return False
    return bool(later.all())


def _key_breach(frame: pd.DataFrame, key: Sequence[str], plain: dict[str, np.ndarray] | None = None) -> Breach | None:
    if _strictly_increasing(frame, key, plain):
        return None
    if len(key) == 1:
        codes = pd.Series(frame[key[0]].to_numpy())
    else:
        factors = [pd.factorize(frame[k], use_na_sentinel=True)[0].astype(np.int64) for k in key]
        combined = factors[0]
        for c in factors[1:]:  # one integer per key (the factor codes are dense, so the product fits)
            combined = combined * (int(c.max(initial=0)) + 2) + (c + 1)
        codes = pd.Series(combined)
    later = codes.duplicated(keep="first").to_numpy()
    if later.any():
        position = _first(later)
        n_rows = int(codes.duplicated(keep=False).sum())
        values = ", ".join(f"{k}={frame[k].iloc[position]!s}" for k in key)
        return Breach(f"more than one row for {values} ({n_rows} rows share a {' + '.join(key)}; "
                      "each must appear once)",
                      key[0], position)
    return None


def breaches(frame: pd.DataFrame, contract: FileContract, columns: Sequence[str] | None = None) -> list[Breach]:
    """What in ``frame`` breaks ``contract`` (the first problem per column, then the key); ``columns``:
    only these (a partial read)."""
    wanted = contract.columns if columns is None else [c for c in contract.columns if c.name in set(columns)]
    missing = [c.name for c in wanted if c.required and c.name not in frame.columns]
    if missing:
        return [Breach(f"lacks column(s) {', '.join(missing)}", missing[0], None)]
    found = []
    plain: dict[str, np.ndarray] = {}  # text columns converted once, for the value and the key checks
    for col in (c for c in wanted if c.name in frame.columns):
        breach = _kind_breach(frame[col.name], col)
        if breach is None:
            if col.kind in ("text", "month"):
                plain[col.name] = _plain(frame[col.name])
            breach = _value_breach(frame[col.name], col, plain.get(col.name))
        if breach is not None:
            found.append(breach)
    if (not found and all(k in frame.columns for k in contract.key)
            and (columns is None or set(contract.key) <= set(columns))):
        breach = _key_breach(frame, contract.key, plain)
        if breach is not None:
            found.append(breach)
    return found


def check_written(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The producer's check, just before it writes file ``name``: a breach is a bug (:class:`ContractError`)."""
    contract = file_contract(name)
    found = breaches(frame, contract)
    if found:
        first = found[0]
        where = "" if first.position is None else f" (row {first.position + 1})"
        raise ContractError(f"internal error: {contract.path} as written by {contract.written_by} breaks its contract: "
                            f"{first.problem}{where}. This is a bug in mentorwijs, not a problem of the input data")
    return frame


def check_read(frame: pd.DataFrame, name: str, *, file: str | Path | None = None,
               columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The consumer's check, right after it reads file ``name`` (``columns``: a partial read): a
    breach is an :class:`InputError` naming the file, the column and the first offending row (1-based
    data row)."""
    contract = file_contract(name)
    found = breaches(frame, contract, columns)
    if found:
        first = found[0]
        problem = first.problem
        if problem.startswith("lacks"):
            problem = f"the {name} table {problem}"
        raise InputError(problem, file=file if file is not None else contract.path,
                         row=None if first.position is None else first.position + 1, column=first.column,
                         hint=f"{contract.path} is written by {contract.written_by}; its columns are documented in "
                              f"{contract.anchor}: run that rule again, or check that the file belongs to this version")
    return frame


def read_checked(name: str, path: str | Path, columns: Sequence[str] | None = None, *,
                 release: bool = False) -> pd.DataFrame:
    """Read file ``name`` from ``path`` and check it (:func:`check_read`)."""
    from mentorwijs.tables import read_parquet

    return check_read(read_parquet(path, columns, release=release), name, file=path, columns=columns)


# --- docs -----------------------------------------------------------------------------------

def markdown() -> str:
    """``docs/files.md``: every file's meaning, producer, consumers, key and columns."""
    out = [
        "# Files that cross a rule boundary",
        "",
        "<!-- generated from src/mentorwijs/files.py by `python -m mentorwijs.files`; do not edit by hand -->",
        "",
        "The Parquet files in `data/processed/` that one rule writes and another reads. The producer checks a "
        "file against this declaration just before writing it (a failure is a bug in the package); the consumer "
        "checks it right after reading (a failure is an input error naming the file, the column and the first "
        "offending row, with a link to the file's section here). Row numbers count data rows from 1.",
        "",
        "Kinds: " + "; ".join(f"**{k}**: {v}" for k, v in FILE_KINDS.items()) + ".",
        "",
    ]
    for f in FILES.values():
        out += [
            f"## {f.name}",
            "",
            f"`{f.path}`: {f.meaning}.",
            "",
            f"- written by {f.written_by}",
            f"- read by {f.read_by}",
            f"- key (unique): {', '.join(f'`{k}`' for k in f.key)}",
            "",
            "| column | kind | missing | allowed | meaning |",
            "|---|---|---|---|---|",
        ]
        for c in f.columns:
            out.append(f"| `{c.name}` | {c.kind} | {'yes' if c.nullable else 'no'} | {c.rule()} | {c.meaning} |")
        if f.extra:
            out += ["", f"Other columns (not checked): {f.extra}."]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover - regenerates the docs
    Path(DOCS).write_text(markdown(), encoding="utf-8")
