"""Effect modifiers from the modifier pairs: subgroup estimates, interactions whose variance
accounts for persons in both subgroups (CR2 and Satterthwaite df of the stacked, fully
interacted regression, checked against R's clubSandwich), suppression of small subgroups with a
stated reason. The pairs here are inherited from the main
matching (the supervisor-answer case); the re-matching itself is tested in test_matching.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from mentorwijs.effects import did_pooled, inherited_pairs, modifier_levels, modifiers, subgroup_weights
from mentorwijs.effects.montecarlo import Scenario, simulate_matched_study
from mentorwijs.errors import InputError

REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="module")
def study():
    # a small pool so that controls serve trainees of both subgroups
    s = replace(Scenario(), n_trainees=60, n_cohorts=3, pool_persons=500, controls_per_trainee=20, first_month=-3)
    st = simulate_matched_study(s, np.random.default_rng(3))
    rng = np.random.default_rng(4)
    units = st.survival[["unit", "treated", "temporary_contract"]].copy()
    units["guided"] = np.where(units["treated"] == 1, rng.integers(1, 20, len(units)), np.nan)
    return st.panel, st.pairs, units


def _table(panel, pairs, units, spec, **kw):
    """The modifiers table with controls inheriting the trainee's level (the old construction)."""
    name, level = modifier_levels(units, spec)
    trainees = level[units.set_index("unit")["treated"] == 1]
    mp = inherited_pairs(pairs, name, trainees)
    return modifiers(panel, mp, [name], outcome="employed_1h", reference_month=-3, **kw)


def _subgroup_panel(panel, pairs, trainee_units):
    pw = pairs[pairs["trainee_unit"].isin(trainee_units)].groupby("control_unit")["weight"].sum()
    trainees = panel[(panel["treated"] == 1) & panel["unit"].isin(trainee_units)]
    controls = panel[(panel["treated"] == 0) & panel["unit"].isin(pw.index)].copy()
    controls["weight"] = controls["unit"].map(pw)
    return pd.concat([trainees, controls], ignore_index=True)


def test_control_weights_split_over_subgroups_add_up_to_the_matching_weight(study):
    panel, pairs, units = study
    _, level = modifier_levels(units, {"name": "few", "column": "guided", "below": 10})
    trainees = level[units.set_index("unit")["treated"] == 1]
    split = subgroup_weights(pairs, trainees)
    assert split["control_unit"].duplicated().any()  # some controls are in both subgroups
    total = split.groupby("control_unit")["weight"].sum()
    matching = panel.drop_duplicates("unit").set_index("unit")["weight"]
    np.testing.assert_allclose(total.to_numpy(), matching.loc[total.index].to_numpy(), rtol=1e-12)


def test_subgroup_estimates_and_interaction(study):
    panel, pairs, units = study
    table = _table(panel, pairs, units, {"name": "few", "column": "guided", "below": 10}, followup_months=12)
    assert table["level"].tolist() == ["<10", ">=10"] and (table["reference_level"] == "<10").all()
    lev = units.dropna(subset=["guided"]).assign(level=lambda d: np.where(d["guided"] < 10, "<10", ">=10"))
    for _, row in table.iterrows():
        tu = lev.loc[lev["level"] == row["level"], "unit"]
        sub = _subgroup_panel(panel, pairs, tu)
        ref = did_pooled(sub, "employed_1h", -3, followup_months=12).iloc[0]
        assert row["method"] == "matched"
        assert row["estimate"] == pytest.approx(ref["estimate"], rel=1e-12)
        # a level's inference is that of its own pooled DiD: CR2 with its Satterthwaite df, and CR1
        for column in ("se", "df", "ci_low", "ci_high", "p", "se_cr1"):
            assert row[column] == pytest.approx(ref[column], rel=1e-9), column
        assert row["n_treated"] == len(tu)
    b = table.iloc[1]
    assert b["interaction"] == pytest.approx(b["estimate"] - table.iloc[0]["estimate"], rel=1e-12)
    assert b["detectable_interaction"] == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8))
                                                        * b["interaction_se"])

    # the stacked, fully interacted regression (controls repeated per subgroup with their
    # subgroup weight, clustered on person) gives the interaction; its CR0 SE is close to the
    # CR2 SE (which the R reference below checks exactly)
    parts = []
    for name in ("<10", ">=10"):
        part = _subgroup_panel(panel, pairs, lev.loc[lev["level"] == name, "unit"])
        parts.append(part.assign(B=int(name == ">=10")))
    stacked = pd.concat(parts, ignore_index=True)
    stacked = stacked[stacked["observed"] == 1]
    fit = smf.wls("employed_1h ~ C(month, Treatment(-3)) * treated * B", data=stacked, weights=stacked["weight"]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(stacked["person"])[0], "use_correction": False})
    names = [f"C(month, Treatment(-3))[T.{m}]:treated:B" for m in range(1, 13)]
    a = np.full(12, 1 / 12)
    assert b["interaction"] == pytest.approx(a @ fit.params[names].to_numpy(), abs=1e-10)
    stacked_se = np.sqrt(a @ fit.cov_params().loc[names, names].to_numpy() @ a)
    assert b["interaction_se"] == pytest.approx(stacked_se, rel=0.03) and b["interaction_se"] > stacked_se
    # treating the subgroups as independent would be visibly wrong here
    independent = np.hypot(table.iloc[0]["se"], b["se"])
    assert abs(independent / stacked_se - 1) > 0.02


