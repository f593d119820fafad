"""Reading the aggregate tables: strict on what the documents need, tolerant of the rest."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import FIXTURES, ROOT
from mentorwijs.aggregates import (
    TABLE_NAMES,
    TABLE_SPECS,
    data_dictionary_markdown,
    numeric,
    read_aggregate_tables,
    read_table,
    suppressed_cells,
)
from mentorwijs.errors import InputError

TABLES = FIXTURES / "tables"
#: The tables design.md names under reports/tables/.
DESIGN_TABLES = (
    "flow, exclusions, data_quality, reliability, balance, ps_overlap, trajectories, did_by_month, did_pooled, "
    "placebo, survival, km, rmst, ph_test, modifiers, sensitivity, supervisor_effects, supervisor_means, "
    "attrition, process, employees_baseline"
).split(", ")


#: Tables the parts write beyond design.md's list: the propensity model, the E-values and the
#: supervisors' sensitivity analyses.
ADDED_TABLES = ("ps_model", "confounding", "supervisor_sensitivity")


def test_every_table_of_the_design_has_a_spec_and_nothing_else():
    assert sorted(TABLE_NAMES) == sorted(DESIGN_TABLES + list(ADDED_TABLES))
    for spec in TABLE_SPECS.values():
        names = [c.name for c in spec.columns]
        assert set(spec.keys) <= set(names), spec.name
        assert len(names) == len(set(names)), spec.name


def test_committed_data_dictionary_is_the_generated_one():
    committed = (ROOT / "reports" / "tables" / "README.md").read_text(encoding="utf-8")
    assert committed == data_dictionary_markdown(), "regenerate reports/tables/README.md from mentorwijs.aggregates"
    for name in DESIGN_TABLES:
        assert f"\n## {name}\n" in committed


@pytest.mark.parametrize("scenario", ["default", "null", "harmful"])
def test_fixture_tables_read_whole_with_suppressed_cells_kept(scenario):
    tables = read_aggregate_tables(TABLES / scenario)
    assert tables.missing == ()
    km = tables.get("km")
    assert (km["n_event"] == "<10").any()  # kept as text, as exported
    assert numeric(km, "n_event")[km["n_event"] == "<10"].isna().all()
    assert suppressed_cells(tables.get("modifiers")) >= 1


def test_fixture_script_is_deterministic_and_committed_output_is_current(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_tables", TABLES / "make_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for scenario in module.SCENARIOS:
        written = module.make(scenario, tmp_path)
        for path in sorted(written.glob("*.csv")):
            assert path.read_bytes() == (TABLES / scenario / path.name).read_bytes(), f"{scenario}/{path.name}"


def _copy(tmp_path, scenario="default"):
    target = tmp_path / "tables"
    shutil.copytree(TABLES / scenario, target, ignore=shutil.ignore_patterns("*.py"))
    return target


def test_missing_optional_table_is_listed_not_fatal(tmp_path):
    directory = _copy(tmp_path)
    (directory / "placebo.csv").unlink()
    (directory / "process.csv").unlink()
    tables = read_aggregate_tables(directory)
    assert tables.missing == ("placebo", "process")
    assert "placebo" not in tables and "flow" in tables


def test_missing_required_table_names_the_file(tmp_path):
    directory = _copy(tmp_path)
    (directory / "did_pooled.csv").unlink()
    with pytest.raises(InputError, match="required table 'did_pooled'") as info:
        read_aggregate_tables(directory)
    assert info.value.file.name == "did_pooled.csv"
    assert info.value.hint


def test_missing_required_column_names_the_column(tmp_path):
    directory = _copy(tmp_path)
    path = directory / "rmst.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("ci_low", "lower"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_aggregate_tables(directory)
    assert info.value.column == "ci_low"
    assert "rmst" in info.value.problem


def test_a_number_that_is_not_a_number_names_row_and_column(tmp_path):
    directory = _copy(tmp_path)
    path = directory / "did_pooled.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[2].split(",")
    cells[3] = '"0,055"'  # a Dutch decimal comma, as a spreadsheet would save it
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(path, TABLE_SPECS["did_pooled"])
    assert (info.value.row, info.value.column) == (3, "estimate")
    assert "decimal point" in info.value.hint


def test_extra_columns_are_ignored_and_empty_cells_are_nan(tmp_path):
    tables = read_aggregate_tables(TABLES / "default", names=["did_pooled", "did_by_month"])
    pooled = tables.get("did_pooled")
    assert {"n_treated", "n_control"} <= set(pooled.columns)  # extra columns kept, unused
    by_month = tables.get("did_by_month")
    pre = by_month[numeric(by_month, "month") < 0]
    assert numeric(pre, "band_low").isna().all()
    assert np.isfinite(numeric(by_month, "estimate")).all()


def test_empty_required_table_is_refused(tmp_path):
    directory = _copy(tmp_path)
    (directory / "flow.csv").write_text("population,order,step,n\n", encoding="utf-8")
    with pytest.raises(InputError, match="no rows"):
        read_aggregate_tables(directory, names=["flow"])
