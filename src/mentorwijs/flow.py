"""The flow of participants and the exclusions of each stage, as small tables.

Every stage that removes people writes two fragments:

- ``data/interim/exclusions/<stage>.csv`` with columns ``source, wave, record, reason, n``:
  questionnaire stages list one row per excluded record (``n`` = 1); register stages leave
  ``record`` empty and give one row per reason with its count;
- ``data/interim/flow/<stage>.csv`` with columns ``population, order, step, n``: the steps
  of the flow chart this stage knows (``population`` is ``employees``, ``supervisors`` or
  ``controls``; ``order`` places the step within its population; a step that leaves the flow
  is named ``excluded_<reason>``).

:func:`gather_flow` combines every fragment into the ``flow`` table sorted by population and
order; :func:`gather_exclusions` counts the exclusions of every fragment per stage (the
fragment's name), source, wave and reason into the ``exclusions`` table: never a record. The
columns of both are their contracts (:mod:`mentorwijs.contracts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from mentorwijs.contracts import column_names
from mentorwijs.errors import InputError
from mentorwijs.tables import write_csv_table

FLOW_COLUMNS = column_names("flow")
#: Columns of an exclusion fragment (``data/interim/exclusions/<stage>.csv``).
EXCLUSION_COLUMNS = ["source", "wave", "record", "reason", "n"]
#: Columns of the gathered exclusions table (its contract): no record.
EXCLUSION_TABLE_COLUMNS = column_names("exclusions")
EXCLUSION_KEY = ["stage", "source", "wave", "reason"]


@dataclass
class Exclusions:
    """Counts of excluded register records per (source, reason), in the order first seen."""

    rows: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, source: str, reason: str, n: int) -> None:
        """Record ``n`` exclusions (a zero count is not recorded)."""
        n = int(n)
        if n < 0:
            raise ValueError("an exclusion count cannot be negative")
        if n:
            self.rows[(source, reason)] = self.rows.get((source, reason), 0) + n

    def extend(self, other: "Exclusions") -> None:
        for (source, reason), n in other.rows.items():
            self.add(source, reason, n)

    def count(self, reason: str) -> int:
        return sum(n for (_, r), n in self.rows.items() if r == reason)

    def frame(self) -> pd.DataFrame:
        """The register-stage exclusion table: one row per source and reason, ``record`` empty."""
        data = [
            {"source": source, "wave": "", "record": "", "reason": reason, "n": n}
            for (source, reason), n in self.rows.items()
        ]
        frame = pd.DataFrame(data, columns=EXCLUSION_COLUMNS)
        return frame.sort_values(["source", "reason"], kind="mergesort").reset_index(drop=True)


def write_exclusions(exclusions: Exclusions, path: str | Path) -> Path:
    """Write a register stage's exclusions (an empty table when nothing was excluded)."""
    return write_csv_table(exclusions.frame(), path, sort_by=["source", "wave", "record", "reason"])


def flow_frame(rows: Iterable[tuple[str, int, str, int]]) -> pd.DataFrame:
    """A flow fragment from ``(population, order, step, n)`` tuples."""
    frame = pd.DataFrame(list(rows), columns=FLOW_COLUMNS)
    frame["order"] = frame["order"].astype("int64")
    frame["n"] = frame["n"].astype("int64")
    return frame


def write_flow_fragment(rows: Iterable[tuple[str, int, str, int]], path: str | Path) -> Path:
    """Write one stage's flow steps."""
    return write_csv_table(flow_frame(rows), path, sort_by=["population", "order"])


def _read_fragment(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"not a readable fragment: {exc}", file=path) from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"fragment lacks column(s) {', '.join(missing)}", file=path,
                         hint=f"fragments have the columns {', '.join(columns)}")
    return frame[list(columns)]


