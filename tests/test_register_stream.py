"""The payroll step streamed: the same bytes as the code before it, however the files are cut.

The reference digests (``tests/fixtures/register/digests_scale{1,8}.json``) were computed with
``tests/support/register_digests.py`` on the code of main before the payroll step streamed (commit
98234ff, the payroll files read whole), with the numerical libraries set as every test process
sets them (mentorwijs.system.reproducible_numerics: one thread and OpenBLAS's Haswell kernels;
with two threads, or another processor's kernels, the propensity scores differ in their last
bits); these tests recompute them with the present code. The other tests compare a run in tiny
pieces (batches of a few kB, two persons per part, groups of fifty statements, one thread) with a
run at the default sizes (two threads), and the errors of a streamed file with those of the same
file read whole.
"""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
import pandas as pd
import pytest

from conftest import FIXTURES
from mentorwijs.errors import InputError
from mentorwijs.flow import Exclusions
from mentorwijs.register import candidates as C
from mentorwijs.register import payroll as Y
from mentorwijs.register import spec
from mentorwijs.register.extracts import read_extract
from mentorwijs.register.steps import PATHS, register_plan
from mentorwijs.tables import write_parquet, write_parquet_pieces
from support.register_digests import digests_of
from support.register_fixture import RAW, payroll_rows, run_steps, write_register_fixture

PAYROLL_OUTPUTS = ("person_months", "employer_months", "employers", "businesses", "exclusions_payroll")
TINY = {"persons_per_part": 2, "rows_per_chunk": 50, "block_bytes": 4096, "workers": 1}


def _payroll_bytes(root) -> dict[str, bytes]:
    return {name: (root / PATHS[name]).read_bytes() for name in PAYROLL_OUTPUTS}


def _expected(scale: int) -> dict[str, str]:
    return json.loads((FIXTURES / "register" / f"digests_scale{scale}.json").read_text(encoding="utf-8"))


def test_the_register_part_writes_the_bytes_of_the_code_before_streaming_on_the_default_study(synthetic_run):
    """Through the Snakemake rules: the session's `snakemake all` on the default study (the scale-8
    test below goes through `run_register`, without Snakemake)."""
    assert digests_of(synthetic_run) == _expected(1)


@pytest.mark.slow
def test_the_register_part_writes_the_bytes_of_the_code_before_streaming_at_scale_8(scale8_study):
    """The session's scale-8 study (conftest.scale8_study: the shipped config at scale 8, the
    same steps register_digests runs), shared with the truth-recovery tests."""
    assert digests_of(scale8_study) == _expected(8)


def test_tiny_batches_parts_and_groups_give_the_bytes_of_the_default_sizes(tmp_path, monkeypatch):
    config = write_register_fixture(tmp_path / "default")
    run_steps(config, tmp_path / "default", until="register_candidates")
    monkeypatch.setattr(Y, "STREAM_SIZES", TINY)
    monkeypatch.setattr(C, "TENURE_ROWS", 7)  # the years in the job by slices of persons
    write_register_fixture(tmp_path / "tiny")
    run_steps(config, tmp_path / "tiny", until="register_candidates")
    default, tiny = _payroll_bytes(tmp_path / "default"), _payroll_bytes(tmp_path / "tiny")
    assert len(pd.read_parquet(tmp_path / "tiny" / PATHS["person_months"])) > 100
    assert tiny == default
    candidates = [(root / PATHS["candidates"]).read_bytes() for root in (tmp_path / "default", tmp_path / "tiny")]
    assert candidates[0] == candidates[1]
    assert pd.read_parquet(tmp_path / "tiny" / PATHS["candidates"])["years_in_job"].notna().sum() > 10


def _payroll_step(root, config):
    step = next(s for s in register_plan(config, root=root) if s.name == "register_payroll")
    step.function(**step.arguments)


def _whole_file_error(root, config, path) -> str:
    """The message of the payroll file read whole and parsed at once (as before streaming)."""
    persons = pd.read_parquet(root / PATHS["persons"])
    variables, codes = spec.variables(config["register"]["variables"]), spec.codes(config["register"]["codes"])
    with pytest.raises(InputError) as whole:
        raw = read_extract(path, Y.payroll_columns(variables), kind="payroll")
        Y.parse_statements(raw, persons, variables=variables, codes=codes, file=path, max_bad_share=0.01,
                           exclusions=Exclusions())
    return str(whole.value)