def test_small_subgroups_are_suppressed_and_flagged_not_dropped(study):
    panel, pairs, units = study
    table = _table(panel, pairs, units, {"name": "few", "column": "guided", "below": 3}, followup_months=12)
    small = table[table["level"] == "<3"].iloc[0]
    assert small["n_treated"] < 10 and small["suppressed"] == 1 and np.isnan(small["estimate"])
    assert "fewer than 10 trainees" in small["warnings"]
    other = table[table["level"] == ">=3"].iloc[0]
    # the reference level is "<3": no interaction can be formed
    assert other["suppressed"] == 1 and np.isnan(other["interaction"]) and np.isfinite(other["estimate"])


def test_missing_modifier_values_form_their_own_level(study):
    panel, pairs, units = study
    u = units.copy()
    trainee_rows = u.index[u["treated"] == 1][:12]
    u.loc[trainee_rows, "guided"] = np.nan
    table = _table(panel, pairs, u, {"name": "few", "column": "guided", "below": 10}, followup_months=12)
    assert table["level"].tolist()[-1] == "missing"
    assert table["n_treated"].sum() == 60


def test_a_level_with_too_few_controls_gives_a_reason_not_a_number(study):
    panel, pairs, units = study
    name, level = modifier_levels(units, {"name": "few", "column": "guided", "below": 10})
    mp = inherited_pairs(pairs, name, level[units.set_index("unit")["treated"] == 1])
    # the level ">=10" keeps its trainees but only 5 distinct controls
    upper = (mp["level"] == ">=10").to_numpy()
    keep = mp.loc[upper, "control_unit"].drop_duplicates().iloc[:5].to_numpy()
    mp.loc[upper, "control_unit"] = keep[np.arange(upper.sum()) % 5]
    table = modifiers(panel, mp, [name], outcome="employed_1h", reference_month=-3, followup_months=12)
    row = table[table["level"] == ">=10"].iloc[0]
    assert row["n_control"] == 5 and row["suppressed"] == 1 and np.isnan(row["estimate"])
    assert "fewer than 10 control units" in row["warnings"]


def test_trainees_without_a_control_in_their_level_are_counted_in_warnings_and_left_out(study):
    panel, pairs, units = study
    name, level = modifier_levels(units, {"name": "few", "column": "guided", "below": 10})
    mp = inherited_pairs(pairs, name, level[units.set_index("unit")["treated"] == 1])
    lonely = mp.loc[mp["level"] == "<10", "treated_unit"].iloc[0]
    mp = pd.concat([mp[mp["treated_unit"] != lonely],
                    pd.DataFrame({"modifier": [name], "level": ["<10"], "treated_unit": [lonely],
                                  "control_unit": [None], "weight": [0.0]})], ignore_index=True)
    table = modifiers(panel, mp, [name], outcome="employed_1h", reference_month=-3, followup_months=12)
    row = table[table["level"] == "<10"].iloc[0]
    assert "1 trainee unit(s) without a control" in row["warnings"]
    trainees = level[(units.set_index("unit")["treated"] == 1).to_numpy()]
    assert row["n_treated"] == int((trainees == "<10").sum()) - 1


def test_modifier_input_errors(study):
    panel, pairs, units = study
    with pytest.raises(InputError, match="distinct values"):
        modifier_levels(units.assign(guided=np.arange(len(units))), "guided")
    name, level = modifier_levels(units, "temporary_contract")
    mp = inherited_pairs(pairs, name, level[units.set_index("unit")["treated"] == 1])
    with pytest.raises(InputError, match="no rows for modifier"):
        modifiers(panel, mp, ["other"], outcome="employed_1h", reference_month=-3)
    with pytest.raises(InputError, match="lacks"):
        modifiers(panel[panel["unit"] != mp["control_unit"].iloc[0]], mp, [name], outcome="employed_1h",
                  reference_month=-3)
    with pytest.raises(InputError, match="no column"):
        modifiers(panel, mp.drop(columns="weight"), [name], outcome="employed_1h", reference_month=-3)


