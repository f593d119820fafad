"""What a cell means: values, user-missing codes and their reasons, per codebook item.

A cell becomes a value (a number, a text code or a date) or a missing value with a reason:
``no answer`` (empty), the meaning of a user-missing code (Castor writes them as numbers
``-95``, as ``##USER_MISSING_95##`` and, in date fields, as ``01-01-2995``; SPSS declares them
in the file), or what was wrong with it (``not a number``, ``impossible date``, ``unknown
missing code``, ...). A user-missing code is never kept as a value. Problems a cleaning rule
handles are returned as :class:`Problem` rows (warnings); a problem with a whole column (no cell
of a numeric item is a number, month-first dates) is an :class:`InputError`.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from mentorwijs.codebook import Codebook, Item
from mentorwijs.errors import InputError
from mentorwijs.ingest.columns import ItemColumns
from mentorwijs.ingest.readers import RawTable

NO_ANSWER = "no answer"
NOT_A_NUMBER = "not a number"
NOT_WHOLE = "not a whole number"
OUT_OF_RANGE = "out of range"
IMPOSSIBLE_DATE = "impossible date"
NOT_A_DATE = "not a date"
DATE_OUT_OF_RANGE = "date before 1678 or after 2261"
FIRST_YEAR, LAST_YEAR = 1678, 2261  # dates are stored with nanosecond precision
#: A column is of the wrong type when no cell parses and at least this many do not (a single
#: unparseable answer in a sparse column is a row-level warning).
MIN_CELLS_WRONG_COLUMN = 2
UNKNOWN_CODE = "unknown missing code"
UNKNOWN_OPTION = "unknown option"
NOT_BINARY = "not 0 or 1"
INVALID_REFERENCE = "invalid reference"
ID_REPAIRED = "id repaired (leading zeros restored)"
REFERENCE_REPAIRED = "reference repaired (leading zeros restored)"

#: Item types whose values are personal data: never shown in a message or a table.
PERSONAL_TYPES = ("identifier", "free_text", "reference")
NUMERIC_TYPES = ("integer", "number")
DATE_TYPES = ("date", "datetime")

_USER_MISSING = re.compile(r"^##USER_MISSING_(-?[0-9]+)##$", re.IGNORECASE)
_NEGATIVE_INT = re.compile(r"^-[0-9]+(?:[.,]0+)?$")
_MISSING_DATE_DMY = re.compile(r"^0?1[-/.]0?1[-/.](29[0-9]{2})(?:[ T].*)?$")
_MISSING_DATE_YMD = re.compile(r"^(29[0-9]{2})-0?1-0?1(?:[ T].*)?$")
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_THOUSANDS = re.compile(r"^[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?$")
_DMY = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?$")
_YMD = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?$")


@dataclass(frozen=True)
class Problem:
    """A row-level problem a cleaning rule handles (a warning): where, what, which check."""

    check: str
    column: str  # canonical name (or the metadata column)
    row: int | None  # file row
    value: str  # the offending cell as shown ('(withheld)' for personal data)
    raw_column: str = ""

    def describe(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        col = (f"column {self.raw_column!r} ({self.column})" if self.raw_column and self.raw_column != self.column
               else f"column {self.column!r}")
        shown = f": {self.value!r}" if self.value != "" else ""
        return f"{where}{col}: {self.check}{shown}"


@dataclass
class ParsedItem:
    """Output columns of one item: values, and for missing values the code and reason."""

    values: dict[str, pd.Series] = field(default_factory=dict)
    codes: dict[str, pd.Series] = field(default_factory=dict)
    reasons: dict[str, pd.Series] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def show(value: str, item_type: str) -> str:
    return "(withheld)" if item_type in PERSONAL_TYPES else value


def parse_number(text: str, decimal: str = ".") -> float | None:
    """A number written with ``decimal`` as decimal mark (a comma allows ``.`` as thousands mark)."""
    t = text.strip().replace("\u00a0", "").replace(" ", "")
    if decimal == ",":
        if _THOUSANDS.match(t):
            t = t.replace(".", "")
        t = t.replace(",", ".")
    return float(t) if _NUMBER.match(t) else None


def parse_date(text: str, order: str) -> tuple[pd.Timestamp | None, str | None, bool]:
    """(timestamp, problem, month_first) of a date or date-time cell.

    ``order`` is ``dmy`` (dd-mm-yyyy) or ``ymd`` (ISO); the other unambiguous ISO form is also
    accepted. ``month_first`` is True for a dd-mm cell whose second part cannot be a month
    while the first can: a month-first date.
    """
    t = text.strip()
    match = _DMY.match(t) if order == "dmy" else None
    if match:
        day, month, year = int(match[1]), int(match[2]), int(match[3])
    else:
        match = _YMD.match(t)
        if not match:
            dmy = _DMY.match(t)
            if dmy is None:
                return None, NOT_A_DATE, False
            match, (day, month, year) = dmy, (int(dmy[1]), int(dmy[2]), int(dmy[3]))
        else:
            year, month, day = int(match[1]), int(match[2]), int(match[3])
    hour, minute, second = ((int(match[4] or 0), int(match[5] or 0), int(match[6] or 0))
                            if match.lastindex and match.lastindex >= 4 else (0, 0, 0))
    try:
        moment = _dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        month_first = order == "dmy" and day <= 12 < month <= 31
        return None, IMPOSSIBLE_DATE, month_first
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None, DATE_OUT_OF_RANGE, False
    return pd.Timestamp(moment), None, False


def repair_id(text: str, pattern: str | None) -> tuple[str, bool]:
    """An all-digit id whose leading zeros were stripped (Excel) padded back to ``pattern``."""
    if pattern is None or re.fullmatch(pattern, text) or not text.isdigit():
        return text, False
    for width in range(len(text) + 1, len(text) + 10):
        candidate = text.zfill(width)
        if re.fullmatch(pattern, candidate):
            return candidate, True
    return text, False


def missing_code(text: str, *, item_type: str, codes: Mapping[int, str], date_order: str,
                 declared: Sequence[tuple[float, float]] = (), labels: Mapping[float, str] | None = None
                 ) -> tuple[float, str] | None:
    """(code, reason) when the cell is a user-missing code; unknown codes give reason ``unknown missing code``."""
    t = text.strip()
    match = _USER_MISSING.match(t)
    if match:
        code = -abs(int(match[1]))
        return float(code), codes.get(code, UNKNOWN_CODE)
    if item_type in DATE_TYPES:
        match = (_MISSING_DATE_DMY if date_order == "dmy" else _MISSING_DATE_YMD).match(t) or _MISSING_DATE_YMD.match(t)
        if match:
            code = -(int(match[1]) - 2900)
            return float(code), codes.get(code, UNKNOWN_CODE)
    if declared:
        number = parse_number(t)
        if number is not None and any(lo <= number <= hi for lo, hi in declared):
            code = int(number) if float(number).is_integer() else number
            reason = codes.get(code) if isinstance(code, int) else None
            label = (labels or {}).get(float(number))
            return float(number), reason or label or "declared missing in the SPSS file"
    if _NEGATIVE_INT.match(t):
        code = int(float(t.replace(",", ".")))
        if code in codes:
            return float(code), codes[code]
    return None


def _empty_result(index: pd.Index) -> tuple[pd.Series, pd.Series]:
    return pd.Series(pd.NA, index=index, dtype="Float64"), pd.Series(pd.NA, index=index, dtype="string")


def parse_item(cols: ItemColumns, table: RawTable, frame: pd.DataFrame, lines: Sequence[int], codebook: Codebook
               ) -> ParsedItem:
    """Parse the raw cells of one item (``frame`` holds the records to parse, ``lines`` their rows)."""
    item = cols.item
    result = ParsedItem()
    if item.type == "checkbox":
        for code, column in zip(cols.option_codes, cols.columns):
            name = f"{item.name}_{code}"
            _parse_simple(result, name, frame[column].tolist(), lines, item, "checkbox_option", table, codebook, column)
        return result
    column = cols.columns[0]
    cells = frame[column].tolist()
    if item.type == "multiselect":
        _parse_multiselect(result, cells, lines, item, table, codebook, column)
        return result
    _parse_simple(result, item.name, cells, lines, item, item.type, table, codebook, column)
    return result


def _parse_simple(result: ParsedItem, name: str, cells: list[str], lines: Sequence[int], item: Item, kind: str,
                  table: RawTable, codebook: Codebook, column: str) -> None:
    n = len(cells)
    values: list[Any] = [None] * n
    codes: list[Any] = [None] * n
    reasons: list[Any] = [None] * n
    declared = table.declared_missing.get(column, ())
    labels = table.value_labels.get(column, {})
    parsed_any, unparsed, month_first = False, [], []
    for i, raw in enumerate(cells):
        text = "" if raw is None else str(raw).strip()
        if text == "":
            reasons[i] = NO_ANSWER
            continue
        found = missing_code(text, item_type=item.type, codes=codebook.missing_codes, date_order=table.date_order,
                             declared=declared, labels=labels)
        if found is not None:
            codes[i], reasons[i] = found
            if found[1] == UNKNOWN_CODE:
                result.problems.append(Problem(UNKNOWN_CODE, name, lines[i], text, column))
            continue
        if kind in NUMERIC_TYPES or kind == "checkbox_option":
            number = parse_number(text, table.decimal)
            if number is None:
                reasons[i] = NOT_A_NUMBER
                unparsed.append(i)
                result.problems.append(Problem(NOT_A_NUMBER, name, lines[i], text, column))
                continue
            parsed_any = True
            if kind == "checkbox_option" and number not in (0.0, 1.0):
                reasons[i] = NOT_BINARY
                result.problems.append(Problem(NOT_BINARY, name, lines[i], text, column))
                continue
            if number.is_integer() and -99 <= number <= -90 and not _in_range(number, item.range):
                codes[i], reasons[i] = number, UNKNOWN_CODE
                result.problems.append(Problem(UNKNOWN_CODE, name, lines[i], text, column))
                continue
            if kind == "integer" and not number.is_integer():
                reasons[i] = NOT_WHOLE
                result.problems.append(Problem(NOT_WHOLE, name, lines[i], text, column))
                continue
            values[i] = number
        elif kind in DATE_TYPES:
            stamp, problem, first = parse_date(text, table.date_order)
            if first:
                month_first.append(i)
            if stamp is None:
                reasons[i] = problem
                if problem == NOT_A_DATE:
                    unparsed.append(i)
                result.problems.append(Problem(problem, name, lines[i], show(text, item.type), column))
                continue
            parsed_any = True
            values[i] = stamp.normalize() if kind == "date" else stamp
        elif kind == "reference":
            repaired, was_repaired = repair_id(text, item.pattern)
            if was_repaired:
                result.problems.append(Problem(REFERENCE_REPAIRED, name, lines[i], "(withheld)", column))
            if item.pattern and not re.fullmatch(item.pattern, repaired):
                reasons[i] = INVALID_REFERENCE
                result.problems.append(Problem(INVALID_REFERENCE, name, lines[i], "(withheld)", column))
                continue
            values[i] = repaired
        elif kind == "text":
            values[i] = _recode(text, item)
        else:  # identifier, free_text: kept as written
            values[i] = text
    _refuse_unreadable_column(cells, lines, item, kind, table, name, column, month_first=month_first,
                              unparsed=unparsed, parsed_any=parsed_any)
    index = pd.RangeIndex(n)
    series = _typed_series(values, kind, index)
    result.values[name] = series
    result.codes[name] = pd.Series(codes, index=index, dtype="Float64")
    result.reasons[name] = pd.Series(reasons, index=index, dtype="string")


def _refuse_unreadable_column(cells: list[str], lines: Sequence[int], item: Item, kind: str, table: RawTable, name: str,
                              column: str, *, month_first: list[int], unparsed: list[int], parsed_any: bool) -> None:
    """A column of month-first dates, or of a number or date type in which no cell parses (labels
    instead of codes), refuses the file."""
    if month_first:
        i = month_first[0]
        raise InputError(
            f"the dates in this column are month-first ({len(month_first)} cell(s), e.g. "
            f"{show(cells[i], item.type)!r}); the {table.format} format writes "
            f"{'dd-mm-yyyy' if table.date_order == 'dmy' else 'yyyy-mm-dd'}",
            file=table.file, row=lines[i], column=column,
            hint="export the data again with day-first dates (a file re-saved by a spreadsheet in a "
                 "US locale turns them)",
        )
    if len(unparsed) >= MIN_CELLS_WRONG_COLUMN and not parsed_any and (kind in NUMERIC_TYPES or kind in DATE_TYPES
                                                                       or kind == "checkbox_option"):
        i = unparsed[0]
        what = "a number" if kind != "date" and kind not in DATE_TYPES else "a date"
        raise InputError(
            f"no cell of this column is {what} (item {name} has type {item.type}); e.g. {show(cells[i], item.type)!r}",
            file=table.file, row=lines[i], column=column,
            hint="the export holds labels or text instead of codes: export the values (codes), or fix the item's "
                 "type in the codebook",
        )


def _typed_series(values: list[Any], kind: str, index: pd.RangeIndex) -> pd.Series:
    """The parsed values as float (numbers, checkbox options), datetime64[ns] (dates) or string."""
    if kind in NUMERIC_TYPES or kind == "checkbox_option":
        return pd.Series([np.nan if v is None else v for v in values], index=index, dtype="float64")
    if kind in DATE_TYPES:
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), errors="raise"),
                         index=index).astype("datetime64[ns]")
    return pd.Series(values, index=index, dtype="string")


def _in_range(number: float, rng: tuple[float, float] | None) -> bool:
    return rng is not None and rng[0] <= number <= rng[1]


def _recode(text: str, item: Item) -> str:
    if item.recode:
        for key, value in item.recode.items():
            if str(key) == text:
                return str(value)
    if item.labels and text not in {str(k) for k in item.labels}:
        for key, label in item.labels.items():
            if str(label) == text:
                return str(key)
    return text


def _parse_multiselect(result: ParsedItem, cells: list[str], lines: Sequence[int], item: Item, table: RawTable,
                       codebook: Codebook, column: str) -> None:
    n = len(cells)
    option_codes = [str(code) for code in item.options]
    values = {code: [np.nan] * n for code in option_codes}
    codes: list[Any] = [None] * n
    reasons: list[Any] = [None] * n
    for i, raw in enumerate(cells):
        text = "" if raw is None else str(raw).strip()
        if text == "":
            reasons[i] = NO_ANSWER
            continue
        found = missing_code(text, item_type=item.type, codes=codebook.missing_codes, date_order=table.date_order)
        if found is not None:
            codes[i], reasons[i] = found
            if found[1] == UNKNOWN_CODE:
                result.problems.append(Problem(UNKNOWN_CODE, item.name, lines[i], text, column))
            continue
        chosen = {part.strip() for part in text.split(",") if part.strip()}
        unknown = sorted(chosen - set(option_codes))
        for code in unknown:
            result.problems.append(Problem(UNKNOWN_OPTION, item.name, lines[i], code, column))
        for code in option_codes:
            values[code][i] = 1.0 if code in chosen else 0.0
    index = pd.RangeIndex(n)
    for code in option_codes:
        name = f"{item.name}_{code}"
        result.values[name] = pd.Series(values[code], index=index, dtype="float64")
        result.codes[name] = pd.Series(codes, index=index, dtype="Float64")
        result.reasons[name] = pd.Series(reasons, index=index, dtype="string")
