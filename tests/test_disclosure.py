"""Disclosure rules on small hand-made tables whose expected suppressions are worked out by hand.

Each planted small cell (a count, a share, a mean/effect, a subgroup estimate, a Kaplan-Meier
step, a histogram bin) must come out as the marker with its log row; complementary
suppression is checked by an attacker who knows every line total and solves for the hidden
cells (a linear programme), not by re-reading the code's own choices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from conftest import FIXTURES, ROOT
from mentorwijs.config import load_config
from mentorwijs.disclosure import (
    DisclosurePolicy,
    Figure,
    Line,
    RowTotal,
    TableSpec,
    check_table,
    dominance_share,
)
from mentorwijs.errors import ConfigError, InputError

M = "<10"
SECTION = {
    "suppressed_marker": M,
    "register": {
        "min_units": 10,
        "min_df": 10,
        "km_min_at_risk": 10,
        "km_min_events": 10,
        "histogram_min_bin": 10,
        "group_disclosure": True,
        "dominance": {"n": 1, "k": 0.5},
    },
    "questionnaire": {"min_units": 0},
    "exemptions": [{"table": "flow", "reason": "published flow chart"}],
}
POLICY = DisclosurePolicy.from_config(SECTION)
NO_EXEMPTIONS = DisclosurePolicy.from_config({**SECTION, "exemptions": []})


def fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "results" / f"{name}.csv")


def rows(log: pd.DataFrame) -> set[tuple[str, str, str, str]]:
    return {(r.rule, r.cell, r.n, r.action) for r in log.itertuples()}


# --- policy ------------------------------------------------------------------------------------


def test_policy_from_the_shipped_config():
    policy = DisclosurePolicy.from_config(load_config(ROOT / "config.yaml")["disclosure"])
    reg = policy.register
    assert (reg.min_units, reg.min_df, reg.km_min_at_risk, reg.km_min_events, reg.histogram_min_bin) == (10,) * 5
    assert reg.group_disclosure and reg.dominance == (1, 0.5)
    assert policy.questionnaire.min_units == 0 and not policy.questionnaire.group_disclosure
    assert {"flow", "process", "employees_baseline"} <= set(policy.exemptions)
    assert policy.suppressed_marker == "<10"


def test_unset_thresholds_follow_min_units():
    policy = DisclosurePolicy.from_config({**SECTION, "questionnaire": {"min_units": 5}})
    q = policy.questionnaire
    assert (q.min_df, q.km_min_at_risk, q.km_min_events, q.histogram_min_bin) == (5, 5, 5, 5)
    assert q.group_disclosure and q.dominance is None


@pytest.mark.parametrize(
    "change",
    [
        {"register": {"min_units": -1}},
        {"register": {"min_units": 10, "min_cells": 3}},
        {"register": {"min_df": 10}},
        {"register": {"min_units": 10, "dominance": {"n": 1, "k": 1.5}}},
        {"suppressed_marker": "10"},
        {"exemptions": [{"table": "flow"}]},
        {"extra": 1},
    ],
)
def test_policy_refuses_bad_values(change):
    with pytest.raises(ConfigError):
        DisclosurePolicy.from_config({**SECTION, **change})


# --- counts and secondary suppression ---------------------------------------------------------


def solve_hidden(cells: dict, hidden: set, lines: list[list]) -> dict:
    """The attacker: every line total is known; bounds of each hidden cell by linear programming."""
    hidden = sorted(hidden)
    index = {c: i for i, c in enumerate(hidden)}
    a_eq, b_eq = [], []
    for line in lines:
        if not any(c in index for c in line):
            continue
        row = np.zeros(len(hidden))
        for c in line:
            if c in index:
                row[index[c]] = 1
        a_eq.append(row)
        b_eq.append(sum(cells[c] for c in line) - sum(cells[c] for c in line if c not in index))
    bounds = {}
    for c, i in index.items():
        objective = np.zeros(len(hidden))
        objective[i] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)).fun
        high = -linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)).fun
        bounds[c] = (low, high)
    return bounds


def test_small_count_is_suppressed_with_a_complement_in_its_line():
    table = pd.DataFrame(
        {"stage": ["A", "A", "A", "B", "B"], "source": "s", "wave": "", "reason": ["r1", "r2", "r3", "r1", "r2"],
         "n": [3, 25, 40, 0, 12]}
    )
    checked, log = check_table(table, "exclusions", POLICY)
    assert checked["n"].tolist() == [M, M, "40", "0", "12"]  # 0 is a zero cell, published
    assert rows(log) >= {
        ("min_units", "stage=A; source=s; wave=; reason=r1: n", M, "suppressed"),
        ("secondary", "stage=A; source=s; wave=; reason=r2: n", "", "suppressed"),
    }
    # the attacker knows the stage total (68): r1 + r2 = 28, so r1 may be anything in [0, 28]
    cells = {("A", r): v for r, v in zip(["r1", "r2", "r3"], [3, 25, 40])}
    bounds = solve_hidden(cells, {("A", "r1"), ("A", "r2")}, [list(cells)])
    assert bounds[("A", "r1")] == pytest.approx((0, 28))


def test_suppressed_cells_of_a_line_must_sum_to_the_threshold():
    table = pd.DataFrame({"stage": ["A"] * 3 + ["B"], "source": "s", "wave": "", "reason": ["a", "b", "c", "a"],
                          "n": [3, 4, 100, 4]})
    checked, log = check_table(table, "exclusions", POLICY)
    # a + b = 7 would itself be a small cell: the large cell is suppressed too
    assert checked["n"].tolist() == [M, M, M, M]
    # stage B is one small cell: nothing can protect it from its stage total, which the log says
    assert ("secondary", "stage=B; source=s; wave=", M, "line total below threshold") in rows(log)
    assert "stage=A; source=s; wave=" not in set(log.loc[log["action"] == "line total below threshold", "cell"])


def test_rows_and_columns_of_a_cross_table_cannot_be_solved():
    spec = TableSpec(
        kind="cross",
        description="a two-way table of counts",
        origin="register",
        keys=("row", "col"),
        figures=(Figure(n=("n",)),),
        lines=(Line(by=("row",), kind="partition", counts=("n",)), Line(by=("col",), kind="partition", counts=("n",))),
    )
    grid = {("a", "x"): 3, ("a", "y"): 20, ("a", "z"): 30, ("b", "x"): 15, ("b", "y"): 25, ("b", "z"): 12,
            ("c", "x"): 40, ("c", "y"): 11, ("c", "z"): 50}
    table = pd.DataFrame([{"row": r, "col": c, "n": v} for (r, c), v in grid.items()])
    checked, _ = check_table(table, spec, POLICY)
    shown = {(r.row, r.col): r.n for r in checked.itertuples()}
    hidden = {cell for cell, text in shown.items() if text == M}
    assert ("a", "x") in hidden
    assert all(shown[c] == str(v) for c, v in grid.items() if c not in hidden)
    lines = [[(r, c) for c in "xyz"] for r in "abc"] + [[(r, c) for r in "abc"] for c in "xyz"]
    for cell, (low, high) in solve_hidden(grid, hidden, lines).items():
        assert high - low > 1e-6, f"{cell} is pinned by the margins"
        assert high >= 10, f"{cell} is provably below 10"


# --- shares and group disclosure --------------------------------------------------------------


@pytest.mark.parametrize("with_numerator", [True, False])
def test_share_implying_a_small_count_or_one_value_for_all_is_suppressed(with_numerator):
    table = fixture("trajectories")
    if not with_numerator:
        table = table.drop(columns="n_employed")  # then share x n implies the counts
    checked, log = check_table(table, "trajectories", POLICY)
    shown = {(r.group, r.month): (r.share, r.n) for r in checked.itertuples()}
    assert shown[("treated", "-3")] == (M, M)  # 73 of 73 employed: group disclosure
    assert shown[("treated", "1")] == (M, M)  # 3 of 73 not employed
    assert shown[("treated", "2")] == ("0.8630137", "73")  # 10 not employed: published
    assert shown[("control", "-3")] == (M, M)
    assert shown[("control", "1")] == ("0.95012345", "1526")
    cells = {r.cell.split(":")[0] for r in log.itertuples() if r.rule == "implied_count"}
    assert cells == {
        "outcome=employed_1h; group=treated; month=-3",
        "outcome=employed_1h; group=treated; month=1",
        "outcome=employed_1h; group=control; month=-3",
    }


def test_indicator_covariate_with_few_or_all_or_no_trainees_is_suppressed():
    checked, log = check_table(fixture("balance"), "balance", POLICY)
    shown = checked.set_index("covariate")
    for covariate in ("sheltered_workplace", "sector_government"):  # 5 of 73, and 0 of 73
        assert (shown.loc[covariate, ["smd_before", "smd_after", "n_treated_with", "n_treated"]] == M).all()
    for covariate in ("female", "temporary_contract", "age"):
        assert M not in shown.loc[covariate].tolist()
    assert shown.loc["age", "smd_before"] == "0.31234568"  # 8 significant digits
    assert shown.loc["age", "n_treated_with"] == ""  # continuous: no count with the value
    every = pd.DataFrame([{**fixture("balance").iloc[1].to_dict(), "n_treated_with": 73, "n_treated_with_before": 74}])
    checked_all, _ = check_table(every, "balance", POLICY)
    assert checked_all.at[0, "smd_after"] == M and checked_all.at[0, "smd_before"] == M
    assert ("implied_count", "covariate=sector_government: smd_after, variance_ratio_after, n_treated, n_control, "
            "n_treated_with, n_control_with", M, "suppressed") in rows(log)


# --- means, estimates and model rows ------------------------------------------------------------


def _did_row(month: int, n_treated: int = 73, df: float = 1598, satterthwaite: float = 61.4) -> dict:
    return {"outcome": "employed_1h", "method": "matched", "month": month, "estimate": 0.05, "se": 0.03,
            "df": satterthwaite, "ci_low": -0.01, "ci_high": 0.11, "p": 0.1, "se_cr1": 0.0297, "band_low": -0.03,
            "band_high": 0.13, "band_critical": 2.67, "band_excludes_zero": 0,
            "bonferroni_low": -0.04, "bonferroni_high": 0.14, "bonferroni_excludes_zero": 0, "n_treated": n_treated,
            "n_control": 1526, "clusters_treated": n_treated, "clusters_control": 1480, "n_clusters": n_treated + 1480,
            "df_resid": df, "converged": 1, "warnings": ""}


#: The cells of a monthly effect, suppressed together (the figure of did_by_month's contract).
DID_CELLS = ("estimate, se, df, ci_low, ci_high, p, se_cr1, band_low, band_high, band_critical, band_excludes_zero, "
             "bonferroni_low, bonferroni_high, bonferroni_excludes_zero, n_treated, n_control, clusters_treated, "
             "clusters_control, n_clusters, df_resid")


def test_effect_of_a_month_with_few_trainees_is_suppressed_with_a_neighbour():
    table = pd.DataFrame([_did_row(m, n_treated=8 if m == 5 else 73) for m in range(1, 9)])
    checked, log = check_table(table, "did_by_month", POLICY)
    hidden = checked.loc[checked["estimate"] == M, "month"].tolist()
    # the pooled effect is the mean of the months: one hidden month would follow from it
    assert hidden == ["4", "5"]
    assert checked.loc[checked["month"] == "5", "n_treated"].item() == M
    assert ("min_units", f"outcome=employed_1h; method=matched; month=5: {DID_CELLS}", M, "suppressed") in rows(log)


def test_model_row_with_fewer_than_ten_residual_degrees_of_freedom_is_suppressed():
    table = pd.DataFrame([_did_row(1, df=9), _did_row(2, df=10), _did_row(3)])
    checked, log = check_table(table, "did_by_month", POLICY)
    assert checked["estimate"].tolist() == [M, M, "0.05"]  # df 9 suppressed, month 2 its complement
    assert checked.at[0, "df_resid"] == M
    assert {(r.rule, r.action) for r in log.itertuples() if "month=1" in r.cell} == {("min_df", "suppressed")}
    ok, _ = check_table(pd.DataFrame([_did_row(2, df=10)]), "did_by_month", POLICY)
    assert ok.at[0, "estimate"] == "0.05"


def test_the_min_df_rule_reads_the_residual_df_not_the_satterthwaite_df():
    """The Satterthwaite df of a CR2 SE is a statistical quantity (it can be small with few trainees
    in a cluster-robust model fitted on many persons), not the residual df behind the regression:
    a row with df_resid 1598 is published whatever its Satterthwaite df, and the df is a cell of
    the estimate's figure (suppressed with it)."""
    ok, log = check_table(pd.DataFrame([_did_row(1, satterthwaite=4.2), _did_row(2)]), "did_by_month", POLICY)
    assert ok.at[0, "estimate"] == "0.05" and ok.at[0, "df"] == "4.2"
    assert not ((log["rule"] == "min_df") & (log["action"] == "suppressed")).any()
    hidden, _ = check_table(pd.DataFrame([_did_row(1, n_treated=8), _did_row(2)]), "did_by_month", POLICY)
    assert hidden.at[0, "df"] == M and hidden.at[0, "se_cr1"] == M


