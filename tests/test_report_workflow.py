"""The rules of part 3 on fixture tables: a clean run's files, no-op reruns, language override.

One clean run of `snakemake` in a deep folder and another time zone, locale and hash seed
(about 15 s); that the report files' bytes do not depend on these is shown on the default study
by the committed digest list (tests/test_end_to_end.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
SNAKEFILE = f"""configfile: "config.yaml"

include: "{(ROOT / 'workflow' / 'rules' / 'report.smk').as_posix()}"


rule all:
    default_target: True
    input:
        REPORT_OUTPUTS,
"""


def _workdir(base: Path) -> Path:
    base.mkdir(parents=True)
    shutil.copy(ROOT / "config.yaml", base / "config.yaml")
    (base / "Snakefile").write_text(SNAKEFILE, encoding="utf-8")
    tables = base / "reports" / "tables"
    shutil.copytree(FIXTURES / "tables" / "default", tables, ignore=shutil.ignore_patterns("*.py"))
    return base


def _env(tz: str, lang: str, seed: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "SNAKEMAKE"))}
    env.update(TZ=tz, LC_ALL=lang, LANG=lang, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT / "src"))
    return env


def _snakemake(workdir: Path, env: dict[str, str], *args: str, wait: bool = True):
    command = [str(SNAKEMAKE), "--cores", "1", "--quiet", "rules", *args]
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    if not wait:
        return process
    out, _ = process.communicate(timeout=600)
    return process.returncode, out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    """One clean run in a deep folder, a time zone, locale and hash seed other than the digest
    list's; a second run would repeat what tests/test_end_to_end.py shows on the default study:
    every report file has the committed bytes whatever the folder and environment."""
    if not SNAKEMAKE.is_file():
        pytest.skip("snakemake is not installed next to this Python")
    first = _workdir(tmp_path_factory.mktemp("workflow") / "deeper" / "path" / "one")
    code, out = _snakemake(first, _env("Pacific/Auckland", "C", "4242"))
    assert code == 0, out[-3000:]
    return first


def test_a_clean_run_writes_every_report_file(report_run):
    first = report_run
    one = _files(first / "reports")
    expected = {"report.html", "report.pdf", "factsheet.html", "factsheet.pdf", "provenance.json",
                "figures/figures.json", "figures/flow.svg", "figures/km.png"}
    assert expected <= set(one)
    assert all(len(one[name]) > 0 for name in expected)


def test_nothing_under_reports_names_a_local_path_or_time(report_run):
    first = report_run
    for name, data in _files(first / "reports").items():
        if name.startswith("tables/"):
            continue
        assert b"file:" not in data, name
        assert str(first).encode() not in data, name
    provenance = (first / "reports" / "provenance.json").read_text(encoding="utf-8")
    assert '"reports/tables/flow.csv"' in provenance and '"config_hash"' in provenance


def test_logs_and_run_summary_are_under_logs(report_run):
    first = report_run
    import json

    summary = json.loads((first / "logs" / "run_summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "success" and summary["exit_code"] == 0
    assert {r["rule"] for r in summary["rules"]} >= {"report/figures", "report/technical_report", "report/factsheet",
                                                     "report/provenance"}
    assert all(r["status"] == "ok" for r in summary["rules"])


def test_a_rerun_schedules_nothing_and_a_language_override_redraws(report_run):
    first = report_run
    env = _env("UTC", "C.UTF-8", "0")
    code, out = _snakemake(first, env, "--dry-run")
    assert code == 0 and "Nothing to be done" in out, out[-2000:]
    code, out = _snakemake(first, env, "--dry-run", "--config", "report={language: en}")
    assert code == 0, out[-2000:]
    table = {line.split()[0]: line.split()[-1] for line in out.splitlines() if len(line.split()) == 2}
    for rule in ("figures", "technical_report", "factsheet", "provenance"):
        assert table.get(rule) == "1", (rule, out[-1500:])


def test_workflow_report_with_captions_goes_under_logs(report_run):
    first = report_run
    before = _files(first / "reports")
    code, out = _snakemake(first, _env("UTC", "C.UTF-8", "0"), "--report", "logs/workflow-report.html")
    assert code == 0, out[-2000:]
    report = (first / "logs" / "workflow-report.html").read_text(encoding="utf-8", errors="replace")
    assert "Kaplan-Meier curves of staying with the baseline employer" in report  # caption of km.png
    assert _files(first / "reports") == before
