"""The rule's adapter on small parquet inputs: every table written, same bytes twice, errors clean."""

from __future__ import annotations

import runpy
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REFERENCE, ROOT
from mentorwijs.supervisors import TABLES

SCRIPT = ROOT / "workflow" / "scripts" / "supervisor_analyses.py"


def _inputs(folder) -> dict:
    long = pd.read_csv(REFERENCE / "supervisors_data.csv")
    long = long.loc[long["training_group"].isin(["G01", "G02", "G03", "G04", "G05"])].reset_index(drop=True)
    number = long["supervisor"].str[1:].astype(int)
    long["knowledge"] = long.pop("score")
    long["intention"] = (6 - long["knowledge"]).round(3)
    long["mode"] = np.where(long["training_group"] == "G02", "online", "on_site")
    long["age"] = 30 + number % 30
    long["sex"] = 1 + number % 2
    long["n_employees_guided"] = (number * 7) % 20
    survey = long[["supervisor", "wave"]].copy()
    at_t1 = survey["wave"] == "T1"
    survey["meetings_attended"] = np.where(at_t1, 3 + number[survey.index] % 3, np.nan)
    survey["extra_time"] = np.where(survey["wave"] != "T0", number[survey.index] % 2, np.nan)
    survey["extra_hours"] = np.where(survey["extra_time"] == 1, 2.0 + number[survey.index] % 5, np.nan)
    survey["satisfaction_general"] = np.where(at_t1, 3 + number[survey.index] % 3, np.nan)
    schedule = pd.DataFrame({"training_group": ["G01", "G02", "G03", "G04", "G05"], "region": "Foodvalley",
                             "mode": ["on_site", "online", "on_site", "on_site", "on_site"],
                             "meetings_delivered": [5, 5, 5, 4, 5], "n_enrolled": 8})
    employees = pd.DataFrame({"person": [f"p{i}" for i in range(12)], "wave": "T0",
                              "occupation": [1, 2, 3, 1, 1, 2, 4, 5, 6, 1, 2, 3],
                              **{f"disability_{k}": [(i + k) % 3 == 0 for i in range(12)] for k in range(1, 6)},
                              "work_ability": [4, 5, 3, 2, 4, 4, 5, 3, 4, 1, 5, 4], "demands_physical": 3,
                              "demands_mental": 4, "job_satisfaction": [4] * 10 + [2, 1], "consent": 1})
    for k in range(1, 6):
        employees[f"disability_{k}"] = employees[f"disability_{k}"].astype(float)
    follow = pd.DataFrame({"person": ["p0", "p1", "p2"], "wave": "T2", "change_communication": [3, 4, 5],
                           "change_attitude": [3, 3, 4]})
    employees = pd.concat([employees, follow], ignore_index=True)
    paths = {}
    for name, frame in (("supervisors_long", long), ("supervisors", survey), ("schedule", schedule),
                        ("employees", employees)):
        paths[name] = str(folder / f"{name}.parquet")
        frame.to_parquet(paths[name])
    return paths


def _run(inputs: dict, out, log) -> None:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["supervisors"]
    params = {**config, "constructs": ["knowledge", "intention"], "optimizers": ["bfgs", "nm"],
              "baseline_covariates": {"age": "numeric", "sex": "categorical"}}
    snakemake = SimpleNamespace(
        input=SimpleNamespace(**inputs),
        output=SimpleNamespace(**{name: str(out / f"{name}.csv") for name in TABLES}),
        params=SimpleNamespace(**params),
        log=[str(log)],
    )
    runpy.run_path(str(SCRIPT), init_globals={"snakemake": snakemake}, run_name="__main__")


def test_adapter_writes_every_table_byte_identically(tmp_path):
    inputs = _inputs(tmp_path)
    for run in ("a", "b"):
        _run(inputs, tmp_path / run, tmp_path / f"{run}.log")
    for name in TABLES:
        first = (tmp_path / "a" / f"{name}.csv").read_bytes()
        assert first == (tmp_path / "b" / f"{name}.csv").read_bytes(), name
        assert b"\r" not in first and first.endswith(b"\n")
    effects = pd.read_csv(tmp_path / "a" / "supervisor_effects.csv", keep_default_na=False)
    assert effects.columns[:14].tolist() == ["construct", "wave", "estimate", "ci_low", "ci_high", "p", "p_holm",
                                             "effect_size", "n", "converged", "warnings", "optimizer", "group_variance",
                                             "boundary"]
    assert (effects[["construct", "wave"]].values.tolist()
            == [[c, w] for c in ("intention", "knowledge") for w in ("T1", "T2", "T3")])
    means = pd.read_csv(tmp_path / "a" / "supervisor_means.csv")
    assert means.columns[:6].tolist() == ["construct", "wave", "mean", "ci_low", "ci_high", "n"]
    process = pd.read_csv(tmp_path / "a" / "process.csv", keep_default_na=False)
    assert set(process["measure"]) >= {"dose_delivered", "dose_received", "extra_time", "extra_hours",
                                       "satisfaction_general"}
    assert "supervisor_effects: 6 rows" in (tmp_path / "a.log").read_text(encoding="utf-8")


def test_adapter_turns_bad_input_into_a_message_and_exit_1(tmp_path):
    inputs = _inputs(tmp_path)
    long = pd.read_parquet(inputs["supervisors_long"])
    pd.concat([long, long.iloc[[3]]]).to_parquet(inputs["supervisors_long"])
    with pytest.raises(SystemExit) as stop:
        _run(inputs, tmp_path / "out", tmp_path / "bad.log")
    assert stop.value.code == 1
    assert "more than one row for supervisor=" in (tmp_path / "bad.log").read_text(encoding="utf-8")
    assert not (tmp_path / "out").exists()