def test_subgroup_with_fewer_than_ten_trainees_cannot_be_recovered_from_the_total():
    checked, log = check_table(fixture("modifiers"), "modifiers", POLICY)
    shown = {(r.modifier, r.level): r for r in checked.itertuples()}
    tc0, tc1 = shown[("temporary_contract", "0")], shown[("temporary_contract", "1")]
    assert (tc1.estimate, tc1.n_treated, tc1.n_control) == (M, M, M)  # 6 trainees
    # 73 trainees in total are published elsewhere: 73 - n(level 0) would give n(level 1)
    assert (tc0.estimate, tc0.n_treated) == (M, M)
    assert shown[("sector_government", "1")].n_treated == "23"
    assert ("secondary",
            "outcome=employed_1h; method=matched; modifier=temporary_contract; level=0: estimate, se, df, ci_low, "
            "ci_high, p, se_cr1, interaction, interaction_se, interaction_df, interaction_ci_low, interaction_ci_high, "
            "interaction_p, detectable_interaction, n_treated, n_control, n_clusters, df_resid", "",
            "suppressed") in rows(log)
    bounds = solve_hidden({"0": 67, "1": 6}, {"0", "1"}, [["0", "1"]])
    assert bounds["1"][1] >= 10


def test_row_total_does_not_reveal_a_part():
    checked, log = check_table(fixture("survival"), "survival", POLICY)
    job = checked.set_index("outcome").loc["job"]
    # n_event = n_event_treated + n_event_control: with 8 treated events hidden, control events are hidden too
    assert (job["n_event_treated"], job["n_event_control"], job["n_event"]) == (M, M, "250")
    assert job["coef"] == "-0.35"
    assert "n_event_control" in log.loc[log["rule"] == "secondary", "cell"].item()
    work = checked.set_index("outcome").loc["work"]
    assert (work["n_event_treated"], work["n_event_control"]) == ("14", "296")


