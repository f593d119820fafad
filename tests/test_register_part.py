"""The register part as a whole: output contracts, the flow, reruns, keys, imports, paths, rules."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path, PureWindowsPath

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from mentorwijs.contracts import REGISTER_TABLES, column_names
from mentorwijs.errors import InputError
from mentorwijs.flow import gather_exclusions, gather_flow, write_flow_fragment
from mentorwijs.register.check import check_register
from mentorwijs.register.steps import PATHS, register_plan, run_register, window_of
from mentorwijs.register import spec
from support.register_fixture import FILES, KEY, payroll_rows, write_config_file, write_register_fixture

OUTPUTS = [p for p in PATHS.values()]


def _read(root, name):
    return pd.read_parquet(root / PATHS[name])


def test_output_tables_follow_the_data_contracts(register_run):
    root, _ = register_run
    pairs, matched = _read(root, "pairs"), _read(root, "matched")
    panel, survival = _read(root, "panel"), _read(root, "survival")
    assert list(pairs.columns) == ["trainee_unit", "control_unit", "cohort", "distance", "weight"]
    assert list(matched.columns[:6]) == ["unit", "person", "cohort", "treated", "weight", "pscore"]
    assert "tie_order" not in matched.columns and "age" in matched.columns
    # panel and survival: the matched units (main_sample 1) and the units only the modifier pairs use (0)
    modifier_pairs = _read(root, "modifier_pairs")
    assert list(modifier_pairs.columns) == ["modifier", "level", "treated_unit", "control_unit", "weight"]
    used = set(modifier_pairs["treated_unit"]) | set(modifier_pairs["control_unit"].dropna())
    assert set(panel["unit"]) == set(survival["unit"]) == set(matched["unit"]) | used
    assert set(survival.loc[survival["main_sample"] == 1, "unit"]) == set(matched["unit"])
    assert set(panel.loc[panel["main_sample"] == 1, "unit"]) == set(matched["unit"])
    assert (survival.loc[survival["main_sample"] == 0, "weight"] == 0).all()
    assert list(survival["unit"]) == sorted(survival["unit"]) and list(matched["unit"]) == sorted(matched["unit"])
    trainees = matched[matched["treated"] == 1]
    controls = matched[matched["treated"] == 0]
    assert (trainees["weight"] == 1).all() and len(trainees) == 2
    for cohort, group in controls.groupby("cohort"):
        assert group["weight"].sum() == pytest.approx((trainees["cohort"] == cohort).sum())
    assert np.allclose(pairs.groupby("trainee_unit")["weight"].sum(), 1.0)
    assert set(pairs["control_unit"]) == set(controls["unit"])
    balance = pd.read_csv(root / PATHS["balance"]).set_index("covariate")
    assert list(balance.reset_index().columns) == column_names("balance")
    assert {"age", "wage_hourly", "sex=man", "sector=agriculture", "sheltered"} <= set(balance.index)
    assert (balance["n_treated_before"] == 2).all() and (balance["n_control_before"] == 17).all()
    assert (balance["n_treated"] == 2).all() and (balance["n_control"] == len(controls)).all()
    assert balance.loc["sex=man", "n_treated_with_before"] + balance.loc["sex=woman", "n_treated_with_before"] == 2
    overlap = pd.read_csv(root / PATHS["ps_overlap"]).groupby(["sample", "group"])["n"].sum()
    assert (overlap[("eligible", "treated")], overlap[("eligible", "control")]) == (2, 17)
    assert (overlap[("matched", "treated")], overlap[("matched", "control")]) == (2, len(controls))
    model = pd.read_csv(root / PATHS["ps_model"])
    assert list(model.columns) == column_names("ps_model")
    assert model["method"].str.startswith("ridge").all()  # two trainees: separation, reported as such
    assert (model["n_treated"] == 2).all() and (model["n_control"] == 17).all()


def test_every_result_table_follows_its_contract_and_leaves_only_through_the_export(register_run):
    root, _ = register_run
    results = root / "data" / "processed" / "results"
    assert sorted(p.stem for p in results.glob("*.csv")) == sorted(REGISTER_TABLES)
    for name in REGISTER_TABLES:
        assert list(pd.read_csv(results / f"{name}.csv").columns)[: len(column_names(name))] == column_names(name), name
    exported = root / "export" / "tables"
    assert sorted(p.stem for p in exported.glob("*.csv")) == sorted(REGISTER_TABLES)
    for name in REGISTER_TABLES:  # the exported table has exactly the contract's columns: no check-only column
        assert list(pd.read_csv(exported / f"{name}.csv", dtype=str).columns) == column_names(name), name
    log = pd.read_csv(root / "export" / "output_check_log.csv", dtype=str, keep_default_na=False)
    assert set(log["table"]) == set(REGISTER_TABLES)
    # two trainees: every effect estimate is suppressed, the flow (exempt) is published as it is
    did = pd.read_csv(exported / "did_pooled.csv", dtype=str)
    assert (did["estimate"] == "<10").all()
    assert ("flow", "exempt") in set(zip(log["table"], log["action"]))
    assert not (root / "reports").exists()  # register tables reach reports/ only from the export


def test_the_flow_table_is_complete(register_run):
    root, _ = register_run
    flow = pd.read_csv(root / PATHS["flow"])
    matched = _read(root, "matched")
    controls = matched[matched["treated"] == 0]
    full = int(flow.loc[flow["step"] == "of_which_matched_in_full_exact_cell", "n"].iloc[0])
    assert flow.to_dict("records") == [
        {"population": "controls", "order": 110, "step": "candidate_units", "n": 17},
        {"population": "controls", "order": 120, "step": "candidate_persons", "n": 9},
        {"population": "controls", "order": 130, "step": "matched_control_persons", "n": controls["person"].nunique()},
        {"population": "controls", "order": 140, "step": "matched_control_units", "n": len(controls)},
        {"population": "employees", "order": 110, "step": "excluded_not_found_in_register", "n": 3},
        {"population": "employees", "order": 120, "step": "found_in_register", "n": 3},
        {"population": "employees", "order": 130, "step": "excluded_without_paid_work_at_baseline", "n": 1},
        {"population": "employees", "order": 140, "step": "excluded_outside_age_range", "n": 0},
        {"population": "employees", "order": 160, "step": "eligible", "n": 2},
        {"population": "employees", "order": 170, "step": "excluded_off_common_support", "n": 0},
        {"population": "employees", "order": 175, "step": "excluded_no_control_in_caliper", "n": 0},
        {"population": "employees", "order": 180, "step": "matched", "n": 2},
        {"population": "employees", "order": 182, "step": "of_which_matched_in_full_exact_cell", "n": full},
        {"population": "employees", "order": 184, "step": "of_which_matched_after_coarsening", "n": 2 - full},
    ]
    assert 0 <= full <= 2


def test_gather_flow_merges_every_part_and_refuses_a_step_written_twice(tmp_path):
    write_flow_fragment([("employees", 10, "completed_questionnaire", 118), ("employees", 30, "sent_to_cbs", 86)],
                        tmp_path / "employees.csv")
    write_flow_fragment([("employees", 120, "found_in_register", 78),
                         ("controls", 130, "matched_control_persons", 1526)],
                        tmp_path / "register.csv")
    flow = gather_flow(sorted(tmp_path.glob("*.csv")))
    assert flow["step"].tolist() == ["matched_control_persons", "completed_questionnaire", "sent_to_cbs",
                                     "found_in_register"]
    write_flow_fragment([("employees", 30, "sent", 86)], tmp_path / "other.csv")
    with pytest.raises(InputError, match="employees/30 is written by more than one fragment"):
        gather_flow(sorted(tmp_path.glob("*.csv")))


def test_gather_exclusions_combines_the_register_stages(register_run):
    root, _ = register_run
    table = gather_exclusions(sorted((root / "data" / "interim" / "exclusions").glob("*.csv")))
    assert list(table.columns) == column_names("exclusions") == ["stage", "source", "wave", "reason", "n"]
    assert table["stage"].tolist() == sorted(table["stage"])
    n = table.set_index(["stage", "source", "reason"])["n"]
    assert n[("register_candidates", "trainees", "without paid work at baseline")] == 1
    assert n[("register_payroll", "payroll", "RINPERSOONS other than R")] == 1
    assert len(table) == 16  # persons 2, trainees 3 + 1, payroll 6, candidates 4
    assert (pd.read_csv(root / PATHS["exclusions"]).fillna("") == table.fillna("")).all().all()


def test_gather_exclusions_counts_records_and_never_shows_one(tmp_path):
    pd.DataFrame({"source": "supervisors", "wave": "T1", "record": ["12:ab", "14:cd", "15:ef"],
                  "reason": ["incomplete", "incomplete", "test participant"], "n": 1}).to_csv(
        tmp_path / "ingest_supervisors_T1.csv", index=False)
    table = gather_exclusions([tmp_path / "ingest_supervisors_T1.csv"])
    assert "record" not in table.columns
    assert table[["stage", "reason", "n"]].values.tolist() == [["ingest_supervisors_T1", "incomplete", 2],
                                                              ["ingest_supervisors_T1", "test participant", 1]]


def _digests(root: Path) -> dict[str, str]:
    """Every file the part writes: its PATHS, the effect tables and the export."""
    files = {name: root / path for name, path in PATHS.items()}
    for folder in (root / "data" / "processed" / "results", root / "export"):
        files.update({path.relative_to(root).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()})
    assert len(files) > len(PATHS) + 20
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}


def test_reruns_are_byte_identical_and_the_key_changes_no_estimate(register_run, tmp_path, monkeypatch):
    root, config = register_run
    again = tmp_path / "again"
    write_register_fixture(again)
    run_register(config, root=again)
    assert _digests(again) == _digests(root)

    key = bytes(range(32))
    other = tmp_path / "other_key"
    write_register_fixture(other, key=key)
    monkeypatch.setenv("MENTORWIJS_KEY", key.hex())
    run_register(config, root=other)

    def by_rin(folder):
        persons = _read(folder, "persons").set_index("person")["rin"]
        matched = _read(folder, "matched")
        matched["rin"] = matched["person"].map(persons)
        survival = _read(folder, "survival")
        survival["rin"] = survival["person"].map(persons)
        keep = ["rin", "cohort", "treated", "weight", "pscore", "age", "wage_hourly"]
        return (matched[keep].sort_values(["rin", "cohort"]).reset_index(drop=True),
                (survival[["rin", "cohort", "time_job", "event_job", "time_work", "event_work"]]
                 .sort_values(["rin", "cohort"]).reset_index(drop=True)))

    a, b = by_rin(root), by_rin(other)
    assert set(_read(root, "matched")["person"]).isdisjoint(set(_read(other, "matched")["person"]))
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    for name in ("balance", "ps_overlap", "flow"):
        assert (root / PATHS[name]).read_bytes() == (other / PATHS[name]).read_bytes()


def test_check_register_reports_coverage_key_match_and_person_types(register_run, tmp_path):
    root, config = register_run
    reg = config["register"]

    def run(folder):
        files = {k: ([folder / p for p in v] if isinstance(v, list) else folder / v) for k, v in reg["files"].items()}
        return check_register(files=files, key_file=folder / KEY, study_number="studienummer",
                              window=window_of(reg["window"]), variables=spec.variables(reg["variables"]),
                              codes=spec.codes(reg["codes"]))

    findings = run(root)
    by_check = findings.set_index(["check", "file"])
    assert (findings["status"] != "error").all()
    coverage = findings[findings["check"] == "window_coverage"].iloc[0]
    assert (coverage["status"], coverage["value"]) == ("ok", 18)
    rate = findings[findings["check"] == "key_match_rate"].iloc[0]
    assert rate["value"] == pytest.approx(3 / 5) and "1 with RINPERSOONS other than R" in rate["message"]
    key_types = by_check.loc[("person_types", (root / KEY).as_posix())]
    assert key_types["message"] == "RINPERSOONS mix: R 4 (80.0%), S 1 (20.0%)"
    dup = findings[findings["check"] == "duplicate_persons"].iloc[0]
    assert (dup["status"], dup["value"]) == ("warning", 1)

    rows = payroll_rows()  # the 2020 file cut at a line end: March to June missing
    write_register_fixture(tmp_path, payroll=rows[(rows["file"] != "2020") | (rows["SDATUMAANVANGIKO"] < "20200301")])
    findings = run(tmp_path)
    coverage = findings[findings["check"] == "window_coverage"].iloc[0]
    assert coverage["status"] == "error" and "2020-03..2020-06" in coverage["message"]

    write_register_fixture(tmp_path, payroll=rows[rows["file"] != "2020"])  # a 2020 file with its header only
    findings = run(tmp_path)
    errors = findings[findings["status"] == "error"]
    assert errors["check"].tolist() == ["readable"] and errors["file"].iloc[0].endswith("SPOLISBUS2020V1.csv")
    assert "no data rows" in errors["message"].iloc[0]


def test_check_register_command_exit_codes(tmp_path):
    config = write_register_fixture(tmp_path)
    config_file = write_config_file(tmp_path, config)
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "mentorwijs", "check-register", "--config", str(config_file)],
                        cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "window_coverage" in ok.stdout and "0 error(s)" in ok.stdout
    (tmp_path / FILES["payroll"][1]).write_text("RINPERSOONS,RINPERSOON\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-m", "mentorwijs", "check-register", "--config", str(config_file)],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "ERROR" in bad.stdout and "column 'IKVID' is missing" in bad.stdout


ALLOWED = {"numpy", "pandas", "scipy", "statsmodels", "pyreadstat", "pyarrow", "yaml", "mentorwijs"}
FORBIDDEN = {"matplotlib", "weasyprint", "snakemake", "jinja2", "openpyxl", "pandera", "jsonschema", "nbclient",
             "lifelines", "pyfixest"}


def test_the_register_part_imports_only_approved_packages(tmp_path):
    """Run the whole part in a fresh interpreter; check every loaded project module's imports."""
    config = write_register_fixture(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    script = textwrap.dedent(
        """
        import json, sys
        from pathlib import Path
        import mentorwijs.cli, mentorwijs.matching, mentorwijs.register.check
        from mentorwijs.register.steps import run_register
        root = Path(sys.argv[1])
        run_register(json.loads((root / "config.json").read_text()), root=root)
        modules = {name: getattr(m, "__file__", None) for name, m in sys.modules.items()}
        print(json.dumps(modules))
        """
    )
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    loaded_top = {name.split(".")[0] for name in modules}
    assert not (loaded_top & FORBIDDEN), loaded_top & FORBIDDEN
    own = {name: path for name, path in modules.items() if name.split(".")[0] == "mentorwijs" and path}
    assert {"mentorwijs.register.payroll", "mentorwijs.matching", "mentorwijs.register.panel"} <= set(own)
    stdlib = set(sys.stdlib_module_names)
    for name, path in own.items():
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                tops = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops = {node.module.split(".")[0]}
            else:
                continue
            outside = tops - ALLOWED - stdlib
            assert not outside, f"{name} imports {outside}"


def test_the_plan_builds_windows_paths_with_pathlib():
    from mentorwijs.config import load_config

    config = load_config(ROOT / "config.yaml")
    root = PureWindowsPath("C:/Users/onderzoeker/mentorwijs")
    plan = register_plan(config, root=root)
    persons = plan[0].arguments["persons_file"]
    assert isinstance(persons, PureWindowsPath)
    assert str(persons) == r"C:\Users\onderzoeker\mentorwijs\data\raw\synthetic\cbs\GBAPERSOON2022TABV1.sav"
    assert (str(plan[4].arguments["out_balance"])
            == r"C:\Users\onderzoeker\mentorwijs\data\processed\results\balance.csv")
    assert [step.name for step in plan][-2:] == ["effects", "export"]
    assert str(plan[-1].arguments["out_export"]) == r"C:\Users\onderzoeker\mentorwijs\export"
    for step in plan:
        for value in step.arguments.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, PureWindowsPath):
                    assert "/" not in str(item)
    assert InputError("x", file=persons).message.startswith("file C:/Users/onderzoeker/mentorwijs/data/raw/")
