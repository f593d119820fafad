"""Number formats of the documents: Dutch and English notation, independent of the locale."""

from __future__ import annotations

import locale

import pytest

from mentorwijs.formatting import (
    MINUS,
    format_ci,
    format_count,
    format_number,
    format_p,
    format_percent,
    format_points,
)


@pytest.mark.parametrize(
    ("value", "decimals", "language", "expected"),
    [
        (0.07, 2, "nl", "0,07"),
        (0.07, 2, "en", "0.07"),
        (-0.07, 2, "nl", MINUS + "0,07"),
        (0.125, 2, "nl", "0,13"),  # half away from zero on the decimal text, as readers round
        (-0.125, 2, "en", MINUS + "0.13"),
        (-0.004, 2, "nl", "0,00"),  # no minus sign on a value that rounds to zero
        (12345.678, 1, "nl", "12.345,7"),
        (12345.678, 1, "en", "12,345.7"),
        (1234.5, 1, "nl", "1234,5"),  # grouping only from 10,000 for non-counts
        ("0.5", 1, "nl", "0,5"),
        ("<10", 2, "nl", "<10"),
        ("", 2, "nl", "\u2013"),
        (float("nan"), 2, "en", "\u2013"),
    ],
)
def test_format_number(value, decimals, language, expected):
    assert format_number(value, decimals, language) == expected


def test_counts_group_thousands_in_the_language():
    assert format_count(1526, "nl") == "1.526"
    assert format_count(1526, "en") == "1,526"
    assert format_count(48213, "nl") == "48.213"
    assert format_count(73, "nl") == "73"
    assert format_count("<10", "nl") == "<10"


def test_intervals_percentages_points_and_p_values():
    assert format_ci(-0.07, 0.16, 2, "nl") == MINUS + "0,07 tot 0,16"
    assert format_ci(-0.07, 0.16, 2, "en") == MINUS + "0.07 to 0.16"
    assert format_ci(0.011, 0.214, 1, "nl", scale=100) == "1,1 tot 21,4"
    assert format_percent(0.7340, 0, "nl") == "73%"
    assert format_percent(0.255, 1, "en") == "25.5%"
    assert format_points(0.0551, 1, "nl", sign=True) == "+5,5"
    assert format_points(-0.068, 1, "en", sign=True) == MINUS + "6.8"
    assert format_p(0.0004, "nl") == "<0,001"
    assert format_p(0.0412, "en") == "0.041"
    assert format_p("<10", "nl") == "<10"


def test_the_system_locale_changes_nothing():
    before = format_number(1234567.891, 2, "nl")
    try:
        locale.setlocale(locale.LC_NUMERIC, "C.UTF-8")
    except locale.Error:  # pragma: no cover - depends on the machine
        pytest.skip("C.UTF-8 locale not available")
    try:
        assert format_number(1234567.891, 2, "nl") == before == "1.234.567,89"
    finally:
        locale.setlocale(locale.LC_NUMERIC, "")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        format_number(1.0, 1, "de")