def test_share_and_its_published_complement_are_suppressed_together():
    spec = TableSpec(
        kind="answers",
        description="share answering yes and no",
        origin="register",
        keys=("item",),
        figures=(Figure(columns=("share_yes",), n=("n_yes",)), Figure(columns=("share_no",), n=("n_no",))),
        row_totals=(RowTotal(parts=("share_yes", "share_no"), total=None, counts=False),),
    )
    table = pd.DataFrame({"item": ["q1", "q2"], "share_yes": [0.1, 0.5], "n_yes": [5, 40], "share_no": [0.9, 0.5],
                          "n_no": [45, 40]})
    checked, _ = check_table(table, spec, POLICY)
    assert checked.loc[0].tolist() == ["q1", M, M, M, M]  # 1 - share_no would give share_yes
    assert checked.loc[1].tolist() == ["q2", "0.5", "40", "0.5", "40"]


def test_dominated_figure_is_suppressed_and_the_check_column_never_exported():
    checked, log = check_table(fixture("did_pooled"), "did_pooled", POLICY)
    assert "dominance_share" not in checked.columns
    shown = checked.set_index("outcome")
    assert shown.loc["employed_12h", "estimate"] == M  # largest unit carries 61% of the weight
    assert shown.loc["employed_1h", "estimate"] == "0.052"
    assert ("dominance",
            "outcome=employed_12h; method=matched: estimate, se, df, ci_low, ci_high, p, se_cr1, n_treated, "
            "n_control, n_clusters, "
            "df_resid", "", "suppressed") in rows(log)
    _, no_column = check_table(fixture("did_pooled").drop(columns="dominance_share"), "did_pooled", POLICY)
    assert ("dominance", "not assessed") in {(r.rule, r.action) for r in no_column.itertuples()}


