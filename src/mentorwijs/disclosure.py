"""Disclosure control: what may leave the CBS environment, and in which form.

One policy per data origin, built from the config section ``disclosure`` with
:meth:`DisclosurePolicy.from_config`:

- ``register``: the CBS output rules for everything derived from register data. At least
  ``min_units`` (10) units behind every count, share, mean and model cell; at least ``min_df``
  (10) residual degrees of freedom behind a regression; no minima or maxima; no person, address
  or employer ids; no group disclosure; no dominance; secondary suppression so that a
  suppressed cell cannot be recovered from totals; Kaplan-Meier curves cut where fewer than 10
  are at risk and coarsened so that every published step carries at least 10 events;
  histogram bins of at least 10 units (adjacent bins merged); no individual points.
- ``questionnaire``: the study's own threshold for tables built from its questionnaires only
  (default 0: the study owns those data, nothing is suppressed).
- ``exemptions``: tables the publication itself released (the flow chart, ...): checked for
  identifiers, extremes and microdata, never suppressed.

Every table kind the pipeline exports has one entry in :data:`REGISTRY` (:class:`TableSpec`),
derived from the table's contract in :mod:`mentorwijs.contracts` (the single description of
every aggregate table): its key columns, its figures (groups of cells published or suppressed
together, each with the unit counts behind it), the lines whose cells add up to a known total,
and, for Kaplan-Meier curves and histograms, the procedure that coarsens them. A new table kind
needs a new contract, not new code.

:func:`check_table` applies primary and secondary suppression to one table and returns it as
text cells (numbers to 8 significant digits, suppressed cells as the marker ``<10``) with the
output-check log rows (``table, rule, cell, n, action``). :func:`export_tables` writes the
checked tables, the log and a README for the CBS output checkers, and refuses anything that is
not a registered aggregate table. :func:`scan_for_identifiers` and
:func:`scan_text_for_small_cells` let the report test its HTML and PDF text.

The log leaves the environment with the tables, so it never shows a suppressed value: its ``n``
is the marker where the tested count is below the threshold and empty where showing it would
undo a suppression (complementary cells, residual degrees of freedom, dominance).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from mentorwijs.contracts import CONTRACTS, DOMINANCE_COLUMN, REGISTER_TABLES, Contract, Figure, Line, RowTotal
from mentorwijs.errors import ConfigError, InputError
from mentorwijs.tables import write_csv_table

#: Columns of the output-check log.
LOG_COLUMNS = ("table", "rule", "cell", "n", "action")

#: The data origins a policy exists for.
ORIGINS = ("register", "questionnaire")

#: What each rule means; the export README lists these for the output checkers.
RULES = {
    "identifiers": "no person, address, employer, job or study ids: such columns or values refuse the table",
    "extremes": "no minima or maxima: such columns refuse the table",
    "microdata": "aggregates only: person-level columns, or more than one row per key, refuse the table",
    "min_units": "every count is 0 or at least min_units; every figure (share, mean, estimate) has at least "
    "min_units units behind it in each of its n columns",
    "implied_count": "the counts a share implies (units with the value and units without it) are each at least "
    "min_units; zero, where all units of a group share one value, is group disclosure and is suppressed too",
    "min_df": "a regression row has at least min_df residual degrees of freedom",
    "dominance": "no figure whose largest dominance.n units carry more than dominance.k of its total weight",
    "secondary": "complementary suppression: in every line whose cells add up to a known total (a margin, "
    "another table, n_total = n_treated + n_control, a share and its complement) at least two cells are "
    "suppressed, and for counts the suppressed cells sum to at least min_units",
    "km_at_risk": "a Kaplan-Meier curve is cut from the first time fewer than km_min_at_risk units are at risk",
    "km_events": "a Kaplan-Meier step is published only when at least km_min_events events occurred since the "
    "previous published step; n_event then counts those events, times in between are suppressed",
    "histogram_min_bin": "a histogram bin holds 0 or at least histogram_min_bin units; smaller bins are merged "
    "with their neighbours, a group below the threshold in total is suppressed",
    "exemption": "released by the publication itself: checked for ids, extremes and microdata only",
}

# Column names that are identifiers (compared case-insensitively; prefixes end with '*').
_ID_NAMES = {
    "person", "unit", "supervisor", "supervisor_ref", "record", "bsn", "study_number", "studienummer",
    "externalreference", "external_reference", "responseid", "participant_id", "participantid", "record_id",
    "castor_id", "castor_participant_id", "survey_instance_id", "email", "e_mail", "postcode", "zipcode",
    "first_name", "last_name", "name", "birth_date", "ipaddress", "ip_address",
    "address", "adres", "rinobjectnummer", "beid", "pseudonym",
}
_ID_PREFIXES = ("rinpersoon", "sbeid", "ikvid", "rinobject", "recipient", "castor")
# Column-name tokens that mark an extreme value.
_EXTREME_TOKENS = {"min", "max", "minimum", "maximum", "largest", "smallest"}
# Person-level variables of the data contracts: a table carrying them is microdata.
_MICRODATA_NAMES = {
    "weight", "pscore", "treated", "distance", "hours", "employed_1h", "employed_12h", "employed_3m",
    "job_held", "observed", "time_job", "event_job", "time_work", "event_work", "age", "sex", "wage",
    "birth_year", "reference_month",
}

#: Identifier-looking tokens in text (names as reported by :func:`scan_for_identifiers`).
IDENTIFIER_PATTERNS: dict[str, re.Pattern[str]] = {
    "pseudonym": re.compile(r"(?<![0-9A-Fa-f])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{32,64}(?![0-9A-Fa-f])"),
    "rin_or_bsn": re.compile(r"(?<![\w.,])[RSA]?[0-9]{9}(?![\w]|[.,][0-9])"),
    "employer_id": re.compile(r"(?<![\w])E[0-9]{9}(?![\w])"),
    "study_number": re.compile(r"(?<![\w])MW[0-9]{5}(?![\w])"),
    "castor_id": re.compile(r"(?<![\w.,])(?:0[0-9]{5}|TES[0-9]{3})(?![\w]|[.,][0-9])"),
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "postcode": re.compile(r"(?<![\w])[1-9][0-9]{3} ?(?!SA|SD|SS)[A-Z]{2}(?![\w])"),
}


# ----------------------------------------------------------------------------------------------
# Policy


@dataclass(frozen=True)
class OriginPolicy:
    """The thresholds for tables of one data origin (all counts in units, i.e. persons in a cohort)."""

    min_units: int
    min_df: int
    km_min_at_risk: int
    km_min_events: int
    histogram_min_bin: int
    group_disclosure: bool
    dominance: tuple[int, float] | None  # (n, k): the n largest units may carry at most k of a total

    @classmethod
    def from_config(cls, section: Mapping[str, Any], *, where: str) -> OriginPolicy:
        """Build from plain config values; thresholds not given default to ``min_units``."""
        if not isinstance(section, Mapping):
            raise ConfigError(f"key {where}: must be a mapping", hint="see workflow/schemas/config.schema.json")
        known = {"min_units", "min_df", "km_min_at_risk", "km_min_events", "histogram_min_bin", "group_disclosure", "dominance"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(f"key {where}.{unknown[0]}: unknown key", hint=f"known keys: {', '.join(sorted(known))}")
        if "min_units" not in section:
            raise ConfigError(f"key {where}.min_units is required", hint="the smallest number of units behind a published cell")
        min_units = _config_int(section["min_units"], f"{where}.min_units")

        def threshold(key: str) -> int:
            return _config_int(section[key], f"{where}.{key}") if key in section else min_units

        group = section.get("group_disclosure", min_units > 0)
        if not isinstance(group, bool):
            raise ConfigError(f"key {where}.group_disclosure: must be true or false")
        dominance = section.get("dominance")
        if dominance is not None:
            if not isinstance(dominance, Mapping) or set(dominance) != {"n", "k"}:
                raise ConfigError(f"key {where}.dominance: must hold exactly n and k", hint="e.g. {n: 1, k: 0.5}")
            n = _config_int(dominance["n"], f"{where}.dominance.n")
            k = dominance["k"]
            if n < 1 or isinstance(k, bool) or not isinstance(k, (int, float)) or not 0 < k <= 1:
                raise ConfigError(f"key {where}.dominance: n must be at least 1 and k in (0, 1]")
            dominance = (n, float(k))
        return cls(
            min_units=min_units,
            min_df=threshold("min_df"),
            km_min_at_risk=threshold("km_min_at_risk"),
            km_min_events=threshold("km_min_events"),
            histogram_min_bin=threshold("histogram_min_bin"),
            group_disclosure=group,
            dominance=dominance,
        )


@dataclass(frozen=True)
class DisclosurePolicy:
    """A policy per data origin, the exemptions (table -> reason) and the marker of a suppressed cell."""

    register: OriginPolicy
    questionnaire: OriginPolicy
    exemptions: Mapping[str, str] = field(default_factory=dict)
    suppressed_marker: str = "<10"

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> DisclosurePolicy:
        """Build from the config section ``disclosure`` (plain values, as the workflow passes them)."""
        if not isinstance(section, Mapping):
            raise ConfigError("key disclosure: must be a mapping", hint="see workflow/schemas/config.schema.json")
        known = {"register", "questionnaire", "exemptions", "suppressed_marker"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(f"key disclosure.{unknown[0]}: unknown key", hint=f"known keys: {', '.join(sorted(known))}")
        for key in ("register", "questionnaire", "suppressed_marker"):
            if key not in section:
                raise ConfigError(f"key disclosure.{key} is required", hint="see workflow/schemas/config.schema.json")
        marker = section["suppressed_marker"]
        if not isinstance(marker, str) or not marker.strip() or re.fullmatch(r"-?[0-9.,eE+]+", marker):
            raise ConfigError("key disclosure.suppressed_marker: must be a non-numeric text such as '<10'")
        exemptions: dict[str, str] = {}
        for i, item in enumerate(section.get("exemptions") or []):
            if not isinstance(item, Mapping) or set(item) != {"table", "reason"}:
                raise ConfigError(f"key disclosure.exemptions.{i}: must hold exactly table and reason")
            exemptions[str(item["table"])] = str(item["reason"])
        return cls(
            register=OriginPolicy.from_config(section["register"], where="disclosure.register"),
            questionnaire=OriginPolicy.from_config(section["questionnaire"], where="disclosure.questionnaire"),
            exemptions=exemptions,
            suppressed_marker=marker,
        )

    def for_origin(self, origin: str) -> OriginPolicy:
        if origin not in ORIGINS:
            raise ValueError(f"unknown data origin {origin!r}")
        return getattr(self, origin)


def _config_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"key {where}: must be a whole number of at least 0")
    return value


# ----------------------------------------------------------------------------------------------
# Registry of table kinds


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


# ----------------------------------------------------------------------------------------------
# Identifiers, extremes, microdata


def identifier_columns(columns: Iterable[str]) -> list[str]:
    """Column names that look like a person, address, employer, job or study identifier."""
    found = []
    for col in columns:
        low = str(col).strip().lower().replace(" ", "_")
        if low in _ID_NAMES or low.startswith(_ID_PREFIXES) or low.endswith("_id") or low == "id":
            found.append(str(col))
    return found


def extreme_columns(columns: Iterable[str]) -> list[str]:
    """Column names that hold a minimum or maximum (``max_hours``, ``age_min``, ``maximum``)."""
    return [str(c) for c in columns if set(re.split(r"[^a-z]+", str(c).lower())) & _EXTREME_TOKENS]


@dataclass(frozen=True)
class IdentifierFinding:
    """An identifier-looking token in text: what it looks like, the token and its position."""

    pattern: str
    token: str
    position: int


def scan_for_identifiers(text: str) -> list[IdentifierFinding]:
    """Identifier-looking tokens in text (pseudonyms, RIN/BSN numbers, employer ids, study
    numbers, Castor ids, e-mail addresses, postcodes), in order of position.

    Meant for the report's HTML and PDF text and for text cells of exported tables; a finding is
    a reason to look, not proof (a nine-digit number may be something else).
    """
    found = []
    for name, pattern in IDENTIFIER_PATTERNS.items():
        for match in pattern.finditer(text):
            found.append(IdentifierFinding(name, match.group(0), match.start()))
    return sorted(found, key=lambda f: (f.position, f.pattern))


def dominance_share(contributions: Iterable[float], n: int = 1) -> float:
    """Share of a figure's total carried by its ``n`` largest contributions (absolute values).

    For a weighted share or mean the contributions are the units' weights: a share above the
    policy's ``dominance.k`` means a few units determine the figure. Producers of weighted tables
    compute it per figure with the policy's ``dominance.n`` and write it as ``dominance_share``.
    """
    values = np.sort(np.abs(np.asarray(list(contributions), dtype=float)))[::-1]
    total = values.sum()
    return float(values[:n].sum() / total) if total > 0 else 0.0


# ----------------------------------------------------------------------------------------------
# check_table


@dataclass
class _State:
    """Suppressions ((row, figure) -> rule) and log rows of one table being checked."""

    name: str
    source: str | Path
    spec: TableSpec
    policy: OriginPolicy
    marker: str
    frame: pd.DataFrame
    suppressed: dict[tuple[int, int], str] = field(default_factory=dict)
    log: list[dict[str, str]] = field(default_factory=list)

    def figure_cells(self, f: int) -> list[str]:
        return [c for c in self.spec.figures[f].cells() if c in self.frame.columns]

    def cell(self, row: int, columns: Sequence[str]) -> str:
        keys = [k for k in self.spec.keys if k in self.frame.columns]
        where = "; ".join(f"{k}={_render_key(self.frame.at[row, k])}" for k in keys)
        return f"{where}: {', '.join(columns)}" if columns else where

    def add_log(self, rule: str, cell: str, n: Any, action: str) -> None:
        self.log.append({"table": self.name, "rule": rule, "cell": cell, "n": _render_log_n(n), "action": action})

    def suppress(self, row: int, f: int, rule: str, *, below: bool) -> None:
        """Suppress figure ``f`` of ``row``; the log shows the marker where the tested count is
        below the threshold (``below``) and nothing otherwise, never the value itself."""
        if (row, f) in self.suppressed:
            return
        self.suppressed[(row, f)] = rule
        self.add_log(rule, self.cell(row, self.figure_cells(f)), self.marker if below else None, "suppressed")


def check_table(
    table: pd.DataFrame,
    kind: str | TableSpec,
    policy: DisclosurePolicy,
    *,
    name: str | None = None,
    source: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the policy of the table's origin to one aggregate table.

    Returns the checked table as text cells (sorted by its key, numbers to 8 significant
    digits, indicators 0/1, suppressed cells as the marker, check-only columns dropped) and its
    output-check log (:data:`LOG_COLUMNS`). ``name`` is the table's name in the log (default:
    the kind); ``source`` names the file in error messages. Raises :class:`InputError` for an
    identifier, an extreme, microdata, an undeclared or missing column, a duplicate key or a
    count that is not a whole number.
    """
    spec = table_spec(kind)
    name = name or spec.kind
    source = source if source is not None else name
    frame = _prepare(table, spec, source)
    state = _State(name, source, spec, policy.for_origin(spec.origin), policy.suppressed_marker, frame)

    if name in policy.exemptions:
        state.add_log("exemption", "all cells", None, "exempt")
    else:
        if spec.procedure == "histogram":
            _histogram(state)
        elif spec.procedure == "km":
            _kaplan_meier(state)
        else:
            _primary(state)
        _secondary(state)
        _pass_rows(state)
    checked = _render(state)
    log = pd.DataFrame(state.log, columns=list(LOG_COLUMNS))
    return checked, log


