"""Monthly outcomes, job retention and survival times on the hand-made fixture.

Every expected value is worked out by hand in tests/fixtures/register/README.md. The panel is
built for every candidate unit (not only the matched ones) to check person by person.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from support.register_fixture import person_of, unit_of

MONTHS = list(range(-6, 7))


def _series(panel, number, cohort, column):
    rows = panel[panel["unit"] == unit_of(person_of(number), cohort)].set_index("month")
    assert list(rows.index) == MONTHS
    return rows[column]


def _survival(survival, number, cohort):
    row = survival[survival["unit"] == unit_of(person_of(number), cohort)]
    assert len(row) == 1
    r = row.iloc[0]
    return int(r["time_job"]), int(r["event_job"]), int(r["time_work"]), int(r["event_work"])


def test_panel_shape_and_types(all_units_panel):
    panel, survival = all_units_panel
    assert list(panel.columns) == ["unit", "person", "cohort", "treated", "weight", "month", "hours", "employed_1h",
                                   "employed_12h", "employed_3m", "job_held", "observed"]
    assert len(panel) == 19 * 13 and panel["month"].dtype == np.int16
    for column in ("employed_1h", "employed_12h", "employed_3m", "job_held"):
        assert str(panel[column].dtype) == "Int8"
    assert panel["observed"].dtype == np.int8
    assert list(survival.columns[:9]) == ["unit", "person", "cohort", "treated", "weight", "time_job", "event_job",
                                          "time_work", "event_work"]


def test_a_job_ending_after_month_0_is_an_event_and_stays_ended(all_units_panel):
    panel, survival = all_units_panel
    held = _series(panel, "205", "2019-10", "job_held").tolist()
    assert held == [1] * 8 + [0] * 5  # E05 pays until 2019-11 (month 1)
    assert _series(panel, "205", "2019-10", "hours").loc[2] == pytest.approx(40.0)
    assert _survival(survival, "205", "2019-10") == (2, 1, 6, 0)
    held_209 = _series(panel, "209", "2019-10", "job_held").tolist()
    assert held_209 == [1] * 8 + [0] * 5  # one month without pay (2019-12) ends the job for good
    assert _series(panel, "209", "2019-10", "employed_1h").tolist() == [1] * 8 + [0] + [1] * 4
    assert _series(panel, "209", "2019-10", "employed_3m").loc[[2, 3, 4, 5]].tolist() == [0, 0, 0, 1]
    assert _survival(survival, "209", "2019-10") == (2, 1, 2, 1)


def test_an_end_in_months_minus_2_to_0_is_an_event_at_time_0(all_units_panel):
    panel, survival = all_units_panel
    assert _survival(survival, "214", "2019-10") == (0, 1, 6, 0)  # E01 ends 2019-08, month -2 is the last paid
    assert _series(panel, "214", "2019-10", "job_held").tolist() == [1] * 5 + [0] * 8
    assert _survival(survival, "205", "2019-12") == (0, 1, 6, 0)  # E05 ends 2019-11 = month -1


def test_the_baseline_job_is_held_back_to_its_start(all_units_panel):
    panel, _ = all_units_panel
    assert _series(panel, "214", "2019-12", "job_held").tolist() == [0] * 3 + [1] * 10


def test_a_renumbered_job_is_held_and_state_pension_censors(all_units_panel):
    panel, survival = all_units_panel
    assert _series(panel, "204", "2019-10", "job_held").tolist() == [1] * 13
    assert _series(panel, "204", "2019-10", "observed").tolist() == [1] * 13
    assert _survival(survival, "204", "2019-10") == (2, 0, 2, 0)  # 66y4m reached in 2020-01 = month 3
    assert _survival(survival, "204", "2019-12") == (0, 0, 0, 0)  # reached in month 1


def test_death_and_emigration_are_unobserved_never_not_employed(all_units_panel):
    panel, survival = all_units_panel
    observed = _series(panel, "206", "2019-10", "observed").tolist()
    assert observed == [1] * 9 + [0] * 4  # died 2020-01-15 = month 3
    for column in ("employed_1h", "employed_12h", "employed_3m", "job_held", "hours"):
        values = _series(panel, "206", "2019-10", column)
        assert values.loc[3:].isna().all(), column
        assert values.loc[:2].notna().all(), column
    assert _survival(survival, "206", "2019-10") == (2, 0, 2, 0)
    assert _survival(survival, "206", "2019-12") == (0, 0, 0, 0)
    assert _series(panel, "207", "2019-10", "observed").tolist() == [1] * 7 + [0] * 6  # emigrated 2019-11 = month 1
    assert _survival(survival, "207", "2019-10") == (0, 0, 0, 0)
    assert _series(panel, "207", "2019-12", "employed_1h").loc[-1:].isna().all()


def test_weekly_hours_are_fair_to_four_weekly_payers(all_units_panel):
    panel, _ = all_units_panel
    assert _series(panel, "202", "2019-10", "employed_12h").tolist() == [1] * 13
    assert _series(panel, "202", "2019-10", "employed_3m").tolist() == [1] * 13
    # 52 hours a month: 12 a week in months of 28-30 days, not in 31-day months (Apr 2019 .. Apr 2020)
    expected = [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1]
    assert _series(panel, "203", "2019-10", "employed_12h").tolist() == expected


def test_job_gap_months_bridges_a_short_gap(register_run):
    from mentorwijs.register.candidates import Anchors, EligibilityRule
    from mentorwijs.register.panel import matched_panel_and_survival
    from mentorwijs.register.steps import PATHS, window_of

    root, config = register_run
    read = lambda name: pd.read_parquet(root / PATHS[name])  # noqa: E731
    units = read("candidates")
    units = units[units["unit"] == unit_of(person_of("209"), "2019-10")].assign(weight=1.0, pscore=0.5)
    anchors = dataclasses.replace(Anchors.from_config(config["anchors"]), job_gap_months=2)
    panel, survival = matched_panel_and_survival(
        units, pd.read_parquet(root / "data/processed/trainees.parquet"), read("persons"), read("person_months"),
        read("employer_months"), read("migrations"), window=window_of(config["register"]["window"]), anchors=anchors,
        rule=EligibilityRule.from_config(config["candidates"]))
    assert panel["job_held"].tolist() == [1] * 13
    assert _survival(survival, "209", "2019-10") == (6, 0, 2, 1)


def test_trainees_carry_the_supervisor_modifiers(all_units_panel):
    _, survival = all_units_panel
    trainees = survival[survival["treated"] == 1].sort_values("cohort")
    assert trainees["sup_n_employees_guided"].tolist() == [4, 12]
    assert survival.loc[survival["treated"] == 0, "sup_n_employees_guided"].isna().all()
    assert {"employer", "temporary_contract", "social_welfare_benefit", "work_disability_benefit", "sheltered",
            "employer_size", "government_sector"} <= set(survival.columns)
