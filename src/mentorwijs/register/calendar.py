"""Calendar months and days as integers.

A calendar month is the integer ``year * 12 + (month - 1)`` (``month_code("2019-05")`` =
24232); a day is the number of days since 1970-01-01. Integers keep the person x month table
compact and every window a subtraction. ``YYYYMMDD`` text dates are parsed vectorised.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def month_code(label: str) -> int:
    """``"YYYY-MM"`` -> the integer month ``year * 12 + month - 1``."""
    match = _MONTH.match(str(label).strip())
    if not match:
        raise ValueError(f"not a month YYYY-MM: {label!r}")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def month_label(code: int) -> str:
    """The integer month as ``"YYYY-MM"``."""
    code = int(code)
    return f"{code // 12:04d}-{code % 12 + 1:02d}"


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm), int64."""
    y = np.asarray(year, dtype=np.int64) - (np.asarray(month) <= 2)
    m = np.asarray(month, dtype=np.int64)
    d = np.asarray(day, dtype=np.int64)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`days_from_civil`: (year, month, day) arrays."""
    z = np.asarray(days, dtype=np.int64) + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return y + (m <= 2), m, d


def days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Number of days of each (year, month)."""
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    nxt_year = year + (month == 12)
    nxt_month = np.where(month == 12, 1, month + 1)
    return days_from_civil(nxt_year, nxt_month, np.ones_like(month)) - days_from_civil(year, month, np.ones_like(month))


def _by_table(values: np.ndarray, function) -> np.ndarray:
    """``function(values)`` computed once per value in their range and looked up (the values of
    a register column span a small range compared with their number)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size < 4096:
        return function(values)
    lo, hi = int(values.min()), int(values.max())
    if hi - lo > 4 * values.size:
        uniques, index = np.unique(values, return_inverse=True)
        return function(uniques)[index]
    return function(np.arange(lo, hi + 1, dtype=np.int64))[values - lo]


def month_of_day(days: np.ndarray) -> np.ndarray:
    """The integer month a day falls in."""

    def compute(d: np.ndarray) -> np.ndarray:
        y, m, _ = civil_from_days(d)
        return y * 12 + m - 1

    return _by_table(days, compute)


def first_day(months: np.ndarray) -> np.ndarray:
    """First day (days since 1970-01-01) of integer months."""

    def compute(m: np.ndarray) -> np.ndarray:
        return days_from_civil(m // 12, m % 12 + 1, np.ones_like(m))

    return _by_table(months, compute)


def last_day(months: np.ndarray) -> np.ndarray:
    """Last day (days since 1970-01-01) of integer months."""
    return first_day(np.asarray(months, dtype=np.int64) + 1) - 1


def month_length(months: np.ndarray) -> np.ndarray:
    """Number of days of integer months."""
    return last_day(months) - first_day(months) + 1


def yyyymmdd_to_days(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integers ``YYYYMMDD`` -> (days since 1970-01-01, valid mask).

    Valid: year 1800..9999 (CBS writes far-future dates such as 88881231 for "open"),
    month 1..12, day within the month.
    """
    v = np.asarray(values, dtype=np.int64)
    year, month, day = v // 10000, (v // 100) % 100, v % 100
    ok = (year >= 1800) & (year <= 9999) & (month >= 1) & (month <= 12) & (day >= 1)
    safe_month = np.where(ok, month, 1)
    safe_year = np.where(ok, year, 2000)
    ok &= day <= days_in_month(safe_year, safe_month)
    days = days_from_civil(safe_year, safe_month, np.where(ok, day, 1))
    return np.where(ok, days, 0), ok


def month_coverage(months: np.ndarray, pids: np.ndarray, window: tuple[int, int]) -> pd.DataFrame:
    """Distinct persons with a record per month of the window: ``month, persons``."""
    first, last = window
    inside = (months >= first) & (months <= last)
    frame = pd.DataFrame({"month": months[inside], "pid": pids[inside]}).drop_duplicates()
    counts = frame.groupby("month").size().reindex(range(first, last + 1), fill_value=0)
    return pd.DataFrame({"month": counts.index.to_numpy(), "persons": counts.to_numpy()})