def _prepare(table: pd.DataFrame, spec: TableSpec, source: str | Path) -> pd.DataFrame:
    """Refuse what may not leave; return the table sorted by its key with a fresh index."""
    columns = [str(c) for c in table.columns]
    ids = identifier_columns(columns)
    if ids:
        raise InputError(
            "an identifier column may not leave the secure environment",
            file=source,
            column=ids[0],
            hint="export aggregate tables only: drop person, unit, RINPERSOON, SBEID, IKVID and study-number columns",
        )
    extremes = extreme_columns(columns)
    if extremes:
        raise InputError(
            "minima and maxima may not leave the secure environment (CBS output rules)",
            file=source,
            column=extremes[0],
            hint="drop the column; publish percentiles of at least 10 units or a range of categories instead",
        )
    micro = [c for c in columns if c.lower() in _MICRODATA_NAMES]
    if micro:
        raise InputError(
            f"this looks like microdata (one row per person): column {micro[0]!r} is a person-level variable",
            file=source,
            column=micro[0],
            hint="only aggregate tables with a register contract (mentorwijs.contracts) may be exported",
        )
    declared = spec.declared()
    undeclared = [c for c in columns if c not in declared]
    if undeclared:
        raise InputError(
            f"column {undeclared[0]!r} is not declared for table kind {spec.kind!r}",
            file=source,
            column=undeclared[0],
            hint=f"declared columns: {', '.join(declared)}; every exported column is a column of the table's "
            "contract (mentorwijs.contracts)",
        )
    missing = [c for c in spec.required() if c not in columns]
    if missing:
        raise InputError(
            f"required column {missing[0]!r} of table kind {spec.kind!r} is missing",
            file=source,
            column=missing[0],
            hint=f"required columns: {', '.join(spec.required())}",
        )
    frame = table.copy()
    frame.columns = columns
    frame = frame.reset_index(drop=True)
    keys = [k for k in spec.keys if k in columns]
    if keys and len(frame):
        dup = frame.duplicated(subset=keys, keep="first")
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(
                f"more than one row per key ({', '.join(keys)}): aggregate tables have one row per key, "
                "microdata may not be exported",
                file=source,
                row=row + 2,
                hint="aggregate the table to one row per key before exporting it",
            )
    for col in spec.count_columns() + spec.estimate_columns() + ((DOMINANCE_COLUMN,) if spec.allows_dominance() else ()):
        if col not in frame.columns:
            continue
        raw = frame[col]
        values = pd.to_numeric(raw.where(raw.astype(str).str.strip() != ""), errors="coerce") if raw.dtype == object else raw
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"not a number: {raw.iloc[row]!r}", file=source, row=row + 2, column=col,
                             hint="write numbers with a decimal point and no thousands separator")
        values = values.astype(float)
        if col in spec.count_columns():
            wrong = values.notna() & ((values < 0) | (values != np.round(values)))
            if wrong.any():
                row = int(np.flatnonzero(wrong.to_numpy())[0])
                raise InputError(
                    f"a count must be a whole number of units, not {values.iloc[row]!r}",
                    file=source, row=row + 2, column=col,
                    hint="counts behind published figures are unweighted numbers of units",
                )
        frame[col] = values
    for col in columns:
        if frame[col].dtype == object:
            for i, value in enumerate(frame[col]):
                if isinstance(value, str) and scan_for_identifiers(value):
                    found = scan_for_identifiers(value)[0]
                    raise InputError(
                        f"a value looks like an identifier ({found.pattern}: {found.token!r})",
                        file=source, row=i + 2, column=col,
                        hint="no person, address, employer or study ids may leave the secure environment",
                    )
    if keys:
        frame = frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
    return frame


