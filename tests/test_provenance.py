"""Provenance record and run summary: no time or absolute path in reports/, statuses from the logs."""

from __future__ import annotations

import hashlib
import json

from conftest import ROOT
from mentorwijs.config import config_hash, load_config
from mentorwijs.system import numerics_setting
from mentorwijs.provenance import dumps, file_hashes, git_state, log_status, provenance_record, run_summary


def test_record_holds_config_hash_inputs_commit_seed_and_versions(tmp_path, monkeypatch):
    config = load_config(ROOT / "config.yaml")
    table = tmp_path / "reports" / "tables" / "flow.csv"
    table.parent.mkdir(parents=True)
    table.write_bytes(b"population,order,step,n\nemployees,1,matched,73\n")
    monkeypatch.chdir(tmp_path)
    inputs = file_hashes([table.resolve()], root=tmp_path)
    assert inputs == {"reports/tables/flow.csv": hashlib.sha256(table.read_bytes()).hexdigest()}
    record = provenance_record(config, inputs, seed=config["study"]["seed"], commit="0" * 40,
                               versions={"python": "3.11.9"})
    assert record["config_hash"] == config_hash(config) and record["config"] == config
    assert record["seed"] == config["study"]["seed"] and record["commit"] == "0" * 40
    assert record["numerics"] == numerics_setting() and "openblas kernels" in record["numerics"]
    text = dumps(record)
    assert str(tmp_path) not in text and text.endswith("\n")
    assert dumps(json.loads(text)) == text  # canonical form


def test_git_state_outside_a_repository(tmp_path):
    assert git_state(tmp_path) == (None, False)


def test_git_state_of_this_checkout():
    commit, _dirty = git_state(ROOT)
    assert commit is None or len(commit) == 40


def test_run_summary_reads_status_and_warnings_per_rule_log(tmp_path):
    logs = tmp_path / "logs"
    (logs / "report").mkdir(parents=True)
    (logs / "report" / "figures.log").write_text("INFO drew 10 figures\nWARNING optional table placebo is missing\n",
                                                 encoding="utf-8")
    (logs / "report" / "report.log").write_text(
        "ERROR file reports/tables/rmst.csv: the required table 'rmst' is missing\n", encoding="utf-8")
    (logs / "simulate.log").write_text("INFO wrote 30 files\n", encoding="utf-8")
    summary = run_summary(logs, status="error", started=0.0)
    by_rule = {r["rule"]: r for r in summary["rules"]}
    assert (by_rule["report/figures"]["status"] == "ok"
            and by_rule["report/figures"]["warnings"] == ["optional table placebo is missing"])
    assert by_rule["report/report"]["status"] == "error"
    assert by_rule["simulate"]["this_run"] is True
    assert summary["exit_code"] == 1 and summary["warnings"] == 1 and "weasyprint" in summary["versions"]
    assert log_status("Traceback (most recent call last):\n  boom")[0] == "error"