def gather_flow(fragments: Iterable[str | Path]) -> pd.DataFrame:
    """All flow fragments as one table sorted by population and order.

    Two fragments naming the same (population, order) is an error: the flow would be
    ambiguous.
    """
    parts = []
    for path in sorted(Path(p) for p in fragments):
        frame = _read_fragment(path, FLOW_COLUMNS)
        try:
            frame["order"] = frame["order"].astype("int64")
            frame["n"] = frame["n"].astype("int64")
        except ValueError:
            raise InputError("order and n must be whole numbers", file=path) from None
        frame["_file"] = path.name
        parts.append(frame)
    if not parts:
        return flow_frame([])
    flow = pd.concat(parts, ignore_index=True)
    dup = flow.duplicated(["population", "order"], keep=False)
    if dup.any():
        first = flow[dup].iloc[0]
        files = sorted(set(flow.loc[dup & (flow["population"] == first["population"])
                                    & (flow["order"] == first["order"]), "_file"]))
        raise InputError(
            f"flow step {first['population']}/{first['order']} is written by more than one fragment "
            f"({', '.join(files)})",
            hint="give every flow step its own order within its population",
        )
    flow = flow.drop(columns="_file").sort_values(["population", "order"], kind="mergesort")
    return flow.reset_index(drop=True)


def write_flow(fragments: Iterable[str | Path], path: str | Path) -> Path:
    """Gather the fragments into the flow table."""
    return write_csv_table(gather_flow(fragments), path, sort_by=["population", "order"])


def gather_exclusions(fragments: Iterable[str | Path]) -> pd.DataFrame:
    """Every exclusion fragment counted per stage, source, wave and reason (the ``exclusions`` table).

    ``stage`` is the fragment's file name without ``.csv``; record-level rows (the questionnaire
    stages) are summed over their records, so no record leaves this function.
    """
    parts = []
    for path in sorted(Path(p) for p in fragments):
        frame = _read_fragment(path, EXCLUSION_COLUMNS)
        try:
            frame["n"] = frame["n"].astype("int64")
        except ValueError:
            raise InputError("n must be a whole number", file=path, column="n") from None
        parts.append(frame.assign(stage=path.stem))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "n" else "object") for c in EXCLUSION_TABLE_COLUMNS})
    frame = pd.concat(parts, ignore_index=True)
    table = frame.groupby(EXCLUSION_KEY, sort=True, dropna=False)["n"].sum().reset_index()
    table["n"] = table["n"].astype("int64")
    return table[EXCLUSION_TABLE_COLUMNS].sort_values(EXCLUSION_KEY, kind="mergesort").reset_index(drop=True)


def write_exclusions_table(fragments: Iterable[str | Path], path: str | Path) -> Path:
    """Gather the fragments into the ``exclusions`` table."""
    return write_csv_table(gather_exclusions(fragments), path, sort_by=EXCLUSION_KEY)


def combine_exclusions(exported: pd.DataFrame, fragments: Iterable[str | Path]) -> pd.DataFrame:
    """The report's ``exclusions`` table: the register stages as exported (text cells, suppressed
    counts as the marker) and the questionnaire stages counted from their ``fragments``.

    Both parts have the contract's columns; rows are sorted by stage, source, wave and reason.
    A stage in both parts is an error (it would be counted twice).
    """
    missing = [c for c in EXCLUSION_TABLE_COLUMNS if c not in exported.columns]
    if missing:
        raise InputError(f"the exported exclusions table lacks column(s) {', '.join(missing)}",
                         hint=f"export/tables/exclusions.csv has the columns {', '.join(EXCLUSION_TABLE_COLUMNS)}")
    own = gather_exclusions(fragments).astype({"n": "int64"})
    register = exported[EXCLUSION_TABLE_COLUMNS].fillna("").astype(str)
    both = sorted(set(own["stage"]) & set(register["stage"]))
    if both:
        raise InputError(f"stage {both[0]!r} is both in the exported exclusions and among the questionnaire fragments",
                         hint="give every stage its own fragment")
    own = own.astype({"n": str}).fillna("")
    table = pd.concat([register, own], ignore_index=True)
    return table.sort_values(EXCLUSION_KEY, kind="mergesort").reset_index(drop=True)


def write_report_exclusions(exported: str | Path, fragments: Iterable[str | Path], path: str | Path) -> Path:
    """Write :func:`combine_exclusions` of the exported table (read as text) and the fragments."""
    table = pd.read_csv(exported, dtype=str, keep_default_na=False, encoding="utf-8")
    return write_csv_table(combine_exclusions(table, fragments), path)
