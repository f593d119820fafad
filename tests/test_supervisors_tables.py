"""Process, employees and attrition tables on small hand-made inputs with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mentorwijs.errors import InputError
from mentorwijs.supervisors import attrition, employees_baseline, format_table, process_table, standardised_difference

NAN = np.nan


def _cell(table, measure, wave="", category="", column="count"):
    rows = table.loc[(table["measure"] == measure) & (table["wave"] == wave) & (table["category"] == category)]
    assert len(rows) == 1, (measure, wave, category)
    return rows[column].iloc[0]


@pytest.fixture
def schedule() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "training_group": ["G01", "G02", "G03"],
            "region": ["Foodvalley"] * 3,
            "mode": ["on_site", "online", "on_site"],
            "first_meeting": ["2019-05-01"] * 3,
            "last_meeting": ["2019-06-01"] * 3,
            "meetings_delivered": [5, 5, 4],
            "n_enrolled": [6, 5, 7],
        }
    )


@pytest.fixture
def survey() -> pd.DataFrame:
    """Five supervisors at T1, three at T2 (one answering extra hours although 'no')."""
    t1 = pd.DataFrame(
        {
            "supervisor": ["a", "b", "c", "d", "e"],
            "wave": "T1",
            "meetings_attended": [5, 5, 4, NAN, 2],
            "extra_time": [1, 0, 1, NAN, 0],
            "extra_hours": [3, 7, 5, NAN, NAN],
            "satisfaction_general": [4, 5, 5, 3, NAN],
            "context_feedback": [2, 3, NAN, NAN, 4],
        }
    )
    t2 = pd.DataFrame(
        {"supervisor": ["a", "b", "c"], "wave": "T2", "meetings_attended": NAN,
         "extra_time": [1, 1, 0], "extra_hours": [2, NAN, NAN], "satisfaction_general": NAN, "context_feedback": NAN}
    )
    t0 = pd.DataFrame({"supervisor": ["a", "b", "c", "d", "e"], "wave": "T0"})
    return pd.concat([t0, t1, t2], ignore_index=True)


def test_process_table_by_hand(survey, schedule):
    table = process_table(survey, schedule)
    assert list(table.columns) == ["measure", "wave", "category", "label", "n", "count", "share", "mean", "sd"]
    # dose delivered: 2 of 3 trainings on site, 1 online
    assert _cell(table, "dose_delivered", category="on_site") == 2
    assert _cell(table, "dose_delivered", category="on_site", column="share") == pytest.approx(2 / 3)
    assert _cell(table, "dose_delivered", category="online", column="n") == 3
    assert _cell(table, "meetings_delivered", column="mean") == pytest.approx(14 / 3)
    # dose received at T1: 4 answering; 5 meetings 2, 4 meetings 1, 2 meetings 1, the rest 0
    received = table.loc[table["measure"] == "dose_received"]
    assert received["category"].tolist() == ["1", "2", "3", "4", "5"]
    assert received["count"].tolist() == [0, 1, 0, 1, 2]
    assert received["n"].tolist() == [4] * 5
    np.testing.assert_allclose(received["share"], [0, 0.25, 0, 0.25, 0.5])
    # extra time: T1 2 of 4 yes, hours among yes 3 and 5 (the 'no' with 7 hours ignored)
    assert _cell(table, "extra_time", "T1", "1") == 2 and _cell(table, "extra_time", "T1", "1", "n") == 4
    assert _cell(table, "extra_hours", "T1", column="mean") == pytest.approx(4.0)
    assert _cell(table, "extra_hours", "T1", column="sd") == pytest.approx(math.sqrt(2))
    assert _cell(table, "extra_hours", "T1", column="n") == 2
    # T2: 2 of 3 yes; one of them gave hours: mean 2, SD undefined
    assert _cell(table, "extra_time", "T2", "1", "share") == pytest.approx(2 / 3)
    assert _cell(table, "extra_hours", "T2", column="n") == 1
    assert math.isnan(_cell(table, "extra_hours", "T2", column="sd"))
    # satisfaction 4, 5, 5, 3: mean 4.25, SD sqrt(2.75 / 3); context 2, 3, 4: mean 3, SD 1
    assert _cell(table, "satisfaction_general", "T1", column="mean") == pytest.approx(4.25)
    assert _cell(table, "satisfaction_general", "T1", column="sd") == pytest.approx(math.sqrt(2.75 / 3))
    assert _cell(table, "context_feedback", "T1", column="n") == 3
    assert _cell(table, "context_feedback", "T1", column="sd") == pytest.approx(1.0)
    # items appear only in the waves that asked them
    assert set(table.loc[table["measure"] == "satisfaction_general", "wave"]) == {"T1"}
    assert not table.duplicated(["measure", "wave", "category"]).any()


def test_one_changed_answer_changes_the_process_table(survey, schedule):
    before = process_table(survey, schedule)
    changed = survey.copy()
    changed.loc[(changed["supervisor"] == "a") & (changed["wave"] == "T1"), "meetings_attended"] = 3
    after = process_table(changed, schedule)
    assert _cell(after, "dose_received", "T1", "5") == _cell(before, "dose_received", "T1", "5") - 1
    assert _cell(after, "dose_received", "T1", "3") == _cell(before, "dose_received", "T1", "3") + 1
    unchanged = before["measure"] != "dose_received"
    pd.testing.assert_frame_equal(before.loc[unchanged], after.loc[unchanged])


def test_a_new_wave_adds_process_rows(survey, schedule):
    t3 = pd.DataFrame({"supervisor": ["a"], "wave": "T3", "extra_time": [1], "extra_hours": [6.0]})
    t4 = t3.assign(wave="T4", extra_hours=8.0)
    table = process_table(pd.concat([survey, t3, t4], ignore_index=True), schedule)
    assert table.loc[table["measure"] == "extra_time", "wave"].tolist() == ["T1", "T2", "T3", "T4"]
    assert _cell(table, "extra_hours", "T4", column="mean") == 8.0


def test_published_process_counts_come_out_by_counting():
    """The study's T1 dose received (94 answering: 69, 17, 7, 0, 1) and extra time (24 of 95)."""
    attended = [5] * 69 + [4] * 17 + [3] * 7 + [1] * 1 + [NAN]
    extra = [1] * 24 + [0] * 71
    survey = pd.DataFrame({"supervisor": range(95), "wave": "T1", "meetings_attended": attended, "extra_time": extra,
                           "extra_hours": NAN})
    schedule = pd.DataFrame({"training_group": [f"G{i:02d}" for i in range(19)],
                             "mode": ["on_site"] * 14 + ["online"] * 5, "meetings_delivered": 5})
    table = process_table(survey, schedule)
    shares = table.loc[table["measure"] == "dose_received"].set_index("category")["share"]
    assert [round(100 * shares[c]) for c in ["5", "4", "3", "2", "1"]] == [73, 18, 7, 0, 1]
    assert round(100 * _cell(table, "dose_delivered", category="on_site", column="share")) == 74
    assert round(100 * _cell(table, "extra_time", "T1", "1", "share")) == 25


