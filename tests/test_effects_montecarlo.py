"""Monte Carlo machinery: the generator's truth, a short validation run and the CLI.

The committed full run (docs/validation/montecarlo.csv) is made by `mentorwijs validate`
outside the tests; here 5 replications only check that the machinery works."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mentorwijs.cli import main
from mentorwijs.effects import did_pooled, rmst
from mentorwijs.effects.montecarlo import Scenario, run_validation, simulate_matched_study, true_rmst_difference


def test_effect_shapes():
    s = Scenario()
    eff = s.did_effect(np.arange(-2, 13))
    assert eff[:3].tolist() == [0, 0, 0]
    assert s.did_effect(np.array([6, 7, 8])).tolist() == [s.did_peak] * 3
    assert s.did_effect(np.array([12]))[0] == pytest.approx(0.1 * s.did_peak)
    assert s.log_hr(np.array([6]))[0] == s.log_hr_peak and s.log_hr(np.array([12]))[0] == 0
    assert true_rmst_difference(s.null()) == 0


def test_generated_study_follows_the_data_contracts_and_the_study_size():
    st = simulate_matched_study(Scenario(), np.random.default_rng(1))
    panel, surv, pairs = st.panel, st.survival, st.pairs
    assert (set(["unit", "person", "cohort", "treated", "weight", "month", "employed_1h", "observed"])
            <= set(panel.columns))
    assert panel["month"].min() == -24 and panel["month"].max() == 12
    assert len(panel) == surv["unit"].nunique() * 37
    assert (surv["treated"] == 1).sum() == 73
    controls = surv[surv["treated"] == 0]
    assert 1300 < controls["person"].nunique() < 1750 and controls["person"].duplicated().any()
    # control weights: sum of 1/k over the trainees served, per cohort summing to the trainees
    by_cohort = surv.groupby(["cohort", "treated"])["weight"].sum().unstack()
    np.testing.assert_allclose(by_cohort[0], by_cohort[1])
    assert pairs.groupby("control_unit")["weight"].sum().sort_index().to_numpy() == pytest.approx(
        controls.set_index("unit")["weight"].sort_index().to_numpy())
    assert (surv["time_job"] == 0).any() and (panel["observed"] == 0).any()


def test_estimators_recover_the_known_truth_in_a_large_study():
    s = replace(Scenario(), n_trainees=1500, controls_per_trainee=4, pool_persons=12000, first_month=-3)
    st = simulate_matched_study(s, np.random.default_rng(12))
    pooled = did_pooled(st.panel, "employed_1h", -3, followup_months=12).iloc[0]
    assert abs(pooled["estimate"] - st.truth["did_pooled"]) < 4 * pooled["se"]
    assert pooled["se"] < 0.02  # large enough for the check to mean something
    r = rmst(st.survival, "job", 12).iloc[0]
    assert abs(r["difference"] - st.truth["rmst_difference"]) < 4 * r["se"]
    assert st.truth["rmst_difference"] > 4 * r["se"]  # the effect is visible at this size


def test_five_replications_run_and_report_every_measure():
    table = run_validation(5, 3, band_draws=1000)
    assert set(table["scenario"]) == {"study", "study_null"}
    per = table[table["scenario"] == "study"]
    assert sorted(per["measure"].unique()) == ["did_month", "pooled_did", "power_pooled_did", "power_rmst_difference",
                                               "rmst_difference", "supt_band"]
    assert (per["measure"] == "did_month").sum() == 12
    cov = table["coverage"].dropna()
    assert ((cov >= 0) & (cov <= 1)).all()
    assert table["verdict"].notna().all() and (table["replications"] == 5).all()


def test_validate_command_writes_a_reproducible_table(tmp_path):
    out = tmp_path / "mc.csv"
    assert main(["validate", "--replications", "2", "--seed", "9", "--out", str(out)]) == 0
    first = out.read_bytes()
    assert main(["validate", "--replications", "2", "--seed", "9", "--out", str(out)]) == 0
    assert out.read_bytes() == first
    table = pd.read_csv(out)
    assert {"scenario", "measure", "coverage", "verdict"} <= set(table.columns)


def test_validate_command_takes_its_settings_from_the_config(tmp_path, repo_root):
    out = tmp_path / "from_config.csv"
    assert main(["validate", "--config", str(repo_root / "config.yaml"), "--replications", "1", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert (table["replications"] == 1).all()
