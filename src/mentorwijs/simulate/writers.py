"""Byte-deterministic writers for the export formats the synthetic study imitates.

Every writer produces the same bytes for the same table whatever the directory, time zone,
locale or hash seed: SPSS stamps the creation time into the ``.sav`` header and openpyxl
stamps document properties and zip-entry times into ``.xlsx``; both are replaced by a fixed
date here. Callers format dates and numbers as the format prescribes before writing.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

#: The fixed timestamp written into file metadata (SAV header, xlsx properties and zip entries).
FIXED_TIMESTAMP = _dt.datetime(2022, 1, 1, 0, 0, 0)

_SAV_DATE_OFFSET = 92  # '$FL2' + product name(60) + 5 int32 + bias(float64): creation date 'dd mmm yy'
_SAV_TIME_OFFSET = 101  # creation time 'hh:mm:ss'


def _text_cells(df: pd.DataFrame, decimal: str = ".") -> pd.DataFrame:
    """Render every cell as text: None/NaN -> '', floats without trailing noise, given decimal mark."""

    def render(value: object) -> str:
        if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
            return ""
        if isinstance(value, float):
            text = repr(value)
            if text.endswith(".0"):
                text = text[:-2]
            return text.replace(".", decimal) if decimal != "." else text
        return str(value)

    return df.map(render)


def _write_delimited(
    rows: Sequence[Sequence[str]],
    path: str | Path,
    *,
    sep: str,
    encoding: str,
    bom: bool,
    line_end: str,
) -> None:
    def quote(cell: str) -> str:
        if any(ch in cell for ch in (sep, '"', "\n", "\r")):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    text = line_end.join(sep.join(quote(c) for c in row) for row in rows) + line_end
    data = text.encode(encoding)
    if bom:
        data = "\ufeff".encode("utf-8") + data if encoding.lower().replace("-", "") == "utf8" else data
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_csv(
    df: pd.DataFrame,
    path: str | Path,
    *,
    sep: str = ",",
    decimal: str = ".",
    encoding: str = "utf-8",
    bom: bool = False,
    line_end: str = "\n",
    header_rows: Sequence[Sequence[str]] | None = None,
) -> None:
    """Write a table as delimited text.

    ``header_rows`` replaces the single header line (Qualtrics writes three). Cells are written
    as given (strings) or rendered (numbers with ``decimal``); quoting follows RFC 4180.
    """
    body = _text_cells(df, decimal=decimal).values.tolist()
    heads = [list(map(str, r)) for r in header_rows] if header_rows is not None else [list(map(str, df.columns))]
    _write_delimited(heads + body, path, sep=sep, encoding=encoding, bom=bom, line_end=line_end)


def write_dutch_excel_csv(df: pd.DataFrame, path: str | Path, *, utf8_bom: bool = False) -> None:
    """CSV as Excel writes it on Dutch Windows: ';', decimal comma, CRLF, cp1252 (or UTF-8 with BOM)."""
    write_csv(
        df,
        path,
        sep=";",
        decimal=",",
        encoding="utf-8" if utf8_bom else "cp1252",
        bom=utf8_bom,
        line_end="\r\n",
    )


def normalise_zip(path: str | Path) -> None:
    """Rewrite a zip container (xlsx) with fixed entry times, in the original entry order."""
    path = Path(path)
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            fixed.create_system = 0
            payload = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time into dcterms:modified whatever the properties say
                stamp = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", payload)
            target.writestr(fixed, payload)
    path.write_bytes(out.getvalue())


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | Path, *, creator: str = "Castor EDC") -> None:
    """Write sheets (all cells as text, as Castor's Excel export does) with fixed metadata."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(title=name[:31])
        sheet.append([str(c) for c in frame.columns])
        for row in _text_cells(frame).itertuples(index=False):
            sheet.append([cell if cell != "" else None for cell in row])
    workbook.properties.creator = creator
    workbook.properties.lastModifiedBy = creator
    workbook.properties.created = FIXED_TIMESTAMP
    workbook.properties.modified = FIXED_TIMESTAMP
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    normalise_zip(path)


def write_sav(
    df: pd.DataFrame,
    path: str | Path,
    *,
    variable_value_labels: Mapping[str, Mapping[float, str]] | None = None,
    missing_ranges: Mapping[str, list] | None = None,
    column_labels: Mapping[str, str] | None = None,
    file_label: str = "",
) -> None:
    """Write an SPSS ``.sav`` file and overwrite the creation date and time in its header."""
    import pyreadstat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(
        df,
        str(path),
        file_label=file_label,
        column_labels=dict(column_labels) if column_labels else None,
        variable_value_labels={k: dict(v) for k, v in (variable_value_labels or {}).items()} or None,
        missing_ranges={k: list(v) for k, v in (missing_ranges or {}).items()} or None,
    )
    data = bytearray(path.read_bytes())
    if data[:4] not in (b"$FL2", b"$FL3"):
        raise RuntimeError(f"unexpected SAV header in {path}")
    data[_SAV_DATE_OFFSET : _SAV_DATE_OFFSET + 9] = FIXED_TIMESTAMP.strftime("%d %b %y").encode("ascii")
    data[_SAV_TIME_OFFSET : _SAV_TIME_OFFSET + 8] = FIXED_TIMESTAMP.strftime("%H:%M:%S").encode("ascii")
    path.write_bytes(bytes(data))