def _value(frame: pd.DataFrame, row: int, col: str | None) -> float:
    if col is None or col not in frame.columns:
        return math.nan
    value = frame.at[row, col]
    return math.nan if value is None or pd.isna(value) else float(value)


def _figure_rule(state: _State, row: int, f: int) -> tuple[str, bool] | None:
    """The first primary rule that suppresses figure ``f`` of ``row``: (rule, whether a tested count
    is below the threshold), or None."""
    fig, frame, pol = state.spec.figures[f], state.frame, state.policy
    counts = {c: _value(frame, row, c) for c in fig.n if c in frame.columns}
    estimates = [c for c in fig.columns if c in frame.columns and c not in state.spec.count_columns()]
    has_values = any(not math.isnan(_value(frame, row, c)) for c in estimates)
    for col, n in counts.items():
        if math.isnan(n):
            if has_values:
                raise InputError(f"a figure has no number of units beside it ({state.cell(row, [])})",
                                 file=state.source, column=col, hint="every figure carries the units behind it")
            continue
        if (0 < n < pol.min_units) or (has_values and n < pol.min_units):
            return "min_units", True
    # the units with and without the value, where a share or an indicator implies them
    pairs = []
    for i, col in enumerate(fig.n):
        n = counts.get(col, math.nan)
        k = _value(frame, row, fig.with_counts[i] if i < len(fig.with_counts) else None)
        if math.isnan(k) and i == 0 and fig.share:
            share = _value(frame, row, fig.share)
            k = math.nan if math.isnan(share) else round(share * n)
        if not (math.isnan(k) or math.isnan(n)):
            pairs.append((n, k))
    for n, k in pairs:
        minority = min(k, n - k)
        if 0 < minority < pol.min_units or (minority <= 0 < n and pol.group_disclosure):
            return "implied_count", True
    if fig.df and has_values:
        df = _value(frame, row, fig.df)
        if not math.isnan(df) and df < pol.min_df:
            return "min_df", False
    if pol.dominance and has_values and DOMINANCE_COLUMN in frame.columns:
        share = _value(frame, row, DOMINANCE_COLUMN)
        if not math.isnan(share) and share > pol.dominance[1]:
            return "dominance", False
    return None


