"""Helpers shared by the supervisors' tables: waves, column checks, summaries."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from mentorwijs.errors import InputError

WAVE_PATTERN = re.compile(r"^T([0-9]+)$")


def wave_number(wave: str) -> int:
    """The number of a wave name: 'T0' -> 0, 'T12' -> 12."""
    match = WAVE_PATTERN.match(str(wave))
    if match is None:
        raise ValueError(f"not a wave name: {wave!r}")
    return int(match.group(1))


def sorted_waves(waves: Iterable[str], *, table: str) -> list[str]:
    """The distinct wave names in time order (T0, T1, ..., T10); a bad name is an InputError."""
    names = sorted({str(w) for w in waves if not pd.isna(w)})
    for name in names:
        if WAVE_PATTERN.match(name) is None:
            raise InputError(
                f"wave {name!r} is not a wave name",
                file=table,
                column="wave",
                hint="waves are named T0, T1, T2, ... (as in config.yaml)",
            )
    return sorted(names, key=wave_number)


def require_columns(df: pd.DataFrame, columns: Sequence[str], *, table: str) -> None:
    """Raise an InputError naming the first required column that the table lacks."""
    for column in columns:
        if column not in df.columns:
            raise InputError(
                f"the table has no column {column!r}",
                file=table,
                column=column,
                hint="the table must follow the canonical names of docs/canonical-names.md",
            )


def require_unique(df: pd.DataFrame, keys: Sequence[str], *, table: str) -> None:
    """Raise an InputError at the first duplicated key (one row per key is the contract)."""
    duplicated = df.duplicated(list(keys), keep="first")
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        values = ", ".join(f"{k}={df[k].iloc[position]!s}" for k in keys)
        raise InputError(
            f"more than one row for {values}",
            file=table,
            row=position + 1,
            hint="the table must hold one row per " + " per ".join(keys),
        )


def require_range(df: pd.DataFrame, column: str, low: float, high: float, *, table: str) -> None:
    """Raise an InputError at the first non-missing value outside [low, high]."""
    values = pd.to_numeric(df[column], errors="coerce")
    bad = (values.notna() & ((values < low) | (values > high))) | (values.isna() & df[column].notna())
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"value {df[column].iloc[position]!r} is outside {low:g}..{high:g}",
            file=table,
            row=position + 1,
            column=column,
            hint="scores and items must be numbers on the questionnaire's scale (missing as empty)",
        )


def mean_sd(values: pd.Series) -> tuple[int, float, float]:
    """n, mean and SD (n - 1 in the denominator) of the non-missing values."""
    values = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    n = int(values.size)
    mean = float(values.mean()) if n else np.nan
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    return n, mean, sd


LEADING_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?")


def natural_key(value: object) -> tuple:
    """Sort key: empty first, then text starting with a number (or a wave) by that number, then text.

    Waves sort by their number (T2 before T10), categories such as '1-2', '3', '4-5' by their
    leading number.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or value == "":
        return (0, 0.0, "")
    text = str(value)
    match = WAVE_PATTERN.match(text)
    if match:
        return (1, float(match.group(1)), text)
    match = LEADING_NUMBER.match(text)
    if match:
        return (1, float(match.group(0)), text)
    return (2, 0.0, text)


def sort_rows(df: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Rows sorted by the key columns, waves and numeric categories in natural order."""
    if df.empty:
        return df.reset_index(drop=True)
    order = sorted(range(len(df)), key=lambda i: tuple(natural_key(df[k].iloc[i]) for k in keys))
    return df.iloc[order].reset_index(drop=True)
