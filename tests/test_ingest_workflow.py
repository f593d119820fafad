"""The questionnaire rules under Snakemake (a subprocess, one core) on the fixture study.

One full run is shared; each other test works in a copy of it (mtimes kept, so Snakemake sees
the copy as up to date): adding a wave, a Castor re-export holding all waves, an erroneous input.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from support.fixture_study import KEY_HEX, STUDY, make_study, set_wave, snakemake
from mentorwijs.config import load_config
from mentorwijs.ingest import run_questionnaires
from mentorwijs.supervisors import TABLES as SUPERVISOR_TABLES


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = make_study(tmp_path_factory.mktemp("workflow") / "repo", workflow=True)
    result = snakemake(root, "questionnaires")
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def _copy(built: Path, dest: Path) -> Path:
    shutil.copytree(built, dest, symlinks=True)  # copy2 keeps the mtimes
    return dest


def _job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake (dry) run."""
    block = output.split("Job stats:", 1)[1]
    counts = {}
    for line in block.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def _state(root: Path) -> dict[str, tuple[str, int]]:
    """Hash and mtime of every file under data/ and reports/ (raw inputs and codebooks excluded)."""
    state = {}
    for folder in ("data", "reports"):
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and not rel.startswith(("data/raw/", "data/codebooks/")):
                state[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return state


def test_the_workflow_gives_the_same_bytes_as_the_library_entry(built, tmp_path):
    root = make_study(tmp_path / "library")
    run_questionnaires(load_config(root / "config.yaml"), root, key=bytes.fromhex(KEY_HEX), progress=lambda s: None)
    ours = {k: v[0] for k, v in _state(built).items()}
    theirs = {k: v[0] for k, v in _state(root).items()}
    # the target `questionnaires` also runs the supervisors' analyses (rule supervisor_analyses), which the
    # ingest entry does not: their tables are the only difference
    supervisor_tables = {f"reports/tables/{name}.csv" for name in SUPERVISOR_TABLES}
    assert set(ours) - set(theirs) == supervisor_tables
    assert {k: v for k, v in ours.items() if k not in supervisor_tables} == theirs and len(theirs) > 40


def test_every_job_logged_and_no_rule_got_the_whole_config(built):
    logs = sorted(p.name for p in (built / "logs/questionnaires").glob("*.log"))
    assert "ingest_supervisors_T1.log" in logs and "trainees.log" in logs and "check_schedule.log" in logs
    assert "10 rows, 8 kept, 2 excluded" in (built / "logs/questionnaires/ingest_supervisors_T1.log").read_text()
    records = list((built / ".snakemake/metadata").iterdir())
    assert records
    for record in records:
        meta = json.loads(record.read_text())
        params = " ".join(meta.get("params") or [])
        for section in ("'sources'", "'register'", "'anchors'", "'study'", "'pseudonymise'", "'ingest'"):
            assert section not in params, (base64.b64decode(record.name).decode(), section)


def test_the_key_appears_in_no_config_param_log_or_output(built):
    needle = KEY_HEX.encode()
    key_bytes = bytes.fromhex(KEY_HEX)
    for path in built.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert needle not in data and key_bytes not in data, path
            assert needle.upper() not in data, path


def test_a_new_wave_schedules_exactly_its_own_jobs_and_what_depends_on_them(built, tmp_path):
    root = _copy(built, tmp_path / "repo")
    shutil.copy(STUDY / "extra/T3.csv", root / "data/raw/fixture/castor/T3.csv")
    set_wave(root / "config.yaml", "supervisors", "T3", "data/raw/fixture/castor/T3.csv")
    dry = snakemake(root, "questionnaires", "--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert _job_counts(dry.stdout + dry.stderr) == {
        "check_questionnaire_wave": 1,
        "ingest_questionnaire_wave": 1,
        "combine_questionnaire_waves": 1,
        "questionnaire_data_quality": 1,
        "questionnaire_reliability": 1,
        "supervisors_long": 1,
        "supervisor_analyses": 1,
        "questionnaires": 1,
    }
    assert "wave=T3" in dry.stdout + dry.stderr and "wave=T0" not in dry.stdout + dry.stderr
    # what the T3 jobs then compute is checked in-process (test_ingest_pipeline.py)


def _all_waves_export(tmp: Path) -> str:
    """One Castor export holding T0..T2 (Castor's re-export): the union of the columns, rows shuffled."""
    tables = []
    for wave in ("T0", "T1", "T2"):
        text = (STUDY / f"raw/castor/{wave}.csv").read_text(encoding="utf-8-sig")
        tables.append(list(csv.DictReader(io.StringIO(text), delimiter=";")))
    header = list(tables[1][0].keys())
    rows = [row for table in tables for row in table]
    rows = rows[1::2] + rows[0::2]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=";", lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_a_castor_reexport_of_all_waves_reruns_ingest_but_keeps_old_tables_identical(built, tmp_path):
    root = _copy(built, tmp_path / "repo")
    (root / "data/raw/fixture/castor/all_waves.csv").write_text(_all_waves_export(tmp_path), encoding="utf-8")
    for wave in ("T0", "T1", "T2"):
        set_wave(root / "config.yaml", "supervisors", wave, "data/raw/fixture/castor/all_waves.csv")
    before = _state(root)
    run = snakemake(root, "questionnaires")
    assert run.returncode == 0, run.stderr[-2000:]
    counts = _job_counts(run.stdout + run.stderr)  # the job table a run prints before it starts
    assert counts["ingest_questionnaire_wave"] == 3 and counts["check_questionnaire_wave"] == 3
    assert "trainees" not in counts and "ingest_questionnaire_file" not in counts
    after = _state(root)
    for wave in ("T0", "T1", "T2"):
        for name in (f"data/interim/supervisors/{wave}.parquet", f"data/interim/missing/supervisors/{wave}.parquet"):
            assert after[name][0] == before[name][0], name  # rewritten, byte-identical
    for name in ("data/interim/supervisors.parquet", "data/processed/supervisors_long.parquet",
                 "reports/tables/reliability.csv"):
        assert after[name][0] == before[name][0], name
    for name in ("data/processed/trainees.parquet", "data/interim/employees/T0.parquet",
                 "data/linkage/cbs_identifiers.csv"):
        assert after[name] == before[name], name  # the hand-over to the register part is not touched


def test_an_erroneous_input_stops_the_run_and_changes_nothing_but_logs(built, tmp_path):
    root = _copy(built, tmp_path / "repo")
    # a valid change to T0 (its jobs would rerun) and a truncated T1 (an error)
    t0 = root / "data/raw/fixture/castor/T0.csv"
    t0.write_text(t0.read_text(encoding="utf-8").replace("Tweede keer ingevuld", "Tweede keer"), encoding="utf-8")
    t1 = root / "data/raw/fixture/castor/T1.csv"
    t1.write_bytes(t1.read_bytes().rstrip(b"\r\n")[:-12])
    before = _state(root)
    run = snakemake(root, "questionnaires")
    assert run.returncode != 0
    log = (root / "logs/questionnaires/check_supervisors_T1.log").read_text(encoding="utf-8")
    assert re.search(r"file data/raw/fixture/castor/T1\.csv, row 11: the last row ends without a line break", log)
    assert "fix: " in log and "Traceback" not in log
    assert _state(root) == before
