"""Change per construct and wave: contrasts, means, Holm, effect sizes, sensitivity, bias.

References: lme4/lmerTest's fits of the committed slope fixture (tests/reference/supervisors_lmer.csv:
estimates, SEs, Satterthwaite df and p, the by-mode interaction), closed forms (Holm step-down,
t intervals, SD of the T0 scores) computed here independently, and the known truth of simulated
drop-out.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import REFERENCE
from mentorwijs.errors import InputError
from mentorwijs.supervisors import complete_cases, supervisor_effects, supervisor_sensitivity

FAST = ("bfgs", "nm")  # both reach lme4's optimum on these data; the full list is tested elsewhere


def _generator():
    spec = importlib.util.spec_from_file_location("make_supervisors_data", REFERENCE / "make_supervisors_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NUMBERS = ("fixed", "se", "df", "p", "contrast_estimate", "contrast_se", "contrast_df", "contrast_p")


def _lmer(model):
    table = pd.read_csv(REFERENCE / "supervisors_lmer.csv", dtype=str, keep_default_na=False)
    table = table.loc[table["model"] == model]
    return {(r.quantity, r.term): float(r.value) for r in table.itertuples() if r.quantity in NUMBERS}


@pytest.fixture(scope="module")
def fixture_long() -> pd.DataFrame:
    """The lme4 slope fixture as supervisors_long: the score as knowledge, its mirror as intention."""
    data = pd.read_csv(REFERENCE / "supervisors_slope_data.csv")
    data["knowledge"] = data["score"]
    data["intention"] = 6 - data["score"]
    return data.drop(columns="score")


@pytest.fixture(scope="module")
def fitted(fixture_long):
    return supervisor_effects(fixture_long, ["knowledge", "intention"], optimizers=FAST)


def test_contrasts_and_means_match_lme4(fitted, fixture_long):
    effects, means = fitted
    ref = _lmer("slopes")
    knowledge = effects.loc[effects["construct"] == "knowledge"].set_index("wave")
    assert list(knowledge.index) == ["T1", "T2", "T3"]
    for wave in ("T1", "T2", "T3"):
        estimate, se, df = (ref[(q, f"wave{wave}")] for q in ("fixed", "se", "df"))
        t = stats.t.ppf(0.975, df)
        row = knowledge.loc[wave]
        assert row["estimate"] == pytest.approx(estimate, rel=1e-4)
        assert row["se"] == pytest.approx(se, rel=1e-4)
        assert row["df"] == pytest.approx(df, rel=1e-5)
        assert row["ci_low"] == pytest.approx(estimate - t * se, rel=1e-4)
        assert row["ci_high"] == pytest.approx(estimate + t * se, rel=1e-4)
        assert row["p"] == pytest.approx(ref[("p", f"wave{wave}")], rel=1e-4)
        assert row["n"] == int((fixture_long["wave"] == wave).sum())
        assert row["contrast"] == f"{wave} - T0" and row["primary"] == int(wave == "T1")
        assert row["converged"] == 1 and row["boundary"] == 0
    # the mirrored construct: the same change with the opposite sign, the same df
    intention = effects.loc[effects["construct"] == "intention"].set_index("wave")
    np.testing.assert_allclose(intention["estimate"], -knowledge["estimate"], rtol=1e-6)
    np.testing.assert_allclose(intention["df"], knowledge["df"], rtol=1e-5)
    # means: intercept, intercept + contrast, with their own Satterthwaite df
    km = means.loc[means["construct"] == "knowledge"].set_index("wave")
    assert km.loc["T0", "mean"] == pytest.approx(ref[("fixed", "(Intercept)")], rel=1e-4)
    assert km.loc["T0", "se"] == pytest.approx(ref[("se", "(Intercept)")], rel=1e-4)
    assert km.loc["T0", "df"] == pytest.approx(ref[("df", "(Intercept)")], rel=1e-5)
    assert km.loc["T1", "mean"] == pytest.approx(ref[("contrast_estimate", "mean T1")], rel=1e-4)
    assert km.loc["T1", "se"] == pytest.approx(ref[("contrast_se", "mean T1")], rel=1e-4)
    assert km.loc["T1", "df"] == pytest.approx(ref[("contrast_df", "mean T1")], rel=1e-5)
    t = stats.t.ppf(0.975, km.loc["T1", "df"])
    assert km.loc["T1", "ci_high"] - km.loc["T1", "ci_low"] == pytest.approx(2 * t * km.loc["T1", "se"], rel=1e-12)
    assert list(km["n"]) == [109, 87, 70, 61]


def test_online_versus_on_site_equals_lmertest(fixture_long):
    """by_mode is wave x mode with the group slope: lmerTest's interaction and the online change."""
    data = fixture_long.assign(n_employees_guided=fixture_long["supervisor"].str[1:].astype(int) % 20)
    table = supervisor_sensitivity(data, ["knowledge"], optimizers=FAST)
    ref = _lmer("slopes_mode")
    mode = table.loc[(table["analysis"] == "by_mode") & (table["wave"] == "T1")].set_index("subgroup")
    difference = mode.loc["online - on_site"]
    assert difference["estimate"] == pytest.approx(ref[("fixed", "waveT1:modeonline")], rel=1e-4)
    assert difference["se"] == pytest.approx(ref[("se", "waveT1:modeonline")], rel=1e-4)
    assert difference["df"] == pytest.approx(ref[("df", "waveT1:modeonline")], rel=1e-5)
    assert difference["p"] == pytest.approx(ref[("p", "waveT1:modeonline")], rel=1e-4)
    online = mode.loc["online"]
    assert online["estimate"] == pytest.approx(ref[("contrast_estimate", "T1 online")], rel=1e-4)
    assert online["se"] == pytest.approx(ref[("contrast_se", "T1 online")], rel=1e-4)
    assert online["df"] == pytest.approx(ref[("contrast_df", "T1 online")], rel=1e-5)
    assert mode.loc["on_site", "estimate"] == pytest.approx(ref[("fixed", "waveT1")], rel=1e-4)
    # the group slope matters here: about 19 df for 16 groups, not the hundreds of the scores
    assert difference["df"] < 25


