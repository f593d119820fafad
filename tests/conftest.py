"""Shared fixtures: repository paths and the public reference material in ../shared/."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.paths import FIXTURES, REFERENCE, ROOT, SHARED

__all__ = ["FIXTURES", "REFERENCE", "ROOT", "SHARED", "shared_file"]


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
    from support.synthetic_run import run_snakemake, workflow_copy

    root = workflow_copy(tmp_path_factory.mktemp("synthetic") / "run")
    result = run_snakemake(root, "all", env={"TZ": "Asia/Tokyo", "LC_ALL": "C", "PYTHONHASHSEED": "2"})
    if result.returncode != 0:
        pytest.fail(f"snakemake all failed on the synthetic study:\n{result.stderr[-4000:]}")
    return root
