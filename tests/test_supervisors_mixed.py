"""The supervisors' mixed models against independent references.

- sleepstudy (validation.md, lme4's printed output): random intercept and slope, REML and ML;
- dietox in the statsmodels wheel: (1 | Pig) against validation.md, (1 | Litter/Pig) against
  lme4 (tests/reference/supervisors.R -> supervisors_lmer.csv);
- the committed supervisors fixture (nested in training groups, 4 waves, MAR drop-out) and its
  boundary twin against lme4;
- the group-slope model ``score ~ wave + (1 + post | training_group) + (1 | supervisor)`` on the
  slope fixture (groups differ in level and change, 4 of 16 online), on a fixture whose group
  covariance is singular and on one where every group variance is 0, against lme4 and lmerTest
  (Satterthwaite df); and Satterthwaite's df against the closed form of a balanced one-way design.

Tolerances: fixed effects 1e-4 relative (lme4 and statsmodels solve the same GLS equations, they
agree to about 1e-6); standard errors 1e-4 relative; variance components 1e-3 relative, because
the REML surface is flat near its optimum (optimizers that agree on the log-likelihood to 1e-8
differ in the fourth significant digit of a small variance); REML log-likelihood 1e-6 absolute.
Against printed numbers, half a unit of the last printed digit plus that optimizer spread.

The group-slope model is finished on lme4's profiled deviance (``satterthwaite.polish``), so it
reaches lme4's optimum much more closely: fixed effects, SEs and variances agree to about 1e-7
relative (1e-4 is the tolerance the issue asks for, kept here), the REML log-likelihood to 1e-8
(tolerance 1e-6), a variance lme4 puts at 0 is below 1e-8 here (the bound's own slack), and the
Satterthwaite df to about 5e-7 relative: both sides take numerical derivatives with Richardson
extrapolation at optima that differ by ~1e-7, so 1e-5 relative is a tolerance with a margin of 20
and still 100 times tighter than what matters for a t quantile (1e-3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels
import statsmodels.formula.api as smf

from conftest import REFERENCE, shared_file
from mentorwijs.supervisors import (
    boundary_components,
    fit_mixed_model,
    fixed_effects_covariance,
    mixed_contrasts,
    supervisor_effects,
)
from mentorwijs.supervisors import models as supervisor_models
from mentorwijs.supervisors.satterthwaite import RemlDeviance, Satterthwaite, polish, satterthwaite

DIETOX = Path(statsmodels.__file__).parent / "regression" / "tests" / "results" / "dietox.csv"


def lmer_reference(model: str) -> dict:
    table = pd.read_csv(REFERENCE / "supervisors_lmer.csv", dtype=str, keep_default_na=False)
    table = table.loc[table["model"] == model]
    out: dict = {}
    for row in table.itertuples(index=False):
        value = row.value if row.quantity in ("singular", "version", "warning") else float(row.value)
        out.setdefault(row.quantity, {})[row.term] = value
    return out


def test_lmer_fixture_states_its_versions():
    meta = lmer_reference("meta")["version"]
    assert meta["R"].startswith("R version") and meta["lme4"] and meta["lmerTest"] and meta["numDeriv"]


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    data = pd.read_csv(shared_file("reference-data", "sleepstudy.csv"))
    assert data["Reaction"].sum() == pytest.approx(53731.4205, abs=5e-5), "corrupted copy of sleepstudy"
    assert len(data) == 180
    return data


def _random_slope_summary(fit):
    result = fit.result
    cov_re = np.asarray(result.cov_re)
    sds = np.sqrt(np.diag(cov_re))
    return {
        "fixed": np.asarray(result.fe_params),
        "se": np.sqrt(np.diag(fixed_effects_covariance(fit))),
        "sd": sds,
        "corr": cov_re[0, 1] / (sds[0] * sds[1]),
        "sigma": np.sqrt(result.scale),
        "loglik": fit.loglik,
    }


@pytest.mark.parametrize(
    "reml, expected",
    [
        (True, {"fixed": (251.4051, 10.4673), "se": (6.8246, 1.5458), "sd": (24.741, 5.922), "corr": 0.066,
                "sigma": 25.592, "loglik": -871.814}),
        (False, {"fixed": (251.4051, 10.4673), "se": (6.6323, 1.5022), "sd": (23.781, 5.717), "corr": 0.081,
                 "sigma": 25.592, "loglik": -875.970}),
    ],
)
def test_sleepstudy_random_slope_matches_lme4(sleepstudy, reml, expected):
    model = smf.mixedlm("Reaction ~ Days", sleepstudy, groups="Subject", re_formula="~Days")
    fit = fit_mixed_model(model, reml=reml)
    assert fit.converged and fit.boundary == ()
    got = _random_slope_summary(fit)
    # printed to 4 decimals (fixed, SE), 3 decimals (SDs, sigma, log-lik): half a unit, plus
    # the optimizers' spread on the flat surface (SD of the intercept: 24.7404..24.7407)
    np.testing.assert_allclose(got["fixed"], expected["fixed"], atol=5e-5 + 1e-6)
    np.testing.assert_allclose(got["se"], expected["se"], atol=1e-4)
    np.testing.assert_allclose(got["sd"], expected["sd"], atol=1e-3)
    assert got["corr"] == pytest.approx(expected["corr"], abs=5e-4 + 5e-4)
    assert got["sigma"] == pytest.approx(expected["sigma"], abs=1e-3)
    assert got["loglik"] == pytest.approx(expected["loglik"], abs=5e-4)


def test_dietox_random_intercept_matches_validation():
    data = pd.read_csv(DIETOX)
    fit = fit_mixed_model(smf.mixedlm("Weight ~ Time", data, groups="Pig"))
    result = fit.result
    np.testing.assert_allclose(result.fe_params, [15.723523, 6.942505], atol=5e-7 + 1e-5)
    assert result.scale == pytest.approx(11.36692, abs=5e-6 + 1e-4)
    assert float(result.cov_re.iloc[0, 0]) == pytest.approx(40.39395, rel=1e-4)
    assert fit.loglik == pytest.approx(-2404.775, abs=5e-4)


def _check_against_lmer(fit, reference, fixed_names, group_label, vc_label):
    result = fit.result
    np.testing.assert_allclose(result.fe_params, [reference["fixed"][n] for n in fixed_names], rtol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(fixed_effects_covariance(fit))),
                               [reference["se"][n] for n in fixed_names], rtol=1e-4)
    variance = reference["variance"]
    assert result.scale == pytest.approx(variance["Residual"], rel=1e-3)
    assert float(np.asarray(result.vcomp)[0]) == pytest.approx(variance[vc_label], rel=1e-3)
    assert fit.loglik == pytest.approx(reference["loglik_reml"][""], abs=1e-6)
    return float(np.asarray(result.cov_re)[0, 0]), variance[group_label]


def test_dietox_nested_litter_pig_matches_lme4():
    data = pd.read_csv(DIETOX)
    assert data.groupby("Pig")["Litter"].nunique().max() == 1, "pig ids must be unique across litters"
    model = smf.mixedlm("Weight ~ Time", data, groups="Litter", re_formula="1", vc_formula={"Pig": "0 + C(Pig)"})
    fit = fit_mixed_model(model)
    group, expected = _check_against_lmer(fit, lmer_reference("dietox_nested"), ["(Intercept)", "Time"], "Litter",
                                          "Pig:Litter")
    assert group == pytest.approx(expected, rel=1e-3)


def _supervisor_model(path: Path):
    data = pd.read_csv(path)
    for wave in ("T1", "T2", "T3"):
        data[f"w{wave}"] = (data["wave"] == wave).astype(float)
    return data, smf.mixedlm(
        "score ~ wT1 + wT2 + wT3", data, groups="training_group", re_formula="1",
        vc_formula={"supervisor": "0 + C(supervisor)"},
    )


FIXED = ["(Intercept)", "waveT1", "waveT2", "waveT3"]


def test_supervisors_fixture_matches_lme4():
    _, model = _supervisor_model(REFERENCE / "supervisors_data.csv")
    fit = fit_mixed_model(model)
    group, expected = _check_against_lmer(fit, lmer_reference("supervisors"), FIXED, "training_group", "supervisor")
    assert group == pytest.approx(expected, rel=1e-3)
    assert fit.boundary == ()


def test_best_optimizer_reaches_the_optimum_where_lbfgs_stops_short():
    """lbfgs reports convergence below the REML optimum on this fixture; the best fit does not."""
    _, model = _supervisor_model(REFERENCE / "supervisors_data.csv")
    reference = lmer_reference("supervisors")["loglik_reml"][""]
    alone = {m: fit_mixed_model(model, optimizers=[m]) for m in ("lbfgs", "bfgs", "cg", "nm", "powell")}
    assert alone["lbfgs"].converged and alone["lbfgs"].loglik < reference - 0.01
    best = fit_mixed_model(model)
    assert best.loglik == max(f.loglik for f in alone.values())
    assert best.optimizer == max(alone, key=lambda m: alone[m].loglik)
    assert best.loglik == pytest.approx(reference, abs=1e-6)
    assert [a[0] for a in best.attempts] == ["lbfgs", "bfgs", "cg", "nm", "powell"]


def test_boundary_fit_is_flagged_not_an_error():
    """lme4 calls this fit singular (training-group variance 0): flagged, estimates still match."""
    reference = lmer_reference("supervisors_boundary")
    assert reference["singular"][""] == "TRUE"
    _, model = _supervisor_model(REFERENCE / "supervisors_boundary_data.csv")
    fit = fit_mixed_model(model)
    group, expected = _check_against_lmer(fit, reference, FIXED, "training_group", "supervisor")
    assert expected < 1e-10 and group < 1e-6 * fit.result.scale
    assert fit.boundary == ("training_group",)
    assert boundary_components(fit.result) == ["training_group"]
    assert "boundary: training_group variance estimated at 0" in fit.warnings




def test_no_usable_fit_gives_empty_result_with_reasons():
    class Failing:
        def fit(self, reml, method):
            raise np.linalg.LinAlgError("Singular matrix")

    fit = fit_mixed_model(Failing(), optimizers=["lbfgs", "nm"])
    assert not fit.ok and not fit.converged
    assert fit.warnings == ("optimizer lbfgs failed: Singular matrix", "optimizer nm failed: Singular matrix")


# --------------------------------------------------------------------------------------------
# group slopes: lme4 and lmerTest

WAVES = ("T1", "T2", "T3")


def _slope_fit(path: Path, *, mode: bool = False, optimizers=("lbfgs", "bfgs")):
    """mixed_contrasts on a fixture, with every fixed effect of lme4's model and its contrasts."""
    data = pd.read_csv(REFERENCE / path)
    design = pd.DataFrame({f"wave{w}": (data["wave"] == w).astype(float) for w in WAVES}, index=data.index)
    if mode:
        online = (data["mode"] == "online").astype(float)
        design["modeonline"] = online
        for w in WAVES:
            design[f"wave{w}:modeonline"] = design[f"wave{w}"] * online
    contrasts = {"(Intercept)": {"Intercept": 1.0}, **{c: {c: 1.0} for c in design.columns}}
    contrasts["T2 - T1"] = {"waveT1": -1.0, "waveT2": 1.0}
    contrasts["mean T1"] = {"Intercept": 1.0, "waveT1": 1.0}
    contrasts["T1 online"] = {"waveT1": 1.0, "waveT1:modeonline": 1.0} if mode else {"waveT1": 1.0}
    return mixed_contrasts(data.rename(columns={"score": "y"}), "y", design, contrasts,
                           post=data["wave"] != "T0", optimizers=optimizers)


