"""Reading CBS register extracts and parsing their text columns.

Register extracts arrive as CSV (``,`` or ``;``, UTF-8 or cp1252) or SPSS ``.sav`` (read with
``user_missing=True`` so that declared missing codes keep their value). Every column is read
as text, as ``docs/raw-data.md`` prescribes, into a :class:`pyarrow.Table`; the parsers below
turn text into numbers and days vectorised and report which values could not be parsed.

A value that cannot be parsed is a row-level problem: a few such rows are logged exclusions;
when more than ``max_bad_share`` of a file's rows are bad the delivery is probably in another
format, and an :class:`~mentorwijs.errors.InputError` names the first bad row and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from mentorwijs.errors import InputError
from mentorwijs.register.calendar import yyyymmdd_to_days

#: Status codes of parsed values.
OK, EMPTY, BAD = 0, 1, 2

_SEPARATORS = (",", ";", "\t")


def _header_line(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()[:65536]
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    line = text.splitlines()[0] if text.strip() else ""
    return line, encoding


def _resolve_columns(available: Sequence[str], wanted: Sequence[str], path: Path, kind: str) -> dict[str, str]:
    """Wanted name -> name in the file (matched case-insensitively, surrounding blanks ignored)."""
    lookup = {str(c).strip().lower(): c for c in available}
    mapping = {}
    for name in wanted:
        actual = lookup.get(name.strip().lower())
        if actual is None:
            raise InputError(
                f"column {name!r} is missing from this {kind} extract (it has: {', '.join(map(str, available))})",
                file=path,
                column=name,
                hint="check the file against docs/raw-data.md, or set the column's name under register.variables in config.yaml",
            )
        mapping[name] = actual
    return mapping


def read_extract(path: str | Path, columns: Sequence[str], *, kind: str) -> pa.Table:
    """Read the named columns of a register extract as text (``.csv`` or ``.sav``).

    Returns a table with exactly ``columns`` (in that order, named as asked), every column a
    string column; empty cells are empty strings. ``kind`` names the extract in messages.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{kind} extract not found",
            file=path,
            hint="check the path under register in config.yaml (relative to the repository root), or bring the file into data/raw/",
        )
    suffix = path.suffix.lower()
    if suffix == ".sav":
        return _read_sav(path, columns, kind)
    return _read_csv(path, columns, kind)


def extract_columns(path: str | Path, *, kind: str) -> list[str]:
    """The column names of a register extract (CSV header or ``.sav`` variables)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{kind} extract not found", file=path, hint="check the path under register in config.yaml")
    if path.suffix.lower() == ".sav":
        import pyreadstat

        try:
            _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
        except Exception as exc:  # pyreadstat raises its own ReadstatError and others
            raise InputError(f"cannot be read as an SPSS .sav file: {exc}", file=path) from None
        return list(meta.column_names)
    header, _ = _header_line(path)
    sep = max(_SEPARATORS, key=header.count)
    return [h.strip().strip('"') for h in header.split(sep)] if header.strip() else []


def _read_csv(path: Path, columns: Sequence[str], kind: str) -> pa.Table:
    header, encoding = _header_line(path)
    if not header.strip():
        raise InputError(f"the {kind} extract is empty (no header line)", file=path, hint="export the file again with its header")
    sep = max(_SEPARATORS, key=header.count)
    names = [h.strip().strip('"') for h in header.split(sep)]
    mapping = _resolve_columns(names, columns, path, kind)
    enc = "utf8" if encoding == "utf-8-sig" else encoding
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(encoding=enc, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(delimiter=sep),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                include_columns=list(dict.fromkeys(mapping.values())),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        raise InputError(f"cannot be read as a {sep!r}-separated file: {exc}", file=path,
                         hint="check that the file is a complete CSV export with one header line") from None
    # utf-8-sig: pyarrow strips a BOM itself; names may still carry blanks
    renamed = {str(n).strip(): n for n in table.column_names}
    arrays = [table.column(renamed.get(mapping[c].strip(), mapping[c])) for c in columns]
    return pa.table(arrays, names=list(columns))


def _sav_text(values) -> pa.Array:
    import pandas as pd

    series = pd.Series(values)
    if series.dtype.kind == "M" or (series.dtype == object and series.map(lambda v: hasattr(v, "strftime")).any()):
        # an SPSS date variable (pyreadstat converts it): back to the YYYYMMDD text of the other extracts
        dates = pd.to_datetime(series, errors="coerce")
        return pa.array(dates.dt.strftime("%Y%m%d").fillna("").tolist(), type=pa.string())
    if series.dtype.kind in "fiu":
        x = series.to_numpy(dtype="float64", na_value=np.nan)
        text = np.empty(len(x), dtype=object)
        finite = np.isfinite(x)
        integral = finite & (np.floor(x) == x)
        text[~finite] = ""
        text[integral] = [str(int(v)) for v in x[integral]]
        other = finite & ~integral
        text[other] = [repr(float(v)) for v in x[other]]
        return pa.array(text, type=pa.string())
    return pa.array(series.astype(object).where(series.notna(), "").astype(str).tolist(), type=pa.string())


def _read_sav(path: Path, columns: Sequence[str], kind: str) -> pa.Table:
    import pyreadstat

    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    except Exception as exc:  # pyreadstat raises its own ReadstatError and others
        raise InputError(f"cannot be read as an SPSS .sav file: {exc}", file=path) from None
    mapping = _resolve_columns(meta.column_names, columns, path, kind)
    frame, _ = pyreadstat.read_sav(str(path), user_missing=True, usecols=list(dict.fromkeys(mapping.values())))
    return pa.table([_sav_text(frame[mapping[c]]) for c in columns], names=list(columns))


# --------------------------------------------------------------------------------------
# parsers


def text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """A text column with surrounding blanks removed (nulls as empty strings)."""
    return pc.fill_null(pc.utf8_trim_whitespace(column), "")


def parse_dates(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``YYYYMMDD`` text -> (days since 1970-01-01 as int64, status OK/EMPTY/BAD).

    The distinct texts are parsed once (a date column has a few thousand distinct values in
    millions of rows) and indexed back.
    """
    from mentorwijs.register.spec import dictionary

    distinct, index = dictionary(column)
    if not distinct:
        return np.zeros(len(index), dtype=np.int64), np.zeros(len(index), dtype=np.int8)
    values = np.array(distinct, dtype=object)
    digits = np.array([len(v) == 8 and v.isdigit() for v in distinct], dtype=bool)
    empty = np.array([v == "" for v in distinct], dtype=bool)
    ints = np.zeros(len(values), dtype=np.int64)
    ints[digits] = values[digits].astype(np.int64)
    days, valid = yyyymmdd_to_days(ints)
    valid &= digits
    status = np.where(valid, OK, np.where(empty, EMPTY, BAD)).astype(np.int8)
    return days[index], status[index]


