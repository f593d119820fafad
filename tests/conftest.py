"""Shared fixtures: repository paths and the public reference material in ../shared/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: ../shared/ beside the repository, or the folder MENTORWIJS_SHARED names (a git worktree
#: elsewhere).
SHARED = Path(os.environ.get("MENTORWIJS_SHARED", ROOT.parent / "shared"))
FIXTURES = ROOT / "tests" / "fixtures"
REFERENCE = ROOT / "tests" / "reference"


def shared_file(*parts: str) -> Path:
    """A file under ../shared/, or skip the test with the reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"public reference file {Path(*parts).as_posix()} is not available beside the repository (../shared/)")
    return path


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory):
    """The whole workflow (`snakemake all`) run once on the synthetic study in a temporary copy of
    the repository; tests read its outputs and never change them (copy the folder to change it).
    It runs in a time zone, locale and hash seed other than those of the committed output digests
    (tests/fixtures/default_outputs.sha256), so their comparison shows the outputs do not depend
    on them."""
    from synthetic_run import run_snakemake, workflow_copy

    root = workflow_copy(tmp_path_factory.mktemp("synthetic") / "run")
    result = run_snakemake(root, "all", env={"TZ": "Asia/Tokyo", "LC_ALL": "C", "PYTHONHASHSEED": "2"})
    if result.returncode != 0:
        pytest.fail(f"snakemake all failed on the synthetic study:\n{result.stderr[-4000:]}")
    return root
