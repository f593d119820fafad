"""The supervisors' mixed models against independent references.

- sleepstudy (validation.md, lme4's printed output): random intercept and slope, REML and ML;
- dietox in the statsmodels wheel: (1 | Pig) against validation.md, (1 | Litter/Pig) against
  lme4 (tests/reference/supervisors.R -> supervisors_lmer.csv);
- the committed supervisors fixture (nested in training groups, 4 waves, MAR drop-out) and its
  boundary twin against lme4.

Tolerances: fixed effects 1e-4 relative (lme4 and statsmodels solve the same GLS equations, they
agree to about 1e-6); standard errors 1e-4 relative; variance components 1e-3 relative, because
the REML surface is flat near its optimum (optimizers that agree on the log-likelihood to 1e-8
differ in the fourth significant digit of a small variance); REML log-likelihood 1e-6 absolute.
Against printed numbers, half a unit of the last printed digit plus that optimizer spread.
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
    supervisor_effects,
)

DIETOX = Path(statsmodels.__file__).parent / "regression" / "tests" / "results" / "dietox.csv"


def lmer_reference(model: str) -> dict:
    table = pd.read_csv(REFERENCE / "supervisors_lmer.csv", dtype=str, keep_default_na=False)
    table = table.loc[table["model"] == model]
    out: dict = {}
    for row in table.itertuples(index=False):
        value = row.value if row.quantity in ("singular", "version") else float(row.value)
        out.setdefault(row.quantity, {})[row.term] = value
    return out


def test_lmer_fixture_states_its_versions():
    meta = lmer_reference("meta")["version"]
    assert meta["R"].startswith("R version") and meta["lme4"]


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
        (True, {"fixed": (251.4051, 10.4673), "se": (6.8246, 1.5458), "sd": (24.741, 5.922), "corr": 0.066, "sigma": 25.592, "loglik": -871.814}),
        (False, {"fixed": (251.4051, 10.4673), "se": (6.6323, 1.5022), "sd": (23.781, 5.717), "corr": 0.081, "sigma": 25.592, "loglik": -875.970}),
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
    np.testing.assert_allclose(np.sqrt(np.diag(fixed_effects_covariance(fit))), [reference["se"][n] for n in fixed_names], rtol=1e-4)
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
    group, expected = _check_against_lmer(fit, lmer_reference("dietox_nested"), ["(Intercept)", "Time"], "Litter", "Pig:Litter")
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

    data = pd.read_csv(REFERENCE / "supervisors_boundary_data.csv").rename(columns={"score": "knowledge"})
    effects, _ = supervisor_effects(data, ["knowledge"])
    assert effects["boundary"].tolist() == [1, 1, 1]
    assert effects["group_variance"].max() < 1e-6
    assert all("boundary: training_group variance estimated at 0" in w for w in effects["warnings"])
    np.testing.assert_allclose(effects["estimate"], [reference["fixed"][n] for n in FIXED[1:]], rtol=1e-4)


def test_no_usable_fit_gives_empty_result_with_reasons():
    class Failing:
        def fit(self, reml, method):
            raise np.linalg.LinAlgError("Singular matrix")

    fit = fit_mixed_model(Failing(), optimizers=["lbfgs", "nm"])
    assert not fit.ok and not fit.converged
    assert fit.warnings == ("optimizer lbfgs failed: Singular matrix", "optimizer nm failed: Singular matrix")
