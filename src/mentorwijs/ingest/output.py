"""Writing tables: atomic (never a partial file), deterministic (the same bytes every run).

CSV tables are UTF-8, comma-separated, decimal point, numbers to 8 significant digits, ``\\n``
line ends, missing as an empty cell; rows are written in the order given (callers sort).
Parquet files are written by pyarrow without the pandas index.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

SIGNIFICANT_DIGITS = 8


def _atomic_write(path: str | Path, payload: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def format_cell(value) -> str:
    """One CSV cell: numbers to 8 significant digits, integers as integers, missing empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return ""
        if np.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value == 0:
            return "0"  # also -0.0
        return f"{float(value):.{SIGNIFICANT_DIGITS}g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
    return str(value)


def _quote(cell: str) -> str:
    if any(ch in cell for ch in (",", '"', "\n", "\r")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def table_csv_text(frame: pd.DataFrame) -> str:
    lines = [",".join(_quote(str(c)) for c in frame.columns)]
    for row in frame.itertuples(index=False, name=None):
        lines.append(",".join(_quote(format_cell(v)) for v in row))
    return "\n".join(lines) + "\n"


def write_csv_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table as the project's CSV (see the module docstring), atomically."""
    _atomic_write(path, table_csv_text(frame).encode("utf-8"))


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table as parquet (no index), atomically."""
    import io

    buffer = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buffer, index=False, engine="pyarrow")
    _atomic_write(path, buffer.getvalue())


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_csv_table` (text columns stay text)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
