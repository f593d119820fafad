"""Linkage, eligibility and covariates on the hand-made fixture (hand-computed, see its README)."""

from __future__ import annotations

import pandas as pd
import pytest

from mentorwijs.register.steps import PATHS
from support.register_fixture import person_of, trainee_of, unit_of

COHORT_10 = ["201", "202", "203", "204", "205", "206", "207", "209", "214"]
COHORT_12 = ["201", "202", "203", "204", "205", "206", "207", "214"]


@pytest.fixture(scope="module")
def candidates(register_run):
    root, _ = register_run
    return pd.read_parquet(root / PATHS["candidates"]).set_index("unit")


def test_linkage_flow_and_not_found_reasons(register_run):
    root, _ = register_run
    flow = pd.read_csv(root / PATHS["flow_linkage"])
    assert flow.to_dict("records") == [
        {"population": "employees", "order": 110, "step": "excluded_not_found_in_register", "n": 3},
        {"population": "employees", "order": 120, "step": "found_in_register", "n": 3},
    ]
    excl = pd.read_csv(root / PATHS["exclusions_linkage"])
    trainees = excl[excl["source"] == "trainees"].set_index("reason")["n"].to_dict()
    assert trainees == {
        "not found in the register: RINPERSOONS other than R": 1,
        "not found in the register: not in the person file": 1,
        "not found in the register: study number not in the linkage key": 1,
    }


def test_units_are_stacked_per_cohort_of_the_region_pair(candidates):
    expected = ({unit_of(person_of(p), "2019-10") for p in COHORT_10}
                | {unit_of(person_of(p), "2019-12") for p in COHORT_12})
    expected |= {unit_of(trainee_of("MW00001"), "2019-10"), unit_of(trainee_of("MW00002"), "2019-12")}
    assert set(candidates.index) == expected
    assert list(candidates.index) == sorted(candidates.index)
    assert (candidates["region_pair"] == "Foodvalley").all()
    controls = candidates[candidates["treated"] == 0]
    assert (controls["region"] == "Stedendriehoek en Noord-West Veluwe").all()
    trainee = candidates.loc[unit_of(trainee_of("MW00001"), "2019-10")]
    assert (trainee["treated"], trainee["region"], trainee["training_group"]) == (1, "Foodvalley", "G01")
    assert unit_of(person_of("209"), "2019-12") not in candidates.index  # moved out before 2019-09


def test_eligibility_flow_and_what_each_criterion_removes(register_run):
    root, _ = register_run
    flow = pd.read_csv(root / PATHS["flow_candidates"])
    assert flow.to_dict("records") == [
        {"population": "controls", "order": 110, "step": "candidate_units", "n": 17},
        {"population": "controls", "order": 120, "step": "candidate_persons", "n": 9},
        {"population": "employees", "order": 130, "step": "excluded_without_paid_work_at_baseline", "n": 1},
        {"population": "employees", "order": 140, "step": "excluded_outside_age_range", "n": 0},
        {"population": "employees", "order": 160, "step": "eligible", "n": 2},
    ]
    excl = pd.read_csv(root / PATHS["exclusions_candidates"])
    removed = {(s, r): n for s, r, n in zip(excl["source"], excl["reason"], excl["n"])}
    assert removed == {
        ("candidates", "not living in a control region of the pair at the reference month"): 3,
        ("candidates", "outside the age range at the reference month (or age unknown)"): 2,
        ("candidates", "without paid work at baseline"): 2,
        ("candidates", "without a target-group marker"): 2,
        ("trainees", "without paid work at baseline"): 1,
    }


def _unit(candidates, number, cohort):
    return candidates.loc[unit_of(person_of(number), cohort)]


def test_covariates_of_two_jobs(candidates):
    u = _unit(candidates, "205", "2019-10")
    assert u["months_worked"] == 3
    assert u["temporary_contract"] == 1 and u["sheltered"] == 0
    assert u["wage_hourly"] == pytest.approx((600 + 400) / (60 + 40))
    assert (u["sector"], u["employer_size"]) == ("agriculture", "small")
    assert u["years_in_job"] == pytest.approx(426 / 365.25)  # 2018-06-01 .. 2019-07-31


def test_covariates_of_a_renumbered_job_near_state_pension(candidates):
    u10 = _unit(candidates, "204", "2019-10")
    u12 = _unit(candidates, "204", "2019-12")
    assert u10["years_in_job"] == pytest.approx(1614 / 365.25)  # 2015-03-01 .. 2019-07-31
    assert u12["years_in_job"] == pytest.approx(1675 / 365.25)  # .. 2019-09-30, across the renumbering
    assert (u10["benefit_sickness_disability"], u12["benefit_sickness_disability"]) == (1, 0)
    assert (u10["work_disability_benefit"], u12["work_disability_benefit"]) == (1, 1)
    assert u12["age"] == pytest.approx(66.0)  # under 66y4m: still eligible
    assert (u10["sector"], u10["employer_size"]) == ("industry_construction", "large")  # the 2018 row


def test_covariates_of_benefits_and_background(candidates):
    u10 = _unit(candidates, "203", "2019-10")
    u12 = _unit(candidates, "203", "2019-12")
    assert (u10["benefit_unemployment_assistance"], u12["benefit_unemployment_assistance"]) == (1, 0)
    assert (u10["social_welfare_benefit"], u12["social_welfare_benefit"]) == (1, 1)
    assert (u10["education"], u10["migration_background"], u10["sex"]) == ("high", "second_generation", "woman")
    u = _unit(candidates, "202", "2019-10")
    assert u["age"] == pytest.approx(44.0)
    assert (u["sector"], u["employer_size"], u["temporary_contract"], u["sheltered"]) == ("agriculture", "small", 1, 1)
    u = _unit(candidates, "201", "2019-10")
    assert ((u["government_sector"], u["sector"], u["employer_size"], u["wage_hourly"])
            == (1, "public_education_health", "large", 20.0))


def test_covariates_of_a_new_job(candidates):
    u = _unit(candidates, "214", "2019-12")
    assert u["years_in_job"] == pytest.approx(30 / 365.25)
    assert (u["temporary_contract"], u["sector"], u["sex"]) == (1, "trade_transport_hospitality", "unknown")
    assert _unit(candidates, "214", "2019-10")["employer"] == _unit(candidates, "201", "2019-10")["employer"]


def test_no_identifier_and_key_columns(candidates):
    columns = set(candidates.reset_index().columns)
    assert {"unit", "person", "cohort", "region_pair", "treated", "tie_order"} <= columns
    assert not any("rin" in c.lower() or "sbeid" in c.lower() for c in columns)
    assert candidates["treated"].dtype.name == "int8"