def _primary(state: _State) -> None:
    for row in range(len(state.frame)):
        for f in range(len(state.spec.figures)):
            hit = _figure_rule(state, row, f)
            if hit:
                state.suppress(row, f, hit[0], below=hit[1])
    for line in state.spec.lines:
        if line.kind == "nested":
            _nested(state, line)


def _line_groups(state: _State, by_columns: Sequence[str]) -> list[list[int]]:
    """Row positions per group of ``by_columns`` (those present), in key order."""
    by = [c for c in by_columns if c in state.frame.columns]
    if not by:
        return [list(range(len(state.frame)))] if len(state.frame) else []
    groups = state.frame.groupby(by, sort=False, dropna=False).indices
    return [sorted(int(i) for i in idx) for idx in groups.values()]


def _figure_of(state: _State, column: str | None) -> int:
    for f, fig in enumerate(state.spec.figures):
        if column in fig.cells():
            return f
    return 0


def _nested(state: _State, line: Line) -> None:
    """Nested counts (each row a subset of the previous): a difference of 1..min-1 is a small cell."""
    col = line.counts[0]
    f = _figure_of(state, col)
    for rows in _line_groups(state, line.by):
        last = None
        for row in rows:
            if (row, f) in state.suppressed:
                continue
            n = _value(state.frame, row, col)
            if math.isnan(n):
                continue
            if last is not None and 0 < last - n < state.policy.min_units:
                state.suppress(row, f, "implied_count", below=True)
                continue
            last = n


def _unprotected(sums: Sequence[float], hidden: int, counts: bool, min_units: int) -> bool:
    """Whether suppressed cells can still be recovered from a known total: fewer than two are
    hidden, or (for counts) together they are a small cell."""
    return hidden < 2 or (counts and any(0 < s < min_units for s in sums))


def _secondary(state: _State) -> None:
    """Complementary suppression until every line and row total is protected (a fixpoint).

    A complement is the unsuppressed row with the smallest count (ties: nearest in key order,
    then first), or within a row the smallest unsuppressed part.
    """
    pol, frame = state.policy, state.frame
    changed = True
    while changed:
        changed = False
        for line in (line for line in state.spec.lines if line.kind != "nested"):
            f = _figure_of(state, line.counts[0] if line.counts else None)
            order = (line.counts or state.spec.figures[f].n or (None,))[0]
            for rows in _line_groups(state, line.by):
                hidden = [r for r in rows if (r, f) in state.suppressed]
                while hidden:
                    sums = [sum(_zero_nan(_value(frame, r, c)) for r in hidden) for c in line.counts]
                    if not _unprotected(sums, len(hidden), line.kind == "partition", pol.min_units):
                        break
                    candidates = [r for r in rows if (r, f) not in state.suppressed]
                    if not candidates:
                        if line.kind == "partition":
                            # the suppressed cells are the whole line: its total must not be published
                            # elsewhere unless exempt (e.g. a step difference of the flow)
                            where = "; ".join(f"{c}={_render_key(frame.at[rows[0], c])}" for c in line.by if c in frame.columns)
                            state.add_log("secondary", where, state.marker, "line total below threshold")
                        break
                    pick = min(candidates, key=lambda r: (_inf_nan(_value(frame, r, order)), min(abs(r - h) for h in hidden), r))
                    state.suppress(pick, f, "secondary", below=False)
                    hidden.append(pick)
                    changed = True
        for total in state.spec.row_totals:
            parts = [c for c in total.parts if c in frame.columns]
            total_figure = _figure_of(state, total.total) if total.total in frame.columns else None
            if total.total is not None and total_figure is None:
                continue  # the total is not in this table
            for row in range(len(frame)):
                if total_figure is not None and (row, total_figure) in state.suppressed:
                    continue  # the total itself is hidden
                hidden = [c for c in parts if (row, _figure_of(state, c)) in state.suppressed]
                while hidden:
                    sums = [sum(_zero_nan(_value(frame, row, c)) for c in hidden)]
                    if not _unprotected(sums, len(hidden), total.counts, pol.min_units):
                        break
                    candidates = [c for c in parts if c not in hidden]
                    if not candidates:
                        if total_figure is not None:
                            state.suppress(row, total_figure, "secondary", below=False)
                            changed = True
                        break
                    pick = min(candidates, key=lambda c: (_inf_nan(_value(frame, row, c)), parts.index(c)))
                    state.suppress(row, _figure_of(state, pick), "secondary", below=False)
                    hidden.append(pick)
                    changed = True