def test_dominance_share_of_hand_weights():
    assert dominance_share([3, 1, 1, 1]) == pytest.approx(0.5)
    assert dominance_share([3, 1, 1, 1], n=2) == pytest.approx(4 / 6)
    assert dominance_share([]) == 0.0


# --- Kaplan-Meier and histograms ----------------------------------------------------------------


def test_kaplan_meier_steps_carry_ten_events_and_the_curve_is_cut_below_ten_at_risk():
    checked, log = check_table(fixture("km"), "km", POLICY)
    treated = checked[checked["group"] == "treated"].set_index("time")
    # events 0, 2, 3, 0, 4, 2 | 1: the first step with >= 10 events since time 0 is time 5 (2+3+0+4+2 = 11)
    published = treated.index[treated["survival"] != M].tolist()
    assert published == ["0", "5"]
    assert treated.loc["5", ["n_risk", "n_event", "survival"]].tolist() == ["64", "11", "0.84931507"]
    assert (treated.loc[["1", "2", "3", "4", "6", "7"], "n_risk"] == M).all()
    control = checked[checked["group"] == "control"].set_index("time")
    # events 30, 45, 12, 4, 9: time 3 (4 events) is carried to time 4 (13)
    assert control["n_event"].tolist() == ["30", "45", "12", M, "13"]
    log_rows = rows(log)
    assert ("km_at_risk", "outcome=job; group=treated; time=7: survival, se, ci_low, ci_high, n_event, n_risk", M,
            "suppressed") in log_rows
    assert ("km_events", "outcome=job; group=treated; time=6: survival, se, ci_low, ci_high, n_event, n_risk", M,
            "suppressed") in log_rows
    assert ("km_events", "outcome=job; group=control; time=4: n_event", "13", "coarsened") in log_rows
    # no event is lost: published events add up to the events up to the last published step
    assert sum(int(x) for x in control["n_event"] if x != M) == 30 + 45 + 12 + 4 + 9


