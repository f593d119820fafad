"""Time and peak memory of the effects part at a large size.

Builds, in memory, a matched panel and survival table of about 1,500 trainees and 30,000
control units over months -24..12 (37 months: about 1.2 million person-months) with the Monte
Carlo generator of ``mentorwijs.effects.montecarlo``, then runs every estimate the analysis
makes: difference-in-differences per month with the sup-t band (10,000 draws), pooled effect
and placebo for three outcomes, plain and regression-adjusted (ten covariates, 16 regressors),
each with CR2 and Satterthwaite df, trajectories, the fixed-effect variants, and for two survival
outcomes Kaplan-Meier, RMST, Cox (primary with its robust score test, and adjusted), the PH
check and the discrete-time cloglog model, plus two modifiers. Target: < 60 s on 2 cores.

    python benchmarks/effects.py [--trainees 1500] [--controls-per-trainee 26] [--seed 1]

Prints one line per step (seconds) and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import replace

import numpy as np
import pandas as pd


def modifier_pairs(pairs: pd.DataFrame, units: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Pairs within each modifier level, as the register part's re-matching writes them
    (data/processed/modifier_pairs.parquet): the main pairs whose trainee and control share the
    level, each trainee's controls weighted 1/k. A stand-in of the right size for timing."""
    out = []
    for name in names:
        level = units.set_index("unit")[name].astype(str)
        p = pairs.assign(level=pairs["trainee_unit"].map(level).to_numpy(),
                         other=pairs["control_unit"].map(level).to_numpy())
        p = p[p["level"] == p["other"]]
        k = p.groupby("trainee_unit")["control_unit"].transform("size")
        out.append(pd.DataFrame({"modifier": name, "level": p["level"], "treated_unit": p["trainee_unit"],
                                 "control_unit": p["control_unit"], "weight": 1.0 / k}))
    return pd.concat(out, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=1500)
    parser.add_argument("--controls-per-trainee", type=int, default=26)
    parser.add_argument("--pool-persons", type=int, default=160000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from mentorwijs.effects import (
        cloglog_model,
        cox_models,
        did_by_month_table,
        did_fit,
        did_pooled_table,
        kaplan_meier,
        modifiers,
        ph_test,
        placebo,
        rmst,
        trajectories,
    )
    from mentorwijs.effects.montecarlo import Scenario, simulate_matched_study

    timings: list[tuple[str, float]] = []

    def step(name, func, *a, **kw):
        t0 = time.perf_counter()
        out = func(*a, **kw)
        timings.append((name, time.perf_counter() - t0))
        print(f"{name:<44s} {timings[-1][1]:7.2f} s", flush=True)
        return out

    s = replace(Scenario(), n_trainees=args.trainees, controls_per_trainee=args.controls_per_trainee,
                pool_persons=args.pool_persons, n_cohorts=19)
    study = step("generate (not part of the budget)", simulate_matched_study, s, np.random.default_rng(args.seed))
    panel, surv, pairs = study.panel, study.survival, study.pairs
    rng = np.random.default_rng(args.seed + 1)
    # the other outcomes of the data contract, derived so that they are plausible 0/1 columns
    e1 = panel["employed_1h"].to_numpy()
    panel["employed_12h"] = e1 * (rng.random(len(panel)) < 0.8)
    roll = panel.groupby("unit")["employed_1h"].rolling(3, min_periods=1).min().reset_index(level=0, drop=True)
    panel["employed_3m"] = roll.sort_index().astype("Int64")
    surv["time_work"] = np.minimum(surv["time_job"] + rng.integers(0, 3, len(surv)), 12)
    surv["event_work"] = surv["event_job"] * (rng.random(len(surv)) < 0.6)
    surv["age"] = rng.integers(18, 66, len(surv))
    surv["sector"] = rng.choice(["private", "nonprofit", "government"], len(surv))
    units = surv[["unit", "treated", "temporary_contract", "sector"]]
    # covariates of the regression-adjusted DiD, of the size of effects.adjusted_covariates (13
    # columns, about 16 regressors besides the intercept and treated)
    surv["education"] = rng.choice(["1_basic", "2_vocational", "3_secondary", "4_higher", "5_university"], len(surv))
    surv["employer_size"] = rng.choice(["1_small", "2_medium", "3_large", "4_very_large"], len(surv))
    surv["months_worked"] = rng.integers(0, 25, len(surv))
    surv["wage_hourly"] = np.round(rng.lognormal(2.8, 0.3, len(surv)), 2)
    for name in ("sheltered", "benefit_a", "benefit_b"):
        surv[name] = (rng.random(len(surv)) < 0.2).astype(int)
    adjusted = surv[["unit", "age", "temporary_contract", "sector", "education", "employer_size", "months_worked",
                     "wage_hourly", "sheltered", "benefit_a", "benefit_b"]]
    n_tr = int((surv["treated"] == 1).sum())
    print(f"size: {n_tr} trainees, {len(surv) - n_tr} control units, "
          f"{surv.loc[surv['treated'] == 0, 'person'].nunique()} "
          f"control persons, {len(panel)} person-months", flush=True)

    rss_after_generate = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t_start = time.perf_counter()
    budget_steps = len(timings)
    for outcome in ("employed_1h", "employed_12h", "employed_3m"):
        fit = step(f"did fit {outcome}", did_fit, panel, outcome, -3)
        step(f"did_by_month + band {outcome}", did_by_month_table, fit, followup_months=12, band_draws=10000, seed=2)
        step(f"did_pooled {outcome}", did_pooled_table, fit, followup_months=12)
        step(f"placebo {outcome}", placebo, panel, outcome, reference_month=-24, post_months=(-23, -15))
        fit = step(f"adjusted did fit {outcome}", did_fit, panel, outcome, -3, covariates=adjusted)
        step(f"adjusted did_by_month + band {outcome}", did_by_month_table, fit, followup_months=12, band_draws=10000,
             seed=2)
        step(f"adjusted did_pooled {outcome}", did_pooled_table, fit, followup_months=12)
        del fit
        step(f"adjusted placebo {outcome}", placebo, panel, outcome, reference_month=-24, post_months=(-23, -15),
             covariates=adjusted)
    step("trajectories (3 outcomes)", trajectories, panel, ["employed_1h", "employed_12h", "employed_3m"])
    step("did person fixed effects", did_fit, panel, "employed_1h", -3, fixed_effects="person")
    step("did cohort x month fixed effects", did_fit, panel, "employed_1h", -3, fixed_effects="cohort_month")
    for outcome in ("job", "work"):
        step(f"kaplan_meier {outcome}", kaplan_meier, surv, outcome)
        step(f"rmst {outcome}", rmst, surv, outcome, 12)
        step(f"cox primary + score test + adjusted {outcome}", cox_models, surv, outcome,
             covariates=["age", "temporary_contract", "sector"])
        step(f"ph_test {outcome}", ph_test, surv, outcome)
        step(f"cloglog {outcome}", cloglog_model, surv, outcome)
    step("modifiers (2)", modifiers, panel, modifier_pairs(pairs, units, ["temporary_contract", "sector"]),
         ["temporary_contract", "sector"], outcome="employed_1h", reference_month=-3, followup_months=12)
    total = time.perf_counter() - t_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"{'total effects (all steps after generate)':<44s} {total:7.2f} s over {len(timings) - budget_steps} steps")
    print(f"peak resident memory: {rss_after_generate:.0f} MB after generating the data, {peak:.0f} MB at the end")
    return 0 if total < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
