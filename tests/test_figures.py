"""Figures plot table columns as they are, in the report language, with fixed bytes."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

from conftest import FIXTURES
from mentorwijs.aggregates import numeric, read_aggregate_tables
from mentorwijs.figures import (
    GROUP_STYLE,
    OKABE_ITO,
    draw_figures,
    factsheet_figure,
    figure_style,
    forest_figure,
    km_figure,
    flow_figure,
    love_plot,
    modifier_rows,
    read_manifest,
    save_figure,
    trajectories_figure,
)
from mentorwijs.contracts import method_rows
from mentorwijs.errors import InputError
from mentorwijs.messages import load_messages


@pytest.fixture(scope="module")
def tables():
    return read_aggregate_tables(FIXTURES / "tables" / "default")


def _texts(fig):
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def test_love_plot_groups_covariates_interactions_and_the_prognostic_score(tables):
    balance = tables.get("balance")
    extra = balance.iloc[:2].copy()
    extra["covariate"] = ["prognostic_score", "sheltered:temporary_contract"]
    extra["smd_before"], extra["smd_after"] = ["0.5", "0.25"], ["0.05", "-0.025"]
    mixed = pd.concat([extra, balance], ignore_index=True)
    with figure_style():
        fig = love_plot(mixed, load_messages("en"))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # bottom to top: prognostic score, the interaction, then the covariates in table order
    assert labels[0] == "Prognostic score (predicted employment)"
    assert labels[1] == "Sheltered job (WSW) × Temporary contract"
    before = ax.collections[0].get_offsets()[:, 0]
    assert list(before[:2]) == [0.5, 0.25]
    np.testing.assert_array_equal(before[2:], numeric(balance, "smd_before").to_numpy()[::-1])
    assert len([line for line in ax.get_lines() if line.get_ydata()[0] in (0.5, 1.5)]) == 2  # two group dividers


def test_love_plot_plots_the_table_values(tables):
    balance = tables.get("balance")
    with figure_style():
        fig = love_plot(balance, load_messages("nl"))
    ax = fig.axes[0]
    before, after = (c.get_offsets()[:, 0] for c in ax.collections[:2])
    np.testing.assert_array_equal(before, numeric(balance, "smd_before").to_numpy()[::-1])
    np.testing.assert_array_equal(after, numeric(balance, "smd_after").to_numpy()[::-1])
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert any("," in t for t in ticks) and not any("." in t for t in ticks)  # Dutch decimal comma


def test_love_plot_says_where_a_row_was_suppressed(tables):
    """A balance row the export withheld (<10 units with the value) is marked, not left blank."""
    balance = tables.get("balance").copy()
    balance.loc[0, ["smd_before", "smd_after"]] = "<10"
    with figure_style():
        fig = love_plot(balance, load_messages("en"))
    marks = [t for t in fig.axes[0].texts if t.get_text() == "suppressed (< 10)"]
    assert len(marks) == 1


def test_trajectories_are_the_table_shares_with_okabe_ito_group_colours(tables):
    trajectories = tables.get("trajectories")
    with figure_style():
        fig = trajectories_figure(trajectories, load_messages("en"), outcomes=["employed_1h"])
    lines = {line.get_label(): line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")}
    m = load_messages("en")
    for group in ("treated", "control"):
        line = lines[m.label("group", group)]
        rows = trajectories[(trajectories["outcome"] == "employed_1h") & (trajectories["group"] == group)]
        order = np.argsort(numeric(rows, "month").to_numpy(), kind="stable")
        np.testing.assert_array_equal(line.get_ydata(), numeric(rows, "share").to_numpy()[order])
        assert (line.get_color().upper() == GROUP_STYLE[group]["color"]
                == OKABE_ITO["blue" if group == "treated" else "vermillion"])
    assert GROUP_STYLE["treated"]["linestyle"] != GROUP_STYLE["control"]["linestyle"]  # not colour alone


def test_factsheet_figure_is_the_monthly_difference_with_its_interval_from_month_minus_12(tables):
    did = tables.get("did_by_month")
    with figure_style():
        fig = factsheet_figure(did, load_messages("nl"))
    ax = fig.axes[0]
    rows = did[(did["outcome"] == "employed_1h") & (did["method"] == "matched") & (numeric(did, "month") >= -12)]
    rows = rows.iloc[np.argsort(numeric(rows, "month").to_numpy(), kind="stable")]
    line = [drawn for drawn in ax.get_lines() if not drawn.get_label().startswith("_")][0]
    np.testing.assert_array_equal(line.get_xdata(), numeric(rows, "month").to_numpy())
    np.testing.assert_array_equal(line.get_ydata(), numeric(rows, "estimate").to_numpy())
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert (np.isclose(band.min(), numeric(rows, "ci_low").min())
            and np.isclose(band.max(), numeric(rows, "ci_high").max()))


def test_numbers_at_risk_are_printed_as_exported_including_suppressed(tables):
    km = tables.get("km").copy()
    tail = (km["group"] == "treated") & (km["time"] == "12")
    km.loc[tail, "n_risk"] = "<10"
    with figure_style():
        fig = km_figure(km, load_messages("nl"))
    texts = _texts(fig)
    assert "<10" in texts and "1.526" in texts  # Dutch thousands point


def test_suppressed_modifier_level_is_marked_not_plotted(tables):
    m = load_messages("nl")
    # the figure draws the rows of the primary DiD estimator (effects.primary_method)
    rows = modifier_rows(method_rows(tables.get("modifiers"), "matched"), m)
    suppressed = [r for r in rows if r.suppressed]
    # the level with fewer than 10 trainees and its complement (the levels partition the trainees)
    assert len(suppressed) == 2 and all("<10" in r.label for r in suppressed)
    with figure_style():
        fig = forest_figure(rows, m, xlabel="x")
    assert m.t("figures.text.forest_suppressed") in _texts(fig)


def test_saved_bytes_do_not_depend_on_run_or_user_settings(tables, tmp_path):
    m = load_messages("nl")

    def draw(directory):
        with figure_style():
            fig = love_plot(tables.get("balance"), m)
        return save_figure(fig, directory, "balance")

    files = draw(tmp_path / "a")
    with matplotlib.rc_context({"font.family": "serif", "axes.formatter.use_locale": True, "svg.hashsalt": None,
                                "lines.linewidth": 5}):
        draw(tmp_path / "b")
    for name in files.values():
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    svg = (tmp_path / "a" / "balance.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg and "DejaVu Sans" in svg
    assert b"Software" not in (tmp_path / "a" / "balance.png").read_bytes()[:400]


def test_manifest_records_language_alt_texts_and_skips_figures_of_missing_tables(tables, tmp_path):
    partial = read_aggregate_tables(FIXTURES / "tables" / "default", names=["flow", "did_by_month", "modifiers"])
    partial.missing = ("sensitivity",)
    records = draw_figures(partial, tmp_path, load_messages("en"), synthetic=True,
                           names=["flow", "factsheet", "sensitivity"])
    assert [r.name for r in records] == ["flow", "factsheet"]
    manifest = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))
    assert manifest["language"] == "en" and manifest["synthetic"] is True
    assert "month 12" in records[1].alt and "percentage points" in records[1].alt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["factsheet.png", "factsheet.svg", "figures.json", "flow.png",
                                                          "flow.svg"]
    with pytest.raises(InputError, match="drawn in 'en'"):
        read_manifest(tmp_path, "nl")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_no_text_of_any_figure_passes_its_edges(tables, language):
    """A title or label beyond a figure's edge is cut in the PNG and SVG (the report showed a panel
    title of three side by side as "Drie maanden aaneen bet")."""
    from mentorwijs.figures import _synthetic_mark, figure_builders, text_outside

    m = load_messages(language)
    drawn = 0
    for name, builder in figure_builders(reference_month=-3).items():
        with figure_style():
            built = builder(tables, m)
            if built is None:
                continue
            fig, _ = built
            _synthetic_mark(fig, m, True)
            assert text_outside(fig) == [], name
        drawn += 1
    assert drawn >= 9


def test_text_outside_finds_a_title_cut_at_the_edge():
    from matplotlib.figure import Figure

    from mentorwijs.figures import text_outside

    with figure_style():
        fig = Figure(figsize=(3, 2))
        ax = fig.add_subplot()
        ax.set_title("a title far too long for a figure this narrow, so it runs off", loc="left")
        found = text_outside(fig)
    assert found and found[0][1] > 10


def test_the_breakdown_of_a_flow_step_is_a_side_note_not_a_box_of_the_chain():
    flow = pd.DataFrame({"population": ["employees"] * 4, "order": [160, 170, 180, 182],
                         "step": ["eligible", "excluded_off_common_support", "matched",
                                  "of_which_matched_after_coarsening"],
                         "n": ["74", "1", "73", "9"]})
    flow = pd.concat([flow, pd.DataFrame({"population": ["employees"], "order": [184],
                                          "step": ["of_which_matched_in_full_exact_cell"], "n": ["64"]})])
    with figure_style():
        fig = flow_figure(flow, load_messages("en"))
    texts = _texts(fig)
    note = [t for t in texts if "coarsening: n = 9" in t]
    assert len(note) == 1 and "n = 9" in note[0] and "n = 64" in note[0]  # one note beside "matched"
    assert sum(1 for t in texts if t.startswith("Matched\nn = 73")) == 1
