"""Figures of the report and the factsheet, drawn from the aggregate tables only.

Every function takes a table (cells as text, as :func:`mentorwijs.aggregates.read_table`
gives them) and a :class:`~mentorwijs.messages.Messages` catalogue, and plots table columns
as they are: figures never compute statistics. A suppressed cell (``<10``) is left out of a
curve and written as ``<10`` where a number is shown (numbers at risk, histogram bins).

Style: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies) and, in
addition, different markers and line styles per group; DejaVu Sans (shipped with matplotlib)
whatever the user's matplotlib settings; labels and tick numbers in the report language.
:func:`save_figure` writes PNG (for HTML) and SVG (vector, for print) with fixed metadata, so
the same table gives the same bytes on every run. Figures are built on
:class:`matplotlib.figure.Figure` directly: no pyplot, no global backend or state.
"""

from __future__ import annotations

import contextlib
import json
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from mentorwijs.aggregates import AggregateTables, numeric
from mentorwijs.contracts import PRIMARY_METHOD, method_rows, other_method
from mentorwijs.errors import InputError
from mentorwijs.formatting import as_float, is_suppressed
from mentorwijs.messages import Messages

#: Okabe & Ito (2008) palette, safe for the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
GROUP_STYLE = {
    "treated": {"color": OKABE_ITO["blue"], "marker": "o", "linestyle": "-"},
    "control": {"color": OKABE_ITO["vermillion"], "marker": "s", "linestyle": "--"},
}
SERIES_COLOURS = [OKABE_ITO[k] for k in ("blue", "vermillion", "green", "purple", "orange", "sky_blue", "black")]
SERIES_MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
GREY = "#595959"
LIGHT = "#D9D9D9"

CM = 1 / 2.54
WIDTH = 16.5 * CM  # the text width of the A4 report
PNG_DPI = 150

#: rcParams of every figure (on top of matplotlib's defaults, never the user's matplotlibrc).
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": True,
    "axes.formatter.use_locale": False,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "lines.linewidth": 1.6,
    "svg.fonttype": "none",
    "svg.hashsalt": "mentorwijs",
    "svg.image_inline": True,
    "pdf.fonttype": 42,
    "savefig.dpi": PNG_DPI,
    "figure.dpi": 100,
    "path.simplify": True,
}
#: File metadata that would otherwise carry a date or a version-dependent producer.
METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}
FORMATS = ("png", "svg")


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """matplotlib's defaults plus :data:`STYLE`, restored afterwards."""
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        yield


@dataclass
class FigureRecord:
    """A figure as the documents use it: name, title, caption, alternative text, files."""

    name: str
    title: str
    caption: str
    alt: str
    files: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# helpers


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def _share_axis(ax, m: Messages, axis: str = "y") -> None:
    formatter = FuncFormatter(lambda v, _pos: m.pct(v, 0))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _number_axis(ax, m: Messages, decimals: int, axis: str = "y") -> None:
    formatter = FuncFormatter(lambda v, _pos: m.num(v, decimals))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _integer_axis(ax, m: Messages, axis: str = "x") -> None:
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(integer=True))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: m.num(v, 0)))


def _synthetic_mark(fig: Figure, m: Messages, synthetic: bool) -> None:
    if synthetic:
        fig.text(0.995, 0.995, m.t("document.synthetic_short"), ha="right", va="top", fontsize=7,
                 color=OKABE_ITO["vermillion"], fontweight="bold")


def _groups(df: pd.DataFrame) -> list[str]:
    """Groups in a fixed order: treated, control, then any other in table order."""
    present = list(dict.fromkeys(df["group"].astype(str)))
    return [g for g in ("treated", "control") if g in present] + [g for g in present if g not in ("treated", "control")]


def _style(group: str, index: int) -> dict[str, Any]:
    return GROUP_STYLE.get(group,
                           {"color": SERIES_COLOURS[index % 7], "marker": SERIES_MARKERS[index % 7], "linestyle": "-"})


def _outcomes(df: pd.DataFrame, preferred: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(df["outcome"].astype(str)))
    return [o for o in preferred if o in present] + [o for o in present if o not in preferred]


def _sorted(df: pd.DataFrame, column: str) -> pd.DataFrame:
    return df.assign(_key=numeric(df, column)).sort_values("_key", kind="mergesort").drop(columns="_key")


EMPLOYMENT_OUTCOMES = ("employed_1h", "employed_12h", "employed_3m")
SURVIVAL_OUTCOMES = ("job", "work")


# ---------------------------------------------------------------------------------------------
# the figures


SIDE_STEPS = ("excluded_", "of_which_")


