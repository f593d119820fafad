"""The aggregate tables under ``reports/tables/``: what each holds, and reading them strictly.

Figures, report and factsheet are built from these tables only, never from microdata: they
are what leaves the CBS environment (after disclosure control) plus the questionnaire tables.
:data:`TABLE_SPECS` is the documents' view of the table contracts
(:mod:`mentorwijs.contracts`, the single description of every table); the data dictionary
``reports/tables/README.md`` is generated from them (:func:`data_dictionary_markdown`) and a
test keeps the committed file equal to it.

Reading (:func:`read_aggregate_tables`) is strict on what the documents need and tolerant of
the rest: a required table or column that is missing, or a number that is not a number, is an
:class:`~mentorwijs.errors.InputError` naming file, row and column; extra columns are ignored;
a missing optional table is listed in :attr:`AggregateTables.missing` (the report says so in
its warnings appendix). Cells are kept as text, so a suppressed register cell (``<10``) reaches
the documents as written; :func:`numeric` gives a column as floats (suppressed and empty cells
become NaN) for plotting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from mentorwijs.contracts import CONTRACTS, KINDS, NUMERIC_KINDS, Column, Contract
from mentorwijs.errors import InputError
from mentorwijs.formatting import SUPPRESSED, as_float, is_suppressed


@dataclass(frozen=True)
class TableSpec:
    """One table under ``reports/tables/``, as the documents read it (from its contract).

    ``origin`` says which disclosure policy applies (``register``: CBS output rules in the
    export; ``questionnaire``: the study's own threshold). ``required``: the report and
    factsheet cannot be built without the table; ``required_columns`` must be present.
    """

    name: str
    title: str
    description: str
    origin: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    required: bool = False
    written_by: str = ""

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind in NUMERIC_KINDS)


def spec_from_contract(c: Contract) -> TableSpec:
    """The documents' view of a table's contract."""
    return TableSpec(c.name, c.title, c.description, c.origin, c.keys, c.columns, c.report_required, c.written_by)


#: Every aggregate table under ``reports/tables/``, from :data:`mentorwijs.contracts.CONTRACTS`.
TABLE_SPECS: dict[str, TableSpec] = {name: spec_from_contract(c) for name, c in CONTRACTS.items()}

#: Table names in the order of the data dictionary.
TABLE_NAMES = tuple(TABLE_SPECS)


@dataclass
class AggregateTables:
    """The tables a document is built from (cells as text), and the optional ones that were absent."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.tables


def _line(index: int) -> int:
    """Line number in the CSV as an editor shows it (header is line 1)."""
    return index + 2


def validate_table(df: pd.DataFrame, spec: TableSpec, *, file: str | Path | None = None) -> pd.DataFrame:
    """Check a table read as text against its spec; returns it with columns stripped of spaces.

    Raises :class:`InputError` for a missing required column, an empty required table, or a
    cell of a numeric column that is neither a number, empty, nor ``<10``.
    """
    df = df.rename(columns=lambda c: str(c).strip())
    missing = [c for c in spec.required_columns if c not in df.columns]
    if missing:
        raise InputError(
            f"table {spec.name!r} lacks the column(s) {', '.join(missing)}",
            file=file,
            column=missing[0],
            hint=f"the columns of {spec.name}.csv are listed in reports/tables/README.md; rerun the "
                 "stage that writes it",
        )
    if spec.required and df.empty:
        raise InputError(f"table {spec.name!r} has no rows", file=file, hint="rerun the stage that writes it")
    for column in spec.numeric_columns:
        if column not in df.columns:
            continue
        for index, value in df[column].items():
            if value is None or value == "" or is_suppressed(value):
                continue
            if as_float(value) is None:
                hint = "tables under reports/tables use a decimal point and no thousands separator"
                if spec.name != "flow" and "," in str(value):
                    hint += " (was the file saved by a spreadsheet with Dutch settings?)"
                raise InputError(f"{value!r} is not a number", file=file, row=_line(int(index)), column=column,
                                 hint=hint)
    return df


def read_table(path: str | Path, spec: TableSpec) -> pd.DataFrame:
    """Read one aggregate table as text (``<10`` and empty cells kept) and validate it."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=path, hint="tables under reports/tables are UTF-8") from None
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty (not even a header)", file=path,
                         hint="rerun the stage that writes it") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"not a comma-separated table: {exc}", file=path,
                         hint="tables under reports/tables are comma-separated") from None
    return validate_table(df, spec, file=path)


def read_aggregate_tables(directory: str | Path | None = None, *, names: Iterable[str] | None = None,
                          paths: Mapping[str, str | Path] | None = None) -> AggregateTables:
    """Read the tables ``names`` (default: all) from ``directory`` (``<name>.csv``) or from ``paths``.

    A missing required table is an :class:`InputError`; a missing optional one is listed in
    ``missing``. ``paths`` (name -> file) wins over ``directory`` for the names it holds.
    """
    wanted = list(names) if names is not None else list(TABLE_NAMES)
    paths = dict(paths or {})
    result = AggregateTables()
    missing = []
    for name in wanted:
        if name not in TABLE_SPECS:
            raise ValueError(f"unknown aggregate table {name!r}")
        spec = TABLE_SPECS[name]
        if name in paths:
            path = Path(paths[name])
        elif directory is not None:
            path = Path(directory) / f"{name}.csv"
        else:
            path = None
        if path is None or not path.is_file():
            if spec.required:
                raise InputError(
                    f"the required table {name!r} is missing",
                    file=path,
                    hint=f"the report needs {name}.csv; run the stage that writes it (see reports/tables/README.md)",
                )
            missing.append(name)
            continue
        result.tables[name] = read_table(path, spec)
    result.missing = tuple(missing)
    return result


def publish_tables(sources: Mapping[str, str | Path], targets: Mapping[str, str | Path]) -> list[str]:
    """Copy exported tables (``export/tables/<name>.csv``) to ``reports/tables/`` as they are.

    Each table is read and checked against its contract first (:func:`read_table`: the columns
    the documents need, numbers that are numbers), so a damaged export stops here with the
    file, row and column named; nothing is written before every table passed. The bytes are
    copied unchanged (through a temporary file). Returns the names copied.
    """
    import os

    unknown = sorted(set(sources) ^ set(targets))
    if unknown:
        raise ValueError(f"sources and targets name different tables: {', '.join(unknown)}")
    data = {}
    for name in sorted(sources):
        if name not in TABLE_SPECS:
            raise InputError(f"{name!r} is not an aggregate table", file=sources[name],
                             hint="reports/tables/README.md lists the tables")
        path = Path(sources[name])
        if not path.is_file():
            raise InputError("exported table not found", file=path,
                             hint="bring the export of the register part (export/)")
        read_table(path, TABLE_SPECS[name])
        data[name] = path.read_bytes()
    for name, body in data.items():
        target = Path(targets[name])
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.partial")
        temporary.write_bytes(body)
        os.replace(temporary, target)
    return sorted(data)


def numeric(df: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats for plotting: empty and suppressed (``<10``) cells become NaN."""
    if column not in df.columns:
        return pd.Series(float("nan"), index=df.index, dtype=float)
    return pd.to_numeric(df[column].map(lambda v: "" if is_suppressed(v) else v).replace("", None),
                         errors="coerce").astype(float)


def suppressed_cells(df: pd.DataFrame) -> int:
    """How many cells of a table hold the suppression mark ``<10``."""
    return int(sum(df[c].map(is_suppressed).sum() for c in df.columns))


def data_dictionary_markdown() -> str:
    """The text of ``reports/tables/README.md``: every table, its keys, columns and origin."""
    lines = [
        "# Data dictionary of the aggregate tables",
        "",
        "Generated from the table contracts, `mentorwijs.contracts.CONTRACTS` (a test keeps this file equal",
        "to them). These tables are all that figures, report and factsheet are built from. Every table is",
        "UTF-8, comma-separated, with a decimal point and numbers to 8 significant digits, one row",
        "per key, rows sorted by the key. Indicator columns are integers 0/1 and `month` is an",
        "integer. A cell suppressed by disclosure control holds the text `<10`, and its count (n)",
        "goes with it.",
        "",
        "Tables of **register** origin are written inside the CBS environment to",
        "`data/processed/results/<table>.csv`, checked by the CBS output rules in the export",
        "(`export/tables/<table>.csv`, with `export/output_check_log.csv`) and copied from there;",
        "`dominance_share`, a check-only column of weighted tables, never leaves. Tables of",
        "**questionnaire** origin are the study's own data and are written here directly (the study's",
        "threshold, `disclosure.questionnaire`). Counts the publication released (`disclosure.exemptions`:",
        "the flow chart, the process and employee tables) are exempt from suppression.",
        "",
        "Required tables must be present for the report; a missing optional table is named in",
        "the report's warnings appendix. A required column is always written by the table's",
        "producer; extra columns are ignored by the documents.",
        "",
        "| table | origin | required | key | written by |",
        "|---|---|---|---|---|",
    ]
    for spec in TABLE_SPECS.values():
        lines.append(f"| [`{spec.name}`](#{spec.name}) | {spec.origin} | {'yes' if spec.required else 'no'} | "
                     f"{', '.join(spec.keys)} | {spec.written_by} |")
    for spec in TABLE_SPECS.values():
        c = CONTRACTS[spec.name]
        lines += [
            "",
            f"## {spec.name}",
            "",
            f"**{spec.title}.** {spec.description}",
            "",
            f"File `{spec.name}.csv`; origin: {spec.origin}; key: {', '.join(f'`{k}`' for k in spec.keys)}; "
            f"written by {spec.written_by}.",
        ]
        behind = [f"`{', '.join(f.columns)}` ({', '.join(f.n)})" for f in c.figures if f.columns]
        if behind:
            lines += ["", "Units behind each figure (suppressed together with it): " + "; ".join(behind) + "."]
        lines += [
            "",
            "| column | type | required | meaning |",
            "|---|---|---|---|",
        ]
        for column in spec.columns:
            lines.append(f"| `{column.name}` | {KINDS[column.kind]} | {'yes' if column.required else 'no'} | "
                         f"{column.description} |")
    return "\n".join(lines) + "\n"


__all__ = [
    "AggregateTables", "Column", "SUPPRESSED", "TABLE_NAMES", "TABLE_SPECS", "TableSpec",
    "data_dictionary_markdown", "numeric", "publish_tables", "read_aggregate_tables", "read_table",
    "suppressed_cells", "validate_table",
]
