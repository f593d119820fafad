"""The environments: lock files, generated conda environments and system checks agree."""

from __future__ import annotations

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


def test_register_lock_has_no_report_or_workflow_packages():
    names = {name for name, _ in _pins("requirements-register.lock")}
    assert not names & {"weasyprint", "snakemake", "jinja2", "pandera", "openpyxl"}


def test_pandas_is_below_3_for_lifelines():
    versions = [v for (name, _), v in _pins("requirements.lock").items() if name == "pandas"]
    assert versions and all(int(v.split(".")[0]) < 3 for v in versions)
