"""The environments: lock files, generated conda environments and system checks agree."""

from __future__ import annotations

import os

import importlib.util
import re
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "workflow" / "envs"))
generate = importlib.import_module("generate")


def test_conda_environments_are_generated_from_the_current_locks():
    for name, (lock, purpose) in generate.ENVS.items():
        on_disk = (ROOT / "workflow" / "envs" / name).read_text(encoding="utf-8")
        assert on_disk == generate.render(lock, purpose), f"workflow/envs/{name} is stale: run `make envs`"


def _pins(lock):
    pins = {}
    for requirement in generate.pins(ROOT / lock):
        name, version = re.match(r"([A-Za-z0-9_.\-]+)==([^ ;]+)", requirement).groups()
        marker = requirement.split(";", 1)[1].strip() if ";" in requirement else ""
        pins[(name.lower(), marker)] = version
    return pins


def test_register_lock_is_a_subset_of_the_full_lock_with_the_same_versions():
    full, register = _pins("requirements.lock"), _pins("requirements-register.lock")
    for key, version in register.items():
        assert full.get(key) == version, f"{key[0]} {version} in the register lock differs from the full lock"


def test_register_lock_has_no_report_workflow_plotting_or_test_packages():
    names = {name for name, _ in _pins("requirements-register.lock")}
    assert not names & {"weasyprint", "snakemake", "jinja2", "pandera", "openpyxl", "matplotlib",
                        "lifelines", "pyfixest", "ruff", "pytest"}


def test_the_full_lock_pins_the_test_extra_so_ci_runs_the_field_library_checks_and_the_lint():
    # `make test` (and .ci/run) installs requirements.lock: the checks against lifelines and
    # pyfixest and tests/test_lint.py skip where these are missing, so CI must have them.
    names = {name for name, _ in _pins("requirements.lock")}
    assert {"pytest", "lifelines", "pyfixest", "ruff"} <= names


def test_pandas_is_below_3_as_verified():
    # outputs are verified with pandas 2; lifelines 0.30 (test extra) does not support pandas 3
    versions = [v for (name, _), v in _pins("requirements.lock").items() if name == "pandas"]
    assert versions and all(int(v.split(".")[0]) < 3 for v in versions)


def test_mentorwijs_commands_run_the_numerical_libraries_on_one_thread_as_snakemake_does():
    """With two OpenBLAS threads the propensity scores differ in their last bits, and so do the
    bytes of matched, pairs and survival (mentorwijs.system.single_threaded_numerics); the
    command pins one thread before numpy loads, as Snakemake does for its script jobs."""
    import subprocess
    import sys

    code = ("import os, sys\n"
            "from mentorwijs import cli\n"
            "assert 'numpy' not in sys.modules\n"
            "cli.main(['doctor', '--part', 'register'])\n"
            "print([os.environ.get(n) for n in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')])\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "['1', '1', '1']"
