"""The chain validation runs through a real SLURM cluster and gives the bytes of a local run.

`tests/slurm/cluster.sh start` installs SLURM if needed (Debian, root) and starts munged,
slurmctld and slurmd by hand on this machine (one node, no accounting); the test then runs a
3-replication chain validation twice with `mentorwijs validate --chain`: on the local cores, and
through `snakemake-executor-plugin-slurm` with the repository's profile
(workflow/profiles/slurm). Each replication's rows and the aggregated chain.csv must be the same
bytes. Without accounting the executor must query squeue (`--slurm-status-command squeue`), and
`--slurm-init-seconds-before-status-checks 2` spares the default 40 s wait.

It starts system daemons and takes minutes, so it runs only when asked for:

    MENTORWIJS_TEST_SLURM=1 python -m pytest tests/test_chain_slurm.py

Skipped otherwise, and, with the reason, when SLURM cannot be started here (not root, not Linux,
no apt-get) or the executor plugin is not installed (`pip install -e ".[slurm]"`).

Measured on 2 cores shared with other work: cluster start 0.2 s with the packages present
(installing them about 11 s), the local run 2 min 20 s, the SLURM run 2 min 21 s (3 replications
at scale 1, 2 at a time): about 5 minutes in all.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from support.synthetic_study import make_repository

pytestmark = pytest.mark.slurm

CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
REPLICATIONS = 3
SEED = 101
SCENARIO = "effect"
SCALE = "1"
TIMEOUT = 900


def _cluster(command: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLUSTER), command], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def slurm_cluster():
    if os.environ.get("MENTORWIJS_TEST_SLURM") != "1":
        pytest.skip("SLURM test: starts SLURM daemons and takes about 5 minutes; set MENTORWIJS_TEST_SLURM=1 to run it")
    if not sys.platform.startswith("linux"):
        pytest.skip("SLURM test: needs Linux")
    if os.geteuid() != 0:
        pytest.skip("SLURM test: starting the SLURM daemons needs root")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip('SLURM test: the executor plugin is not installed (pip install -e ".[slurm]")')
    already_up = _cluster("status").returncode == 0
    started = _cluster("start")
    if started.returncode == 2:
        pytest.skip(f"SLURM test: {started.stderr.strip()}")
    assert started.returncode == 0, started.stderr
    yield
    if not already_up:  # never stop a cluster this test did not start
        stopped = _cluster("stop")
        assert stopped.returncode == 0, stopped.stderr


def _repository(dest: Path) -> Path:
    """A repository layout: the shipped config, schema and codebooks, and the validation workflow."""
    root = make_repository(dest)
    shutil.copytree(ROOT / "workflow" / "validation", root / "workflow" / "validation")
    return root


def _validate(root: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "mentorwijs", "validate", "--chain", "--config", str(root / "config.yaml"),
               "--replications", str(REPLICATIONS), "--seed", str(SEED), "--scale", SCALE, "--scenarios", SCENARIO,
               *extra]
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def _outputs(root: Path) -> dict[str, bytes]:
    work = root / "data" / "interim" / "chain"
    files = {p.relative_to(work).as_posix(): p.read_bytes() for p in sorted((work / "rows").rglob("*.csv"))}
    files["chain.csv"] = (root / "docs" / "validation" / "chain.csv").read_bytes()
    return files


def test_a_slurm_run_gives_the_bytes_of_a_local_run(slurm_cluster, tmp_path):
    local = _repository(tmp_path / "local")
    cluster = _repository(tmp_path / "cluster")

    done = _validate(local, "--cores", "2")
    assert done.returncode == 0, done.stderr[-4000:]
    done = _validate(cluster, "--profile", str(PROFILE), "--", "--jobs", "2",
                     "--slurm-init-seconds-before-status-checks", "2", "--slurm-status-command", "squeue")
    assert done.returncode == 0, done.stderr[-4000:]

    # the replications ran as SLURM jobs (the executor names each job's SLURM job id)
    submitted = [line for line in done.stderr.splitlines()
                 if "submitted with SLURM jobid" in line and "rule_chain_replication" in line]
    assert len(submitted) == REPLICATIONS, done.stderr[-4000:]

    expected, got = _outputs(local), _outputs(cluster)
    assert sorted(got) == sorted(expected)
    assert len(expected) == REPLICATIONS + 1
    for name in expected:
        assert got[name] == expected[name], name
    # the study folders were removed after success, the rows kept
    assert not any((cluster / "data" / "interim" / "chain" / "studies").rglob("*.parquet"))
