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

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from mentorwijs.errors import InputError
from mentorwijs.register.calendar import yyyymmdd_to_days

log = logging.getLogger(__name__)

#: Status codes of parsed values.
OK, EMPTY, BAD = 0, 1, 2

_SEPARATORS = (",", ";", "\t")

#: How many bytes of a file are looked at to tell its encoding, separator and kind.
_SNIFF_BYTES = 65536

#: Leading bytes of file kinds that are delivered by mistake under a ``.csv`` name.
_MAGIC = (
    (b"$FL2", "an SPSS .sav file", "give it the suffix .sav in config.yaml (register.files), or export it as CSV"),
    (b"$FL3", "an SPSS .zsav file", "export it as .sav or CSV"),
    (b"PK\x03\x04", "a ZIP archive or an Excel .xlsx workbook", "unpack it, or save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook", "save the sheet as CSV"),
    (b"PAR1", "a Parquet file", "deliver the extract as CSV or .sav"),
    (b"\x1f\x8b", "a gzip-compressed file", "unpack it first (gunzip)"),
)


def _open_error(path: Path, exc: OSError, kind: str) -> InputError:
    return InputError(f"the {kind} extract cannot be opened ({exc.strerror or exc})", file=path,
                      hint="check that the file is readable by your account (permissions) and not "
                           "locked by another program")