def parse_numbers(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Decimal text (point or comma) -> (float64 values, NaN where not OK; status OK/EMPTY/BAD)."""
    s = text(column)
    try:
        values = pc.cast(pc.replace_substring(s, ",", "."), pa.float64()).to_numpy(zero_copy_only=False)
        return values.astype(np.float64), np.zeros(len(values), dtype=np.int8)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    s = pc.replace_substring(s, ",", ".")
    pattern = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
    good = pc.fill_null(pc.match_substring_regex(s, pattern), False).to_numpy(zero_copy_only=False)
    empty = pc.utf8_length(s).to_numpy(zero_copy_only=False) == 0
    values = np.full(len(s), np.nan)
    if good.any():
        values[good] = pc.cast(pc.filter(s, pa.array(good)), pa.float64()).to_numpy(zero_copy_only=False)
    status = np.where(good, OK, np.where(empty, EMPTY, BAD)).astype(np.int8)
    return values, status


def check_bad(
    status: np.ndarray,
    column_values: pa.ChunkedArray | pa.Array,
    *,
    file: str | Path,
    column: str,
    what: str,
    max_bad_share: float,
    bad_codes: Sequence[int] = (BAD,),
    first_data_row: int = 2,
) -> np.ndarray:
    """The mask of unusable values; an :class:`InputError` when they are too many.

    ``first_data_row`` is the line of the first data row as an editor shows it (2 for a CSV
    with one header line, 1 for a ``.sav`` file, where rows count from the first case).
    """
    bad = np.isin(status, list(bad_codes))
    n_bad = int(bad.sum())
    if n_bad and n_bad > max_bad_share * len(status):
        first = int(np.flatnonzero(bad)[0])
        example = column_values[first].as_py() if hasattr(column_values[first], "as_py") else column_values[first]
        raise InputError(
            f"{n_bad} of {len(status)} values are not {what} (first: {example!r})",
            file=file,
            row=first + first_data_row,
            column=column,
            hint=f"the column should hold {what}; more than {max_bad_share:.2%} unusable values suggests another "
            "format or a damaged export (register.checks.max_bad_share in config.yaml sets the limit)",
        )
    return bad


def first_data_row(path: str | Path) -> int:
    """Editor line of the first data row: 2 for CSV (header line), 1 for .sav."""
    return 1 if Path(path).suffix.lower() == ".sav" else 2