def flow_figure(flow: pd.DataFrame, m: Messages) -> Figure:
    """Participant flow per population: the main chain as boxes, ``excluded_*`` steps (and the
    ``of_which_*`` breakdowns of the step before them) to the side."""
    populations = [p for p in ("supervisors", "employees", "controls") if p in set(flow["population"])]
    populations += [p for p in dict.fromkeys(flow["population"]) if p not in populations]
    has_side = {p: bool(flow.loc[flow["population"] == p, "step"].astype(str).str.startswith(SIDE_STEPS).any())
                for p in populations}
    widths = [2.0 if has_side[p] else 1.0 for p in populations]
    total = sum(widths)
    longest = max(len(flow[flow["population"] == p]) for p in populations)
    height = max(6.0, 1.15 * longest + 1.2) * CM * 1.4
    fig = Figure(figsize=(WIDTH, height))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, total)
    ax.set_ylim(0, 1)
    ax.axis("off")
    box = dict(boxstyle="round,pad=0.35", facecolor="white", edgecolor=GREY, linewidth=0.8)
    side_box = dict(boxstyle="round,pad=0.3", facecolor="#F2F2F2", edgecolor=GREY, linewidth=0.6)
    arrow = dict(arrowstyle="-|>", color=GREY, linewidth=0.8, shrinkA=0, shrinkB=0, mutation_scale=8)
    left = 0.0
    for population, width in zip(populations, widths):
        rows = _sorted(flow[flow["population"] == population], "order")
        chain_x = left + 0.5
        ax.text(chain_x if not has_side[population] else left + 0.5, 0.97, m.label("population", population),
                ha="center", va="top", fontsize=9.5, fontweight="bold")
        steps = list(rows.itertuples(index=False))
        main = [s for s in steps if not str(s.step).startswith(SIDE_STEPS)]
        top, bottom = 0.86, 0.06
        gap = (top - bottom) / max(len(main) - 1, 1)
        y_of = {}
        for i, step in enumerate(main):
            y_of[id(step)] = top - i * gap if len(main) > 1 else (top + bottom) / 2
        positions = []
        for step in steps:
            if id(step) in y_of:
                positions.append((step, y_of[id(step)]))
        for i, (step, y) in enumerate(positions):
            label = f"{_wrap(m.label('flow_step', step.step), 20)}\nn = {m.count(step.n)}"
            ax.text(chain_x, y, label, ha="center", va="center", fontsize=7.5, bbox=box, zorder=3)
            if i + 1 < len(positions):
                ax.annotate("", xy=(chain_x, positions[i + 1][1] + 0.045), xytext=(chain_x, y - 0.045),
                            arrowprops=arrow, zorder=2)
        parts: dict[int, list] = {}  # of_which_* steps, by the main step before them
        for k, step in enumerate(steps):
            if str(step.step).startswith("of_which_"):
                owner = [s for s in steps[:k] if id(s) in y_of]
                if owner:
                    parts.setdefault(id(owner[-1]), []).append(step)
        for owner_id, members in parts.items():
            y = y_of[owner_id]
            label = "\n".join(f"{_wrap(m.label('flow_step', s.step), 24)}: n = {m.count(s.n)}" for s in members)
            x_side = left + 1.45
            ax.plot([chain_x + 0.3, x_side - 0.4], [y, y], color=GREY, linewidth=0.8, linestyle=":", zorder=2)
            ax.text(x_side, y, label, ha="center", va="center", fontsize=6.5, bbox=side_box, zorder=3)
        for k, step in enumerate(steps):
            if not str(step.step).startswith("excluded_"):
                continue
            before = [y_of[id(s)] for s in steps[:k] if id(s) in y_of]
            after = [y_of[id(s)] for s in steps[k + 1:] if id(s) in y_of]
            # side steps between the same two main steps share the gap, one below the other
            run_start = k
            while run_start > 0 and id(steps[run_start - 1]) not in y_of:
                run_start -= 1
            run_end = k
            while run_end + 1 < len(steps) and id(steps[run_end + 1]) not in y_of:
                run_end += 1
            place, count = k - run_start + 1, run_end - run_start + 1
            upper = before[-1] if before else top + gap / 2
            lower = after[0] if after else upper - gap
            y = upper - (upper - lower) * place / (count + 1)
            x_side = left + 1.45
            label = f"{_wrap(m.label('flow_step', step.step), 22)}\nn = {m.count(step.n)}"
            ax.annotate("", xy=(x_side - 0.36, y), xytext=(chain_x, y), arrowprops=arrow, zorder=2)
            ax.text(x_side, y, label, ha="center", va="center", fontsize=7, bbox=side_box, zorder=3)
        left += width
    return fig