SLOPE_MODELS = [
    ("slopes", "supervisors_slope_data.csv", False, ["T2 - T1", "mean T1"]),
    ("slopes_mode", "supervisors_slope_data.csv", True, ["T1 online"]),
    ("slopes_singular", "supervisors_singular_data.csv", False, ["T2 - T1", "mean T1"]),
    ("slopes_boundary", "supervisors_boundary_data.csv", False, ["T2 - T1", "mean T1"]),
]


@pytest.mark.parametrize("model, path, mode, extra", SLOPE_MODELS, ids=[m[0] for m in SLOPE_MODELS])
def test_group_slope_model_equals_lme4_and_lmertest(model, path, mode, extra):
    reference = lmer_reference(model)
    fitted = _slope_fit(path, mode=mode)
    assert fitted.fit.ok
    for term in reference["fixed"]:
        estimate, se, df = fitted.estimates[term]
        assert estimate == pytest.approx(reference["fixed"][term], rel=1e-4, abs=1e-12)
        assert se == pytest.approx(reference["se"][term], rel=1e-4)
        assert df == pytest.approx(reference["df"][term], rel=1e-5)
        _, _, p = supervisor_models._interval(estimate, se, df, 0.95)
        assert p == pytest.approx(reference["p"][term], rel=1e-4)
    for label in extra:
        estimate, se, df = fitted.estimates[label]
        assert estimate == pytest.approx(reference["contrast_estimate"][label], rel=1e-4)
        assert se == pytest.approx(reference["contrast_se"][label], rel=1e-4)
        assert df == pytest.approx(reference["contrast_df"][label], rel=1e-5)
    variance = reference["variance"]
    expected = {
        "supervisor_variance": variance["supervisor:(Intercept)"],
        "group_variance": variance["training_group:(Intercept)"],
        "slope_variance": variance["training_group:post"],
        "slope_covariance": reference["covariance"]["training_group:(Intercept):post"],
        "residual_variance": variance["Residual"],
    }
    for name, value in expected.items():
        # relative 1e-4; a component lme4 puts at 0 (below 1e-13) is below 1e-8 here
        assert getattr(fitted, name) == pytest.approx(value, rel=1e-4, abs=1e-8), name
    assert fitted.reml_loglik == pytest.approx(reference["loglik_reml"][""], abs=1e-6)
    assert fitted.n_obs == reference["nobs"][""]
    assert bool(fitted.boundary) == (reference["singular"][""] == "TRUE")


