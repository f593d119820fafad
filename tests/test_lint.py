"""The code passes the linter: ruff (pinned in requirements.lock) with the rules of
pyproject.toml's [tool.ruff] on src/, workflow/, tests/ and tools/."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None,
                    reason="ruff (test extra) is missing: pip install -r requirements.lock")
def test_src_workflow_tests_and_tools_pass_ruff_with_the_project_rules():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
         "src", "workflow", "tests", "tools"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
