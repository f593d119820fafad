"""Readers for the export formats a study brings (formats.md).

Each reader returns a :class:`RawTable`: every cell as text exactly as exported (``""`` when
empty), the file row of every record, and what the format says about the cells (the order of
day and month in dates, the decimal mark, SPSS value labels and declared user-missing values).
Nothing is converted or dropped here: the codebook decides what a cell means
(:mod:`mentorwijs.ingest.values`).

Formats: ``castor_study`` and ``castor_survey`` (CSV ``;`` or Excel ``.xlsx``), ``qualtrics``
(CSV with three header rows, or the legacy two-row export with a BOM), ``spss`` (``.sav``, read
with user-missing values kept) and ``dutch_csv`` (Excel CSV on Dutch Windows: ``;``, decimal
comma, cp1252 or UTF-8 with BOM).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from mentorwijs.errors import InputError
from mentorwijs.ingest.text import check_field_counts, decode_text, read_bytes, split_records

FORMATS = ("castor_study", "castor_survey", "qualtrics", "spss", "dutch_csv")

#: Castor header names: older exports use the left names (matched case-insensitively).
CASTOR_HEADER_SYNONYMS = {
    "record id": "participant id",
    "institute abbreviation": "site abbreviation",
    "record creation date": "participant creation date",
    "record status": "participant status",
    "castor record id": "castor participant id",
}
CASTOR_STUDY_META = ("participant id", "participant status", "site abbreviation", "participant creation date")
CASTOR_SURVEY_META = (
    "survey instance id", "castor participant id", "survey creation date", "survey sent date", "survey progress",
    "survey completed on", "survey parent", "survey package name", "survey package id",
)

#: Qualtrics metadata columns (new names) and the legacy names they replace.
QUALTRICS_META = (
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished", "RecordedDate",
    "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ExternalReference",
    "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage",
)
QUALTRICS_LEGACY_NAMES = {
    "ResponseID": "ResponseId",
    "ExternalDataReference": "ExternalReference",
    "EmailAddress": "RecipientEmail",
    "Name": "RecipientName",
    "ResponseSet": "ResponseSet",
}
#: Metadata that is personal data (formats.md): never carried past the reader's caller.
QUALTRICS_PERSONAL_META = ("IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail", "RecipientName",
                           "LocationLatitude", "LocationLongitude", "LocationAccuracy")

_LEGACY_V = re.compile(r"^V[0-9]+$")


@dataclass
class RawTable:
    """An export as text cells. ``lines[i]`` is the file row of record ``i`` (for messages)."""

    file: Path
    format: str
    frame: pd.DataFrame
    lines: list[int]
    encoding: str | None = None
    separator: str | None = None
    header_rows: int = 1
    date_order: str = "dmy"  # dmy: dd-mm-yyyy (Castor, Dutch Excel); ymd: ISO (Qualtrics, SPSS)
    decimal: str = "."
    value_labels: Mapping[str, Mapping[float, str]] = field(default_factory=dict)
    declared_missing: Mapping[str, list[tuple[float, float]]] = field(default_factory=dict)
    sheets: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def normalise_header(name: str) -> str:
    """Case-insensitive, whitespace-collapsed header key, with Castor's old names mapped to new."""
    key = " ".join(str(name).replace("\ufeff", "").split()).lower()
    return CASTOR_HEADER_SYNONYMS.get(key, key)


def _unique_headers(header: Sequence[str], file: Path) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for position, name in enumerate(header, start=1):
        name = str(name).strip()
        if name == "":
            name = f"(unnamed column {position})"
        key = normalise_header(name)
        if key in seen:
            raise InputError(f"the header names column {name!r} twice (columns {seen[key]} and {position})",
                             file=file, row=1, column=name,
                             hint="rename one of the two columns in the export, or export again")
        seen[key] = position
        result.append(name)
    return result


def _frame(header: list[str], rows: Sequence[Sequence[str]]) -> pd.DataFrame:
    frame = pd.DataFrame([list(r) for r in rows], columns=header, dtype=object) if rows else pd.DataFrame(
        columns=header, dtype=object)
    return frame.fillna("").astype(object)