@pytest.mark.parametrize(
    "column, value, match",
    [("meetings_attended", 6, "outside 1..5"), ("extra_time", 2, "outside 0..1"),
     ("satisfaction_general", 0, "outside 1..5")],
)
def test_impossible_process_answers_are_input_errors(survey, schedule, column, value, match):
    bad = survey.copy()
    bad.loc[5, column] = value
    with pytest.raises(InputError, match=match) as error:
        process_table(bad, schedule)
    assert error.value.row == 6 and error.value.column == column


@pytest.fixture
def employees() -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "person": ["p1", "p2", "p3", "p4", "p5"],
            "wave": "T0",
            "occupation": [1, 1, 2, NAN, 6],
            "disability_1": [1, 1, 0, NAN, 0],
            "disability_2": [0, 1, 0, NAN, 1],
            "disability_3": [0, 0, 0, NAN, 1],
            "disability_4": [0, 0, 0, NAN, 0],
            "disability_5": [0, 0, 1, NAN, 0],
            "work_ability": [5, 4, 3, 2, NAN],
            "demands_physical": [3, 2, 4, NAN, 3],
            "demands_mental": [3, 3, 4, 5, 2],
            "job_satisfaction": [4, 5, 5, 1, 2],
            "consent": [1, 0, 1, 1, 1],
        }
    )
    follow = pd.DataFrame({"person": ["p1", "p2", "p3"], "wave": "T2", "change_communication": [4, 3, 5],
                           "change_attitude": [3, 3, NAN]})
    return pd.concat([base, follow], ignore_index=True)


