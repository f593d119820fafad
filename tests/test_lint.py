"""The code passes the linter: ruff (pinned in requirements.lock) with the rules of
pyproject.toml's [tool.ruff] on src/, workflow/, tests/ and tools/; and the repository keeps
no large files (data stays out of git)."""

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


#: Tracked files allowed above the size limit (issue 14): the report's fonts and the test
#: fixtures and reference outputs under tests/.
LARGE_FILE_LIMIT = 1_000_000
LARGE_FILE_ALLOWED = ("src/mentorwijs/fonts/", "tests/fixtures/", "tests/reference/")


def test_no_tracked_file_is_over_1_mb_apart_from_fonts_and_fixtures():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the tracked files are not known")
    tracked = [name for name in listed.stdout.decode("utf-8").split("\0") if name]
    assert len(tracked) > 100  # the listing worked
    large = [f"{name}: {(ROOT / name).stat().st_size:,} bytes" for name in tracked
             if (ROOT / name).is_file() and (ROOT / name).stat().st_size > LARGE_FILE_LIMIT
             and not name.startswith(LARGE_FILE_ALLOWED)]
    assert large == [], ("tracked files over 1 MB (keep data out of git; fonts and fixtures excepted):\n"
                         + "\n".join(large))
