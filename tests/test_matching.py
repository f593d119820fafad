"""Matching on hand-worked cases: known matches, ties, caliper, exact cohort, weights, balance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from mentorwijs.contracts import column_names
from mentorwijs.errors import ConfigError
from mentorwijs.matching import (
    MATCHED,
    NO_CONTROL,
    OFF_SUPPORT,
    CovariateSpec,
    MatchingSpec,
    caliper_width,
    cell_levels,
    coarsened_matching,
    interaction_terms,
    modifier_pairs,
    prognostic_score,
    control_weights,
    match_candidates,
    nearest_neighbours,
    propensity_score,
    restricted_cubic_spline,
    separated_columns,
    standardised_differences,
    weighted_mean_var,
)


def _nn(logit, treated, strata=None, tie_order=None, **kw):
    n = len(logit)
    strata = np.zeros(n, int) if strata is None else np.asarray(strata)
    tie_order = np.arange(n) if tie_order is None else np.asarray(tie_order)
    pairs, status = nearest_neighbours(np.asarray(logit, float), np.asarray(treated, bool), strata, tie_order, **kw)
    return {t: sorted(g["control"].tolist()) for t, g in pairs.groupby("trainee")}, status


def test_k_nearest_controls_with_replacement():
    # trainees at 0.0 and 1.0; controls at 0.1, -0.15, 0.3, 0.9, 2.0
    logit = [0.0, 1.0, 0.1, -0.15, 0.3, 0.9, 2.0]
    treated = [1, 1, 0, 0, 0, 0, 0]
    matches, status = _nn(logit, treated, k=2, caliper=10.0)
    assert matches == {0: [2, 3], 1: [4, 5]}
    matches, _ = _nn(logit, treated, k=3, caliper=10.0)
    assert matches == {0: [2, 3, 4], 1: [2, 4, 5]}  # control 2 and 4 serve both: replacement
    assert (status == "matched").all()


def test_all_controls_tied_at_the_kth_distance_are_included():
    logit = [0.0, 0.1, -0.1, 0.1, 0.5]
    treated = [1, 0, 0, 0, 0]
    matches, _ = _nn(logit, treated, k=2, caliper=10.0)
    assert matches == {0: [1, 2, 3]}  # three controls at distance 0.1
    matches, _ = _nn(logit, treated, k=2, caliper=10.0, ties=False, tie_order=[0, 9, 5, 1, 2])
    assert matches == {0: [2, 3]}  # without ties: the first two in tie order (5 and 1 before 9)


def test_the_caliper_limits_matches_and_an_empty_caliper_is_off_support():
    logit = [0.0, 0.1, -0.15, 0.3, 1.0, 1.05]
    treated = [1, 0, 0, 0, 1, 0]
    matches, status = _nn(logit, treated, k=5, caliper=0.12, common_support="none")
    assert matches == {0: [1], 4: [5]}
    matches, status = _nn([0.0, 0.5, -0.5], [1, 0, 0], k=1, caliper=0.2)
    assert matches == {} and status[0] == NO_CONTROL


def test_common_support_by_the_range_of_the_strata_controls():
    logit = [3.0, 0.0, 0.5, 2.9, -0.6]
    treated = [1, 1, 0, 0, 0]
    strata = [0, 0, 0, 1, 0]  # the control at 2.9 is in another stratum: stratum 0 spans -0.6..0.5
    matches, status = _nn(logit, treated, strata, k=1, caliper=100.0)
    assert status[0] == OFF_SUPPORT and matches == {1: [2]}
    matches, status = _nn(logit, treated, strata, k=1, caliper=100.0, common_support="none")
    assert matches == {0: [2], 1: [2]}


def test_matching_is_exact_on_cohort():
    # the nearest control of trainee 0 (cohort A) is in cohort B and must not be used
    logit = [0.0, 0.01, 0.4, 1.0, 1.3, -0.5, 1.2]
    treated = [1, 0, 0, 1, 0, 0, 0]
    strata = ["A", "B", "A", "B", "A", "A", "B"]
    matches, _ = _nn(logit, treated, strata, k=1, caliper=10.0)
    assert matches == {0: [2], 3: [6]}
    matches, _ = _nn(logit, treated, None, k=1, caliper=10.0)
    assert matches == {0: [1], 3: [6]}  # without exact matching the nearest is across cohorts


def test_matching_weights_sum_to_the_trainees_and_count_shared_controls():
    pairs = pd.DataFrame({"trainee": [0, 0, 1, 1, 1, 1], "control": [10, 11, 11, 12, 13, 14]})
    w = control_weights(pairs)
    assert w.to_dict() == {10: 0.5, 11: 0.75, 12: 0.25, 13: 0.25, 14: 0.25}
    assert w.sum() == pytest.approx(2.0)


def test_odds_weights_are_scaled_within_each_stratum():
    pairs = pd.DataFrame({"trainee": [0, 0, 1], "control": [2, 3, 4]})
    pscore = np.array([0.5, 0.5, 0.2, 0.5, 0.5])
    strata = np.array([0, 1, 0, 0, 1])
    w = control_weights(pairs, mode="odds", pscore=pscore, strata=strata)
    # stratum 0: odds 0.25 and 1.0, one trainee -> 0.2 and 0.8; stratum 1: one control, one trainee -> 1
    assert w.to_dict() == pytest.approx({2: 0.2, 3: 0.8, 4: 1.0})


def test_caliper_width_uses_the_pooled_sd_of_the_logit():
    logit = np.array([0.0, 2.0, 1.0, 1.0, 4.0])
    treated = np.array([1, 1, 0, 0, 0], bool)
    # var_t = 2, var_c = 3 -> pooled sd = sqrt(2.5)
    assert caliper_width(logit, treated, 0.2) == pytest.approx(0.2 * np.sqrt(2.5))


def test_weighted_variance_and_standardised_differences_by_hand():
    m, v = weighted_mean_var(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4))
    assert (m, v) == (2.5, pytest.approx(np.var([1, 2, 3, 4], ddof=1)))
    m, v = weighted_mean_var(np.array([0.0, 1.0]), np.array([1.0, 3.0]))
    # m = 0.75; sum w (x-m)^2 = 0.5625 + 0.1875 = 0.75; V1 - V2/V1 = 4 - 10/4 = 1.5
    assert (m, v) == (0.75, pytest.approx(0.5))
    x = pd.DataFrame({"x": [1.0, 3.0, 0.0, 1.0, 2.0, 5.0]})
    treated = np.array([1, 1, 0, 0, 0, 0], bool)
    weights = np.array([1, 1, 1.5, 0.5, 0, 0])
    matched = np.array([1, 1, 1, 1, 0, 0], bool)
    table = standardised_differences(x, treated, weights, matched).iloc[0]
    # before: mean_t 2, var_t 2; controls 0,1,2,5: mean 2, var 14/3 -> smd 0, vr 2/(14/3)
    assert table["smd_before"] == pytest.approx(0.0)
    assert table["variance_ratio_before"] == pytest.approx(2 / (14 / 3))
    # after: controls 0 (w 1.5) and 1 (w 0.5): mean 0.25, var (1.5*0.0625 + 0.5*0.5625)/(2 - 2.5/2) = 0.5
    denom = np.sqrt((2 + 14 / 3) / 2)
    assert table["smd_after"] == pytest.approx((2 - 0.25) / denom)
    assert table["variance_ratio_after"] == pytest.approx(2 / 0.5)


def test_restricted_cubic_spline_by_hand_and_linear_beyond_the_knots():
    knots = [0.0, 1.0, 2.0]
    basis = restricted_cubic_spline(np.array([-1.0, 0.5, 1.5, 3.0, 4.0, 5.0]), knots)
    # term at x: [x^3_+ - (x-1)^3_+ * 2 + (x-2)^3_+ * 1] / 4
    assert basis[:, 1] == pytest.approx([0.0, 0.125 / 4, (3.375 - 0.25) / 4, (27 - 16 + 1) / 4, (64 - 54 + 8) / 4,
                                         (125 - 128 + 27) / 4])
    assert np.diff(basis[3:, 1], 2) == pytest.approx([0.0])  # linear beyond the last knot
    assert basis[:, 0].tolist() == [-1.0, 0.5, 1.5, 3.0, 4.0, 5.0]


def test_separation_is_detected_and_the_ridge_fit_is_the_penalised_optimum():
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=n)
    rare = (rng.random(n) < 0.1).astype(float)
    treated = (rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.8 * x)))).astype(float)
    treated[rare == 1] = 0.0  # no trainee has the rare category: quasi-complete separation
    X = pd.DataFrame({"x": x, "rare": rare})
    assert separated_columns(X, treated) == ["rare"]
    fit = propensity_score(X, treated, ridge_lambda=2.0)
    assert fit.method.startswith("ridge") and fit.converged and np.isnan(fit.std_errors).all()
    # independent check: maximise the penalised log-likelihood directly
    Z = (X - X.mean()) / X.std(ddof=0)
    D = np.column_stack([np.ones(n), Z])

    def objective(b):
        eta = D @ b
        return -(treated @ eta - np.logaddexp(0, eta).sum()) + 2.0 / 2 * (b[1:] ** 2).sum()

    best = minimize(objective, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    assert fit.params == pytest.approx(best, abs=1e-4)


def test_maximum_likelihood_without_separation_matches_the_glm_estimates():
    rng = np.random.default_rng(5)
    n = 500
    x = rng.normal(size=n)
    treated = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 0.5 * x)))).astype(float)
    fit = propensity_score(pd.DataFrame({"x": x}), treated)
    assert fit.method.startswith("maximum-likelihood") and fit.converged
    # the score does not depend on standardising: compare with an unstandardised optimum
    D = np.column_stack([np.ones(n), x])
    best = minimize(lambda b: -(treated @ (D @ b) - np.logaddexp(0, D @ b).sum()), np.zeros(2), method="BFGS",
                    options={"gtol": 1e-10}).x
    assert fit.logit == pytest.approx(D @ best, abs=1e-5)


def _toy_candidates(n_controls=60, seed=11):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_controls + 6):
        treated = int(i < 6)
        cohort = "2019-10" if i % 2 else "2019-12"
        rows.append({"unit": f"u{i:03d}:{cohort}", "person": f"p{i:03d}", "cohort": cohort, "region_pair": "A",
                     "treated": treated, "tie_order": i, "age": rng.normal(40 + 5 * treated, 8),
                     "sex": rng.choice(["man", "woman"])})
    return pd.DataFrame(rows)


def test_match_candidates_end_to_end_weights_and_tables():
    data = _toy_candidates()
    spec = MatchingSpec(covariates=(CovariateSpec("age", "numeric"),
                                    CovariateSpec("sex", "categorical", levels={"man": ("man",), "woman": ("woman",)})),
                        k=3, caliper_sd=1.0)
    result = match_candidates(data, spec)
    matched = result.matched
    trainees = matched[matched["treated"] == 1]
    controls = matched[matched["treated"] == 0]
    assert (trainees["weight"] == 1.0).all()
    for cohort, group in controls.groupby("cohort"):  # control weights sum to the cohort's matched trainees
        assert group["weight"].sum() == pytest.approx((trainees["cohort"] == cohort).sum())
    pairs = result.pairs
    assert np.allclose(pairs.groupby("trainee_unit")["weight"].sum(), 1.0)
    assert set(pairs["control_unit"]) == set(controls["unit"])
    assert (pairs["cohort"] == pairs["trainee_unit"].str.split(":").str[1]).all()
    assert (pairs["cohort"] == pairs["control_unit"].str.split(":").str[1]).all()
    balance = result.balance.set_index("covariate")
    assert list(result.balance.columns) == column_names("balance")
    assert set(balance.index) == {"age", "sex=man", "sex=woman"}
    assert (balance["n_treated_before"] == 6).all() and (balance["n_control_before"] == 60).all()
    assert (balance["n_treated"] == len(trainees)).all() and (balance["n_control"] == len(controls)).all()
    women = data["sex"] == "woman"
    assert balance.loc["sex=woman", "n_treated_with_before"] == int((women & (data["treated"] == 1)).sum())
    assert balance.loc["sex=man", "n_control_with_before"] == int((~women & (data["treated"] == 0)).sum())
    assert balance.loc["sex=woman", "n_control_with"] == int(data.loc[women, "unit"].isin(controls["unit"]).sum())
    assert balance.loc["age", ["n_treated_with_before", "n_treated_with"]].isna().all()  # continuous: no count
    overlap = result.overlap.groupby(["sample", "group"])["n"].sum()
    assert list(result.overlap.columns) == column_names("ps_overlap")
    assert overlap[("eligible", "treated")] == 6 and overlap[("eligible", "control")] == 60
    assert overlap[("matched", "control")] == len(controls) and overlap[("matched", "treated")] == len(trainees)


def test_the_result_does_not_depend_on_row_order_or_unit_names():
    data = _toy_candidates()
    spec = MatchingSpec(covariates=(CovariateSpec("age", "numeric"),), k=4, caliper_sd=0.5)
    a = match_candidates(data, spec)
    renamed = data.assign(unit=[f"z{999 - i}:{c}" for i, c in zip(data.index, data["cohort"])],
                          person=[f"q{999 - i}" for i in data.index]).sample(frac=1.0, random_state=1)
    b = match_candidates(renamed, spec)
    to_order = dict(zip(renamed["unit"], renamed["tie_order"]))
    from_order = dict(zip(data["tie_order"], data["unit"]))
    mapped = b.pairs.assign(trainee_unit=b.pairs["trainee_unit"].map(to_order).map(from_order),
                            control_unit=b.pairs["control_unit"].map(to_order).map(from_order))
    left = a.pairs.astype({"trainee_unit": str, "control_unit": str, "cohort": str})
    right = mapped.astype({"trainee_unit": str, "control_unit": str, "cohort": str})
    left = left.sort_values(["trainee_unit", "control_unit"]).reset_index(drop=True)
    right = right.sort_values(["trainee_unit", "control_unit"]).reset_index(drop=True)
    assert len(left) > 6
    pd.testing.assert_frame_equal(left, right)


# --------------------------------------------------------------------------------------
# exact cells, the coarsening rule, interactions, the prognostic score, modifier re-matching


def test_cell_levels_drop_the_coarsening_columns_one_more_at_a_time():
    assert cell_levels(["region_pair", "cohort", "a", "b"], ["b", "a"]) == [
        ("region_pair", "cohort", "a", "b"), ("region_pair", "cohort", "a"), ("region_pair", "cohort")]
    assert cell_levels(["region_pair", "cohort"], []) == [("region_pair", "cohort")]


def test_the_coarsening_columns_must_be_exact_columns():
    base = {"covariates": [{"name": "age", "coding": "numeric"}], "k": 1, "caliper_sd": 0.2,
            "exact": ["cohort", "a"]}
    with pytest.raises(ConfigError, match="coarsen"):
        MatchingSpec.from_config({**base, "coarsen": ["b"]})
    with pytest.raises(ConfigError, match="min_controls"):
        MatchingSpec.from_config({**base, "min_controls": 0})
    assert MatchingSpec.from_config({**base, "coarsen": ["a"]}).coarsen == ("a",)


def test_a_trainee_without_a_control_in_its_full_cell_is_matched_in_the_coarser_cell():
    #            0: trainee x=1   1: trainee x=0   2: control x=0   3: control x=0   4: control x=1 (far)
    #            5: trainee x=1, far from every control (no control in caliper anywhere)
    #            6: trainee x=0, above every control of its cells (off support)
    logit = np.array([0.0, 0.0, 0.05, -0.1, 3.0, 1.5, 9.0])
    treated = np.array([1, 1, 0, 0, 0, 1, 1], dtype=bool)
    x = np.array([1, 0, 0, 0, 1, 1, 0])
    full, coarse = x, np.zeros(7, int)
    pairs, status, level = coarsened_matching(logit, treated, [full, coarse], np.arange(7), k=1, caliper=0.2)
    matches = {t: sorted(g["control"].tolist()) for t, g in pairs.groupby("trainee")}
    # trainee 0's own cell (x=1) has only control 4, outside the caliper: coarsened, matched to 2
    assert matches == {0: [2], 1: [2]}
    assert status[0] == MATCHED and level[0] == 1
    assert status[1] == MATCHED and level[1] == 0
    # trainee 5 finds no control in the caliper in either cell: the coarsest cell's reason
    assert status[5] == NO_CONTROL and level[5] == 1
    # trainee 6 lies above the range of controls (-0.1 .. 3.0) in both cells
    assert status[6] == OFF_SUPPORT and level[6] == 1


def test_min_controls_coarsens_a_cell_with_too_few_controls_in_the_caliper():
    # trainee 0 (x=1) has one control of its own cell in the caliper (1; control 4 is outside it)
    # and two more in x=0 (2, 3)
    logit = np.array([0.0, 0.05, 0.06, -0.07, -0.5])
    treated = np.array([1, 0, 0, 0, 0], dtype=bool)
    x = np.array([1, 1, 0, 0, 1])
    cells = [x, np.zeros(5, int)]
    pairs, _, level = coarsened_matching(logit, treated, cells, np.arange(5), k=3, caliper=0.2, min_controls=1)
    assert sorted(pairs["control"]) == [1] and level[0] == 0
    pairs, _, level = coarsened_matching(logit, treated, cells, np.arange(5), k=3, caliper=0.2, min_controls=2)
    assert sorted(pairs["control"]) == [1, 2, 3] and level[0] == 1


def test_interactions_are_products_of_the_binary_terms():
    terms = pd.DataFrame({"a": [1.0, 1.0, 0.0, 1.0], "b": [1.0, 0.0, 1.0, 1.0], "c": [0.0, 1.0, 1.0, 1.0]})
    out = interaction_terms(terms, ["a", "b", "c"])
    assert list(out.columns) == ["a:b", "a:c", "b:c"]
    assert out["a:b"].tolist() == [1.0, 0.0, 0.0, 1.0] and out["b:c"].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_the_prognostic_score_is_least_squares_on_the_controls_only():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"x1": rng.normal(size=40), "x2": rng.integers(0, 2, 40).astype(float)})
    treated = np.arange(40) < 10
    y = 0.3 + 0.2 * X["x1"].to_numpy() - 0.1 * X["x2"].to_numpy() + rng.normal(0, 0.1, 40)
    y[treated] = 99.0  # a trainee's outcome must not enter
    y[12] = np.nan  # a control without an outcome is left out
    keep = ~treated & np.isfinite(y)
    ref = sm.OLS(y[keep], sm.add_constant(X.to_numpy()[keep])).fit()
    expected = sm.add_constant(X.to_numpy()) @ ref.params
    np.testing.assert_allclose(prognostic_score(X, y, treated), expected, rtol=1e-10, atol=1e-12)


def _cells_candidates():
    rng = np.random.default_rng(8)
    rows = []
    for i in range(200):
        treated = int(i < 16)
        cohort = "2019-10" if i % 2 else "2019-12"
        rows.append({"unit": f"u{i:03d}:{cohort}", "person": f"p{i % 150:03d}", "cohort": cohort, "region_pair": "A",
                     "treated": treated, "tie_order": i, "age": rng.normal(40 + 3 * treated, 8),
                     "sheltered": int(rng.random() < (0.5 if treated else 0.2)),
                     "temporary": int(rng.random() < 0.4),
                     "sex": rng.choice(["man", "woman", "unknown"]),
                     "size": rng.choice(["small", "large"])})
    return pd.DataFrame(rows)


def _cells_spec(**kw):
    return MatchingSpec(covariates=(CovariateSpec("age", "numeric"), CovariateSpec("sheltered", "indicator"),
                                    CovariateSpec("temporary", "indicator"),
                                    CovariateSpec("sex", "categorical",
                                                  levels={"man": ("man", "unknown"), "woman": ("woman",)})),
                        k=4, caliper_sd=0.5, **kw)


def test_exact_matching_on_register_covariates_and_a_collapsed_category():
    data = _cells_candidates()
    result = match_candidates(data, _cells_spec(exact=("region_pair", "cohort", "sheltered", "sex")))
    by_unit = data.set_index("unit")
    pairs = result.pairs
    assert len(pairs) > 16
    t, c = by_unit.loc[pairs["trainee_unit"]], by_unit.loc[pairs["control_unit"]]
    assert (t["sheltered"].to_numpy() == c["sheltered"].to_numpy()).all()
    collapse = {"man": "man", "unknown": "man", "woman": "woman"}  # sex unknown is matched with man
    assert (t["sex"].map(collapse).to_numpy() == c["sex"].map(collapse).to_numpy()).all()
    assert (t["sex"].to_numpy() != c["sex"].to_numpy()).any()
    # balance: exact matching on sheltered balances it and its interaction with sex=woman exactly
    balance = result.balance.set_index("covariate")
    assert balance.loc["sheltered", "smd_after"] == pytest.approx(0.0, abs=1e-12)
    assert balance.loc["sheltered:sex=woman", "smd_after"] == pytest.approx(0.0, abs=1e-12)
    products = (data["sheltered"] * data["temporary"])[data["treated"] == 1]
    assert balance.loc["sheltered:temporary", "n_treated_with_before"] == int(products.sum())
    flow = {step: n for _, _, step, n in result.flow}
    assert flow["matched"] + flow["excluded_off_common_support"] + flow["excluded_no_control_in_caliper"] == 16
    assert flow["of_which_matched_in_full_exact_cell"] + flow["of_which_matched_after_coarsening"] == flow["matched"]


def test_the_flow_counts_trainees_matched_after_coarsening():
    data = _cells_candidates()
    # make every trainee's full cell empty of controls: a value only trainees have
    data["only"] = np.where(data["treated"] == 1, "t", "c")
    result = match_candidates(data, _cells_spec(exact=("region_pair", "cohort", "only"), coarsen=("only",)))
    flow = {step: n for _, _, step, n in result.flow}
    assert flow["of_which_matched_in_full_exact_cell"] == 0
    assert flow["of_which_matched_after_coarsening"] == flow["matched"] > 0
    assert (result.status.loc[result.status["status"] == MATCHED, "cell_level"] == 1).all()
    without = match_candidates(data, _cells_spec(exact=("region_pair", "cohort", "only")))
    assert {step: n for _, _, step, n in without.flow}["matched"] == 0


def test_modifier_levels_are_rematched_among_controls_of_the_same_level():
    data = _cells_candidates()
    spec = _cells_spec(exact=("region_pair", "cohort"))
    result = match_candidates(data, spec)
    level = pd.Series(data["size"].to_numpy(), index=data["unit"].to_numpy())
    trainee_only = level[data["treated"].to_numpy() == 1].map({"small": "a", "large": "b"})
    out = modifier_pairs(result, spec, [("size", level, True), ("answer", trainee_only, False)])
    assert list(out.columns) == ["modifier", "level", "treated_unit", "control_unit", "weight"]
    size = out[out["modifier"] == "size"].dropna(subset=["control_unit"])
    # every control lies in the level of the trainees it serves, and so does every trainee
    assert (size["control_unit"].map(level) == size["level"]).all()
    assert (size["treated_unit"].map(level) == size["level"]).all()
    # only trainees of the main matched sample; each with pair weights 1/k_i summing to 1
    main = set(result.status.loc[result.status["status"] == MATCHED, "unit"])
    assert set(out.loc[out["modifier"] == "size", "treated_unit"]) <= main
    assert np.allclose(size.groupby("treated_unit")["weight"].sum(), 1.0)
    # the re-matching in a level is the main matching with the level as a further exact column
    data2 = data.assign(region_pair=data["size"])
    by_cell = match_candidates(data2, spec)  # same propensity model (region_pair is not a covariate)
    np.testing.assert_allclose(by_cell.model.logit, result.model.logit, rtol=1e-10)
    assert by_cell.caliper == pytest.approx(result.caliper, rel=1e-12)
    ref = by_cell.pairs[by_cell.pairs["trainee_unit"].isin(main)].sort_values(["trainee_unit", "control_unit"])
    mine = size.sort_values(["treated_unit", "control_unit"])
    assert len(mine) > 16 and mine["control_unit"].tolist() == ref["control_unit"].tolist()
    # without re-matching (a supervisor's answer) the level keeps the main pairs of its trainees
    answer = out[out["modifier"] == "answer"].sort_values(["treated_unit", "control_unit"]).reset_index(drop=True)
    main_pairs = result.pairs.sort_values(["trainee_unit", "control_unit"]).reset_index(drop=True)
    assert answer["control_unit"].tolist() == main_pairs["control_unit"].tolist()
    np.testing.assert_allclose(answer["weight"], main_pairs["weight"])
    assert (answer["level"] == answer["treated_unit"].map(trainee_only)).all()


def test_modifier_rematching_uses_the_main_scores_and_caliper():
    # a trainee whose level has controls only outside the main caliper gets a row without a control
    data = _cells_candidates()
    spec = _cells_spec(exact=("region_pair", "cohort"))
    result = match_candidates(data, spec)
    units = data["unit"].to_numpy()
    logit = pd.Series(result.model.logit, index=result.data["unit"].to_numpy())
    first = result.status.loc[result.status["status"] == MATCHED, "unit"].iloc[0]
    level = pd.Series("rest", index=units)
    level[first] = "alone"
    same_cohort = data.loc[(data["cohort"] == data.set_index("unit").loc[first, "cohort"]) & (data["treated"] == 0),
                           "unit"]
    far = (logit[same_cohort] - logit[first]).abs().idxmax()
    level[far] = "alone"
    out = modifier_pairs(result, spec, [("m", level, True)])
    alone = out[out["level"] == "alone"]
    if abs(logit[far] - logit[first]) > result.caliper:
        assert len(alone) == 1 and pd.isna(alone["control_unit"].iloc[0]) and alone["weight"].iloc[0] == 0.0
    else:
        assert alone["control_unit"].tolist() == [far]
    rest = out[(out["level"] == "rest")].dropna(subset=["control_unit"])
    assert (rest["control_unit"].map(level) == "rest").all()