def test_hessian_of_the_variance_parameters_equals_lmertest():
    """The eigenvalues of the REML deviance's Hessian in (theta, sigma): the same matrix as
    lmerTest's (at optima 1e-7 apart; numerical second derivatives on both sides)."""
    data = pd.read_csv(REFERENCE / "supervisors_slope_data.csv")
    for w in WAVES:
        data[f"w{w}"] = (data["wave"] == w).astype(float)
    data["post"] = (data["wave"] != "T0").astype(float)
    model = smf.mixedlm("score ~ wT1 + wT2 + wT3", data, groups="training_group", re_formula="~post",
                        vc_formula={"supervisor": "0 + C(supervisor)"})
    fit = fit_mixed_model(model, optimizers=["lbfgs"])
    deviance = RemlDeviance(model)
    phi = deviance.phi_from_result(fit.result)
    reference = lmer_reference("slopes")
    assert deviance.deviance(phi) == pytest.approx(-2 * fit.loglik, abs=1e-8)
    got = satterthwaite(deviance, phi).eigenvalues
    np.testing.assert_allclose(got, sorted(reference["hessian_eigenvalue"].values(), reverse=True), rtol=1e-4)


def test_boundary_of_the_group_slope_is_reported_with_lmertest_df():
    singular = _slope_fit("supervisors_singular_data.csv")
    assert singular.boundary == ["training_group slope perfectly correlated with training_group (singular covariance)"]
    assert "boundary: training_group slope perfectly correlated" in singular.warnings
    assert "Satterthwaite df treat a variance at the boundary as known" in singular.warnings
    zero = _slope_fit("supervisors_boundary_data.csv")
    assert zero.boundary == ["training_group variance estimated at 0", "training_group slope variance estimated at 0"]

    data = pd.read_csv(REFERENCE / "supervisors_boundary_data.csv").rename(columns={"score": "knowledge"})
    effects, _ = supervisor_effects(data, ["knowledge"], optimizers=("lbfgs", "bfgs"))
    reference = lmer_reference("slopes_boundary")
    assert effects["boundary"].tolist() == [1, 1, 1]
    assert effects["group_variance"].max() < 1e-8 and effects["group_slope_variance"].max() < 1e-8
    assert all("boundary: training_group slope variance estimated at 0" in w for w in effects["warnings"])
    np.testing.assert_allclose(effects["estimate"], [reference["fixed"][f"wave{w}"] for w in WAVES], rtol=1e-4)
    np.testing.assert_allclose(effects["df"], [reference["df"][f"wave{w}"] for w in WAVES], rtol=1e-5)