def test_effect_size_is_contrast_over_sd_of_reference_scores(fitted, fixture_long):
    effects, _ = fitted
    sd = fixture_long.loc[fixture_long["wave"] == "T0", "knowledge"].std(ddof=1)
    rows = effects.loc[effects["construct"] == "knowledge"]
    np.testing.assert_allclose(rows["effect_size"], rows["estimate"] / sd, rtol=1e-12)


def test_holm_over_all_contrasts_of_all_constructs(fitted):
    effects, _ = fitted
    p = effects["p"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    expected = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        expected[i] = running
    np.testing.assert_allclose(effects["p_holm"], expected, rtol=1e-12)
    assert len(effects) == 6


def test_a_later_wave_flows_through_without_code_changes(fixture_long):
    extra = fixture_long.loc[fixture_long["wave"] == "T3"].copy()
    extra["wave"] = "T4"
    extra["knowledge"] = np.clip(extra["knowledge"] + 0.1, 1, 5)
    extra["intention"] = 6 - extra["knowledge"]
    data = pd.concat([fixture_long, extra], ignore_index=True)
    effects, means = supervisor_effects(data, ["knowledge"], optimizers=FAST)
    assert effects["wave"].tolist() == ["T1", "T2", "T3", "T4"]
    assert means["wave"].tolist() == ["T0", "T1", "T2", "T3", "T4"]
    assert effects.set_index("wave").loc["T4", "n"] == len(extra)


def test_mar_dropout_biases_complete_cases_but_not_the_mixed_model():
    """Eight simulated studies of 300 supervisors in 30 groups, true change 0.4 at every wave;
    drop-out after T1 and after T2 depends on the score just given (low scorers leave: missing
    at random). Completers are selected on a high T1 residual, so the complete-case T1 - T0
    contrast is biased upward; the mixed model on all available data is unbiased under MAR.
    Tolerance: 3 standard errors of the mean over the replicates, sqrt(sum se^2) / 8."""
    truth = 0.4
    generator = _generator()
    waves = ["T0", "T1", "T2", "T3"]
    estimates = {"mixed": [], "complete_cases": []}
    ses = {"mixed": [], "complete_cases": []}
    for seed in range(1, 9):
        data = generator.simulate_supervisor_waves(
            n_groups=30, group_sizes=(10, 10), wave_means=(2.8, 3.2, 3.2, 3.2),
            sd_group=0.1, sd_supervisor=0.15, sd_residual=0.35,
            dropout_intercept=-2.42, dropout_slope=-6.0, dropout_from=1, seed=seed,
        ).rename(columns={"score": "knowledge"})
        complete = complete_cases(data, "knowledge", waves)
        assert data["supervisor"].nunique() == 300 and 60 < complete["supervisor"].nunique() < 200
        for name, subset in (("mixed", data), ("complete_cases", complete)):
            # one optimizer is enough here: the fit is finished on lme4's deviance anyway
            effects, _ = supervisor_effects(subset, ["knowledge"], optimizers=("lbfgs",))
            row = effects.set_index("wave").loc["T1"]
            estimates[name].append(row["estimate"])
            ses[name].append(row["se"])
    bias = {k: np.mean(v) - truth for k, v in estimates.items()}
    se = {k: math.sqrt(np.sum(np.square(v))) / len(v) for k, v in ses.items()}
    print(f"bias mixed {bias['mixed']:+.4f} (SE {se['mixed']:.4f}), "
          f"complete cases {bias['complete_cases']:+.4f} (SE {se['complete_cases']:.4f})")
    assert abs(bias["mixed"]) < 3 * se["mixed"]
    assert bias["complete_cases"] > 3 * se["complete_cases"]


@pytest.fixture(scope="module")
def small_long() -> pd.DataFrame:
    """The boundary-free fixture cut to 6 groups, with baseline covariates and delivery mode."""
    data = pd.read_csv(REFERENCE / "supervisors_data.csv").rename(columns={"score": "knowledge"})
    data = data.loc[data["training_group"].isin(["G01", "G02", "G03", "G04", "G05", "G06"])].reset_index(drop=True)
    number = data["supervisor"].str[1:].astype(int)
    data["mode"] = np.where(data["training_group"].isin(["G02", "G05"]), "online", "on_site")
    data["n_employees_guided"] = (number * 7) % 20
    data["age"] = 30 + number % 30
    data["sex"] = 1 + number % 2
    data.loc[data["supervisor"] == "S0003", "age"] = np.nan
    return data


def test_sensitivity_analyses(small_long):
    table = supervisor_sensitivity(
        small_long, ["knowledge"], covariates={"age": "numeric", "sex": "categorical"},
        guided_cutoff=10, optimizers=FAST,
    )
    assert table.duplicated(["analysis", "construct", "wave", "subgroup"]).sum() == 0
    assert set(table["analysis"]) == {"all_available", "complete_cases", "adjusted", "by_mode", "by_employees_guided"}
    main, _ = supervisor_effects(small_long, ["knowledge"], optimizers=FAST)
    allav = table.loc[table["analysis"] == "all_available"].reset_index(drop=True)
    np.testing.assert_allclose(allav["estimate"], main["estimate"], rtol=1e-10)
    # reusing the main table gives the same rows as fitting again
    reused = supervisor_sensitivity(small_long, ["knowledge"], guided_cutoff=10, optimizers=FAST, main_effects=main)
    again = reused.loc[reused["analysis"] == "all_available"].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, allav, check_dtype=False)

    cc = table.loc[table["analysis"] == "complete_cases"]
    n_complete = complete_cases(small_long, "knowledge", ["T0", "T1", "T2", "T3"])["supervisor"].nunique()
    assert (cc["n_supervisors"] == n_complete).all() and (cc["n"] == n_complete).all()

    adjusted = table.loc[table["analysis"] == "adjusted"]
    assert (adjusted["n_supervisors"] == small_long["supervisor"].nunique() - 1).all()
    assert adjusted["warnings"].str.contains("1 supervisors without every baseline covariate left out").all()

    # interaction: the difference of the subgroup changes, and its CI
    mode = table.loc[(table["analysis"] == "by_mode") & (table["wave"] == "T1")].set_index("subgroup")
    assert list(mode.index) == ["on_site", "online", "online - on_site"]
    assert (mode.loc["online - on_site", "estimate"]
            == pytest.approx(mode.loc["online", "estimate"] - mode.loc["on_site", "estimate"], abs=1e-10))
    row = mode.loc["online - on_site"]
    t = stats.t.ppf(0.975, row["df"])
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * t * row["se"], rel=1e-12)
    assert row["p"] == pytest.approx(2 * stats.t.sf(abs(row["estimate"] / row["se"]), row["df"]), rel=1e-12)
    in_t1 = small_long["wave"] == "T1"
    assert mode.loc["online", "n"] == int((in_t1 & (small_long["mode"] == "online")).sum())
    assert row["n"] == int(in_t1.sum())

    guided = table.loc[(table["analysis"] == "by_employees_guided") & (table["wave"] == "T1")].set_index("subgroup")
    assert list(guided.index) == ["<10", ">=10", ">=10 - <10"]
    assert guided.loc["<10", "n"] == int((in_t1 & (small_long["n_employees_guided"] < 10)).sum())