def test_histogram_bins_below_ten_are_merged_and_a_small_group_suppressed():
    table = pd.concat(
        [fixture("ps_overlap"),
         pd.DataFrame({"sample": "eligible", "group": ["other"] * 2, "bin_low": [0, 0.1], "bin_high": [0.1, 0.2],
                       "n": [2, 3]})]
    )
    checked, log = check_table(table, "ps_overlap", POLICY)
    got = {g: list(zip(d["bin_low"], d["bin_high"], d["n"])) for g, d in checked.groupby("group", sort=False)}
    # treated 0, 2, 5, 9, 14, 16, 12, 8, 4, 3: zero bin alone, 2+5+9, ..., 8+4 and the last 3 joins them
    assert got["treated"] == [("0", "0.1", "0"), ("0.1", "0.4", "16"), ("0.4", "0.5", "14"), ("0.5", "0.6", "16"),
                              ("0.6", "0.7", "12"), ("0.7", "1", "15")]
    assert got["control"][-1] == ("0.8", "1", "16")  # 12 + 4
    assert sum(int(n) for _, _, n in got["control"]) == 1526
    assert got["other"] == [("0", "0.2", M)]
    assert ("histogram_min_bin", "sample=eligible; group=treated; bin_low=0.7; bin_high=1 (from 3 bins)", "15",
            "merged") in rows(log)
    assert ("histogram_min_bin", "sample=eligible; group=other; bin_low=0; bin_high=0.2: n", M,
            "suppressed") in rows(log)


# --- what may never leave -------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["max_weight", "hours_min", "Maximum", "min"])
def test_minima_and_maxima_are_refused(column):
    table = fixture("did_pooled").assign(**{column: 1.0})
    with pytest.raises(InputError, match="minima and maxima") as err:
        check_table(table, "did_pooled", POLICY)
    assert err.value.column == column


@pytest.mark.parametrize(
    "column", ["person", "unit", "RINPERSOON", "RINPERSOONS", "SBEID", "IKVID", "studienummer", "study_number",
               "supervisor", "ExternalReference"]
)
def test_identifier_columns_are_refused(column):
    table = fixture("placebo").assign(**{column: "x"})
    with pytest.raises(InputError, match="identifier") as err:
        check_table(table, "placebo", POLICY)
    assert err.value.column == column


