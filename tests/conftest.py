"""Shared fixtures: repository paths and the public reference material in ../shared/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ../shared/ beside the repository; MENTORWIJS_SHARED points elsewhere (e.g. from a git worktree).
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