@pytest.mark.parametrize("damage", ["dates", "nul"])
def test_a_damaged_row_in_a_later_batch_is_named_as_when_the_file_is_read_whole(tmp_path, monkeypatch, damage):
    rows = payroll_rows()
    year = rows["file"] == "2020"
    late = np.flatnonzero(year.to_numpy())[-8:]  # the last rows of the 2020 file: far beyond its first batch
    if damage == "dates":
        rows.loc[rows.index[late], "SDATUMAANVANGIKO"] = "2020-13-01"
    else:
        rows.loc[rows.index[late[-3]], "SCAOSECTOR"] = "10\x0000"
    config = write_register_fixture(tmp_path, payroll=rows)
    run_steps(config, tmp_path, until="register_persons")
    path = tmp_path / RAW / "SPOLISBUS2020V1.csv"
    monkeypatch.setattr(Y, "STREAM_SIZES", dict(TINY, block_bytes=2048))
    with pytest.raises(InputError) as streamed:
        _payroll_step(tmp_path, config)
    assert str(streamed.value) == _whole_file_error(tmp_path, config, path)
    assert "row" in str(streamed.value) and str(path.name) in str(streamed.value)


def test_a_windows_1252_file_found_out_after_its_first_batches_is_read_again_from_its_first_row(
    tmp_path, monkeypatch, caplog
):
    rows = payroll_rows()
    # 70 kB of statements of a person of another delivery first (excluded and counted), so the
    # encoding is not seen in the first 64 kB, then a job number with an accented letter
    filler = rows[rows["file"] == "2019"].iloc[[0]].copy()
    filler = pd.concat([filler] * 900, ignore_index=True).assign(RINPERSOON="999999999")
    rows = pd.concat([filler, rows], ignore_index=True)
    accented = np.flatnonzero((rows["file"] == "2019").to_numpy())[-1]
    rows.loc[rows.index[accented], "IKVID"] = rows.loc[rows.index[accented], "IKVID"] + "é"
    sizes = dict(TINY, block_bytes=8192)
    results = {}
    for encoding in ("utf-8", "cp1252"):
        root = tmp_path / encoding
        config = write_register_fixture(root, payroll=rows)
        path = root / RAW / "SPOLISBUS2019V1.csv"
        text = path.read_text(encoding="utf-8")
        assert text.index("é") > 65536
        path.write_bytes(text.encode(encoding))
        run_steps(config, root, until="register_persons")
        monkeypatch.setattr(Y, "STREAM_SIZES", sizes)
        with caplog.at_level(logging.INFO, logger="mentorwijs"):
            _payroll_step(root, config)
        results[encoding] = _payroll_bytes(root)
    assert "read again as Windows-1252" in caplog.text
    assert results["cp1252"] == results["utf-8"]
    exclusions = pd.read_csv(tmp_path / "cp1252" / PATHS["exclusions_payroll"])
    assert exclusions.loc[exclusions["reason"] == "person not in the person file", "n"].sum() >= 900


def test_the_progress_log_gives_rows_read_per_file_with_the_rate(tmp_path, monkeypatch, caplog):
    config = write_register_fixture(tmp_path)
    run_steps(config, tmp_path, until="register_persons")
    with caplog.at_level(logging.INFO, logger="mentorwijs"):
        _payroll_step(tmp_path, config)
    n_2019 = int((payroll_rows()["file"] == "2019").sum())
    assert any(f"SPOLISBUS2019V1.csv: {n_2019} rows read in" in line and "rows/s)" in line for line in caplog.messages)


def test_parquet_written_by_row_groups_from_pieces_has_the_bytes_of_the_whole_table(tmp_path):
    rng = np.random.default_rng(1)
    n = 2_600_000  # three row groups of pyarrow's default 1,048,576 rows
    frame = pd.DataFrame({"pid": np.sort(rng.integers(0, 200_000, n)).astype(np.int32),
                          "month": rng.integers(0, 72, n).astype(np.int16), "hours": rng.random(n) * 100,
                          "flag": rng.integers(0, 2, n).astype(np.int8)})
    write_parquet(frame, tmp_path / "whole.parquet")
    cuts = [0, 300_000, 1_500_007, 1_500_007, n]
    write_parquet_pieces([frame.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:])], tmp_path / "pieces.parquet",
                         whole_below=0)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert digest(tmp_path / "pieces.parquet") == digest(tmp_path / "whole.parquet")