def overlap_figure(ps_overlap: pd.DataFrame, m: Messages) -> Figure:
    """Histograms of the logit of the propensity score: one row per group, one column per sample
    (all eligible units, the matched units), each with its own scale (counts per bin as exported;
    ``<10`` bins marked)."""
    groups = _groups(ps_overlap)
    present = list(dict.fromkeys(ps_overlap["sample"].astype(str))) if "sample" in ps_overlap.columns else [""]
    samples = ([s for s in ("eligible", "matched") if s in present]
               + [s for s in present if s not in ("eligible", "matched")])
    fig = Figure(figsize=(WIDTH, 7.5 * CM))
    grid = fig.subplots(len(groups), len(samples), sharex=True, squeeze=False)
    for i, group in enumerate(groups):
        style = _style(group, i)
        for j, sample in enumerate(samples):
            ax = grid[i, j]
            chosen = ps_overlap["group"] == group
            if sample:
                chosen &= ps_overlap["sample"] == sample
            rows = _sorted(ps_overlap[chosen], "bin_low")
            low, high, n = numeric(rows, "bin_low"), numeric(rows, "bin_high"), numeric(rows, "n")
            ax.bar(low, n.fillna(0), width=high - low, align="edge", color=style["color"], alpha=0.75,
                   edgecolor="white", linewidth=0.5)
            for lo_, hi_, raw in zip(low, high, rows["n"]):
                if is_suppressed(raw):
                    ax.text((lo_ + hi_) / 2, 0, "<10", ha="center", va="bottom", fontsize=6.5, color=GREY)
            if i == 0 and sample:
                ax.set_title(m.label("sample", sample), loc="left", fontsize=8.5)
            _integer_axis(ax, m, axis="y")
        grid[i, 0].set_ylabel(_wrap(m.label("overlap_group", group), 22), fontsize=7.5)
    for ax in grid[-1]:
        ax.set_xlabel(m.t("figures.axis.propensity"))
        _number_axis(ax, m, 0, axis="x")
    fig.tight_layout()
    return fig


def _balance_group(covariate: str) -> int:
    """0: a covariate (or a level of one), 1: an interaction ``a:b``, 2: the prognostic score."""
    return 2 if covariate == "prognostic_score" else int(":" in covariate)


def love_plot(balance: pd.DataFrame, m: Messages) -> Figure:
    """Standardised mean differences before (open) and after (filled) matching: the covariates,
    then the interactions of the binary covariates, then the prognostic score (top to bottom,
    groups divided by a line; each group in table order)."""
    group = balance["covariate"].astype(str).map(_balance_group)
    ordered = balance.assign(_g=group.to_numpy()).sort_values("_g", kind="mergesort")
    rows = ordered.iloc[::-1]
    labels = [_wrap(m.label("covariate", c), 44) for c in rows["covariate"]]
    lines = np.array([label.count("\n") + 1 for label in labels])
    y = np.cumsum(lines) - lines / 2.0 - 0.5  # rows as tall as their labels; one-line rows 1 apart
    fig = Figure(figsize=(WIDTH, max(6.0, 0.45 * lines.sum() + 2.5) * CM))
    ax = fig.add_subplot()
    before, after = numeric(rows, "smd_before"), numeric(rows, "smd_after")
    ax.axvline(0, color=GREY, linewidth=0.8)
    for x in (-0.1, 0.1):
        ax.axvline(x, color=GREY, linewidth=0.6, linestyle=":")
    ax.scatter(before, y, facecolors="none", edgecolors=OKABE_ITO["vermillion"], marker="s", s=22,
               label=m.t("figures.text.balance_before"), zorder=3)
    ax.scatter(after, y, color=OKABE_ITO["blue"], marker="o", s=20, label=m.t("figures.text.balance_after"), zorder=3)
    # withheld by disclosure
    for yi in y[np.isnan(np.asarray(before, dtype=float)) & np.isnan(np.asarray(after, dtype=float))]:
        ax.text(0, yi, m.t("figures.text.forest_suppressed"), ha="center", va="center", fontsize=6.5, color=GREY)
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_ylim(-1.0, float(lines.sum()))
    groups = rows["_g"].to_numpy()
    for k in np.flatnonzero(groups[1:] != groups[:-1]):
        ax.axhline((y[k] + y[k + 1]) / 2.0, color=GREY, linewidth=0.6)
    ax.set_xlabel(m.t("figures.axis.smd"))
    _number_axis(ax, m, 1, axis="x")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    ax.grid(axis="y", color=LIGHT, linewidth=0.5)
    fig.tight_layout()
    return fig


#: Characters per line of a panel title by the number of panels side by side (the width of
#: the text block shared out; a longer line would pass the figure's right edge and be cut).
TITLE_WRAP = {1: 80, 2: 36, 3: 22}


