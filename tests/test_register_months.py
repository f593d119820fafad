"""Payroll to person-months on the hand-made fixture: every number here is computed by hand
from tests/fixtures/register (see its README), not taken from the code's output."""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd
import pytest

from mentorwijs.pseudonymise import DEMO_KEY, pseudonym
from mentorwijs.register.calendar import days_from_civil, month_code, yyyymmdd_to_days
from mentorwijs.register.steps import PATHS

WINDOW = [(2019, m) for m in range(1, 13)] + [(2020, m) for m in range(1, 7)]


def _table(root, name):
    return pd.read_parquet(root / PATHS[name])


def _pid(root, number):
    persons = _table(root, "persons")
    return int(persons.loc[persons["rin"] == f"R{number:09d}", "pid"].iloc[0])


def _months(root, number):
    pm = _table(root, "person_months")
    return pm[pm["pid"] == _pid(root, number)].set_index("month")


def _employer_code(root, sbeid):
    employers = _table(root, "employers")
    return int(employers.loc[employers["employer_pseudonym"] == pseudonym(sbeid, DEMO_KEY, "employer"),
                             "employer"].iloc[0])


def test_calendar_arithmetic_matches_the_standard_library():
    assert month_code("2019-05") == 2019 * 12 + 4
    days, ok = yyyymmdd_to_days(np.array([20200229, 20190229, 19700101, 20191301]))
    assert ok.tolist() == [True, False, True, False]
    assert days[0] == (pd.Timestamp("2020-02-29") - pd.Timestamp("1970-01-01")).days
    assert days_from_civil(np.array([2019]), np.array([12]), np.array([31]))[0] == 18261


def test_four_weekly_payer_is_apportioned_by_days_and_keeps_12_hours_a_week(register_run):
    root, _ = register_run
    months = _months(root, 202)
    expected = {month_code(f"{y}-{m:02d}"): 48 * calendar.monthrange(y, m)[1] / 28 for y, m in WINDOW}
    assert sorted(months.index) == sorted(expected)
    for month, hours in expected.items():
        assert months.loc[month, "hours"] == pytest.approx(hours, rel=1e-12)
        days = calendar.monthrange(month // 12, month % 12 + 1)[1]
        assert months.loc[month, "hours"] / (days / 7) == pytest.approx(12.0, rel=1e-12)
    assert months.loc[month_code("2019-01"), "hours"] == pytest.approx(53.142857, abs=1e-6)
    assert months.loc[month_code("2020-02"), "hours"] == pytest.approx(49.714286, abs=1e-6)


def test_corrections_net_and_a_lone_negative_period_is_excluded(register_run):
    root, _ = register_run
    months = _months(root, 203)
    assert len(months) == 18
    assert np.allclose(months["hours"], 52.0)
    assert np.allclose(months["wage"], 624.0)
    months_201 = _months(root, 201)
    assert months_201.loc[month_code("2019-03"), "hours"] == pytest.approx(120.0)


def test_two_jobs_are_summed_and_the_main_job_has_the_most_hours(register_run):
    root, _ = register_run
    months = _months(root, 205)
    e05, e06 = _employer_code(root, "E000000005"), _employer_code(root, "E000000006")
    for y, m in WINDOW:
        row = months.loc[month_code(f"{y}-{m:02d}")]
        if (y, m) <= (2019, 11):
            assert (row["hours"], row["wage"], row["n_jobs"], row["employer"]) == (100.0, 1000.0, 2, e05)
            assert row["contract"] == 1  # fixed-term main job
        else:
            assert (row["hours"], row["wage"], row["n_jobs"], row["employer"]) == (40.0, 400.0, 1, e06)
            assert row["contract"] == 2


def test_a_renumbered_job_stays_with_its_employer(register_run):
    root, _ = register_run
    em = _table(root, "employer_months")
    e04 = _employer_code(root, "E000000004")
    rows = em[(em["pid"] == _pid(root, 204))]
    assert set(rows["employer"]) == {e04}
    assert len(rows) == 18 and np.allclose(rows["hours"], 80.0)
    start_2015 = (pd.Timestamp("2015-03-01") - pd.Timestamp("1970-01-01")).days
    start_2019 = (pd.Timestamp("2019-09-01") - pd.Timestamp("1970-01-01")).days
    before = rows[rows["month"] < month_code("2019-09")]["job_start"]
    after = rows[rows["month"] >= month_code("2019-09")]["job_start"]
    assert (before == start_2015).all() and (after == start_2019).all()


def test_compact_types(register_run):
    root, _ = register_run
    pm = _table(root, "person_months")
    assert pm["pid"].dtype == np.int32 and pm["month"].dtype == np.int16
    assert pm["n_jobs"].dtype == np.int8 and pm["contract"].dtype == np.int8


def test_payroll_exclusions_are_counted(register_run):
    root, _ = register_run
    excl = pd.read_csv(root / PATHS["exclusions_payroll"])
    counts = dict(zip(excl["reason"], excl["n"]))
    assert counts == {
        "RINPERSOONS other than R": 1,
        "person not in the person file": 1,
        "pay period start or end not a date": 1,
        "negative hours that do not net out within job and pay period": 1,
        "statement cancelled by its correction": 1,
        "pay period partly outside the study window (months outside trimmed)": 2,
    }
    assert set(excl["source"]) == {"payroll"} and excl["record"].isna().all()
    assert list(excl.columns) == ["source", "wave", "record", "reason", "n"]


def test_person_file_characteristics(register_run):
    root, _ = register_run
    persons = _table(root, "persons").set_index("rin")
    assert len(persons) == 16  # 17 R rows, one an exact duplicate; the S row dropped
    assert persons.loc["R000000202", "birth_month"] == 1975 * 12 + 6  # month unknown: July
    assert persons.loc["R000000214", "sex"] == "unknown"
    assert persons.loc["R000000203", "education"] == "high"
    assert persons.loc["R000000202", "education"] == "low"
    assert persons.loc["R000000204", "education"] == "unknown"  # '----'
    assert persons.loc["R000000205", "education"] == "unknown"  # absent from the file
    assert persons.loc["R000000207", "migration_background"] == "first_generation"
    assert persons.loc["R000000209", "migration_background"] == "unknown"
    assert persons.loc["R000000206", "death_month"] == month_code("2020-01")
    assert persons["death_month"].notna().sum() == 1
    migrations = _table(root, "migrations")
    assert migrations.to_dict("records") == [{"pid": _pid(root, 207), "month": month_code("2019-11"), "emigration": 1}]
    excl = pd.read_csv(root / PATHS["exclusions_linkage"])
    persons_excl = dict(zip(excl.loc[excl["source"] == "persons", "reason"],
                            excl.loc[excl["source"] == "persons", "n"]))
    assert persons_excl == {"RINPERSOONS other than R": 1, "duplicate row of a person (copy dropped)": 1}


def test_benefit_months_from_secm_spells(register_run):
    root, _ = register_run
    b = _table(root, "benefits")
    b203 = b[b["pid"] == _pid(root, 203)].set_index("month")
    assert b203["main_unemployment_assistance"].sum() == 5  # 2019-01..05
    assert b203["receives_social_assistance"].sum() == 18
    b204 = b[b["pid"] == _pid(root, 204)].set_index("month")
    assert b204["main_sickness_disability"].sum() == 6 and b204["receives_sickness_disability"].sum() == 18
    assert _pid(root, 205) not in set(b["pid"])  # SECM 99 is user-missing: no flag
    assert _pid(root, 201) not in set(b["pid"])