def _drop_empty_unnamed(frame: pd.DataFrame) -> pd.DataFrame:
    """Castor sheets may end with an empty unnamed column."""
    drop = [c for c in frame.columns
            if str(c).startswith("(unnamed column ") and (frame[c].astype(str).str.strip() == "").all()]
    return frame.drop(columns=drop)


def _no_data(file: Path, header_rows: int) -> InputError:
    return InputError("the file has a header but no data rows", file=file, row=header_rows + 1,
                      hint="export again after the survey has responses, or check that the right file is named")


def read_delimited(path: str | Path, fmt: str, *, separator: str | None = None) -> RawTable:
    """A one-header-row CSV: Castor (``;``, decimal point) or Dutch Excel (``;``, decimal comma)."""
    path = Path(path)
    text, encoding, sep = decode_text(path, fmt=fmt, separator=separator)
    rows, lines = split_records(text, sep, file=path)
    header = _unique_headers(rows[0], path)
    check_field_counts(rows, lines, len(header), text=text, header_rows=1, file=path)
    if len(rows) < 2:
        raise _no_data(path, 1)
    frame = _drop_empty_unnamed(_frame(header, rows[1:]))
    return RawTable(path, fmt, frame, lines[1:], encoding, sep, 1, "dmy", "," if fmt == "dutch_csv" else ".")


def _is_import_id_row(row: Sequence[str]) -> bool:
    cells = [c for c in row if c.strip()]
    if not cells:
        return False
    try:
        return all(isinstance(json.loads(c), dict) and "ImportId" in json.loads(c) for c in cells)
    except ValueError:
        return False


def read_qualtrics(path: str | Path, *, separator: str | None = None) -> RawTable:
    """Qualtrics CSV: three header rows (names, question texts, ImportId JSON), data from row 4;
    or the legacy export (BOM, two header rows, metadata as ``V1``.. with names in row 2)."""
    path = Path(path)
    text, encoding, sep = decode_text(path, fmt="qualtrics", separator=separator)
    rows, lines = split_records(text, sep, file=path)
    if len(rows) >= 3 and _is_import_id_row(rows[2]):
        header_rows = 3
        header = list(rows[0])
    else:
        header_rows = 2
        labels = rows[1] if len(rows) > 1 else []
        header = []
        for position, name in enumerate(rows[0]):
            label = labels[position].strip() if position < len(labels) else ""
            if _LEGACY_V.match(name.strip()) and label:
                name = QUALTRICS_LEGACY_NAMES.get(label, label)
            header.append(name)
    header = _unique_headers(header, path)
    check_field_counts(rows, lines, len(header), text=text, header_rows=min(header_rows, len(rows)), file=path)
    if len(rows) <= header_rows:
        raise _no_data(path, header_rows)
    frame = _drop_empty_unnamed(_frame(header, rows[header_rows:]))
    return RawTable(path, "qualtrics", frame, lines[header_rows:], encoding, sep, header_rows, "ymd", ".")


def _excel_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.strftime("%d-%m-%Y")
        return value.strftime("%d-%m-%Y %H:%M:%S")
    if isinstance(value, _dt.date):
        return value.strftime("%d-%m-%Y")
    return str(value)


