"""Numbers as a reader sees them: Dutch or English notation, never the system locale.

The tables under ``reports/tables/`` keep decimal points and full precision; rounding and the
Dutch decimal comma are for the report and the factsheet only, and happen here. Nothing in
this module reads the locale or the time zone, so a Dutch document looks the same on every
machine.

Conventions (both languages): a true minus sign (U+2212), no sign on a value that rounds to
zero, thousands grouped from 1,000 on in counts and from 10,000 on in other numbers. Dutch: decimal comma, thousands
point (``1.526``, ``0,07``); English: decimal point, thousands comma (``1,526``, ``0.07``). A suppressed register cell
(the text ``<10``) is shown as such wherever a number is expected.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

LANGUAGES = ("nl", "en")
MINUS = "\u2212"
#: The text a disclosure-checked table carries in a cell that was suppressed.
SUPPRESSED = "<10"
#: What a missing value (an empty cell) looks like in a document.
MISSING = "\u2013"

_SEPARATORS = {"nl": (",", "."), "en": (".", ",")}
_CI_JOIN = {"nl": " tot ", "en": " to "}


def check_language(language: str) -> str:
    """The language code itself, or ValueError for one the documents are not written in."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return language


def is_suppressed(value: Any) -> bool:
    """True for a cell that disclosure control replaced by ``<10`` (possibly padded)."""
    return isinstance(value, str) and value.strip() == SUPPRESSED


def as_float(value: Any) -> float | None:
    """The cell as a float, or None when it is empty, suppressed or not a number."""
    if value is None or is_suppressed(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _rounded(value: float, decimals: int) -> Decimal:
    """Round half away from zero on the decimal text (so 0.125 -> 0.13 as a reader expects)."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def _group(digits: str, sep: str) -> str:
    parts = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return sep.join(parts)


def format_number(value: Any, decimals: int = 2, language: str = "nl", *, group_from: int = 10_000,
                  sign: bool = False) -> str:
    """A number rounded to ``decimals`` in the language's notation.

    ``group_from``: the smallest absolute value whose integer part gets thousands separators.
    ``sign``: write a plus sign before positive values (for differences). Empty and NaN cells
    give an en dash, suppressed cells ``<10``.
    """
    check_language(language)
    if is_suppressed(value):
        return SUPPRESSED
    number = as_float(value)
    if number is None:
        return MISSING
    if math.isinf(number):
        return ("" if number > 0 else MINUS) + "\u221e"
    rounded = _rounded(number, decimals)
    negative = rounded < 0
    text = f"{abs(rounded):f}"
    integer, _, fraction = text.partition(".")
    decimal_mark, thousands = _SEPARATORS[language]
    if abs(rounded) >= group_from:
        integer = _group(integer, thousands)
    body = integer + (decimal_mark + fraction if decimals > 0 else "")
    if negative:
        return MINUS + body
    if sign and rounded > 0:
        return "+" + body
    return body


def format_count(value: Any, language: str = "nl") -> str:
    """A count of units (``1.526`` in Dutch, ``1,526`` in English), or ``<10`` when suppressed."""
    return format_number(value, 0, language, group_from=1000)


def format_percent(share: Any, decimals: int = 0, language: str = "nl") -> str:
    """A share (0..1) as a percentage: ``74%``; ``<10`` stays ``<10`` (it is a count)."""
    if is_suppressed(share):
        return SUPPRESSED
    number = as_float(share)
    if number is None:
        return MISSING
    return format_number(number * 100, decimals, language) + "%"


def format_points(difference: Any, decimals: int = 0, language: str = "nl", *, sign: bool = False) -> str:
    """A difference in probability in percentage points, without the unit: 0.054 -> ``5``."""
    number = as_float(difference)
    if number is None:
        return format_number(difference, decimals, language)
    return format_number(number * 100, decimals, language, sign=sign)


def format_ci(low: Any, high: Any, decimals: int = 2, language: str = "nl", *, scale: float = 1.0) -> str:
    """A confidence interval as ``−0,07 tot 0,16`` (nl) or ``−0.07 to 0.16`` (en).

    ``scale`` multiplies both bounds first (100 for percentage points).
    """
    lo, hi = as_float(low), as_float(high)
    if lo is None or hi is None:
        return MISSING
    return (format_number(lo * scale, decimals, language) + _CI_JOIN[check_language(language)]
            + format_number(hi * scale, decimals, language))


def format_p(p: Any, language: str = "nl") -> str:
    """A p-value: three decimals, ``<0,001`` below that (``<0.001`` in English)."""
    number = as_float(p)
    if number is None:
        return format_number(p, 3, language)
    if number < 0.001:
        return "<" + format_number(0.001, 3, language)
    return format_number(number, 3, language)
