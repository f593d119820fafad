"""Tables of the questionnaire part: the project's writers (:mod:`mentorwijs.tables`) and a reader.

CSV tables are UTF-8, comma-separated, decimal point, numbers to 8 significant digits, ``\\n``
line ends, missing as an empty cell; rows are written in the order given (callers sort).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mentorwijs.tables import atomic_write, csv_text, format_number, write_csv_table, write_parquet

__all__ = ["atomic_write", "csv_text", "format_number", "read_csv_table", "write_csv_table", "write_parquet"]


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_csv_table` (text columns stay text)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
