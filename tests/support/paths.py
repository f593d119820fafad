"""The repository's paths, for the helpers here and conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: ../shared/ beside the repository, or the folder MENTORWIJS_SHARED names (a git worktree
#: elsewhere).
SHARED = Path(os.environ.get("MENTORWIJS_SHARED", ROOT.parent / "shared"))
FIXTURES = ROOT / "tests" / "fixtures"
REFERENCE = ROOT / "tests" / "reference"
