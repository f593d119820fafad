"""Bad register inputs: each is a clear error naming file, row or column, or a logged exclusion."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT
from mentorwijs.errors import InputError
from mentorwijs.flow import Exclusions
from mentorwijs.register.payroll import combine_statements
from mentorwijs.register.steps import PATHS
from register_fixture import (FILES, payroll_rows, read_fixture, run_steps, write_config_file,
                              write_register_fixture)


def test_an_extract_that_does_not_cover_the_window_is_an_error(tmp_path):
    rows = payroll_rows()
    config = write_register_fixture(tmp_path, payroll=rows[rows["file"] != "2020"])
    with pytest.raises(InputError, match=r"do not cover the window 2019-01\.\.2020-06.*2020-01\.\.2020-06"):
        run_steps(config, tmp_path, until="register_payroll")


def test_a_missing_file_named_in_config_is_an_error_naming_it(tmp_path):
    config = write_register_fixture(tmp_path)
    (tmp_path / FILES["deaths"]).unlink()
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_persons")
    assert "GBAOVERLIJDEN2022TABV1.csv" in info.value.message and "not found" in info.value.message


def test_a_key_file_person_missing_from_the_register_is_not_found(tmp_path):
    persons = read_fixture("persons.csv")
    config = write_register_fixture(tmp_path, persons=persons[persons["RINPERSOON"] != "000000101"])
    run_steps(config, tmp_path, until="register_persons")
    flow = pd.read_csv(tmp_path / PATHS["flow_linkage"]).set_index("step")["n"]
    assert (flow["excluded_not_found_in_register"], flow["found_in_register"]) == (4, 2)
    excl = pd.read_csv(tmp_path / PATHS["exclusions_linkage"]).set_index("reason")["n"]
    assert excl["not found in the register: not in the person file"] == 2


def test_negative_hours_that_do_not_net_out_are_excluded_and_counted():
    frame = pd.DataFrame({
        "pid": [0, 0, 0, 0, 0], "start": [100, 100, 130, 130, 160], "end": [129, 129, 159, 159, 189],
        "job_start": -1, "hours": [10.0, -15.0, 10.0, -10.0, 20.0], "wage": [100.0, -150.0, 100.0, -100.0, 200.0],
        "contract": 1, "sheltered": 0, "government": 0, "wage_cost_benefit": 0, "period_type": 1,
        "ikvid": pd.array(["J"] * 5, dtype="string[pyarrow]"), "sbeid": pd.array(["E"] * 5, dtype="string[pyarrow]"),
    })
    exclusions = Exclusions()
    payroll = combine_statements([frame], exclusions=exclusions)
    assert payroll.statements["hours"].tolist() == [20.0]
    assert exclusions.rows == {("payroll", "negative hours that do not net out within job and pay period"): 1,
                               ("payroll", "statement cancelled by its correction"): 1}


def test_a_few_unparseable_dates_are_exclusions_many_are_an_error(tmp_path):
    rows = payroll_rows()
    rows.loc[rows["file"] == "2020", "SDATUMAANVANGIKO"] = "01-02-2020"
    config = write_register_fixture(tmp_path, payroll=rows)
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_payroll")
    assert info.value.column == "SDATUMAANVANGIKO" and info.value.row == 2
    assert "SPOLISBUS2020V1.csv" in info.value.message and "'01-02-2020'" in info.value.message


def test_non_numeric_hours_in_many_rows_are_an_error(tmp_path):
    rows = payroll_rows()
    rows.loc[rows["file"] == "2019", "SBASISUREN"] = "n.v.t."
    config = write_register_fixture(tmp_path, payroll=rows)
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_payroll")
    assert info.value.column == "SBASISUREN"


def test_conflicting_duplicate_persons_are_an_error(tmp_path):
    persons = read_fixture("persons.csv")
    twin = persons[persons["RINPERSOON"] == "000000203"].assign(GBAGEBOORTEJAAR="1996")
    config = write_register_fixture(tmp_path, persons=pd.concat([persons, twin], ignore_index=True))
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_persons")
    assert "more than once with different values" in info.value.message
    assert info.value.column == "RINPERSOON" and info.value.row == 19  # the second row of 203, as a .sav case number


def test_a_missing_column_is_an_error_naming_it(tmp_path):
    config = write_register_fixture(tmp_path)
    path = tmp_path / FILES["payroll"][0]
    text = path.read_text(encoding="utf-8").replace("SBASISUREN", "UREN", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_payroll")
    assert info.value.column == "SBASISUREN" and "register.variables" in info.value.hint


def test_a_study_number_with_two_register_persons_is_an_error(tmp_path):
    config = write_register_fixture(tmp_path)
    key = tmp_path / config["register"]["key"]["path"]
    key.write_text(key.read_text(encoding="utf-8") + "MW00001,R,000000201\n", encoding="utf-8")
    with pytest.raises(InputError, match="linked to more than one register person"):
        run_steps(config, tmp_path, until="register_persons")


def test_a_training_region_outside_the_region_pairs_is_an_error(tmp_path):
    config = write_register_fixture(tmp_path)
    config["regions"]["pairs"] = {"Rivierenland": ["Noord-Oost Brabant"]}
    with pytest.raises(InputError, match="'Foodvalley' are not intervention regions"):
        run_steps(config, tmp_path, until="register_candidates")


def test_a_reference_month_after_the_first_meeting_is_an_error(tmp_path):
    config = write_register_fixture(tmp_path)
    config["anchors"]["reference_month"] = -1
    with pytest.raises(InputError, match="not before the first meeting of group.*G01, G02"):
        run_steps(config, tmp_path, until="register_candidates")


def test_cohort_months_outside_the_window_are_an_error(tmp_path):
    config = write_register_fixture(tmp_path)
    config["anchors"]["followup_months"] = 9
    with pytest.raises(InputError, match=r"does not cover the cohorts' months 2019-02\.\.2020-09"):
        run_steps(config, tmp_path, until="register_candidates")


def _cli(*args, cwd):
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "mentorwijs", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_command_line_reports_a_missing_file_without_a_traceback(tmp_path):
    config = write_register_fixture(tmp_path)
    (tmp_path / FILES["persons"]).unlink()
    config_file = write_config_file(tmp_path, config)
    result = _cli("run", "--part", "register", "--config", str(config_file), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "GBAPERSOON2022TABV1.sav" in result.stderr and "fix:" in result.stderr
    assert not (tmp_path / PATHS["persons"]).exists()  # no partial output
