"""Folders built once per test session, also when pytest-xdist runs the tests in several workers.

`built_once(tmp_path_factory, name, build)` returns the folder `name` after `build(folder)` has
filled it, once for the whole session: with xdist every worker is its own process with its own
session fixtures, so the first worker to ask builds under a file lock in the folder all workers
share (the parent of each worker's base temp, as xdist's documentation shows) and the others wait
for it and read the same folder. A failed build is recorded, so the other workers fail with its
message instead of building again. Tests must treat the folder as read-only (copy it to change it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest
from filelock import FileLock


def shared_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temp folder every worker of this session sees (the base temp itself without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    base = shared_base(tmp_path_factory)
    folder, status = base / name, base / f"{name}.status"
    with FileLock(str(base / f"{name}.lock")):
        if status.is_file():
            text = status.read_text(encoding="utf-8")
            if text != "ok":
                pytest.fail(f"building {name} failed in another worker:\n{text}")
            return folder
        folder.mkdir(parents=True, exist_ok=True)
        try:
            build(folder)
        except BaseException as error:  # pytest.fail raises a BaseException too
            status.write_text(f"{type(error).__name__}: {error}"[-4000:] or "failed", encoding="utf-8")
            raise
        status.write_text("ok", encoding="utf-8")
    return folder
