"""Validation with pandera at the stage boundaries, and the data-quality table.

At the input boundary of a wave (the parsed records that reach the per-respondent rules) a
schema built from the codebook checks, lazily, that ids are unique, numbers lie in their
item's range, checkbox and multi-select columns are 0/1, and categorical codes are among the
codebook's labels. Its failures are warnings that the cleaning rules handle; they are written,
with the parser's own warnings, to the data-quality table: the first ``first_n`` cases per check
plus the count. At the output boundary the cleaned table must pass its schema strictly; a
failure there is a bug in this package and stops the run.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd

from mentorwijs.codebook import Codebook
from mentorwijs.contracts import column_names
from mentorwijs.ingest.values import PERSONAL_TYPES, Problem

#: Columns of a data-quality fragment and of the gathered table (its contract, mentorwijs.contracts).
QUALITY_COLUMNS = column_names("data_quality")


def _pa():
    import pandera.pandas as pa  # imported late: the register part does not need pandera

    return pa


def input_schema(codebook: Codebook, columns: dict, outputs: dict[str, list[str]]):
    """Schema of the parsed records of one wave (``id`` holds the pseudonymised id)."""
    pa = _pa()
    spec = {"id": pa.Column("string", checks=[pa.Check(lambda s: ~s.duplicated(keep=False), element_wise=False,
                                                         name="duplicate id in the wave")], nullable=False)}
    for name, cols in columns.items():
        item = cols.item
        for column in outputs.get(name, []):
            checks = []
            if item.type in ("integer", "number") and item.range is not None:
                low, high = float(item.range[0]), float(item.range[1])
                checks.append(pa.Check(lambda s, low=low, high=high: s.isna() | s.between(low, high),
                                       name=f"out of range [{low:g}, {high:g}]"))
            if item.type in ("checkbox", "multiselect"):
                checks.append(pa.Check(lambda s: s.isna() | s.isin([0.0, 1.0]), name="not 0 or 1"))
            if item.type == "text" and item.labels:
                allowed = sorted({str(k) for k in item.labels} | {str(v) for v in item.recode.values()})
                checks.append(pa.Check(lambda s, allowed=allowed: s.isna() | s.isin(allowed),
                                       name="not a code of the codebook's labels"))
            spec[column] = pa.Column(None, checks=checks, nullable=True, required=False)
    return pa.DataFrameSchema(spec, strict=False, coerce=False)


def validate_input(frame: pd.DataFrame, rows: Sequence[int], codebook: Codebook, columns: dict,
                   outputs: dict[str, list[str]]) -> list[Problem]:
    """Lazy validation of the parsed records; every failure case as a :class:`Problem`."""
    pa = _pa()
    schema = input_schema(codebook, columns, outputs)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        return []
    personal = {c for name, cols in columns.items() if cols.item.type in PERSONAL_TYPES for c in outputs.get(name, [])}
    personal.add("id")
    raw_names = {c: cols.columns[0] if cols.columns else name
                 for name, cols in columns.items() for c in outputs.get(name, [])}
    problems = []
    for case in cases.itertuples(index=False):
        index = case.index
        row = int(rows[int(index)]) if index is not None and not pd.isna(index) else None
        column = str(case.column) if case.column is not None else ""
        value = "(withheld)" if column in personal else _shown(case.failure_case)
        name = codebook.id_name if column == "id" else column
        problems.append(Problem(str(case.check), name, row, value,
                                raw_names.get(column, codebook.id_column if column == "id" else "")))
    return problems


def _shown(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quality_table(problems: Iterable[Problem], *, stage: str, source: str, wave: str | None,
                  first_n: int) -> pd.DataFrame:
    """The first ``first_n`` cases (by file row) of every check per column, with the count."""
    frame = pd.DataFrame([{"column": p.column, "check": p.check, "row": p.row, "value": p.value} for p in problems],
                         columns=["column", "check", "row", "value"])
    if frame.empty:
        return pd.DataFrame(columns=QUALITY_COLUMNS).astype({"n_failed": "int64", "example": "int64"})
    frame["row"] = frame["row"].astype("Int64")
    frame = frame.sort_values(["column", "check", "row", "value"], kind="mergesort")
    frame["n_failed"] = frame.groupby(["column", "check"])["check"].transform("size").astype("int64")
    frame["example"] = (frame.groupby(["column", "check"]).cumcount() + 1).astype("int64")
    frame = frame[frame["example"] <= first_n]
    frame.insert(0, "stage", stage)
    frame.insert(1, "source", source)
    frame.insert(2, "wave", wave or "")
    return frame[QUALITY_COLUMNS].reset_index(drop=True)


def validate_output(table: pd.DataFrame, key: Sequence[str], ranges: dict[str, tuple[float, float]], *,
                    what: str) -> None:
    """Strict check of a cleaned table: unique non-missing keys, values in range. A failure is a bug."""
    pa = _pa()
    spec = {k: pa.Column(None, nullable=False) for k in key}
    for column, (low, high) in ranges.items():
        if column in table.columns:
            spec[column] = pa.Column("float64", checks=[pa.Check.in_range(low, high)], nullable=True)
    schema = pa.DataFrameSchema(spec, unique=list(key), strict=False)
    try:
        schema.validate(table, lazy=True)
    except pa.errors.SchemaErrors as errors:
        summary = errors.failure_cases[["column", "check"]].drop_duplicates().head(5).to_dict("records")
        raise RuntimeError(f"internal check failed: the cleaned table {what} breaks its schema: {summary}") from None
