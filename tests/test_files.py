"""One declaration per file that crosses a rule boundary: producer and consumer check the same contract."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from mentorwijs.errors import InputError
from mentorwijs.files import FILES, ContractError, check_read, check_written, markdown

HANDOVER = "data/processed/trainees.parquet"


def _handover() -> pd.DataFrame:
    return pd.DataFrame({
        "person": pd.array(["p1", "p2", "p3"], dtype="string"),
        "training_group": pd.array(["G01", "G01", "G02"], dtype="string"),
        "region": pd.array(["Foodvalley"] * 3, dtype="string"),
        "cohort": pd.array(["2019-09", "2019-09", "2020-07"], dtype="string"),
        "first_meeting": pd.to_datetime(["2019-08-12", "2019-08-12", "2020-06-15"]),
        "last_meeting": pd.to_datetime(["2019-09-09", "2019-09-09", "2020-07-13"]),
        "mode": pd.array(["online", "online", pd.NA], dtype="string"),
        "supervisor": pd.array(["s1", "s1", "s2"], dtype="string"),
        "sup_sector": [1.0, 1.0, np.nan],
    })


def _panel() -> pd.DataFrame:
    units = np.repeat(["a:2019-09", "b:2019-09"], 3)
    return pd.DataFrame({
        "unit": pd.array(units, dtype="string"), "person": pd.array([u[0] for u in units], dtype="string"),
        "cohort": pd.array(["2019-09"] * 6, dtype="string"), "treated": np.array([1, 1, 1, 0, 0, 0], dtype=np.int8),
        "weight": np.ones(6), "month": np.array([-1, 0, 1] * 2, dtype=np.int16), "hours": [0.0, 12.5, np.nan] * 2,
        "employed_1h": pd.array([0, 1, pd.NA] * 2, dtype="Int8"),
        "employed_12h": pd.array([0, 0, pd.NA] * 2, dtype="Int8"),
        "employed_3m": pd.array([pd.NA, pd.NA, pd.NA] * 2, dtype="Int8"),
        "job_held": pd.array([1, 1, pd.NA] * 2, dtype="Int8"), "observed": np.array([1, 1, 0] * 2, dtype=np.int8),
    })


def _read_error(frame: pd.DataFrame, name: str = "trainees") -> InputError:
    with pytest.raises(InputError) as caught:
        check_read(frame, name, file=FILES[name].path)
    return caught.value


def test_a_valid_handover_and_panel_pass_both_checks():
    for frame, name in ((_handover(), "trainees"), (_panel(), "panel")):
        assert check_written(frame, name) is frame
        assert check_read(frame, name) is frame


def test_handover_missing_column_names_file_column_and_docs_section():
    error = _read_error(_handover().drop(columns="last_meeting"))
    assert (error.file, error.column) == (HANDOVER, "last_meeting")
    assert "lacks column(s) last_meeting" in error.problem
    assert "docs/files.md#trainees" in error.hint


def test_handover_wrong_dtype_names_the_column_and_the_expected_kind():
    error = _read_error(_handover().assign(cohort=[201909, 201909, 202007]))
    assert error.column == "cohort" and "type int64, expected text `YYYY-MM`" in error.problem
    error = _read_error(_handover().assign(last_meeting=[1.0, 2.0, 3.0]))
    assert error.column == "last_meeting" and "expected date" in error.problem


def test_handover_duplicated_person_names_the_second_row():
    frame = _handover()
    frame.loc[2, "person"] = "p1"
    error = _read_error(frame)
    assert (error.column, error.row) == ("person", 3)
    assert "more than one row for person=p1 (2 rows share a person" in error.problem


def test_handover_cohort_out_of_range_names_row_and_value():
    frame = _handover()
    frame.loc[1, "cohort"] = "2019-13"
    error = _read_error(frame)
    assert (error.column, error.row) == ("cohort", 2)
    assert "'2019-13'" in error.problem and "YYYY-MM" in error.problem


def test_handover_missing_key_value_is_refused():
    frame = _handover()
    frame.loc[0, "supervisor"] = pd.NA
    error = _read_error(frame)
    assert (error.column, error.row) == ("supervisor", 1)


def test_register_part_reads_the_handover_through_the_contract(tmp_path):
    from mentorwijs.register.persons import check_trainees

    error = pytest.raises(InputError, check_trainees, _handover().drop(columns="cohort"),
                          file=tmp_path / "t.parquet").value
    assert error.column == "cohort" and error.file == tmp_path / "t.parquet"


def test_panel_indicator_out_of_range_and_duplicate_unit_month_are_named():
    bad = _panel()
    bad.loc[4, "employed_1h"] = 2
    error = _read_error(bad, "panel")
    assert (error.column, error.row) == ("employed_1h", 5) and "expected 0 or 1" in error.problem
    twice = _panel()
    twice.loc[5, "month"] = 0
    error = _read_error(twice, "panel")
    assert (error.column, error.row) == ("unit", 6) and "more than one row for unit=b:2019-09, month=0" in error.problem


def test_negative_survival_time_is_out_of_range():
    survival = pd.DataFrame({"unit": ["a:2019-09"], "person": ["a"], "cohort": ["2019-09"], "treated": np.int8([1]),
                             "weight": [1.0], "time_job": np.int16([-1]), "event_job": np.int8([0]),
                             "time_work": np.int16([3]), "event_work": np.int8([1])})
    error = _read_error(survival, "survival")
    assert (error.column, error.row) == ("time_job", 1) and "outside >= 0" in error.problem


def test_a_producer_breach_is_a_bug_not_an_input_error():
    with pytest.raises(ContractError, match="bug in mentorwijs"):
        check_written(_handover().assign(person=pd.array(["p1", "p1", "p2"], dtype="string")), "trainees")


def test_matching_reads_only_the_columns_it_relies_on():
    from mentorwijs.matching import CovariateSpec, MatchingSpec, match_candidates

    spec = MatchingSpec(covariates=(CovariateSpec("age", "numeric"),), exact=("cohort",), k=1, caliper_sd=0.2)
    frame = pd.DataFrame({"unit": ["a:2019-09"], "person": ["a"], "cohort": ["2019-09"], "treated": np.int8([1]),
                          "age": [40.0]})
    error = pytest.raises(InputError, match_candidates, frame, spec).value
    assert error.column == "tie_order" and "lacks column(s) tie_order" in error.problem


def test_docs_are_generated_from_the_declarations():
    committed = (ROOT / "docs" / "files.md").read_text(encoding="utf-8")
    assert committed == markdown(), "regenerate docs/files.md: PYTHONPATH=src python -m mentorwijs.files"
    for contract in FILES.values():
        assert f"\n## {contract.name}\n" in committed
        assert f"`{contract.path}`" in committed


def _hints() -> list[tuple[str, str]]:
    """(file, text) of every ``hint=`` argument in src/ that is a string (literal or f-string parts)."""
    found = []
    for path in sorted((ROOT / "src" / "mentorwijs").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "hint":
                parts = [n.value for n in ast.walk(node.value)
                         if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                found.append((path.relative_to(ROOT).as_posix(), "".join(parts)))
    return found


def test_error_hints_point_only_to_documents_inside_the_repository():
    hints = _hints()
    assert len(hints) > 100  # the scan sees the hints
    outside = [(f, h) for f, h in hints if any(d in h for d in ("design.md", "study.md", "formats.md", "validation.md"))
               and "docs/" not in h]
    assert outside == []
    import re

    for file, hint in hints:
        for doc in re.findall(r"docs/[A-Za-z0-9_./-]+\.md", hint):
            assert (ROOT / doc).is_file(), (file, doc)


def test_the_consumers_column_lists_are_columns_of_the_contracts():
    from mentorwijs.effects.did import PANEL_COLUMNS
    from mentorwijs.effects.survival import SURVIVAL_COLUMNS
    from mentorwijs.matching import MATCHING_INPUT

    assert set(PANEL_COLUMNS) <= set(FILES["panel"].column_names)
    assert set(SURVIVAL_COLUMNS) <= set(FILES["survival"].column_names)
    assert set(MATCHING_INPUT) <= set(FILES["candidates"].column_names)


def test_a_file_read_from_disk_is_named_with_its_own_path(tmp_path):
    from mentorwijs.files import read_checked
    from mentorwijs.tables import write_parquet

    path = tmp_path / "panel.parquet"
    write_parquet(_panel().assign(weight=[1.0, 1.0, 1.0, -0.5, -0.5, -0.5]), path)
    error = pytest.raises(InputError, read_checked, "panel", path).value
    assert (error.file, error.column, error.row) == (path, "weight", 4)
    assert "-0.5" in error.problem and "outside >= 0" in error.problem