def trajectories_figure(trajectories: pd.DataFrame, m: Messages, *, outcomes: Sequence[str] | None = None,
                        reference_month: int | None = None, width: float = WIDTH, height: float = 7.0 * CM,
                        legend_fontsize: float = 8) -> Figure:
    """Share employed per month by group, one panel per outcome; month 0 marks the training's end."""
    outcomes = list(outcomes) if outcomes is not None else _outcomes(trajectories, EMPLOYMENT_OUTCOMES)
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(1, len(outcomes), sharey=True, squeeze=False)[0]
    for ax, outcome in zip(axes, outcomes):
        data = trajectories[trajectories["outcome"] == outcome]
        for i, group in enumerate(_groups(data)):
            rows = _sorted(data[data["group"] == group], "month")
            style = _style(group, i)
            ax.plot(numeric(rows, "month"), numeric(rows, "share"), color=style["color"], linestyle=style["linestyle"],
                    marker=style["marker"], markersize=2.5, label=m.label("group", group))
        ax.axvline(0, color=GREY, linewidth=0.8)
        if reference_month is not None:
            ax.axvline(reference_month, color=GREY, linewidth=0.6, linestyle=":")
        ax.set_title(_wrap(m.label("outcome", outcome), TITLE_WRAP.get(len(outcomes), 20)), loc="left")
        ax.xaxis.set_major_locator(MultipleLocator(6))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: m.num(v, 0)))
        _share_axis(ax, m)
        ax.grid(axis="y", color=LIGHT, linewidth=0.5)
    axes[0].set_ylabel(m.t("figures.axis.share_employed"))
    fig.supxlabel(m.t("figures.axis.month"), fontsize=8.5, y=0.1)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=legend_fontsize)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


