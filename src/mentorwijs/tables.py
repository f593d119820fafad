"""Deterministic writers for the tables the pipeline shares.

Every output table is written whole or not at all (to a temporary sibling, then renamed), so
a failure never leaves a partial file. CSV tables follow the project's conventions: UTF-8,
comma, decimal point, numbers to 8 significant digits, ``\\n`` line ends, missing values as
empty cells, rows sorted by the given key columns. The same table gives the same bytes on
every run and platform.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SIGNIFICANT_DIGITS = 8


def _replace_atomically(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)


def format_number(value: object) -> str:
    """A cell as text: integers as integers, floats to 8 significant digits, missing as ''."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if x == 0:
            return "0"
        text = format(x, f".{SIGNIFICANT_DIGITS}g")
        return text
    return str(value)


def _quote(cell: str) -> str:
    if any(ch in cell for ch in (",", '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def write_csv_table(df: pd.DataFrame, path: str | Path, *, sort_by: Sequence[str] | None = None) -> Path:
    """Write ``df`` as a project CSV table (see the module docstring); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = df.sort_values(list(sort_by), kind="mergesort") if sort_by else df
    lines = [",".join(_quote(str(c)) for c in frame.columns)]
    columns = [frame[c].tolist() for c in frame.columns]
    for row in zip(*columns) if columns else []:
        lines.append(",".join(_quote(format_number(v)) for v in row))
    text = "\n".join(lines) + "\n"
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(text.encode("utf-8"))
    _replace_atomically(tmp, path)
    return path


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` (without its index) as Parquet, atomically and byte-deterministically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    tmp = path.with_name(f".{path.name}.partial")
    pq.write_table(table, tmp, compression="zstd")
    _replace_atomically(tmp, path)
    return path


def read_parquet(path: str | Path) -> pd.DataFrame:
    """Read a Parquet table written by :func:`write_parquet`."""
    from mentorwijs.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError("table not found", file=path, hint="run the step that writes it first")
    return pq.read_table(path).to_pandas()
