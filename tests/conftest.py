"""Shared fixtures: repository paths and the public reference material in ../shared/."""

from __future__ import annotations

from pathlib import Path

import pytest

from mentorwijs.system import reproducible_numerics  # imports no numpy

# Numerical libraries on one thread, with the same kernels on every x86-64 processor with AVX2, in
# this process, in the xdist workers it starts and in the workflows the tests run: the results then
# do not depend on the machine (see reproducible_numerics), and two workers on two cores do not
# start a BLAS thread per core each.
reproducible_numerics()

from support.paths import FIXTURES, REFERENCE, ROOT, SHARED  # noqa: E402
#: session fixtures of the register fixture study, defined here once: a test module that imported
#: them would get a copy of its own and run the register part again
from support.register_fixture import all_units_panel, register_run  # noqa: E402

__all__ = ["FIXTURES", "REFERENCE", "ROOT", "SHARED", "all_units_panel", "register_run", "shared_file"]


def pytest_collection_modifyitems(items) -> None:
    """pandas' SettingWithCopyWarning is an error in every test (a chained assignment that may
    write to a copy). Set here, not as an ini filter, which pytest applies (importing pandas)
    before this file can set the thread variables above."""
    mark = pytest.mark.filterwarnings("error::pandas.errors.SettingWithCopyWarning")
    for item in items:
        item.add_marker(mark, append=False)


def shared_file(*parts: str) -> Path:
    """A file under ../shared/, or skip the test with the reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"public reference file {Path(*parts).as_posix()} is not available beside the repository "
                    "(../shared/)")
    return path


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory):
    """The whole workflow (`snakemake all`) run once on the synthetic study in a temporary copy of
    the repository, once per session also across xdist workers (support.shared.built_once); tests
    read its outputs and never change them (copy the folder to change it).
    It runs in a time zone, locale and hash seed other than those of the committed output digests
    (tests/fixtures/default_outputs.sha256), so their comparison shows the outputs do not depend
    on them."""
    from support.shared import built_once
    from support.synthetic_run import run_snakemake, workflow_copy

    def build(folder: Path) -> None:
        root = workflow_copy(folder / "run")
        result = run_snakemake(root, "all", env={"TZ": "Asia/Tokyo", "LC_ALL": "C", "PYTHONHASHSEED": "2"})
        if result.returncode != 0:
            pytest.fail(f"snakemake all failed on the synthetic study:\n{result.stderr[-4000:]}")

    return built_once(tmp_path_factory, "synthetic", build) / "run"



@pytest.fixture(scope="session")
def scale8_study(tmp_path_factory):
    """The shipped synthetic study at eight times its size (pool scale 1), simulated and run through
    the questionnaire and the register part in-process, once per session across workers: the
    truth-recovery tests read its estimates and test_register_stream its output digests. Read-only."""
    from support.shared import built_once
    from support.synthetic_study import make_repository, run_questionnaire_part, run_register_part, simulate_study

    def build(folder: Path) -> None:
        make_repository(folder, scale=8, pool_scale=1)
        simulate_study(folder)
        run_questionnaire_part(folder)
        run_register_part(folder)

    return built_once(tmp_path_factory, "scale8_study", build)