def test_employees_table_by_hand(employees):
    table = employees_baseline(employees)
    occupation = table.loc[table["measure"] == "occupation"].set_index("category")
    assert occupation.index.tolist() == ["1", "2", "3", "4", "5", "6"]
    assert occupation["count"].tolist() == [2, 1, 0, 0, 0, 1] and (occupation["n"] == 4).all()
    assert occupation.loc["1", "share"] == 0.5 and occupation.loc["1", "label"] == "agriculture or landscaping"
    disability = table.loc[table["measure"] == "disability"].set_index("category")
    assert (disability["n"] == 4).all()  # p4 did not answer the question
    np.testing.assert_allclose(disability["share"], [0.5, 0.5, 0.25, 0.0, 0.25])
    assert disability["share"].sum() > 1  # multi-select
    assert _cell(table, "work_ability", "T0", "4-5") == 2 and _cell(table, "work_ability", "T0", "4-5", "n") == 4
    assert _cell(table, "work_ability_demands", "T0", column="mean") == pytest.approx(6.0)
    assert _cell(table, "work_ability_demands", "T0", column="sd") == pytest.approx(math.sqrt(2))
    assert _cell(table, "work_ability_demands", "T0", column="n") == 4
    assert _cell(table, "job_satisfaction", "T0", "4-5", "share") == pytest.approx(0.6)
    # follow-up: its own n
    assert _cell(table, "perceived_change_communication", "T2", "4-5", "share") == pytest.approx(2 / 3)
    assert _cell(table, "perceived_change_communication", "T2", "1-2") == 0
    assert _cell(table, "perceived_change_communication", "T2", column="mean") == pytest.approx(4.0)
    assert _cell(table, "perceived_change_attitude", "T2", "3", "n") == 2
    assert _cell(table, "perceived_change_attitude", "T2", "3", "share") == 1.0
    assert not table.duplicated(["measure", "wave", "category"]).any()


def test_employees_without_follow_up_have_no_follow_up_rows(employees):
    table = employees_baseline(employees.loc[employees["wave"] == "T0"])
    assert not table["measure"].str.startswith("perceived").any()


def test_published_employee_shares_come_out_by_counting():
    occupation = [1] * 48 + [2] * 31 + [3] * 20 + [4] * 7 + [5] * 7 + [6] * 5
    data = pd.DataFrame({"person": range(118), "wave": "T0", "occupation": occupation,
                         **{f"disability_{k}": 0 for k in range(1, 6)},
                         "work_ability": [5] * 73 + [3] * 45, "demands_physical": 3, "demands_mental": 3,
                         "job_satisfaction": [4] * 96 + [2] * 22})
    table = employees_baseline(data)
    shares = table.loc[table["measure"] == "occupation", "share"]
    assert [round(100 * s) for s in shares] == [41, 26, 17, 6, 6, 4]
    assert round(100 * _cell(table, "work_ability", "T0", "4-5", "share")) == 62
    assert round(100 * _cell(table, "job_satisfaction", "T0", "4-5", "share")) == 81