def did_figure(did_by_month: pd.DataFrame, m: Messages, *, outcomes: Sequence[str] | None = None,
               method: str = PRIMARY_METHOD) -> Figure:
    """Monthly difference-in-differences (the estimator ``method``): estimates with pointwise 95%
    CIs and the simultaneous band."""
    did_by_month = method_rows(did_by_month, method)
    outcomes = list(outcomes) if outcomes is not None else _outcomes(did_by_month, EMPLOYMENT_OUTCOMES)
    fig = Figure(figsize=(WIDTH, 6.8 * CM * len(outcomes) / 1.6))
    axes = fig.subplots(len(outcomes), 1, sharex=True, squeeze=False)[:, 0]
    for ax, outcome in zip(axes, outcomes):
        rows = _sorted(did_by_month[did_by_month["outcome"] == outcome], "month")
        month, est = numeric(rows, "month"), numeric(rows, "estimate")
        low, high = numeric(rows, "ci_low"), numeric(rows, "ci_high")
        band_low, band_high = numeric(rows, "band_low"), numeric(rows, "band_high")
        has_band = band_low.notna() & band_high.notna()
        if has_band.any():
            ax.fill_between(month[has_band], band_low[has_band], band_high[has_band], step="mid",
                            color=OKABE_ITO["sky_blue"], alpha=0.35, linewidth=0, label=m.t("figures.text.did_band"))
        ax.errorbar(month, est, yerr=[est - low, high - est], fmt="o", markersize=3, color=OKABE_ITO["blue"],
                    ecolor=OKABE_ITO["blue"], elinewidth=0.9, capsize=0, label=m.t("figures.text.did_pointwise"))
        ax.axhline(0, color=GREY, linewidth=0.8)
        ax.axvline(0, color=GREY, linewidth=0.6, linestyle=":")
        ax.set_title(m.label("outcome", outcome), loc="left")
        ax.set_ylabel(_wrap(m.t("figures.axis.difference_points"), 22))  # fits the height of a panel
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: m.points(v, 0)))
        ax.grid(axis="y", color=LIGHT, linewidth=0.5)
    axes[-1].set_xlabel(m.t("figures.axis.month"))
    _integer_axis(axes[-1], m)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def km_figure(km: pd.DataFrame, m: Messages, *, outcomes: Sequence[str] | None = None,
              at_risk_times: Sequence[int] | None = None) -> Figure:
    """Kaplan-Meier curves of job retention per group with 95% bands and numbers at risk below.

    The curve starts at 1 just before time 0 (by definition) and steps down at each month in
    the table; numbers at risk are printed as exported (``<10`` stays ``<10``).
    """
    outcomes = list(outcomes) if outcomes is not None else _outcomes(km, SURVIVAL_OUTCOMES)
    fig = Figure(figsize=(WIDTH, 9.0 * CM))
    grid = fig.subplots(2, len(outcomes), squeeze=False, sharex="col", gridspec_kw={"height_ratios": [5, 1.2]})
    for column, outcome in enumerate(outcomes):
        ax, table = grid[0, column], grid[1, column]
        data = km[km["outcome"] == outcome]
        groups = _groups(data)
        times_all = sorted({int(t) for t in numeric(data, "time").dropna()})
        shown = list(at_risk_times) if at_risk_times is not None else [t for t in times_all if t % 3 == 0]
        for i, group in enumerate(groups):
            rows = _sorted(data[data["group"] == group], "time")
            style = _style(group, i)
            t = numeric(rows, "time").to_numpy()
            s = numeric(rows, "survival").to_numpy()
            ax.step(np.concatenate([[0.0], t]), np.concatenate([[1.0], s]), where="post", color=style["color"],
                    linestyle=style["linestyle"], label=m.label("group", group))
            low, high = numeric(rows, "ci_low"), numeric(rows, "ci_high")
            if low.notna().any():
                ax.fill_between(t, low, high, step="post", color=style["color"], alpha=0.15, linewidth=0)
            by_time = {int(as_float(r.time)): r.n_risk for r in rows.itertuples(index=False)
                       if as_float(r.time) is not None}
            for time in shown:
                table.text(time, len(groups) - 1 - i, m.count(by_time[time]) if time in by_time else "", ha="center",
                           va="center", fontsize=7, color=style["color"])
        table.set_ylim(-0.6, len(groups) - 0.4)
        table.set_title(m.t("figures.text.km_at_risk"), loc="left", fontsize=7, fontweight="normal", color=GREY)
        table.axis("off")
        ax.set_title(m.label("outcome", outcome), loc="left")
        ax.set_xticks(shown)
        ax.tick_params(labelbottom=True)
        ax.set_xlabel(m.t("figures.axis.months_since"), labelpad=1)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: m.num(v, 0)))
        ax.set_xlim(-0.3, max(times_all) + 0.3 if times_all else 1)
        _share_axis(ax, m)
        ax.grid(axis="y", color=LIGHT, linewidth=0.5)
    grid[0, 0].set_ylabel(m.t("figures.axis.still_in_job"))
    handles, labels = grid[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


@dataclass
class ForestRow:
    """One line of a forest plot: label, estimate and interval as exported, or a suppressed row."""

    label: str
    estimate: Any
    ci_low: Any
    ci_high: Any
    suppressed: bool = False
    emphasis: bool = False


def forest_figure(rows: Sequence[ForestRow], m: Messages, *, xlabel: str, scale: float = 100.0,
                  decimals: int = 0) -> Figure:
    """Estimates with 95% intervals, one line each; suppressed rows say so instead of a point."""
    n = len(rows)
    fig = Figure(figsize=(WIDTH, max(4.5, 0.55 * n + 1.8) * CM))
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    for yi, row in zip(y, rows):
        est, lo, hi = as_float(row.estimate), as_float(row.ci_low), as_float(row.ci_high)
        if row.suppressed or est is None:
            ax.text(0, yi, m.t("figures.text.forest_suppressed"), ha="center", va="center", fontsize=7, color=GREY)
            continue
        colour = OKABE_ITO["black"] if row.emphasis else OKABE_ITO["blue"]
        if lo is not None and hi is not None:
            ax.plot([lo * scale, hi * scale], [yi, yi], color=colour, linewidth=1.2)
        ax.plot([est * scale], [yi], marker="D" if row.emphasis else "o", color=colour, markersize=4.5)
    ax.axvline(0, color=GREY, linewidth=0.8)
    ax.set_yticks(y, [row.label for row in rows])
    for tick, row in zip(ax.get_yticklabels(), rows):
        if row.emphasis:
            tick.set_fontweight("bold")
    ax.set_ylim(-0.7, n - 0.3)
    # at the right end of the axis: centred under an axes pushed right by long labels, it would
    # pass the figure's edge
    ax.set_xlabel(xlabel, loc="right")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: m.num(v, decimals)))
    ax.grid(axis="x", color=LIGHT, linewidth=0.5)
    fig.tight_layout()
    return fig


def modifier_rows(modifiers: pd.DataFrame, m: Messages) -> list[ForestRow]:
    """Forest rows of the effect modifiers in table order: ``modifier: level (n = ...)``."""
    rows = []
    for r in modifiers.itertuples(index=False):
        suppressed = (str(getattr(r, "suppressed", "0")).strip() == "1"
                      or is_suppressed(r.n_treated) and as_float(r.estimate) is None)
        label = f"{m.label('modifier', r.modifier)}: {m.category(r.modifier, r.level)} (n = {m.count(r.n_treated)})"
        rows.append(ForestRow(label, r.estimate, r.ci_low, r.ci_high,
                              suppressed=suppressed and as_float(r.estimate) is None))
    return rows