def _zero_nan(x: float) -> float:
    return 0.0 if math.isnan(x) else x


def _inf_nan(x: float) -> float:
    return math.inf if math.isnan(x) else x


def _kaplan_meier(state: _State) -> None:
    """Cut each curve where fewer than km_min_at_risk are at risk; publish a step only when at
    least km_min_events events occurred since the previous published step.

    A step at time t reveals d_t = n_t (1 - S(t)/S(t-)) even with ``n_event`` hidden, so a step
    of 1..9 events is a small cell: those events are carried forward to the next time at which
    the carried events reach the threshold (the published ``n_event`` then counts them all), and
    rows in between are suppressed, their numbers at risk included, so that differences between
    published rows never isolate fewer than the threshold. Times without any event since the
    previous published step stay published (a flat curve is a zero count).
    """
    spec, frame, pol = state.spec, state.frame, state.policy
    at_risk, events = spec.figures[0].n[0], spec.events
    for rows in _line_groups(state, spec.groups):
        carried, cut = 0.0, False
        for row in rows:
            n_risk = _value(frame, row, at_risk)
            if cut or math.isnan(n_risk) or n_risk < pol.km_min_at_risk:
                cut = True
                state.suppress(row, 0, "km_at_risk", below=not math.isnan(n_risk) and n_risk < pol.km_min_at_risk)
                continue
            d = _zero_nan(_value(frame, row, events))
            carried += d
            if carried == 0:
                continue
            if carried >= pol.km_min_events:
                if carried != d:
                    frame.at[row, events] = carried
                    state.add_log("km_events", state.cell(row, [events]), carried, "coarsened")
                carried = 0.0
            else:
                state.suppress(row, 0, "km_events", below=True)


def _histogram(state: _State) -> None:
    """Merge adjacent bins below histogram_min_bin (zero bins stand alone); a remainder at the end
    joins the previous non-empty bin; a group below the threshold in total is suppressed."""
    spec, frame, pol = state.spec, state.frame, state.policy
    low, high = spec.bins
    count = spec.figures[0].n[0]
    out_rows: list[dict[str, Any]] = []
    merges: list[tuple[int, int]] = []  # (index in out_rows, number of source bins)
    suppressed_rows: list[int] = []
    for rows in _line_groups(state, spec.groups):
        emitted: list[tuple[dict[str, Any], int]] = []
        pending: tuple[dict[str, Any], int] | None = None
        for row in rows:
            rec = frame.loc[row].to_dict()
            n = _zero_nan(rec[count])
            if pending is None and (n == 0 or n >= pol.histogram_min_bin):
                emitted.append((rec, 1))
                continue
            pending = (rec, 1) if pending is None else (_join_bins(pending[0], rec, low, high, count), pending[1] + 1)
            if pending[0][count] >= pol.histogram_min_bin:
                emitted.append(pending)
                pending = None
        small = False
        if pending is not None:
            while emitted and _zero_nan(emitted[-1][0][count]) == 0:
                zero = emitted.pop()
                pending = (_join_bins(zero[0], pending[0], low, high, count), pending[1] + zero[1])
            if emitted:
                prev = emitted.pop()
                pending = (_join_bins(prev[0], pending[0], low, high, count), prev[1] + pending[1])
            else:
                small = True
            emitted.append(pending)
        for rec, k in emitted:
            out_rows.append(rec)
            if small:
                suppressed_rows.append(len(out_rows) - 1)
            elif k > 1:
                merges.append((len(out_rows) - 1, k))
    state.frame = pd.DataFrame(out_rows, columns=frame.columns).reset_index(drop=True)
    for index, k in merges:
        state.add_log("histogram_min_bin", f"{state.cell(index, [])} (from {k} bins)", state.frame.at[index, count], "merged")
    for index in suppressed_rows:
        state.suppress(index, 0, "histogram_min_bin", below=True)


def _join_bins(a: dict[str, Any], b: dict[str, Any], low: str, high: str, count: str) -> dict[str, Any]:
    joined = dict(a)
    joined[low], joined[high] = min(a[low], b[low]), max(a[high], b[high])
    joined[count] = _zero_nan(a[count]) + _zero_nan(b[count])
    return joined


def _pass_rows(state: _State) -> None:
    """One log row per rule that applied to the table and suppressed nothing."""
    spec, pol, frame = state.spec, state.policy, state.frame
    fired = {rule for rule in state.suppressed.values()} | {row["rule"] for row in state.log}
    applicable: list[str] = []
    if spec.procedure == "km":
        applicable += ["km_at_risk", "km_events"]
    elif spec.procedure == "histogram":
        applicable += ["histogram_min_bin"]
    else:
        applicable.append("min_units")
        if any(f.share or f.with_counts for f in spec.figures) or any(line.kind == "nested" for line in spec.lines):
            applicable.append("implied_count")
        if any(f.df and f.df in frame.columns for f in spec.figures):
            applicable.append("min_df")
        if spec.allows_dominance() and pol.dominance:
            applicable.append("dominance")
    if any(line.kind != "nested" for line in spec.lines) or spec.row_totals:
        applicable.append("secondary")
    published = [
        _value(frame, row, c)
        for f, fig in enumerate(spec.figures)
        for row in range(len(frame))
        if (row, f) not in state.suppressed
        for c in fig.n
        if c in frame.columns
    ]
    published = [n for n in published if not math.isnan(n)]
    for rule in applicable:
        if rule in fired:
            continue
        if rule == "dominance" and DOMINANCE_COLUMN not in frame.columns:
            state.add_log(rule, f"no {DOMINANCE_COLUMN} column", None, "not assessed")
            continue
        n = min(published) if rule == "min_units" and published else None
        state.add_log(rule, f"all {len(frame)} rows", n, "pass")


