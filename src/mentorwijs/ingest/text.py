"""Delimited text exports: encoding, separator, records with their line numbers.

Every problem here stops the file (an :class:`~mentorwijs.errors.InputError` naming file, row
and fix): an encoding that is neither UTF-8 (with or without BOM) nor Windows-1252, a
separator other than the one the format prescribes, an open quote or a last row cut off
without its line break, a row with more or fewer fields than the header.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from mentorwijs.errors import InputError

#: The separator each text format prescribes (formats.md); a source may override it.
FORMAT_SEPARATORS = {
    "castor_study": ";",
    "castor_survey": ";",
    "dutch_csv": ";",
    "qualtrics": ",",
}
SEPARATOR_NAMES = {";": "';' (semicolon)", ",": "',' (comma)", "\t": "tab"}

_UTF8_BOM = b"\xef\xbb\xbf"


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes; a missing, unreadable or empty file is an error."""
    path = Path(path)
    if not path.exists():
        raise InputError("the file does not exist", file=path,
                         hint="check the path in config.yaml (relative to the repository root) or "
                              "copy the export there")
    if not path.is_file():
        raise InputError("this is a folder, not a file", file=path, hint="name the export file itself")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"the file cannot be read ({exc.strerror})", file=path,
                         hint="check the file's permissions or whether another program holds it open") from None
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError("the file is empty", file=path, hint="export the data again; the export holds no rows")
    return data


def sniff_encoding(data: bytes, file: str | Path | None = None) -> str:
    """``utf-8-sig`` (BOM), ``utf-8`` or ``cp1252``: the first that decodes the whole file.

    UTF-16 and binary content (NUL bytes, e.g. an Excel workbook named ``.csv``) are refused.
    """
    if data.startswith(_UTF8_BOM):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("the file is UTF-16 text, which this format does not use", file=file,
                         hint="export again as CSV in UTF-8 (Excel: 'CSV UTF-8') or as 'CSV (semicolon separated)'")
    elif b"\x00" in data[:65536]:
        raise InputError("the file is not text (it holds NUL bytes): its encoding cannot be determined", file=file,
                         hint="export the data as CSV, or name the right file (an Excel workbook must end in .xlsx)")
    else:
        try:
            data.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1252"
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"the encoding cannot be determined: byte 0x{data[exc.start]:02x} is neither UTF-8 nor "
            "Windows-1252 (cp1252)",
            file=file, row=line,
            hint="open the file in a text editor and save it as UTF-8, then check the characters on that line",
        ) from None
    return encoding


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == char and not quoted:
            count += 1
    return count


def check_separator(header_line: str, expected: str, *, fmt: str, file: str | Path | None = None) -> None:
    """Refuse a header that is split by another separator than ``expected``."""
    if _count_outside_quotes(header_line, expected) > 0:
        return
    found = {sep: _count_outside_quotes(header_line, sep) for sep in SEPARATOR_NAMES if sep != expected}
    other = max(found, key=lambda s: found[s])
    if found[other] > 0:
        raise InputError(
            f"the file is separated by {SEPARATOR_NAMES[other]} but the format {fmt} prescribes "
            f"{SEPARATOR_NAMES[expected]}",
            file=file, row=1,
            hint=f"export the file again with {SEPARATOR_NAMES[expected]} as separator, or, if this export is right, "
            f"set the source's 'separator' in config.yaml to {other!r}",
        )


def decode_text(path: str | Path, *, fmt: str, separator: str | None = None) -> tuple[str, str, str]:
    """Read, sniff and decode a text export: (text, encoding, separator checked)."""
    data = read_bytes(path)
    encoding = sniff_encoding(data, path)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    sep = separator or FORMAT_SEPARATORS.get(fmt, ",")
    first = text.split("\n", 1)[0].rstrip("\r")
    check_separator(first, sep, fmt=fmt, file=path)
    return text, encoding, sep


def split_records(text: str, sep: str, *, file: str | Path | None = None) -> tuple[list[list[str]], list[int]]:
    """Parse delimited text into records and the line each starts on; blank lines are skipped.

    An open quote (a quoted field running to the end of the file) is an error.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    previous = 0
    try:
        for record in reader:
            start = previous + 1
            previous = reader.line_num
            if not record or all(cell.strip() == "" for cell in record):
                continue
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise InputError(
            f"the row starting on this line has an open quote ({exc}): the file looks truncated or damaged",
            file=file, row=previous + 1,
            hint="export the data again; if the text holds a double quote, it must be doubled inside a quoted field",
        ) from None
    return rows, lines


def check_field_counts(rows: list[list[str]], lines: list[int], n_header: int, *, text: str,
                       header_rows: int, file: str | Path | None = None) -> None:
    """Every data row must have as many fields as the header; a short last row without a final
    line break means the file was cut off."""
    for index in range(header_rows, len(rows)):
        n = len(rows[index])
        if n == n_header:
            continue
        last = index == len(rows) - 1
        if last and n < n_header and not text.endswith(("\n", "\r")):
            raise InputError(
                f"the last row ends without a line break and has {n} of {n_header} fields: the file is truncated",
                file=file, row=lines[index],
                hint="the export or the copy was interrupted: export the data again",
            )
        raise InputError(
            f"the row has {n} fields but the header has {n_header}",
            file=file, row=lines[index],
            hint="a separator inside a text answer or a damaged line: export the data again, or repair that line",
        )
