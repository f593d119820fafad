"""The synthetic study's design: the published flow and percentages hold by construction."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from mentorwijs.simulate.design import bsn_eleven_test, study_design, values_with_mean_sd


@pytest.fixture(scope="module")
def design():
    return study_design(np.random.default_rng(20190501), scale=1)


def test_schedule_has_19_groups_14_on_site_between_may_2019_and_january_2021(design):
    groups = design.groups
    assert len(groups) == 19
    assert (groups["mode"] == "on_site").sum() == 14
    assert groups["first_meeting"].min().isoformat() >= "2019-05-01"
    assert groups["last_meeting"].max().isoformat() <= "2021-01-31"
    assert groups["n_enrolled"].between(5, 18).all() and groups["n_enrolled"].sum() == 164
    # five weekly meetings never span more than three calendar months: month -3 precedes every start
    months = (groups["last_meeting"].map(lambda d: d.year * 12 + d.month)
              - groups["first_meeting"].map(lambda d: d.year * 12 + d.month))
    assert months.max() <= 2


def test_published_employee_flow_and_percentages(design):
    emp = design.employees
    assert len(emp) == 118 and emp["study_number"].is_unique
    assert Counter(emp["register_status"]) == {"found": 78, "refused": 32, "not_found_rin": 5, "not_found_absent": 3}
    found = emp[emp["register_status"] == "found"]
    assert (~found["paid_work_at_baseline"]).sum() == 4 and found["off_support"].sum() == 1
    assert dict(Counter(emp["occupation"])) == {1: 48, 2: 31, 3: 20, 4: 7, 5: 7, 6: 5}
    assert Counter(x for answer in emp["disability"] for x in answer) == {1: 41, 2: 30, 3: 26, 4: 21, 5: 22}
    assert (emp["work_ability"] >= 4).sum() == 73 and (emp["job_satisfaction"] >= 4).sum() == 96
    demands = emp["demands_physical"] + emp["demands_mental"]
    assert round(demands.mean(), 1) == 6.0 and round(demands.std(ddof=1), 1) == 0.9
    assert emp[["demands_physical", "demands_mental"]].stack().between(1, 5).all()


def test_employees_belong_to_supervisors_who_completed_t0(design):
    sup = design.supervisors.set_index("castor_id")
    assert sup["completed_T0"].sum() == 127
    assert sup.loc[design.employees["supervisor"], "completed_T0"].all()
    assert design.supervisors["castor_id"].str.fullmatch(r"0[123][0-9]{4}").all()


def test_fake_bsns_pass_the_eleven_test(design):
    assert all(bsn_eleven_test(b) for b in design.employees["bsn"])
    assert not bsn_eleven_test("123456789")  # 9*1+8*2+...+2*8-9 = 156 - 9 = 147, not divisible by 11
    assert bsn_eleven_test("111222333")  # 9+8+7+12+10+8+9+6-3 = 66 = 6 * 11


def test_values_with_mean_sd_hits_published_rounding():
    values = values_with_mean_sd(np.random.default_rng(1), 24, range(0, 41), 6.6, 8.3)
    assert round(values.mean(), 1) == 6.6 and round(values.std(ddof=1), 1) == 8.3


def test_scaled_design_keeps_proportions():
    design = study_design(np.random.default_rng(3), scale=10)
    assert len(design.groups) == 190 and len(design.employees) == 1180
    assert (design.employees["occupation"] == 1).sum() == 480
