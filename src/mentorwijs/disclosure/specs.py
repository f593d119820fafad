"""The registry of exportable table kinds: one :class:`TableSpec` per register table, derived from
its contract in :mod:`mentorwijs.contracts` (keys, figures, lines, row totals, procedure)."""

from __future__ import annotations

from dataclasses import dataclass

from mentorwijs.contracts import CONTRACTS, DOMINANCE_COLUMN, REGISTER_TABLES, Contract, Figure, Line, RowTotal
from mentorwijs.errors import InputError


@dataclass(frozen=True)
class TableSpec:
    """One table kind: its columns by role and the rules that apply to it."""

    kind: str
    description: str
    origin: str
    keys: tuple[str, ...]
    figures: tuple[Figure, ...]
    info: tuple[str, ...] = ()  # published as they are: labels, flags (converged), warnings
    optional: tuple[str, ...] = ()  # declared columns that may be absent
    lines: tuple[Line, ...] = ()
    row_totals: tuple[RowTotal, ...] = ()
    procedure: str | None = None  # "km" or "histogram"
    groups: tuple[str, ...] = ()  # km and histogram: the columns that identify one curve or histogram
    events: str | None = None  # km: the events column
    bins: tuple[str, str] | None = None  # histogram: lower and upper bin edge columns

    def count_columns(self) -> tuple[str, ...]:
        cols = [c for f in self.figures for c in f.n + f.with_counts]
        if self.events:
            cols.append(self.events)
        return tuple(dict.fromkeys(cols))

    def estimate_columns(self) -> tuple[str, ...]:
        counts = set(self.count_columns())
        cols = [c for f in self.figures for c in f.columns + ((f.df,) if f.df else ()) if c not in counts]
        return tuple(dict.fromkeys(cols))

    def declared(self) -> tuple[str, ...]:
        cols = list(self.keys) + [c for f in self.figures for c in f.cells()] + list(self.info)
        if self.events:
            cols.append(self.events)
        if self.allows_dominance():
            cols.append(DOMINANCE_COLUMN)
        return tuple(dict.fromkeys(cols))

    def required(self) -> tuple[str, ...]:
        return tuple(c for c in self.declared() if c not in self.optional and c != DOMINANCE_COLUMN)

    def allows_dominance(self) -> bool:
        return self.procedure is None and any(f.columns for f in self.figures)


def spec_from_contract(c: Contract) -> TableSpec:
    """The disclosure view of a table's contract: its key, figures, lines and procedure; every
    other column is information published as it is (labels, flags, warnings)."""
    in_roles = set(c.keys) | {x for f in c.figures for x in f.cells()} | ({c.events} if c.events else set())
    return TableSpec(
        kind=c.name,
        description=c.description,
        origin=c.origin,
        keys=c.keys,
        figures=c.figures,
        info=tuple(n for n in c.column_names if n not in in_roles),
        optional=c.optional_columns,
        lines=c.lines,
        row_totals=c.row_totals,
        procedure=c.procedure,
        groups=c.groups,
        events=c.events,
        bins=c.bins,
    )


#: The table kinds that may leave the CBS environment: the register tables of
#: :data:`mentorwijs.contracts.CONTRACTS` (``data/processed/results/<kind>.csv``).
REGISTRY: dict[str, TableSpec] = {name: spec_from_contract(CONTRACTS[name]) for name in REGISTER_TABLES}


def table_spec(kind: str | TableSpec) -> TableSpec:
    """The registered spec of a table kind (or the spec itself)."""
    if isinstance(kind, TableSpec):
        return kind
    if kind not in REGISTRY:
        raise InputError(
            f"{kind!r} is not a registered aggregate table kind",
            hint=f"registered kinds: {', '.join(sorted(REGISTRY))}; a new kind needs a register contract in "
            "mentorwijs.contracts.CONTRACTS",
        )
    return REGISTRY[kind]