def read_workbook(path: str | Path) -> dict[str, list[list[str]]]:
    """Every sheet of an .xlsx as rows of text cells, empty trailing rows removed."""
    path = Path(path)
    data = read_bytes(path)
    if not data.startswith(b"PK"):
        raise InputError("the file is not an Excel workbook (.xlsx)", file=path,
                         hint="export from Castor as Excel (.xlsx), or give a CSV export a .csv name")
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged workbooks
        raise InputError(f"the workbook cannot be read ({type(exc).__name__})", file=path,
                         hint="open it in Excel to repair it, or export it again") from None
    sheets: dict[str, list[list[str]]] = {}
    try:
        for sheet in book.worksheets:
            rows = [[_excel_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            while rows and all(c.strip() == "" for c in rows[-1]):
                rows.pop()
            sheets[sheet.title] = rows
    finally:
        book.close()
    return sheets


def _sheet_table(path: Path, fmt: str, name: str, rows: list[list[str]]) -> tuple[pd.DataFrame, list[int]]:
    width = len(rows[0])
    header = _unique_headers(rows[0], path)
    body, lines = [], []
    for number, row in enumerate(rows[1:], start=2):
        if all(c.strip() == "" for c in row):
            continue
        body.append((list(row) + [""] * width)[:width])
        lines.append(number)
    return _drop_empty_unnamed(_frame(header, body)), lines


def read_castor_excel(path: str | Path, fmt: str, *, sheet: str | None = None) -> RawTable:
    """Castor's Excel export: the study sheet (``Study results``) or the survey sheet(s).

    Survey sheets are those whose header holds ``Survey Package Name``; with several, their rows
    are stacked (the wave is told by the package name). ``sheet`` names one sheet explicitly.
    """
    path = Path(path)
    sheets = read_workbook(path)
    wanted: list[str]
    if sheet is not None:
        wanted = [s for s in sheets if s.lower() == sheet.lower()]
        if not wanted:
            raise InputError(f"the workbook has no sheet {sheet!r} (sheets: {', '.join(sheets)})", file=path,
                             hint="fix the sheet name in the codebook's wave settings")
    else:
        marker = "participant id" if fmt == "castor_study" else "survey package name"
        wanted = [s for s, rows in sheets.items() if rows and marker in {normalise_header(c) for c in rows[0]}]
        if fmt == "castor_study":
            preferred = [s for s in wanted if s.lower() == "study results"]
            wanted = preferred or wanted[:1]
        if not wanted:
            label = "Participant Id (or Record Id)" if fmt == "castor_study" else "Survey Package Name"
            raise InputError(f"no sheet of the workbook has a {label} column (sheets: {', '.join(sheets) or 'none'})",
                             file=path,
                             hint=f"export the {'study' if fmt == 'castor_study' else 'survey'} data "
                                  "from Castor as Excel")
    frames, lines = [], []
    for name in wanted:
        rows = sheets[name]
        if not rows:
            continue
        frame, sheet_lines = _sheet_table(path, fmt, name, rows)
        frames.append(frame)
        lines.extend(sheet_lines)
    if not frames or sum(len(f) for f in frames) == 0:
        raise _no_data(path, 1)
    frame = pd.concat(frames, ignore_index=True).fillna("") if len(frames) > 1 else frames[0]
    return RawTable(path, fmt, frame.astype(object), lines, None, None, 1, "dmy", ".", sheets=tuple(wanted))


def _spss_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, _dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, _dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def read_spss(path: str | Path) -> RawTable:
    """An SPSS ``.sav`` file, read with ``user_missing=True`` so declared codes keep their reason."""
    import pyreadstat

    path = Path(path)
    data = read_bytes(path)
    if data[:4] not in (b"$FL2", b"$FL3"):
        raise InputError("the file is not an SPSS data file (.sav)", file=path,
                         hint="save the data from SPSS as .sav, or set the source's format to the file's real format")
    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises ReadstatError and others for damaged files
        raise InputError(f"the SPSS file cannot be read ({type(exc).__name__}: {exc})", file=path,
                         hint="open and save it again in SPSS, or export it again") from None
    if frame.empty:
        raise _no_data(path, 0)
    text = frame.astype(object).map(_spss_cell)
    declared: dict[str, list[tuple[float, float]]] = {}
    for column, ranges in (meta.missing_ranges or {}).items():
        declared[column] = [(float(r["lo"]), float(r["hi"])) for r in ranges if isinstance(r.get("lo"), (int, float))]
    for column, values in (getattr(meta, "missing_user_values", None) or {}).items():
        declared.setdefault(column, []).extend((float(v), float(v)) for v in values if isinstance(v, (int, float)))
    labels = {c: {float(k): str(v) for k, v in m.items() if isinstance(k, (int, float))}
              for c, m in (meta.variable_value_labels or {}).items()}
    lines = list(range(1, len(frame) + 1))
    return RawTable(path, "spss", text, lines, None, None, 0, "ymd", ".", labels, declared)


def read_raw(path: str | Path, fmt: str, *, separator: str | None = None, sheet: str | None = None) -> RawTable:
    """Read an export in the named format (Castor files by their suffix: .xlsx or CSV)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    if fmt in ("castor_study", "castor_survey"):
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return read_castor_excel(path, fmt, sheet=sheet)
        return read_delimited(path, fmt, separator=separator)
    if fmt == "qualtrics":
        return read_qualtrics(path, separator=separator)
    if fmt == "spss":
        return read_spss(path)
    return read_delimited(path, fmt, separator=separator)