def test_cutoff_is_a_parameter(small_long):
    table = supervisor_sensitivity(small_long, ["knowledge"], guided_cutoff=5, optimizers=("bfgs",))
    guided = table.loc[table["analysis"] == "by_employees_guided", "subgroup"]
    assert set(guided) == {"<5", ">=5", ">=5 - <5"}


def test_a_single_mode_gives_no_interaction_and_says_why(small_long):
    data = small_long.assign(mode="on_site")
    table = supervisor_sensitivity(data, ["knowledge"], optimizers=("bfgs",))
    row = table.loc[table["analysis"] == "by_mode"]
    assert len(row) == 1 and math.isnan(row["estimate"].iloc[0])
    assert "fewer than two subgroups" in row["warnings"].iloc[0]


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: pd.concat([d, d.iloc[[0]]]), "more than one row"),
        (lambda d: d.assign(wave=d["wave"].replace("T0", "baseline")), "not a wave name"),
        (lambda d: d.loc[d["wave"] != "T0"], "reference wave"),
        (lambda d: d.assign(knowledge=d["knowledge"].where(d.index != 5, 7.0)), "outside 1..5"),
        (lambda d: d.drop(columns="training_group"), "no column 'training_group'"),
        (lambda d: d.assign(training_group=d["training_group"].where(d.index != 1, "G09")),
         "more than one training group"),
    ],
)
def test_bad_input_is_an_input_error(small_long, change, match):
    with pytest.raises(InputError, match=match):
        supervisor_effects(change(small_long), ["knowledge"], optimizers=("bfgs",))