#: The estimand of the sensitivity table drawn in the forest plot (a difference in probability).
DID_ESTIMAND = "pooled difference-in-differences"


def sensitivity_rows(sensitivity: pd.DataFrame, did_pooled: pd.DataFrame | None, m: Messages,
                     outcome: str = "employed_1h", method: str = PRIMARY_METHOD) -> list[ForestRow]:
    """Forest rows of the pooled difference-in-differences: the primary analysis (from
    ``did_pooled``, estimator ``method``) first, then the other DiD estimator, then each
    sensitivity analysis of ``outcome``."""
    rows = []
    if did_pooled is not None:
        primary = method_rows(did_pooled, method)
        for r in primary[primary["outcome"] == outcome].itertuples(index=False):
            rows.append(ForestRow(m.label("analysis", "primary"), r.estimate, r.ci_low, r.ci_high, emphasis=True))
        if "method" in did_pooled.columns:
            other = method_rows(did_pooled, other_method(method))
            for r in other[other["outcome"] == outcome].itertuples(index=False):
                rows.append(ForestRow(m.label("analysis", f"method_{other_method(method)}"), r.estimate, r.ci_low,
                                      r.ci_high))
    chosen = sensitivity["outcome"] == outcome
    if "estimand" in sensitivity.columns:
        chosen &= sensitivity["estimand"] == DID_ESTIMAND
    if did_pooled is not None:
        chosen &= sensitivity["analysis"] != "primary"  # already drawn from did_pooled
    for r in sensitivity[chosen].itertuples(index=False):
        label = m.label("analysis", r.analysis)
        if str(getattr(r, "converged", "1")).strip() == "0":
            label += " " + m.t("figures.text.forest_not_converged")
        rows.append(ForestRow(label, r.estimate, r.ci_low, r.ci_high))
    return rows


def supervisor_means_figure(supervisor_means: pd.DataFrame, m: Messages) -> Figure:
    """Mean score (1-5) of each construct per wave with 95% intervals."""
    constructs = [c for c in ("knowledge", "self_efficacy", "intention", "behaviour")
                  if c in set(supervisor_means["construct"])]
    constructs += [c for c in dict.fromkeys(supervisor_means["construct"]) if c not in constructs]
    waves = sorted(dict.fromkeys(supervisor_means["wave"].astype(str)), key=lambda w: (len(w), w))
    x_of = {w: i for i, w in enumerate(waves)}
    fig = Figure(figsize=(WIDTH, 7.5 * CM))
    ax = fig.add_subplot()
    for i, construct in enumerate(constructs):
        rows = supervisor_means[supervisor_means["construct"] == construct]
        rows = rows.assign(_x=rows["wave"].map(x_of)).sort_values("_x")
        offset = (i - (len(constructs) - 1) / 2) * 0.06
        x = rows["_x"].to_numpy(dtype=float) + offset
        mean, low, high = numeric(rows, "mean"), numeric(rows, "ci_low"), numeric(rows, "ci_high")
        ax.errorbar(x, mean, yerr=[mean - low, high - mean] if low.notna().all() else None, color=SERIES_COLOURS[i % 7],
                    marker=SERIES_MARKERS[i % 7], markersize=4, linestyle="-", linewidth=1.2, capsize=2,
                    label=m.label("construct", construct))
    ax.set_xticks(range(len(waves)), [m.label("wave", w) for w in waves])
    ax.set_ylim(1, 5)
    ax.set_ylabel(m.t("figures.axis.mean_score"))
    _number_axis(ax, m, 1)
    ax.grid(axis="y", color=LIGHT, linewidth=0.5)
    ax.legend(loc="lower right", ncol=2)
    fig.tight_layout()
    return fig


