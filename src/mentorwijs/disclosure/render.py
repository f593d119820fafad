"""Text cells of a checked table: keys and counts as whole numbers, estimates to 8 significant
digits, indicators 0/1, suppressed figures as the marker; the same rendering decides what a
published cell shows when report text is compared with it (:mod:`.text_scan`)."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mentorwijs.contracts import DOMINANCE_COLUMN
from mentorwijs.disclosure.specs import TableSpec


def render_table(frame: pd.DataFrame, spec: TableSpec, suppressed: Mapping[tuple[int, int], str],
                 marker: str) -> pd.DataFrame:
    """Text cells: keys and counts as integers, estimates to 8 significant digits, and the marker in
    every cell of a suppressed (row, figure); the dominance column (check only) is dropped."""
    counts = set(spec.count_columns())
    out = pd.DataFrame(index=range(len(frame)))
    for col in frame.columns:
        if col == DOMINANCE_COLUMN:
            continue
        if col in spec.keys:
            out[col] = [render_key(v) for v in frame[col]]
        elif col in counts:
            out[col] = [render_count(v) for v in frame[col]]
        elif col in spec.info and frame[col].dtype == object:
            out[col] = [render_info(v) for v in frame[col]]
        else:
            out[col] = [render_number(v) for v in frame[col]]
    for (row, f) in suppressed:
        for col in spec.figures[f].cells():
            if col in frame.columns:
                out.at[row, col] = marker
    return out.reset_index(drop=True)


def is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def render_number(value: Any) -> str:
    if is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, str):
        return value
    number = float(value)
    if math.isnan(number):
        return ""
    text = f"{number:.8g}"
    return "0" if text in ("-0", "0") else text


def render_count(value: Any) -> str:
    if is_missing(value):
        return ""
    return str(int(round(float(value))))


def render_key(value: Any) -> str:
    if is_missing(value):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return render_number(value)


def render_info(value: Any) -> str:
    if is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return "1" if value.strip().lower() == "true" else "0"
    return render_number(value)


def render_log_n(n: Any) -> str:
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    if isinstance(n, str):
        return n
    return render_count(n)