@pytest.fixture
def long() -> pd.DataFrame:
    """A, B, C, D at T0; A, B at T1; A, C at T2 (B skipped T2)."""
    rows = [("A", "T0", 3), ("B", "T0", 4), ("C", "T0", 2), ("D", "T0", 5), ("A", "T1", 4), ("B", "T1", 4),
            ("A", "T2", 4), ("C", "T2", 3)]
    data = pd.DataFrame(rows, columns=["supervisor", "wave", "knowledge"])
    data["training_group"] = "G01"
    data["age"] = data["supervisor"].map({"A": 30, "B": 40, "C": 50, "D": 60})
    data["sex"] = data["supervisor"].map({"A": 1, "B": 2, "C": 2, "D": 1})
    return data


def test_attrition_by_hand(long):
    table = attrition(long, ["knowledge"], covariates={"age": "numeric", "sex": "categorical"})
    assert list(table.columns) == ["wave", "variable", "category", "statistic", "n_stayed", "value_stayed", "sd_stayed",
                                   "n_dropped", "value_dropped", "sd_dropped", "std_diff"]
    t1 = table.loc[table["wave"] == "T1"].set_index(["variable", "category"])
    assert t1.loc[("supervisors", ""), ["n_stayed", "n_dropped"]].tolist() == [2, 2]
    # age: stayed 30, 40 (mean 35, SD 7.07); dropped 50, 60 (55, 7.07): (35 - 55) / 7.07
    assert t1.loc[("age", ""), "value_stayed"] == 35 and t1.loc[("age", ""), "value_dropped"] == 55
    assert t1.loc[("age", ""), "std_diff"] == pytest.approx(-20 / math.sqrt(50))
    # T0 knowledge: stayed 3, 4; dropped 2, 5: equal means
    assert t1.loc[("knowledge_T0", ""), "std_diff"] == pytest.approx(0.0)
    assert t1.loc[("sex", "1"), "value_stayed"] == 0.5 and t1.loc[("sex", "1"), "n_dropped"] == 2
    t2 = table.loc[table["wave"] == "T2"].set_index(["variable", "category"])
    # B skipped T2: dropped there; stayed A, C (30, 50), dropped B, D (40, 60)
    assert t2.loc[("age", ""), "std_diff"] == pytest.approx(-10 / math.sqrt(200))
    # knowledge: stayed 3, 2 (2.5, 0.707); dropped 4, 5 (4.5, 0.707)
    assert t2.loc[("knowledge_T0", ""), "std_diff"] == pytest.approx(-2 / math.sqrt(0.5))
    assert set(table["wave"]) == {"T1", "T2"}


def test_attrition_of_a_later_wave(long):
    later = pd.DataFrame({"supervisor": ["D"], "wave": ["T4"], "knowledge": [4], "training_group": "G01", "age": 60,
                          "sex": 1})
    table = attrition(pd.concat([long, later], ignore_index=True), ["knowledge"], covariates={"age": "numeric"})
    t4 = table.loc[(table["wave"] == "T4") & (table["variable"] == "supervisors")]
    assert t4[["n_stayed", "n_dropped"]].iloc[0].tolist() == [1, 3]


def test_standardised_difference_of_shares():
    assert standardised_difference(0.5, 0.5, 0.25, math.sqrt(0.1875)) == pytest.approx(0.25 / math.sqrt(0.21875))
    assert standardised_difference(1.0, 0.0, 1.0, 0.0) == 0.0
    assert math.isnan(standardised_difference(1.0, 0.0, 0.0, 0.0))


def test_format_table_writes_eight_significant_digits():
    table = pd.DataFrame({"n": pd.array([3, None], dtype="Int64"), "x": [1 / 3, NAN], "y": [123456789.0, -0.0],
                          "s": ["a", ""]})
    text = format_table(table).to_csv(index=False, lineterminator="\n")
    assert text == "n,x,y,s\n3,0.33333333,1.2345679e+08,a\n,,0,\n"
