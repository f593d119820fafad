"""Shared checks and small statistical helpers of the effect estimators.

Input checks raise :class:`mentorwijs.errors.InputError` naming the table and column, so that a
user who feeds a malformed panel or survival table gets one message and a fix, not a traceback.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from mentorwijs.errors import InputError


def require_columns(df: pd.DataFrame, columns: Iterable[str], table: str) -> None:
    """Raise an :class:`InputError` when ``df`` lacks any of ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"the {table} table must be a DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"the {table} table has no column(s) {', '.join(missing)}",
            column=missing[0],
            hint=f"the {table} table must follow its data contract (docs/register.md, rule "
                 "register_panel; docs/effects.md)",
        )


def indicator(df: pd.DataFrame, column: str, table: str, *, allow_missing: bool = False) -> np.ndarray:
    """A 0/1 column as float array (NaN where missing, if allowed); anything else is an error."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(values, (0.0, 1.0))
    if allow_missing:
        bad &= ~np.isnan(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"the {table} table's column {column} must hold 0 or 1, found {df[column].iloc[row]!r}",
            row=row + 1,
            column=column,
            hint="indicator columns are integers 0/1 (docs/register.md)",
        )
    return values


def weights(df: pd.DataFrame, column: str, table: str) -> np.ndarray:
    """Non-negative finite weights as a float array."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"the {table} table's column {column} must hold finite non-negative weights, found "
            f"{df[column].iloc[row]!r}",
            row=row + 1,
            column=column,
            hint="matching weights are 1 for trainees and the sum of 1/k over the trainees a control serves",
        )
    return values


def whole_numbers(df: pd.DataFrame, column: str, table: str, *, minimum: float | None = None) -> np.ndarray:
    """An integer-valued column (months) as int64; fractional, missing or too small values are errors."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if minimum is not None:
        bad |= values < minimum
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        limit = f" of at least {minimum:g}" if minimum is not None else ""
        raise InputError(
            f"the {table} table's column {column} must hold whole numbers{limit}, found {df[column].iloc[row]!r}",
            row=row + 1,
            column=column,
            hint="months and survival times are whole months (docs/register.md)",
        )
    return values.astype(np.int64)


def codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..G-1 and the sorted labels of a key column (missing keys are an error upstream)."""
    codes_, labels = pd.factorize(pd.Series(values), sort=True)
    return codes_.astype(np.int64), np.asarray(labels)


def check_keys(df: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    """Key columns (person, cluster, strata) may not be missing."""
    for column in columns:
        missing = df[column].isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise InputError(
                f"the {table} table's key column {column} is empty",
                row=row + 1,
                column=column,
                hint="every row needs its unit, person and cohort",
            )


def t_summary(estimate, se, df, level: float = 0.95):
    """CI and two-sided p from a t distribution with ``df`` degrees of freedom (normal if df is inf)."""
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    q = stats.t.ppf(0.5 + level / 2, df) if np.isfinite(df) else stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = estimate / se
        p = 2 * (stats.t.sf(np.abs(z), df) if np.isfinite(df) else stats.norm.sf(np.abs(z)))
    p = np.where(se > 0, p, np.nan)
    return estimate - q * se, estimate + q * se, p


def z_summary(estimate, se, level: float = 0.95):
    """Normal-theory CI and two-sided p."""
    return t_summary(estimate, se, np.inf, level)


def join_warnings(messages: Iterable[str]) -> str:
    """Warnings of one model row as one text cell ('' when there are none), in a stable order."""
    seen: list[str] = []
    for message in messages:
        if message and message not in seen:
            seen.append(message)
    return "; ".join(seen)


def excludes_zero(low, high) -> pd.array:
    """1 where the interval [low, high] lies entirely on one side of 0, 0 where it covers 0, NA if unknown."""
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    known = np.isfinite(low) & np.isfinite(high)
    flag = pd.array(((low > 0) | (high < 0)).astype("int64"), dtype="Int64")
    flag[~known] = pd.NA
    return flag