def factsheet_figure(did_by_month: pd.DataFrame, m: Messages, *, outcome: str = "employed_1h", first_month: int = -12,
                     method: str = PRIMARY_METHOD) -> Figure:
    """The factsheet's one figure: per month, the difference in the share with paid work between
    employees of trained supervisors and comparable employees, with its 95% interval.

    The difference is shown rather than the two groups' shares because a share of a group of
    fewer than 10 people without work is suppressed under the CBS output rules, which leaves
    gaps in the trained group's line; the difference is a model estimate behind all units.
    ``method``: the DiD estimator drawn (``effects.primary_method``).
    """
    did_by_month = method_rows(did_by_month, method)
    rows = _sorted(did_by_month[did_by_month["outcome"] == outcome], "month")
    rows = rows[numeric(rows, "month") >= first_month]
    month, est = numeric(rows, "month"), numeric(rows, "estimate")
    low, high = numeric(rows, "ci_low"), numeric(rows, "ci_high")
    fig = Figure(figsize=(16.0 * CM, 7.2 * CM))
    ax = fig.subplots()
    ok = low.notna() & high.notna()
    ax.fill_between(month[ok], low[ok], high[ok], color=OKABE_ITO["sky_blue"], alpha=0.4, linewidth=0,
                    label=m.t("figures.text.factsheet_interval"))
    ax.plot(month, est, color=OKABE_ITO["blue"], marker="o", markersize=3, linewidth=1.5,
            label=m.t("figures.text.factsheet_difference"))
    ax.axhline(0, color=GREY, linewidth=0.9)
    ax.axvline(0, color=GREY, linewidth=0.6, linestyle=":")
    ax.text(0.3, 0.04, m.t("figures.text.factsheet_training_end"), transform=ax.get_xaxis_transform(), fontsize=8,
            color=GREY, ha="left")
    ax.set_title(m.t("figures.text.factsheet_title"), loc="left", fontsize=10)
    ax.set_ylabel(m.t("figures.axis.difference_points"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: m.points(v, 0)))
    ax.set_xlabel(m.t("figures.axis.month"))
    ax.xaxis.set_major_locator(MultipleLocator(3))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: m.num(v, 0)))
    ax.grid(axis="y", color=LIGHT, linewidth=0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.22), ncol=1, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _alt_difference(did_by_month: pd.DataFrame, m: Messages, outcome: str,
                    method: str = PRIMARY_METHOD) -> dict[str, str]:
    """Numbers for the alternative text: the difference and its interval in the last month."""
    did_by_month = method_rows(did_by_month, method)
    rows = _sorted(did_by_month[did_by_month["outcome"] == outcome], "month")
    last = rows.iloc[-1]
    return {
        "month": m.num(float(last["month"]), 0),
        "estimate": m.points(numeric(rows, "estimate").iloc[-1], 1),
        "low": m.points(numeric(rows, "ci_low").iloc[-1], 1),
        "high": m.points(numeric(rows, "ci_high").iloc[-1], 1),
    }


# ---------------------------------------------------------------------------------------------
# saving and the set of figures


def _drawn_texts(fig: Figure) -> list[Text]:
    """The texts a saved figure draws: its own, titles, axis labels, tick labels within the view
    (matplotlib keeps labels of ticks outside it, undrawn), texts in axes and legends."""
    texts = list(fig.texts)
    legends = list(fig.legends)
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        if not ax.axison:  # an axes drawn without its axes (the flow chart)
            continue
        for axis in (ax.xaxis, ax.yaxis):
            texts.append(axis.label)
            for tick in axis._update_ticks():
                texts += [label for label in (tick.label1, tick.label2) if label.get_visible()]
        if ax.get_legend() is not None:
            legends.append(ax.get_legend())
    for legend in legends:
        texts += [legend.get_title(), *legend.get_texts()]
    for sub in fig.subfigs:
        texts += _drawn_texts(sub)
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def text_outside(fig: Figure, tolerance: float = 1.0) -> list[tuple[str, float]]:
    """Texts of a figure that pass its edges (and are cut in the saved file): the text and by
    how many points it passes, from the extents matplotlib draws them with (after laying the
    figure out as saving does)."""
    fig.draw_without_rendering()
    renderer = fig._get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    points = 72 / fig.dpi
    out = []
    for text in _drawn_texts(fig):
        box = text.get_window_extent(renderer)
        over = max(-box.x0, box.x1 - width, -box.y0, box.y1 - height) * points
        if over > tolerance:
            out.append((text.get_text(), round(float(over), 1)))
    return out


