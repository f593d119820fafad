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
def default_synthetic_study(tmp_path_factory) -> Path:
    """The default synthetic study (the shipped config.yaml) simulated into a temporary repository
    (tests/synthetic_study.py); tests run its parts there or copy its raw files."""
    from synthetic_study import make_repository, simulate_study

    root = make_repository(tmp_path_factory.mktemp("default_synthetic_study"))
    simulate_study(root)
    return root
