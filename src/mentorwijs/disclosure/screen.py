"""What may not leave at all: identifier, extreme and person-level columns, undeclared or missing
columns, more than one row per key, non-numeric numbers and identifier-looking values. A table
that passes comes back with parsed numbers, sorted by its key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from mentorwijs.contracts import DOMINANCE_COLUMN
from mentorwijs.disclosure.specs import TableSpec
from mentorwijs.disclosure.text_scan import scan_for_identifiers
from mentorwijs.errors import InputError

# Column names that are identifiers (compared case-insensitively; prefixes end with '*').
_ID_NAMES = {
    "person", "unit", "supervisor", "supervisor_ref", "record", "bsn", "study_number", "studienummer",
    "externalreference", "external_reference", "responseid", "participant_id", "participantid", "record_id",
    "castor_id", "castor_participant_id", "survey_instance_id", "email", "e_mail", "postcode", "zipcode",
    "first_name", "last_name", "name", "birth_date", "ipaddress", "ip_address",
    "address", "adres", "rinobjectnummer", "beid", "pseudonym",
}
_ID_PREFIXES = ("rinpersoon", "sbeid", "ikvid", "rinobject", "recipient", "castor")
# Column-name tokens that mark an extreme value.
_EXTREME_TOKENS = {"min", "max", "minimum", "maximum", "largest", "smallest"}
# Person-level variables of the data contracts: a table carrying them is microdata.
_MICRODATA_NAMES = {
    "weight", "pscore", "treated", "distance", "hours", "employed_1h", "employed_12h", "employed_3m",
    "job_held", "observed", "time_job", "event_job", "time_work", "event_work", "age", "sex", "wage",
    "birth_year", "reference_month",
}


def identifier_columns(columns: Iterable[str]) -> list[str]:
    """Column names that look like a person, address, employer, job or study identifier."""
    found = []
    for col in columns:
        low = str(col).strip().lower().replace(" ", "_")
        if low in _ID_NAMES or low.startswith(_ID_PREFIXES) or low.endswith("_id") or low == "id":
            found.append(str(col))
    return found


def extreme_columns(columns: Iterable[str]) -> list[str]:
    """Column names that hold a minimum or maximum (``max_hours``, ``age_min``, ``maximum``)."""
    return [str(c) for c in columns if set(re.split(r"[^a-z]+", str(c).lower())) & _EXTREME_TOKENS]


def screen_table(table: pd.DataFrame, spec: TableSpec, source: str | Path) -> pd.DataFrame:
    """Refuse what may not leave; return the table sorted by its key with a fresh index.

    In this order: identifier, extreme and person-level columns; undeclared and missing columns;
    more than one row per key; cells of count, estimate and dominance columns that are not
    numbers (or, for counts, not whole numbers of at least 0); identifier-looking text values.
    """
    columns = [str(c) for c in table.columns]
    _refuse_columns(columns, spec, source)
    frame = table.copy()
    frame.columns = columns
    frame = frame.reset_index(drop=True)
    keys = [k for k in spec.keys if k in columns]
    if keys and len(frame):
        _refuse_duplicate_keys(frame, keys, source)
    for col in (spec.count_columns() + spec.estimate_columns()
                + ((DOMINANCE_COLUMN,) if spec.allows_dominance() else ())):
        if col in frame.columns:
            frame[col] = _numbers(frame[col], col, col in spec.count_columns(), source)
    for col in columns:
        if frame[col].dtype == object:
            _refuse_identifier_values(frame[col], col, source)
    if keys:
        frame = frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
    return frame


def _refuse_columns(columns: list[str], spec: TableSpec, source: str | Path) -> None:
    """An identifier, extreme or person-level column, or one the table's contract does not declare
    or a required one that is absent, refuses the table."""
    ids = identifier_columns(columns)
    if ids:
        raise InputError(
            "an identifier column may not leave the secure environment",
            file=source,
            column=ids[0],
            hint="export aggregate tables only: drop person, unit, RINPERSOON, SBEID, IKVID and study-number columns",
        )
    extremes = extreme_columns(columns)
    if extremes:
        raise InputError(
            "minima and maxima may not leave the secure environment (CBS output rules)",
            file=source,
            column=extremes[0],
            hint="drop the column; publish percentiles of at least 10 units or a range of categories instead",
        )
    micro = [c for c in columns if c.lower() in _MICRODATA_NAMES]
    if micro:
        raise InputError(
            f"this looks like microdata (one row per person): column {micro[0]!r} is a person-level variable",
            file=source,
            column=micro[0],
            hint="only aggregate tables with a register contract (mentorwijs.contracts) may be exported",
        )
    declared = spec.declared()
    undeclared = [c for c in columns if c not in declared]
    if undeclared:
        raise InputError(
            f"column {undeclared[0]!r} is not declared for table kind {spec.kind!r}",
            file=source,
            column=undeclared[0],
            hint=f"declared columns: {', '.join(declared)}; every exported column is a column of the table's "
            "contract (mentorwijs.contracts)",
        )
    missing = [c for c in spec.required() if c not in columns]
    if missing:
        raise InputError(
            f"required column {missing[0]!r} of table kind {spec.kind!r} is missing",
            file=source,
            column=missing[0],
            hint=f"required columns: {', '.join(spec.required())}",
        )


def _refuse_duplicate_keys(frame: pd.DataFrame, keys: list[str], source: str | Path) -> None:
    """More than one row per key is microdata (or an unaggregated table)."""
    dup = frame.duplicated(subset=keys, keep="first")
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"more than one row per key ({', '.join(keys)}): aggregate tables have one row per key, "
            "microdata may not be exported",
            file=source,
            row=row + 2,
            hint="aggregate the table to one row per key before exporting it",
        )


def _numbers(raw: pd.Series, col: str, count: bool, source: str | Path) -> pd.Series:
    """The column as floats (empty text is missing); a cell that is not a number, or a count that
    is not a whole number of at least 0, refuses the table."""
    values = (pd.to_numeric(raw.where(raw.astype(str).str.strip() != ""), errors="coerce") if raw.dtype == object
              else raw)
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"not a number: {raw.iloc[row]!r}", file=source, row=row + 2, column=col,
                         hint="write numbers with a decimal point and no thousands separator")
    values = values.astype(float)
    if count:
        wrong = values.notna() & ((values < 0) | (values != np.round(values)))
        if wrong.any():
            row = int(np.flatnonzero(wrong.to_numpy())[0])
            raise InputError(
                f"a count must be a whole number of units, not {values.iloc[row]!r}",
                file=source, row=row + 2, column=col,
                hint="counts behind published figures are unweighted numbers of units",
            )
    return values


def _refuse_identifier_values(values: pd.Series, col: str, source: str | Path) -> None:
    """A text value that looks like an identifier (:func:`scan_for_identifiers`) refuses the table."""
    for i, value in enumerate(values):
        if isinstance(value, str) and scan_for_identifiers(value):
            found = scan_for_identifiers(value)[0]
            raise InputError(
                f"a value looks like an identifier ({found.pattern}: {found.token!r})",
                file=source, row=i + 2, column=col,
                hint="no person, address, employer or study ids may leave the secure environment",
            )