def _render(state: _State) -> pd.DataFrame:
    """Text cells: keys and counts as integers, estimates to 8 significant digits, markers."""
    spec, frame = state.spec, state.frame
    counts = set(spec.count_columns())
    out = pd.DataFrame(index=range(len(frame)))
    for col in frame.columns:
        if col == DOMINANCE_COLUMN:
            continue
        if col in spec.keys:
            out[col] = [_render_key(v) for v in frame[col]]
        elif col in counts:
            out[col] = [_render_count(v) for v in frame[col]]
        elif col in spec.info and frame[col].dtype == object:
            out[col] = [_render_info(v) for v in frame[col]]
        else:
            out[col] = [_render_number(v) for v in frame[col]]
    for (row, f) in state.suppressed:
        for col in state.figure_cells(f):
            out.at[row, col] = state.marker
    return out.reset_index(drop=True)


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _render_number(value: Any) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, str):
        return value
    number = float(value)
    if math.isnan(number):
        return ""
    text = f"{number:.8g}"
    return "0" if text in ("-0", "0") else text


def _render_count(value: Any) -> str:
    if _is_missing(value):
        return ""
    return str(int(round(float(value))))


def _render_key(value: Any) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return _render_number(value)


def _render_info(value: Any) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return "1" if value.strip().lower() == "true" else "0"
    return _render_number(value)


def _render_log_n(n: Any) -> str:
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    if isinstance(n, str):
        return n
    return _render_count(n)


