"""The workflow's part targets and the rules that carry tables from one part to the next."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import FIXTURES, ROOT
from mentorwijs.aggregates import publish_tables
from mentorwijs.contracts import REGISTER_TABLES
from mentorwijs.disclosure import export_tables
from mentorwijs.errors import InputError
from mentorwijs.flow import combine_exclusions

from test_disclosure import POLICY

SNAKEMAKE = Path(sys.executable).with_name("snakemake")


# --- the tables between the parts ---------------------------------------------------------------


def test_exported_tables_are_copied_unchanged_after_their_check(tmp_path):
    export_tables(FIXTURES / "results", tmp_path / "export", POLICY)
    names = [n for n in REGISTER_TABLES if n != "exclusions"]
    sources = {n: tmp_path / "export" / "tables" / f"{n}.csv" for n in names}
    targets = {n: tmp_path / "reports" / "tables" / f"{n}.csv" for n in names}
    assert publish_tables(sources, targets) == sorted(names)
    for name in names:
        assert targets[name].read_bytes() == sources[name].read_bytes(), name


def test_a_damaged_export_stops_the_copy_before_anything_is_written(tmp_path):
    export_tables(FIXTURES / "results", tmp_path / "export", POLICY, kinds=["rmst", "km"])
    rmst = tmp_path / "export" / "tables" / "rmst.csv"
    rmst.write_text(rmst.read_text(encoding="utf-8").replace(",0.3,", ",0;3,"), encoding="utf-8")
    sources = {n: tmp_path / "export" / "tables" / f"{n}.csv" for n in ("km", "rmst")}
    targets = {n: tmp_path / "reports" / f"{n}.csv" for n in ("km", "rmst")}
    with pytest.raises(InputError) as err:
        publish_tables(sources, targets)
    # the damaged cell is the matched job row's difference, line 3 (the adjusted job row comes first)
    assert (Path(err.value.file).name, err.value.row, err.value.column) == ("rmst.csv", 3, "difference")
    assert not (tmp_path / "reports").exists()


def test_the_report_exclusions_are_the_exported_register_stages_and_the_counted_questionnaire_stages(tmp_path):
    exported = pd.DataFrame({"stage": ["register_payroll", "register_linkage"], "source": ["payroll", "persons"],
                             "wave": ["", ""], "reason": ["outside the window", "RINPERSOONS not R"],
                             "n": ["1834", "<10"]})
    fragment = tmp_path / "ingest_supervisors_T1.csv"
    pd.DataFrame({"source": "supervisors", "wave": "T1", "record": ["12:ab", "14:cd", "15:ef"],
                  "reason": ["incomplete", "incomplete", "test participant"], "n": 1}).to_csv(fragment, index=False)
    table = combine_exclusions(exported, [fragment])
    assert table.values.tolist() == [
        ["ingest_supervisors_T1", "supervisors", "T1", "incomplete", "2"],
        ["ingest_supervisors_T1", "supervisors", "T1", "test participant", "1"],
        ["register_linkage", "persons", "", "RINPERSOONS not R", "<10"],  # as exported: the marker stays
        ["register_payroll", "payroll", "", "outside the window", "1834"],
    ]
    clash = tmp_path / "register_payroll.csv"
    pd.DataFrame({"source": "payroll", "wave": "", "record": "", "reason": "x", "n": [3]}).to_csv(clash, index=False)
    with pytest.raises(InputError, match="register_payroll"):
        combine_exclusions(exported, [clash])


# --- the part targets ------------------------------------------------------------------------


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([str(SNAKEMAKE), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def workflow(tmp_path_factory) -> Path:
    """The repository's Snakefile, config, rules and codebooks in a temporary folder."""
    if not SNAKEMAKE.is_file():
        pytest.skip("snakemake is not installed next to this Python")
    work = tmp_path_factory.mktemp("targets")
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(ROOT / name, work / name)
    for folder in ("workflow", "data/codebooks"):
        shutil.copytree(ROOT / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return work


def _jobs(output: str) -> set[str]:
    table = output.split("Job stats:")[1].split("total")[0]
    return set(re.findall(r"^(\w+)\s+\d+\s*$", table, flags=re.M))


@pytest.fixture(scope="module")
def dry_runs(workflow):
    runs = {}
    for target in ("questionnaires", "register_export", "report", "all"):
        run = _snakemake(workflow, "--dry-run", "--cores", "1", target)
        assert run.returncode == 0, run.stderr[-3000:]
        runs[target] = _jobs(run.stdout + run.stderr)
    return runs


def test_each_part_target_runs_its_own_part(dry_runs):
    questionnaire_rules = {"trainees", "supervisors_long", "questionnaire_reliability", "supervisor_analyses"}
    register_rules = {"register_matching", "register_flow", "register_exclusions", "effects", "export"}
    report_rules = {"report_tables", "exclusions", "figures", "technical_report", "factsheet", "provenance"}
    assert (questionnaire_rules <= dry_runs["questionnaires"]
            and not dry_runs["questionnaires"] & (register_rules | report_rules))
    assert register_rules <= dry_runs["register_export"] and not dry_runs["register_export"] & report_rules
    assert "supervisor_analyses" not in dry_runs["register_export"]  # part 2 needs the hand-over, not the analyses
    assert report_rules <= dry_runs["report"]
    assert questionnaire_rules | register_rules | report_rules <= dry_runs["all"]


def test_the_workflow_is_lint_clean(workflow):
    run = _snakemake(workflow, "--lint")
    assert run.returncode == 0 and "Congratulations" in run.stdout + run.stderr, (run.stdout + run.stderr)[-3000:]