def _reference_inputs():
    data = pd.read_csv(REFERENCE / "effects_data.csv")
    panel = data[data["part"] == "panel"].drop(columns="part").reset_index(drop=True)
    units = data[data["part"] == "survival"][["unit", "age", "temporary_contract", "sector"]].reset_index(drop=True)
    pairs = pd.read_csv(REFERENCE / "modifier_pairs_data.csv", dtype={"level": str})
    return panel, units, pairs


def _r_reference() -> dict:
    ref = pd.read_csv(REFERENCE / "modifiers_cr2_R_output.csv", dtype=str, keep_default_na=False)
    meta = ref[ref["outcome"] == "meta"].set_index("quantity")["value"]
    assert meta["clubSandwich_version"].startswith("0.")
    ref = ref[ref["outcome"] != "meta"]
    return {(r.outcome, r.method, r.level, r.quantity): float(r.value) for r in ref.itertuples(index=False)}


@pytest.mark.parametrize("outcome", ["employed_1h", "employed_12h"])
def test_levels_and_interaction_equal_clubsandwich_on_the_stacked_regression(outcome):
    """Per level the pooled effect with CR2 SE, Satterthwaite df and CR1 SE, and the interaction as
    a contrast on the stacked regression of both levels clustered on person across them (some
    control persons are in both levels), for the matched and the adjusted DiD: as R's lm,
    sandwich and clubSandwich (tests/reference/modifiers_cr2.R) to 1e-6 (the reference prints 15
    significant digits; the df go through R's eigen-decompositions)."""
    panel, units, pairs = _reference_inputs()
    both = pairs.assign(person=pairs["control_unit"].str.split("_").str[0]).groupby("person")["level"].nunique()
    assert (both > 1).sum() >= 5  # the case the cross-level clustering is for
    table = modifiers(panel, pairs, ["temporary_contract"], outcome=outcome, reference_month=-3, followup_months=6,
                      min_trainees=10, covariates=units)
    ref = _r_reference()
    assert sorted(table["method"].unique()) == ["adjusted", "matched"]
    for row in table.itertuples(index=False):
        key = (outcome, row.method, row.level)
        assert row.estimate == pytest.approx(ref[(*key, "estimate")], rel=1e-6, abs=1e-9)
        assert row.se == pytest.approx(ref[(*key, "se_cr2")], rel=1e-6)
        assert row.df == pytest.approx(ref[(*key, "df")], rel=1e-6)
        assert row.se_cr1 == pytest.approx(ref[(*key, "se_cr1")], rel=1e-6)
        assert row.n_clusters == ref[(*key, "clusters")]
        if row.level == row.reference_level:
            assert np.isnan(row.interaction) and np.isnan(row.interaction_df)
            continue
        assert row.interaction == pytest.approx(ref[(*key, "interaction")], rel=1e-6, abs=1e-9)
        assert row.interaction_se == pytest.approx(ref[(*key, "interaction_se_cr2")], rel=1e-6)
        assert row.interaction_df == pytest.approx(ref[(*key, "interaction_df")], rel=1e-6)
        q = stats.t.ppf(0.975, row.interaction_df)
        assert row.interaction_ci_high - row.interaction == pytest.approx(q * row.interaction_se, rel=1e-9)
        assert row.detectable_interaction == pytest.approx(
            (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * ref[(*key, "interaction_se_cr2")], rel=1e-6)


def test_stacked_blocks_equal_one_block_keyed_regression():
    """Stacking two fits' monthly parts (stack_blocks) is the regression fitted at once with the
    block key level x months + month, clustered on common person codes."""
    from mentorwijs.effects.smallsample import monthly_wls, satterthwaite_df, stack_blocks

    rng = np.random.default_rng(7)
    n, M = 400, 3
    person = rng.integers(0, 60, n)
    level = rng.integers(0, 2, n)
    month = rng.integers(0, M, n)
    treated = (rng.random(n) < 0.3).astype(int)
    w = rng.uniform(0.2, 1.5, n)
    z = rng.normal(size=(n, 2))
    y = (rng.random(n) < 0.5).astype(float)
    fits, maps, blocks = [], [], []
    for lev in (0, 1):
        sel = level == lev
        labels, g = np.unique(person[sel], return_inverse=True)
        fits.append(monthly_wls(y[sel], treated[sel], w[sel], month[sel], g, z[sel], M, len(labels)))
        maps.append(labels)  # person codes are 0..59 already
        blocks.append(np.arange(M))
    stacked = stack_blocks(fits, blocks, maps, 60)
    whole = monthly_wls(y, treated, w, level * M + month, person, z, 2 * M, 60)
    np.testing.assert_allclose(stacked.coef_treated, whole.coef_treated, rtol=1e-10)
    np.testing.assert_allclose(stacked.score_cr2, whole.score_cr2, rtol=1e-9, atol=1e-12)
    c = np.array([0.5, 0.5, -1.0, -0.5, -0.5, 1.0])
    assert satterthwaite_df(stacked, c) == pytest.approx(satterthwaite_df(whole, c), rel=1e-9)