# ----------------------------------------------------------------------------------------------
# export_tables


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_tables` wrote (paths relative to the export folder, sorted) and its log."""

    files: tuple[str, ...]
    log: pd.DataFrame


#: The manifest of an export: the SHA-256 of every other file, so that an output checker can
#: confirm that what leaves the environment is what was checked (``sha256sum -c SHA256SUMS``).
CHECKSUMS = "SHA256SUMS"


def checksums(folder: str | Path, files: Sequence[str]) -> str:
    """``sha256sum`` lines (``<hex>  <path>``, paths relative to ``folder`` with ``/``) of ``files``, sorted."""
    import hashlib

    return "".join(f"{hashlib.sha256((Path(folder) / name).read_bytes()).hexdigest()}  {name}\n" for name in sorted(files))


def read_results_table(path: str | Path) -> pd.DataFrame:
    """Read one raw result table (UTF-8 CSV, comma, decimal point) as the effects part writes it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("result table not found", file=path, hint="run the analyses that write it first")
    try:
        return pd.read_csv(path, encoding="utf-8", keep_default_na=True, na_values=[""])
    except pd.errors.EmptyDataError:
        raise InputError("the result table is empty (no header)", file=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable UTF-8 comma-separated table: {exc}", file=path) from None


def export_tables(
    src_dir: str | Path,
    dst_dir: str | Path,
    policy: DisclosurePolicy,
    kinds: Sequence[str] | None = None,
) -> ExportResult:
    """Check and write the aggregate tables that may leave the secure environment.

    Reads ``<src_dir>/<name>.csv`` for every name in ``kinds`` (default: every ``.csv`` in
    ``src_dir``; each name must be a registered kind) and writes ``<dst_dir>/tables/<name>.csv``,
    ``<dst_dir>/output_check_log.csv``, ``<dst_dir>/README.md`` and ``<dst_dir>/SHA256SUMS`` (the
    SHA-256 of each of the others, in ``sha256sum`` format). Everything is written to a
    staging folder first and moved into place only when every table passed, so an error leaves
    the previous export untouched; the previous ``tables/`` folder is replaced as a whole, so no
    stale table survives.
    """
    src, dst = Path(src_dir), Path(dst_dir)
    if kinds is None:
        if not src.is_dir():
            raise InputError("folder of result tables not found", file=src)
        others = sorted(p.name for p in src.iterdir() if p.is_file() and p.suffix != ".csv")
        if others:
            raise InputError("only registered aggregate tables (.csv) may be exported", file=src / others[0],
                             hint="move other files out of the folder, or name the tables to export")
        kinds = sorted(p.stem for p in src.glob("*.csv"))
    names = sorted(dict.fromkeys(kinds))
    for name in names:
        if name not in REGISTRY:
            raise InputError(
                f"{name!r} is not a registered aggregate table kind and may not be exported",
                file=src / f"{name}.csv",
                hint=f"registered kinds: {', '.join(sorted(REGISTRY))}",
            )
    checked: dict[str, pd.DataFrame] = {}
    logs = []
    for name in names:
        table, log = check_table(read_results_table(src / f"{name}.csv"), name, policy, name=name, source=src / f"{name}.csv")
        checked[name] = table
        logs.append(log)
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=list(LOG_COLUMNS))

    dst.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=dst))
    try:
        for name, table in checked.items():
            write_csv_table(table, staging / "tables" / f"{name}.csv")
        (staging / "tables").mkdir(exist_ok=True)
        write_csv_table(log.astype(str), staging / "output_check_log.csv")
        (staging / "README.md").write_bytes(export_readme(checked, policy).encode("utf-8"))
        listed = sorted([f"tables/{n}.csv" for n in names] + ["output_check_log.csv", "README.md"])
        (staging / CHECKSUMS).write_bytes(checksums(staging, listed).encode("ascii"))
        if (dst / "tables").exists():
            os.replace(dst / "tables", staging / "previous-tables")
        os.replace(staging / "tables", dst / "tables")
        for name in ("output_check_log.csv", "README.md", CHECKSUMS):
            os.replace(staging / name, dst / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = tuple(sorted(listed + [CHECKSUMS]))
    return ExportResult(files=files, log=log)


def kind_rules(spec: TableSpec, policy: DisclosurePolicy, name: str | None = None) -> list[str]:
    """The rules applied to a table kind, in words (for the export README)."""
    name = name or spec.kind
    pol = policy.for_origin(spec.origin)
    if name in policy.exemptions:
        return [f"exemption: {policy.exemptions[name]}", "identifiers, extremes, microdata"]
    rules = ["identifiers, extremes, microdata"]
    if spec.procedure == "km":
        at_risk = spec.figures[0].n[0]
        return rules + [
            f"km_at_risk: curve cut from the first time {at_risk} < {pol.km_min_at_risk}",
            f"km_events: a step only after >= {pol.km_min_events} events since the previous one ({spec.events})",
        ]
    if spec.procedure == "histogram":
        return rules + [f"histogram_min_bin: bins of 0 or >= {pol.histogram_min_bin} units ({spec.figures[0].n[0]})"]
    for fig in spec.figures:
        if fig.columns:
            rules.append(f"min_units: {', '.join(fig.columns)} need >= {pol.min_units} units in each of {', '.join(fig.n)}")
        else:
            rules.append(f"min_units: count {', '.join(fig.n)} is 0 or >= {pol.min_units}")
        if fig.share or fig.with_counts:
            implied = f"{fig.share} x {fig.n[0]}" if fig.share else ", ".join(fig.with_counts)
            rules.append(f"implied_count: units with and without the value ({implied}) each >= {pol.min_units} (0: group disclosure)")
        if fig.df:
            rules.append(f"min_df: {fig.df} >= {pol.min_df}")
    for line in spec.lines:
        if line.kind == "nested":
            rules.append(f"implied_count: differences between consecutive rows within {', '.join(line.by)} are 0 or >= {pol.min_units}")
        else:
            rules.append(f"secondary: within {', '.join(line.by)} ({line.kind}) at least two suppressed figures"
                         + (f", suppressed {', '.join(line.counts)} summing to >= {pol.min_units}" if line.kind == "partition" else ""))
    for total in spec.row_totals:
        rules.append(f"secondary: {total.total or 'a known total'} = {' + '.join(total.parts)}")
    if spec.allows_dominance() and pol.dominance:
        rules.append(f"dominance: {DOMINANCE_COLUMN} <= {pol.dominance[1]:g} (largest {pol.dominance[0]} unit(s)); never exported")
    return rules


def registry_markdown() -> str:
    """The two tables of docs/disclosure.md "Table kinds": the columns of every exportable kind
    (from its contract) and its figures, lines and procedure. A test keeps the document equal."""
    lines = ["| kind | key | required columns | optional columns |", "|---|---|---|---|"]
    for name in sorted(REGISTRY):
        spec = REGISTRY[name]
        required = spec.required()
        optional = tuple(c for c in spec.declared() if c not in required)
        lines.append(f"| `{name}` | {', '.join(spec.keys)} | {', '.join(required)} | {', '.join(optional)} |")
    lines += ["", "| kind | figures and the units behind them | lines, totals, procedure |", "|---|---|---|"]
    for name in sorted(REGISTRY):
        spec = REGISTRY[name]
        figures = []
        for f in spec.figures:
            if not f.columns:
                figures.append(f"count `{', '.join(f.n)}`")
                continue
            text = f"`{', '.join(f.columns)}` <- `{', '.join(f.n)}`"
            if f.share or f.with_counts:
                text += f"; with-counts `{', '.join(f.with_counts)}`" if f.with_counts else ""
                text += f" (else `{f.share}` x `{f.n[0]}`)" if f.share else ""
            if f.df:
                text += f"; `{f.df}`"
            figures.append(text)
        other = [f"{line.kind} line within `{', '.join(line.by)}`" for line in spec.lines]
        other += [f"row total `{r.total} = {' + '.join(r.parts)}`" for r in spec.row_totals]
        if spec.procedure:
            other.append(f"{'Kaplan-Meier' if spec.procedure == 'km' else 'histogram'} per `{', '.join(spec.groups)}`")
        lines.append(f"| `{name}` | {'; '.join(figures)} | {'; '.join(other)} |")
    return "\n".join(lines) + "\n"


def export_readme(tables: Mapping[str, pd.DataFrame], policy: DisclosurePolicy) -> str:
    """The README for the CBS output checkers: every file, its origin and the rules applied."""
    reg = policy.register
    lines = [
        "# Export of the register part: disclosure-checked aggregate tables",
        "",
        "Every file in this folder was written by `mentorwijs.disclosure.export_tables` from the result tables of",
        "the register part. Only registered aggregate tables are exported; a table with an identifier column or",
        "value, a minimum or maximum, a person-level variable or more than one row per key is refused.",
        f"A suppressed cell is written as `{policy.suppressed_marker}`, whatever its true size; the cells of a figure",
        "(estimate, se, ci, p and the units behind it) are suppressed together. Numbers have at most 8 significant",
        "digits; rows are sorted by the table's key.",
        "",
        "## Policy (register data)",
        "",
        f"- at least {reg.min_units} units behind every count, share, mean and model cell (a count of 0 is published)",
        f"- at least {reg.min_df} residual degrees of freedom behind a regression",
        f"- Kaplan-Meier: curves cut where fewer than {reg.km_min_at_risk} are at risk; a step only after at least "
        f"{reg.km_min_events} events since the previous published step",
        f"- histogram bins of 0 or at least {reg.histogram_min_bin} units (adjacent bins merged)",
        "- group disclosure (all units of a group sharing one value) suppressed: "
        + ("yes" if reg.group_disclosure else "no"),
        "- dominance: "
        + (f"no figure whose largest {reg.dominance[0]} unit(s) carry more than {reg.dominance[1]:g} of its total weight"
           if reg.dominance else "not applied"),
        "- secondary suppression wherever cells add up to a known total (a margin, another table, a complement)",
        "- no minima or maxima, no ids, no individual points",
        f"- questionnaire-only tables: the study's own threshold, min_units = {policy.questionnaire.min_units}",
        "",
        "## Files",
        "",
        "| file | origin | rows | what | rules applied |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(tables):
        spec = REGISTRY[name]
        rules = "; ".join(kind_rules(spec, policy, name)).replace("|", "/")
        lines.append(f"| tables/{name}.csv | {spec.origin} | {len(tables[name])} | {spec.description} | {rules} |")
    lines += [
        "| output_check_log.csv | register | "
        "| the output-check log: one row per suppressed, merged or coarsened cell and one per rule that passed | |",
        "| README.md | | | this file | |",
        f"| {CHECKSUMS} | | | the SHA-256 of every file above: `sha256sum -c {CHECKSUMS}` in this folder confirms that the files "
        "are those that were checked | |",
        "",
        "## Output-check log",
        "",
        "`table, rule, cell, n, action`: `rule` names the rule below; `cell` the row (key values) and the columns;",
        "`n` the units the rule tested where they can be shown (the marker where they are below the threshold, empty",
        "where showing them would undo a suppression); `action` is `suppressed`, `merged`, `coarsened`, `pass`,",
        "`not assessed`, `line total below threshold` or `exempt`.",
        "",
    ]
    lines += [f"- `{rule}`: {text}" for rule, text in RULES.items()]
    if policy.exemptions:
        lines += ["", "## Exemptions", ""]
        lines += [f"- `{table}`: {reason}" for table, reason in sorted(policy.exemptions.items())]
    lines += [
        "",
        "## Known limits",
        "",
        "- Free-text columns (`warnings`) are exported as written by the analyses; they were scanned for ids only.",
        "- Each table is checked on its own, assuming the total of every line is known from elsewhere (the flow, the",
        "  number of trainees). Recovery across tables through model estimates is not checked: `trajectories` and",
        "  `did_by_month` describe the same units and months and are best reviewed together.",
        "- Complementary suppression protects every line (at least two suppressed cells, summing to the threshold for",
        "  counts); in tables with crossing lines this is a heuristic, not a full audit of the suppression pattern.",
        "- A line whose suppressed cells make up the whole line is logged as `line total below threshold`: that total",
        "  must not be published elsewhere unless exempt.",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Scanning report text


@dataclass(frozen=True)
class HiddenCell:
    """A value present in a raw result table and not published (suppressed, merged or coarsened)."""

    table: str
    cell: str
    column: str
    value: float
    count: bool  # a count of units (matched as a whole number in count context)


def read_exported_table(path: str | Path) -> pd.DataFrame:
    """Read an exported table as text cells (markers and numbers exactly as written)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def hidden_cells(raw: pd.DataFrame, exported: pd.DataFrame, kind: str | TableSpec, *, name: str | None = None) -> list[HiddenCell]:
    """The values of ``raw`` that ``exported`` (read back as text) does not show.

    Rows are matched on the key; a raw row without an exported row (a merged histogram bin) hides
    all its values, an exported cell whose text differs from the raw value's text hides it.
    """
    spec = table_spec(kind)
    name = name or spec.kind
    frame = raw.copy()
    frame.columns = [str(c) for c in frame.columns]
    keys = [k for k in spec.keys if k in frame.columns]
    counts = set(spec.count_columns())
    values = [c for c in list(counts) + list(spec.estimate_columns()) if c in frame.columns]
    shown = exported.fillna("").astype(str)
    index = {tuple(shown.at[i, k] if k in shown.columns else "" for k in keys): i for i in range(len(shown))}
    found = []
    for i in range(len(frame)):
        key = tuple(_render_key(frame.at[i, k]) for k in keys)
        where = "; ".join(f"{k}={v}" for k, v in zip(keys, key))
        j = index.get(key)
        for col in sorted(values):
            value = frame.at[i, col]
            if _is_missing(value):
                continue
            text = _render_count(value) if col in counts else _render_number(value)
            if j is None or col not in shown.columns or shown.at[j, col] != text:
                found.append(HiddenCell(name, where, col, float(value), col in counts))
    return found


@dataclass(frozen=True)
class TextFinding:
    """A number in text that equals a hidden value (and no published one) at the text's precision."""

    hidden: HiddenCell
    token: str
    position: int
    context: str


_NUMBER = re.compile(r"(?<![\w.,])-?[0-9]+(?:[.,][0-9]+)?(?:\s?%)?(?![0-9])")
_COUNT_CUES = (
    r"\bn\s*[=:]\s*{v}\b",
    r"\(\s*{v}\s*\)",
    r"(?<![\w.,]){v}\s*(?:/|of|van|out of|uit)\s*[0-9]",
    r"(?<![\w.,]){v}\s+(?:persons?|personen|people|mensen|units?|trainees?|werknemers?|employees?|deelnemers?|"
    r"participants?|controls?|controles?|events?|supervisors?|leidinggevenden)\b",
)


_TIME_WORD = re.compile(r"(?:month|maand|week|wave|T)(?:s|en)?\s*$", re.IGNORECASE)


def published_numbers(exported: Mapping[str, pd.DataFrame]) -> set[float]:
    """Every number the exported tables show (to compare text numbers against)."""
    numbers: set[float] = set()
    for table in exported.values():
        for value in table.astype(str).to_numpy().ravel():
            try:
                numbers.add(float(value))
            except ValueError:
                continue
    return numbers


def scan_text_for_small_cells(
    text: str,
    hidden: Iterable[HiddenCell],
    published: Iterable[float] = (),
    *,
    context: int = 40,
) -> list[TextFinding]:
    """Numbers in ``text`` that give away a hidden value.

    A hidden count is found as a whole number next to a count cue (``n = 6``, ``(6)``, ``6 of 73``,
    ``6 trainees``; not after "month" or "week": ``month 6 of 12``); any other hidden value as a number with at least two decimals (decimal point
    or comma; a percentage with at least one) that equals the hidden value rounded to the number's
    precision. A number that a published value explains at the same precision is not reported.
    """
    published = list(published)
    findings = []
    for cell in hidden:
        if cell.count and float(cell.value).is_integer():
            v = int(cell.value)
            if float(v) in published:
                continue
            for cue in _COUNT_CUES:
                for match in re.finditer(cue.format(v=v), text, flags=re.IGNORECASE):
                    if not _TIME_WORD.search(text[max(0, match.start() - 12) : match.start()]):
                        findings.append(_finding(cell, text, match, context))
            continue
        for match in _NUMBER.finditer(text):
            token = match.group(0)
            percent = token.endswith("%")
            digits = token.rstrip("%").strip().replace(",", ".")
            decimals = len(digits.split(".")[1]) if "." in digits else 0
            if decimals < (1 if percent else 2):
                continue
            number = float(digits)
            scale = 100.0 if percent else 1.0
            if round(cell.value * scale, decimals) != round(number, decimals):
                continue
            if any(round(p * scale, decimals) == round(number, decimals) for p in published):
                continue
            findings.append(_finding(cell, text, match, context))
    return sorted(findings, key=lambda f: (f.position, f.hidden.table, f.hidden.cell, f.hidden.column))


def _finding(cell: HiddenCell, text: str, match: re.Match[str], context: int) -> TextFinding:
    start, end = match.start(), match.end()
    return TextFinding(cell, match.group(0), start, text[max(0, start - context) : end + context])
