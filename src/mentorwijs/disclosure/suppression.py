"""Primary and secondary suppression of one aggregate table (:func:`check_table`): the rules of
the table's origin per figure, nested counts, complementary suppression of lines and row totals,
Kaplan-Meier coarsening, histogram bin merging, and the output-check log."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from mentorwijs.contracts import DOMINANCE_COLUMN, Line
from mentorwijs.disclosure.policy import DisclosurePolicy, OriginPolicy
from mentorwijs.disclosure.render import render_key, render_log_n, render_table
from mentorwijs.disclosure.screen import screen_table
from mentorwijs.disclosure.specs import TableSpec, table_spec
from mentorwijs.errors import InputError

#: Columns of the output-check log.
LOG_COLUMNS = ("table", "rule", "cell", "n", "action")


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
        where = "; ".join(f"{k}={render_key(self.frame.at[row, k])}" for k in keys)
        return f"{where}: {', '.join(columns)}" if columns else where

    def add_log(self, rule: str, cell: str, n: Any, action: str) -> None:
        self.log.append({"table": self.name, "rule": rule, "cell": cell, "n": render_log_n(n), "action": action})

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
    frame = screen_table(table, spec, source)
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
    checked = render_table(state.frame, spec, state.suppressed, state.marker)
    log = pd.DataFrame(state.log, columns=list(LOG_COLUMNS))
    return checked, log


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
                            where = "; ".join(f"{c}={render_key(frame.at[rows[0], c])}" for c in line.by
                                              if c in frame.columns)
                            state.add_log("secondary", where, state.marker, "line total below threshold")
                        break
                    pick = min(candidates,
                               key=lambda r: (_inf_nan(_value(frame, r, order)), min(abs(r - h) for h in hidden), r))
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
        state.add_log("histogram_min_bin", f"{state.cell(index, [])} (from {k} bins)", state.frame.at[index, count],
                      "merged")
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