def save_figure(fig: Figure, directory: str | Path, name: str, formats: Sequence[str] = FORMATS) -> dict[str, str]:
    """Write ``<name>.<format>`` files with fixed metadata; returns format -> file name."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    with figure_style():
        for fmt in formats:
            path = directory / f"{name}.{fmt}"
            fig.savefig(path, format=fmt, dpi=PNG_DPI, metadata=METADATA[fmt], facecolor="white")
            files[fmt] = path.name
    return files


def _alt_trajectories(trajectories: pd.DataFrame, m: Messages, outcome: str) -> dict[str, str]:
    """Numbers for the alternative text: share employed in the last month per group."""
    data = trajectories[trajectories["outcome"] == outcome]
    last = data.loc[numeric(data, "month") == numeric(data, "month").max()]
    values = {str(r.group): m.pct(r.share, 0) for r in last.itertuples(index=False)}
    month = m.num(numeric(data, "month").max(), 0)
    return {"month": month, "treated": values.get("treated", "?"), "control": values.get("control", "?")}


FigureBuilder = Callable[[AggregateTables, Messages], tuple[Figure, dict[str, str]] | None]


def figure_builders(reference_month: int | None = None, method: str = PRIMARY_METHOD) -> dict[str, FigureBuilder]:
    """Name -> builder of every report figure, in report order; a builder returns None when its table is absent.

    ``method``: the DiD estimator (``effects.primary_method``) whose rows the DiD figures draw."""

    def need(tables: AggregateTables, *names: str) -> bool:
        return all(n in tables for n in names)

    def flow(t, m):
        return flow_figure(t.get("flow"), m), {}

    def overlap(t, m):
        return (overlap_figure(t.get("ps_overlap"), m), {}) if need(t, "ps_overlap") else None

    def balance(t, m):
        b = t.get("balance")
        worst = numeric(b, "smd_after").abs().max()
        return love_plot(b, m), {"max_after": m.num(worst, 2)}

    def trajectories(t, m):
        return (trajectories_figure(t.get("trajectories"), m, reference_month=reference_month),
                _alt_trajectories(t.get("trajectories"), m, "employed_1h"))

    def did(t, m):
        return did_figure(t.get("did_by_month"), m, method=method), {}

    def modifiers(t, m):
        if not need(t, "modifiers"):
            return None
        return forest_figure(modifier_rows(method_rows(t.get("modifiers"), method), m), m,
                             xlabel=m.t("figures.axis.difference_points")), {}

    def supervisors(t, m):
        return supervisor_means_figure(t.get("supervisor_means"), m), {}

    def km(t, m):
        return km_figure(t.get("km"), m), {}

    def sensitivity(t, m):
        if not need(t, "sensitivity"):
            return None
        rows = sensitivity_rows(t.get("sensitivity"), t.get("did_pooled"), m, method=method)
        return forest_figure(rows, m, xlabel=m.t("figures.axis.difference_points")), {}

    def factsheet(t, m):
        by_month = t.get("did_by_month")
        return factsheet_figure(by_month, m, method=method), _alt_difference(by_month, m, "employed_1h", method)

    return {
        "flow": flow, "ps_overlap": overlap, "balance": balance, "trajectories": trajectories, "did_by_month": did,
        "modifiers": modifiers, "supervisor_means": supervisors, "km": km, "sensitivity": sensitivity,
        "factsheet": factsheet,
    }


#: The figure files the workflow expects (report order; the factsheet's own figure last).
FIGURE_NAMES = tuple(figure_builders())
MANIFEST = "figures.json"


def draw_figures(tables: AggregateTables, directory: str | Path, messages: Messages, *, synthetic: bool = False,
                 reference_month: int | None = None, formats: Sequence[str] = FORMATS,
                 names: Sequence[str] | None = None, method: str = PRIMARY_METHOD) -> list[FigureRecord]:
    """Draw every figure (or those in ``names``) whose tables are present, and write ``figures.json``.

    The manifest lists, per figure, its title, caption and alternative text in the report
    language and its files; the report and factsheet read it. A figure whose optional table is
    absent is left out of the manifest (and its files are not written).
    """
    directory = Path(directory)
    records = []
    builders = figure_builders(reference_month, method)
    unknown = sorted(set(names or ()) - set(builders))
    if unknown:
        raise ValueError(f"unknown figure(s): {', '.join(unknown)}")
    for name, builder in builders.items():
        if names is not None and name not in names:
            continue
        with figure_style():
            built = builder(tables, messages)
            if built is None:
                continue
            fig, values = built
            _synthetic_mark(fig, messages, synthetic)
        files = save_figure(fig, directory, name, formats)
        key = f"figures.{name}"
        records.append(FigureRecord(
            name=name,
            title=messages.t(f"{key}.title"),
            caption=messages.t(f"{key}.caption"),
            alt=messages.t(f"{key}.alt", **values),
            files=files,
        ))
    manifest = {"language": messages.language, "synthetic": synthetic, "figures": [asdict(r) for r in records]}
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                      encoding="utf-8")
    return records


def read_manifest(directory: str | Path, language: str) -> list[FigureRecord]:
    """The figure records of ``directory``; InputError when absent or drawn in another language."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise InputError("the figure manifest is missing", file=path, hint="draw the figures first (rule figures)")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("language") != language:
        raise InputError(
            f"the figures were drawn in {data.get('language')!r}, the document is written in {language!r}",
            file=path, hint="draw the figures again with the same report.language",
        )
    return [FigureRecord(**r) for r in data["figures"]]