def _sniff(path: Path, kind: str) -> tuple[str, str]:
    """(first line, encoding) of a text extract; an :class:`InputError` for a file that is empty,
    not text, or another format under a CSV name."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise _open_error(path, exc, kind) from None
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise InputError(f"the {kind} extract is empty (0 bytes or only blank lines, no header line)", file=path,
                         hint="the copy or export stopped early: copy or export the file again, with its header line")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
        text = raw[: len(raw) // 2 * 2].decode(encoding, errors="replace")
    else:
        for magic, what, fix in _MAGIC:
            if raw.startswith(magic):
                raise InputError(f"the {kind} extract is not a text (CSV) file: it looks like {what}", file=path,
                                 hint=fix)
        control = [i for i, b in enumerate(raw[:4096]) if b < 32 and b not in (9, 10, 13)]
        if control:
            raise InputError(f"the {kind} extract is not a text (CSV) file: it holds binary bytes (the first at byte "
                             f"{control[0] + 1})", file=path,
                             hint="the file is damaged or in another format: copy or export it again as CSV")
        text, encoding = None, "latin-1"
        for candidate in ("utf-8-sig", "cp1252"):
            try:
                text = raw.decode(candidate)
            except UnicodeDecodeError as exc:
                # a multi-byte character cut at the end of the sample is not a decoding error
                if candidate == "utf-8-sig" and len(raw) == _SNIFF_BYTES and exc.start >= len(raw) - 3:
                    text = raw[: exc.start].decode(candidate)
                else:
                    continue
            encoding = candidate
            break
        if text is None:
            text = raw.decode("latin-1")
    line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return line, encoding


def _header_line(path: Path) -> tuple[str, str]:
    return _sniff(path, "register")


def _split_header(header: str) -> tuple[str, list[str]]:
    sep = max(_SEPARATORS, key=header.count)
    return sep, [h.strip().strip('"').strip() for h in header.split(sep)]


def _resolve_columns(available: Sequence[str], wanted: Sequence[str], path: Path, kind: str) -> dict[str, str]:
    """Wanted name -> name in the file (matched case-insensitively, surrounding blanks ignored)."""
    positions: dict[str, list[int]] = {}
    for i, c in enumerate(available):
        positions.setdefault(str(c).strip().lower(), []).append(i)
    mapping = {}
    for name in wanted:
        found = positions.get(name.strip().lower())
        if found is None:
            shown = ", ".join(map(str, available[:30])) + (", ..." if len(available) > 30 else "")
            raise InputError(
                f"column {name!r} is missing from this {kind} extract (it has: {shown})",
                file=path,
                row=1 if path.suffix.lower() != ".sav" else None,
                column=name,
                hint="check the file against docs/raw-data.md, or set the column's name under "
                     "register.variables in config.yaml",
            )
        if len(found) > 1:
            raise InputError(
                f"column {name!r} appears {len(found)} times in the header (columns "
                f"{', '.join(str(i + 1) for i in found)}): it is not clear which one to read",
                file=path, row=1 if path.suffix.lower() != ".sav" else None, column=name,
                hint="export the file again with each column once, or rename the copy that is not the CBS variable",
            )
        mapping[name] = available[found[0]]
    return mapping


def read_extract(path: str | Path, columns: Sequence[str], *, kind: str, allow_empty: bool = False) -> pa.Table:
    """Read the named columns of a register extract as text (``.csv`` or ``.sav``).

    Returns a table with exactly ``columns`` (in that order, named as asked), every column a
    string column; empty cells are empty strings. ``kind`` names the extract in messages.
    An unreadable, truncated, binary or empty file, a missing or doubled column, or a file
    without data rows (unless ``allow_empty``) is an :class:`InputError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{kind} extract not found",
            file=path,
            hint="check the path under register in config.yaml (relative to the repository root), or bring "
                 "the file into data/raw/",
        )
    suffix = path.suffix.lower()
    if suffix == ".sav":
        table = _read_sav(path, columns, kind)
    else:
        table = _read_csv(path, columns, kind)
    if table.num_rows == 0 and allow_empty:
        log.warning("%s: the %s extract has no data rows; check that it is complete", path.name, kind)
    if table.num_rows == 0 and not allow_empty:
        raise InputError(f"the {kind} extract has no data rows (only the header)", file=path,
                         hint="the export or copy is incomplete: ask CBS for the complete extract, or copy it again")
    return table


def extract_columns(path: str | Path, *, kind: str) -> list[str]:
    """The column names of a register extract (CSV header or ``.sav`` variables)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{kind} extract not found", file=path, hint="check the path under register in config.yaml")
    if path.suffix.lower() == ".sav":
        return list(_sav_metadata(path, kind).column_names)
    header, _ = _sniff(path, kind)
    return _split_header(header)[1] if header.strip() else []


def _csv_options(n_fields: int, wanted: Sequence[int], sep: str, encoding: str) -> dict:
    """Read options with the columns named by position (``c0``, ``c1``, ...): the header line is
    matched by :func:`_resolve_columns`, so blanks or quotes around names do not matter."""
    names = [f"c{i}" for i in range(n_fields)]
    return dict(
        read_options=pcsv.ReadOptions(encoding=encoding, block_size=1 << 24, column_names=names, skip_rows=1),
        parse_options=pcsv.ParseOptions(delimiter=sep),
        convert_options=pcsv.ConvertOptions(
            column_types={c: pa.string() for c in names},
            include_columns=[names[i] for i in dict.fromkeys(wanted)],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _read_csv(path: Path, columns: Sequence[str], kind: str) -> pa.Table:
    header, encoding = _sniff(path, kind)
    if not header.strip():
        raise InputError(f"the {kind} extract is empty (no header line)", file=path,
                         hint="export the file again with its header")
    sep, names = _split_header(header)
    mapping = _resolve_columns(names, columns, path, kind)
    position = {name: names.index(actual) for name, actual in mapping.items()}
    enc = "utf8" if encoding == "utf-8-sig" else encoding
    options = lambda enc: _csv_options(len(names), list(position.values()), sep, enc)  # noqa: E731
    try:
        try:
            table = pcsv.read_csv(path, **options(enc))
        except pa.ArrowInvalid as exc:
            if enc != "utf8" or "UTF8" not in str(exc):
                raise
            # text after the first 64 kB is not UTF-8: a Windows (cp1252) export
            enc = "cp1252"
            table = pcsv.read_csv(path, **options(enc))
    except (pa.ArrowInvalid, pa.ArrowKeyError, UnicodeError, ValueError) as exc:
        raise _parse_error(path, kind, sep, enc, len(names), exc) from None
    except OSError as exc:
        if getattr(exc, "errno", None):
            raise _open_error(path, exc, kind) from None
        raise _parse_error(path, kind, sep, enc, len(names), exc) from None
    result = pa.table([table.column(f"c{position[c]}") for c in columns], names=list(columns))
    for name in dict.fromkeys(columns):
        nul = pc.fill_null(pc.match_substring(result[name], "\x00"), False).to_numpy(zero_copy_only=False)
        if nul.any():
            raise InputError(f"the {kind} extract holds NUL bytes (zeros) in {int(nul.sum())} row(s): a copy that "
                             "stopped or crashed leaves them", file=path, row=int(np.flatnonzero(nul)[0]) + 2,
                             column=name,
                             hint="copy the file again from the delivery, and compare its size with the original")
    return result


#: Yielded by :func:`iter_extract` when a CSV turns out to be Windows-1252 after its first batches:
#: the batches so far are void and the file is read again from its first row.
RESTART = object()

#: Bytes per batch of a streamed CSV extract (a batch holds about this much text).
STREAM_BLOCK_BYTES = 1 << 26


def iter_extract(path: str | Path, columns: Sequence[str], *, kind: str, block_bytes: int = STREAM_BLOCK_BYTES,
                 sav_rows: int = 1_000_000):
    """Read a register extract in batches: yields ``(first row index, table)`` per batch, with the
    columns of :func:`read_extract` (``columns`` as text, in that order), or :data:`RESTART`.

    The same checks and messages as :func:`read_extract`, for the whole file: a damaged row stops
    the reading with the row that breaks the structure; NUL bytes and a file without data rows
    are reported after the last batch (counted over the whole file, first row named). A CSV that
    is not UTF-8 after its first batches is read again as Windows-1252: :data:`RESTART` tells the
    caller to forget the batches it got. A ``.sav`` file is read whole (pyreadstat reads whole
    files) and handed over in slices of ``sav_rows`` rows.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{kind} extract not found",
            file=path,
            hint="check the path under register in config.yaml (relative to the repository root), or bring "
                 "the file into data/raw/",
        )
    if path.suffix.lower() == ".sav":
        yield from _iter_sav(path, columns, kind, sav_rows)
        return
    header, encoding = _sniff(path, kind)
    if not header.strip():
        raise InputError(f"the {kind} extract is empty (no header line)", file=path,
                         hint="export the file again with its header")
    sep, names = _split_header(header)
    mapping = _resolve_columns(names, columns, path, kind)
    position = {name: names.index(actual) for name, actual in mapping.items()}
    enc = "utf8" if encoding == "utf-8-sig" else encoding
    wanted = list(dict.fromkeys(columns))
    while True:
        offset = 0
        nul_rows = {name: 0 for name in wanted}
        nul_first: dict[str, int] = {}
        options = _csv_options(len(names), list(position.values()), sep, enc)
        options["read_options"].block_size = block_bytes
        try:
            try:
                reader = pcsv.open_csv(path, **options)
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        break
                    result = pa.table([batch.column(f"c{position[c]}") for c in columns], names=list(columns))
                    _count_nul(result, wanted, offset, nul_rows, nul_first)
                    if result.num_rows:
                        yield offset, result
                    offset += result.num_rows
            except pa.ArrowInvalid as exc:
                if enc != "utf8" or "UTF8" not in str(exc):
                    raise
                # text after the first 64 kB is not UTF-8: a Windows (cp1252) export
                enc = "cp1252"
                yield RESTART
                continue
        except (pa.ArrowInvalid, pa.ArrowKeyError, UnicodeError, ValueError) as exc:
            raise _parse_error(path, kind, sep, enc, len(names), exc) from None
        except OSError as exc:
            if getattr(exc, "errno", None):
                raise _open_error(path, exc, kind) from None
            raise _parse_error(path, kind, sep, enc, len(names), exc) from None
        break
    for name in wanted:
        if nul_rows[name]:
            raise InputError(f"the {kind} extract holds NUL bytes (zeros) in {nul_rows[name]} row(s): a copy that "
                             "stopped or crashed leaves them", file=path, row=nul_first[name] + 2, column=name,
                             hint="copy the file again from the delivery, and compare its size with the original")
    if offset == 0:
        raise _no_data_rows(path, kind)


def _no_data_rows(path: Path, kind: str) -> InputError:
    """The error for an extract with a header and no data row."""
    return InputError(f"the {kind} extract has no data rows (only the header)", file=path,
                      hint="the export or copy is incomplete: ask CBS for the complete extract, or copy it again")


def _iter_sav(path: Path, columns: Sequence[str], kind: str, sav_rows: int):
    """A ``.sav`` extract read whole, handed over in slices of ``sav_rows`` rows."""
    table = _read_sav(path, columns, kind)
    if table.num_rows == 0:
        raise _no_data_rows(path, kind)
    for offset in range(0, table.num_rows, sav_rows):
        yield offset, table.slice(offset, sav_rows)


def _count_nul(result: pa.Table, wanted: Sequence[str], offset: int, nul_rows: dict, nul_first: dict) -> None:
    """Add one batch's rows with NUL bytes to ``nul_rows`` per column, and keep the index of the
    first such row of the file in ``nul_first`` (``offset``: the batch's first row index)."""
    for name in wanted:
        if not _may_hold_nul(result[name]):
            continue
        nul = pc.fill_null(pc.match_substring(result[name], "\x00"), False).to_numpy(zero_copy_only=False)
        if nul.any():
            nul_rows[name] += int(nul.sum())
            nul_first.setdefault(name, offset + int(np.flatnonzero(nul)[0]))


def _may_hold_nul(column: pa.ChunkedArray) -> bool:
    """False when no text buffer of the column holds a zero byte (then no value holds NUL); a
    quick look at the bytes before the exact, slower check of every value."""
    for chunk in column.chunks:
        buffers = chunk.buffers()
        if len(buffers) < 3 or buffers[2] is None:
            return True
        if (np.frombuffer(buffers[2], dtype=np.uint8) == 0).any():
            return True
    return False


def _parse_error(path: Path, kind: str, sep: str, encoding: str, n_fields: int, exc: Exception) -> InputError:
    """The first row that breaks the CSV structure, found by reading the file again line by line."""
    import csv
    import io

    shown = {",": "','", ";": "';'", "\t": "tab"}[sep]
    codec = {"utf8": "utf-8-sig"}.get(encoding, encoding)
    row, problem = None, None
    try:
        with io.open(path, "r", encoding=codec, errors="strict", newline="") as handle:
            reader = csv.reader(handle, delimiter=sep)
            last_row, last_fields, last_line = None, n_fields, 0
            for fields in reader:
                line = reader.line_num
                if any("\n" in f or "\r" in f for f in fields):
                    row, problem = last_line + 1, ('a quote (") opened in this row is not closed on the same line: '
                                                     "the row runs into the following lines")
                    break
                if any("\x00" in f for f in fields):
                    row, problem = line, "the row holds NUL bytes (zeros): a copy that stopped or crashed leaves them"
                    break
                if fields and len(fields) != n_fields:
                    if row is None:
                        row, last_fields = line, len(fields)
                    last_row = line
                last_line = line
            if row is not None and problem is None:
                truncated = row == last_row == last_line and last_fields < n_fields
                problem = (f"the row has {last_fields} field(s) where the header has {n_fields} ({shown}-separated)"
                           + ("; it is the last row, so the file was probably cut off (truncated)" if truncated
                              else ""))
    except UnicodeDecodeError as err:
        problem = f"the file is not valid {codec} text (byte {err.start + 1} of a block cannot be decoded)"
    except (csv.Error, OSError) as err:
        problem = f"the file cannot be read as CSV: {err}"
    if problem is None:
        problem = f"the file cannot be read as {shown}-separated text: {str(exc).splitlines()[0]}"
    return InputError(problem, file=path, row=row,
                      hint="the export or copy is damaged or incomplete: copy or export the file again "
                           "(one header line, the same number of fields in every row)")


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


_SAV_HINT = "the file is damaged or incomplete (a copy that stopped early?): copy it again, or ask CBS for a new export"


def _sav_metadata(path: Path, kind: str):
    import pyreadstat

    try:
        with path.open("rb") as handle:
            start = handle.read(4)
    except OSError as exc:
        raise _open_error(path, exc, kind) from None
    if not start:
        raise InputError(f"the {kind} extract is empty (0 bytes)", file=path, hint=_SAV_HINT)
    if start not in (b"$FL2", b"$FL3"):
        raise InputError(f"the {kind} extract is not an SPSS .sav file (it does not start with the SPSS signature)",
                         file=path,
                         hint="export the file again as .sav, or give it its real suffix (.csv) in config.yaml")
    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    except Exception as exc:  # pyreadstat raises its own ReadstatError and others
        raise InputError(f"the {kind} extract cannot be read as an SPSS .sav file ({exc})", file=path,
                         hint=_SAV_HINT) from None
    return meta


def _read_sav(path: Path, columns: Sequence[str], kind: str) -> pa.Table:
    import pyreadstat

    meta = _sav_metadata(path, kind)
    mapping = _resolve_columns(list(meta.column_names), columns, path, kind)
    try:
        frame, _ = pyreadstat.read_sav(str(path), user_missing=True, usecols=list(dict.fromkeys(mapping.values())))
    except Exception as exc:  # a truncated file has a complete header but too few cases
        expected = f" (its header announces {meta.number_rows} cases)" if getattr(meta, "number_rows", None) else ""
        raise InputError(f"the {kind} extract is truncated or damaged: {exc}{expected}", file=path,
                         hint=_SAV_HINT) from None
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
        raise too_many_bad(n_bad, len(status), example, file=file, row=first + first_data_row, column=column, what=what,
                           max_bad_share=max_bad_share)
    return bad


def too_many_bad(n_bad: int, n: int, example, *, file: str | Path, row: int, column: str, what: str,
                 max_bad_share: float) -> InputError:
    """The error of :func:`check_bad`: ``n_bad`` of ``n`` values unusable, the first at ``row``."""
    return InputError(
        f"{n_bad} of {n} values are not {what} (first: {example!r})",
        file=file,
        row=row,
        column=column,
        hint=f"the column should hold {what}; more than {max_bad_share:.2%} unusable values suggests another "
        "format or a damaged export (register.checks.max_bad_share in config.yaml sets the limit)",
    )


class BadTally:
    """:func:`check_bad` over a file read in batches: the unusable values of one column are
    counted batch by batch (:meth:`add` returns the batch's mask) and judged against the whole
    file's rows by :meth:`check`, which names the file's first unusable row."""

    def __init__(self, column: str, what: str, bad_codes: Sequence[int] = (BAD,)):
        self.column, self.what, self.bad_codes = column, what, list(bad_codes)
        self.n_bad, self.n, self.first, self.example = 0, 0, None, None

    def add(self, status: np.ndarray, column_values: pa.ChunkedArray | pa.Array, offset: int) -> np.ndarray:
        bad = np.isin(status, self.bad_codes)
        n_bad = int(bad.sum())
        if n_bad and self.first is None:
            first = int(np.flatnonzero(bad)[0])
            value = column_values[first]
            self.first, self.example = offset + first, value.as_py() if hasattr(value, "as_py") else value
        self.n_bad += n_bad
        self.n += len(status)
        return bad

    def check(self, *, file: str | Path, max_bad_share: float, first_data_row: int = 2) -> None:
        if self.n_bad and self.n_bad > max_bad_share * self.n:
            raise too_many_bad(self.n_bad, self.n, self.example, file=file, row=self.first + first_data_row,
                               column=self.column, what=self.what, max_bad_share=max_bad_share)


def first_data_row(path: str | Path) -> int:
    """Editor line of the first data row: 2 for CSV (header line), 1 for .sav."""
    return 1 if Path(path).suffix.lower() == ".sav" else 2