def test_satterthwaite_df_of_a_balanced_one_way_mean_is_groups_minus_1():
    """y_ij = mu + a_i + e_ij with G groups of n: var(mean) = (s_a^2 + s^2 / n) / G is estimated
    by MS_between / (n G), a chi-square with G - 1 df, so Satterthwaite's df is G - 1 exactly
    (REML estimates equal the ANOVA ones when s_a^2 > 0)."""
    rng = np.random.default_rng(11)
    groups, size = 9, 6
    data = pd.DataFrame({"g": np.repeat(np.arange(groups), size)})
    data["y"] = 2.0 + rng.normal(0, 0.8, groups)[data["g"]] + rng.normal(0, 1.0, len(data))
    model = smf.mixedlm("y ~ 1", data, groups="g")
    fit = fit_mixed_model(model)
    deviance = RemlDeviance(model)
    phi, _ = polish(deviance, deviance.phi_from_result(fit.result))
    inference = satterthwaite(deviance, phi)
    assert inference.df(np.array([1.0])) == pytest.approx(groups - 1, rel=1e-6)
    means = data.groupby("g")["y"].mean()
    assert inference.covariance[0, 0] == pytest.approx(means.var(ddof=1) / groups, rel=1e-6)


def test_without_satterthwaite_df_the_fallback_is_groups_minus_1_and_said(monkeypatch):
    def broken(deviance, phi):
        p = deviance.p
        return Satterthwaite(np.eye(p), (), np.zeros((0, 0)), np.array([-1.0]),
                             "Hessian of the REML deviance has negative eigenvalue(s) -1.0e+00")

    monkeypatch.setattr(supervisor_models, "satterthwaite", broken)
    fitted = _slope_fit("supervisors_slope_data.csv")
    assert {df for _, _, df in fitted.estimates.values()} == {15.0}
    assert "Satterthwaite df not available (Hessian of the REML deviance has negative eigenvalue(s) -1.0e+00): " \
           "df = training groups - 1 = 15" in fitted.warnings


def test_when_lme4s_deviance_cannot_be_used_statsmodels_optimum_stands_and_is_said(monkeypatch):
    def failing(deviance, phi):
        raise np.linalg.LinAlgError("Matrix is not positive definite")

    monkeypatch.setattr(supervisor_models, "polish", failing)
    fitted = _slope_fit("supervisors_slope_data.csv")
    reference = lmer_reference("slopes")
    estimate, se, df = fitted.estimates["waveT1"]
    # statsmodels' own optimum: close to lme4's (1e-5), but not finished
    assert estimate == pytest.approx(reference["fixed"]["waveT1"], rel=1e-3)
    assert se == pytest.approx(reference["se"]["waveT1"], rel=1e-3)
    assert df == 15.0
    assert "finishing the fit on lme4's deviance failed (Matrix is not positive definite)" in fitted.warnings
    assert "df = training groups - 1 = 15" in fitted.warnings