@pytest.mark.parametrize("value", ["MW00017", "R000012345", "E000012345", "4f1c2b9d0e7a6c3b5d8e9f0a1b2c3d4e"])
def test_identifier_values_are_refused(value):
    table = fixture("placebo").assign(warnings=f"check unit {value}")
    with pytest.raises(InputError, match="looks like an identifier") as err:
        check_table(table, "placebo", POLICY)
    assert (err.value.column, err.value.row) == ("warnings", 2)


def test_microdata_is_refused():
    panel = pd.DataFrame({"outcome": "employed_1h", "month": [1, 1, 2], "employed_1h": [1, 0, 1],
                          "weight": [1, 0.5, 1]})
    with pytest.raises(InputError, match="microdata"):
        check_table(panel, "trajectories", POLICY)
    repeated = pd.concat([fixture("placebo")] * 2)  # one row per person, no id column
    with pytest.raises(InputError, match="more than one row per key") as err:
        check_table(repeated, "placebo", POLICY)
    assert err.value.row == 3


def test_undeclared_missing_and_non_count_columns_are_refused():
    with pytest.raises(InputError, match="not declared") as err:
        check_table(fixture("rmst").assign(median=1.0), "rmst", POLICY)
    assert err.value.column == "median"
    with pytest.raises(InputError, match="required column 'n_treated'"):
        check_table(fixture("rmst").drop(columns="n_treated"), "rmst", POLICY)
    with pytest.raises(InputError, match="whole number") as err:
        check_table(fixture("rmst").assign(n_treated=[73.5, 73, 73, 73]), "rmst", POLICY)
    assert (err.value.column, err.value.row) == ("n_treated", 2)
    with pytest.raises(InputError, match="not a registered"):
        check_table(fixture("rmst"), "matched", POLICY)
    with pytest.raises(InputError, match="no number of units beside it") as err:
        check_table(fixture("rmst").assign(n_treated=[73, None, 73, 73]), "rmst", POLICY, source="rmst.csv")
    assert (err.value.file, err.value.column) == ("rmst.csv", "n_treated")


# --- policies per origin and exemptions -----------------------------------------------------------

QUESTIONNAIRE_SPEC = TableSpec(
    kind="process",
    description="process evaluation answers",
    origin="questionnaire",
    keys=("wave", "answer"),
    figures=(Figure(columns=("share",), n=("n_answering",), share="share", with_counts=("n",)),),
)


def test_questionnaire_threshold_zero_passes_everything():
    table = pd.DataFrame({"wave": ["T1"] * 3, "answer": ["1", "2", "5"], "share": [0.0106383, 0.0, 0.7340426],
                          "n": [1, 0, 69], "n_answering": [94, 94, 94]})
    checked, log = check_table(table, QUESTIONNAIRE_SPEC, POLICY)
    assert checked["n"].tolist() == ["1", "0", "69"]
    assert checked["share"].tolist() == ["0.0106383", "0", "0.7340426"]
    assert set(log["action"]) == {"pass"}
    # the same table under a study threshold of 5: the single answer is suppressed
    strict = DisclosurePolicy.from_config({**SECTION, "questionnaire": {"min_units": 5}})
    checked_strict, _ = check_table(table, QUESTIONNAIRE_SPEC, strict)
    assert checked_strict["n"].tolist() == [M, M, "69"]  # 1 answer; 0 answers is group disclosure within the wave


def test_exempt_flow_passes_unchanged_and_is_logged():
    checked, log = check_table(fixture("flow"), "flow", POLICY)
    assert checked["n"].tolist() == ["18231", "1526", "118", "86", "78", "74", "73"]  # control sorts first
    assert log[["rule", "action"]].values.tolist() == [["exemption", "exempt"]]
    # without the exemption the nested flow hides steps that differ by fewer than 10 from the previous one
    strict, _ = check_table(fixture("flow"), "flow", NO_EXEMPTIONS)
    assert strict["n"].tolist() == ["18231", "1526", "118", "86", M, "74", M]  # 86-78 = 8, 74-73 = 1


def test_exemption_does_not_let_identifiers_through():
    with pytest.raises(InputError, match="identifier"):
        check_table(fixture("flow").assign(person="p1"), "flow", POLICY)
