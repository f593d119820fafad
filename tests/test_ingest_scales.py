"""Scale scores and Cronbach's alpha against closed-form cases; the data-quality table's first N."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mentorwijs.codebook import parse_codebook
from mentorwijs.ingest.quality import quality_table
from mentorwijs.ingest.scales import cronbach_alpha, reliability, scale_scores
from mentorwijs.ingest.values import Problem

CODEBOOK = parse_codebook({
    "instrument": "s", "format": "castor_survey", "id": {"column": "id", "name": "supervisor"},
    "items": [
        {"name": "a_1", "raw": "a1", "range": [1, 5], "scale": "a"},
        {"name": "a_2", "raw": "a2", "range": [1, 5], "scale": "a"},
        {"name": "a_3", "raw": "a3", "range": [1, 5], "scale": "a", "reverse": True},
    ],
    "scales": {"a": {"min_items": 2}},
})


def test_scale_score_is_the_mean_of_answered_reverse_coded_items_with_a_minimum():
    table = pd.DataFrame({"a_1": [5, 4, np.nan, 2], "a_2": [3, np.nan, np.nan, 2], "a_3": [1, 2, 5, np.nan]},
                         dtype=float)
    scores = scale_scores(table, CODEBOOK, "T0")["a"]
    # (5 + 3 + (6 - 1)) / 3, (4 + (6 - 2)) / 2, one item only (< 2) -> missing, (2 + 2) / 2
    assert scores.iloc[0] == pytest.approx(13 / 3) and scores.iloc[1] == 4.0
    assert math.isnan(scores.iloc[2]) and scores.iloc[3] == 2.0


def _two_items_with_correlation(r: float) -> pd.DataFrame:
    """Two items with equal variance and correlation exactly r (x and an orthogonal z)."""
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    z = np.array([2.0, -1.0, -2.0, -1.0, 2.0]) * math.sqrt(10 / 14)  # orthogonal to x, same sum of squares
    return pd.DataFrame({"x": x, "y": r * x + math.sqrt(1 - r * r) * z})


@pytest.mark.parametrize("r", [0.2, 0.5, 0.8])
def test_alpha_of_two_parallel_items_is_the_spearman_brown_value(r):
    items = _two_items_with_correlation(r)
    assert np.corrcoef(items["x"], items["y"])[0, 1] == pytest.approx(r, abs=1e-12)
    alpha, n = cronbach_alpha(items)
    assert alpha == pytest.approx(2 * r / (1 + r), abs=1e-9) and n == 5


def test_alpha_of_identical_items_is_one_and_undefined_cases_are_nan():
    same = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 2, 3, 4], "c": [1.0, 2, 3, 4]})
    assert cronbach_alpha(same) == (1.0, 4)
    assert math.isnan(cronbach_alpha(same[["a"]])[0])  # one item
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0]}))[0])  # no variance
    with_gap = same.copy()
    with_gap.loc[0, "a"] = np.nan
    assert cronbach_alpha(with_gap)[1] == 3  # complete cases only


def test_reliability_reverse_codes_before_alpha():
    # a_3 is reverse-worded: answered 6 - a_1, so after reverse coding all three agree (alpha 1)
    table = pd.DataFrame({"wave": "T0", "a_1": [1.0, 2, 4, 5], "a_2": [1.0, 2, 4, 5], "a_3": [5.0, 4, 2, 1]})
    result = reliability(table, CODEBOOK)
    assert result.to_dict("records") == [{"scale": "a", "wave": "T0", "alpha": 1.0, "n": 4, "n_items": 3}]


def test_data_quality_lists_the_first_n_cases_per_check_with_the_count():
    problems = [Problem("out of range [1, 5]", "a_1", row, str(row)) for row in (9, 3, 7, 5, 11)]
    problems.append(Problem("not a number", "a_2", 4, "veel"))
    table = quality_table(problems, stage="ingest_s_T0", source="s", wave="T0", first_n=3)
    assert list(table.columns) == ["stage", "source", "wave", "column", "check", "n_failed", "example", "row", "value"]
    first = table[table["column"] == "a_1"]
    assert (first["row"].tolist() == [3, 5, 7] and set(first["n_failed"]) == {5}
            and first["example"].tolist() == [1, 2, 3])
    assert table[table["column"] == "a_2"][["n_failed", "value"]].values.tolist() == [[1, "veel"]]
