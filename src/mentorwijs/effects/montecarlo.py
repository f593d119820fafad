"""Monte Carlo validation of the effect estimators on analysis-level data with a known truth.

:func:`simulate_matched_study` draws, in memory, what matching hands to the effects part: a
matched panel (months -24..follow-up) and a survival table, with

- trainees spread over calendar cohorts and matched exactly on cohort and on a binary covariate
  (``temporary_contract``, more common among trainees and raising the risk of losing the job) to
  about ``controls_per_trainee`` control units each, drawn with replacement across trainees from a
  pool in which control persons are candidates in several cohorts; a control's weight is the sum
  of 1/k over the trainees it serves (so persons repeat as units and weights vary);
- employment from a person-level latent Gaussian AR(1) process in calendar time (units of the
  same person in overlapping cohorts share it: clustering), transformed to uniforms and
  thresholded at a unit's employment probability; the training adds ``did_effect(month)`` to
  that probability after month 0, so the true monthly difference-in-differences is exactly
  ``did_effect(month)`` and the true pooled effect its mean over months 1..follow-up;
- job ends from monthly discrete hazards with a person-level frailty and a time-varying hazard
  ratio for trainees (rising to ``log_hr_peak`` at ``peak_month`` and fading by ``fade_month``);
  the true RMST difference at the horizon is computed exactly over the trainees' covariate and
  frailty distribution;
- exits (death, emigration, state pension) independent of the outcomes: person-months after the
  exit are ``observed = 0`` and the survival time is censored there.

The generator does not impose paid work at baseline (conditioning on it would make the true
effect depend on the latent process); the estimators do not rely on it.

:func:`run_validation` repeats simulation and estimation and reports bias, coverage (with the
binomial limits a correct 95% interval would stay inside), the family-wise coverage of the sup-t
band and the power of the pooled effect at the study's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from mentorwijs.effects.did import did_fit, pooled_estimate, supt_critical_value
from mentorwijs.effects._common import t_summary
from mentorwijs.effects.survival import rmst

FRAILTY_VALUES = np.array([0.5, 1.0, 2.0])
FRAILTY_PROBS = np.array([0.25, 0.5, 0.25])


@dataclass(frozen=True)
class Scenario:
    """Sizes and true effects of one simulated study (defaults: the study's size and the published shape)."""

    name: str = "study"
    n_trainees: int = 73
    n_cohorts: int = 8
    controls_per_trainee: int = 25
    pool_persons: int = 8000
    cohorts_per_person: float = 2.0
    first_month: int = -24
    followup_months: int = 12
    reference_month: int = -3
    did_peak: float = 0.10
    log_hr_peak: float = -0.9
    peak_month: int = 6
    fade_month: int = 12
    rmst_horizon: int = 12
    exit_share: float = 0.06
    trainee_temporary: float = 0.45
    control_temporary: float = 0.30
    base_hazard: tuple[float, float] = (0.012, 0.035)
    month0_hazard_factor: float = 2.0
    rho: float = 0.85

    def did_effect(self, months: np.ndarray) -> np.ndarray:
        """True monthly effect on the probability of being employed (0 before month 1).

        Rises linearly to ``did_peak`` at ``peak_month``, stays there for two months, then falls
        linearly to a tenth of the peak at ``fade_month`` (the published curve's shape).
        """
        m = np.asarray(months, dtype=float)
        up = np.clip(m / self.peak_month, 0, 1)
        down = np.clip((m - self.peak_month - 2) / max(self.fade_month - self.peak_month - 2, 1), 0, 1)
        shape = np.where(m >= 1, up * (1 - 0.9 * down), 0.0)
        return self.did_peak * shape

    def log_hr(self, months: np.ndarray) -> np.ndarray:
        """True log hazard ratio of job loss for trainees in each month (0 from ``fade_month`` on)."""
        m = np.asarray(months, dtype=float)
        up = np.clip(m / self.peak_month, 0, 1)
        down = np.clip((m - self.peak_month) / max(self.fade_month - self.peak_month, 1), 0, 1)
        return self.log_hr_peak * np.where(m >= 0, up * (1 - down), 0.0)

    def null(self) -> "Scenario":
        """The same study without any effect of the training."""
        from dataclasses import replace

        return replace(self, name=f"{self.name}_null", did_peak=0.0, log_hr_peak=0.0)


def _hazard(s: Scenario, temporary: np.ndarray, frailty: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Monthly probability of losing the job, units x months 0..horizon-or-follow-up."""
    months = np.arange(0, max(s.followup_months, s.rmst_horizon) + 1)
    base = np.where(temporary == 1, s.base_hazard[1], s.base_hazard[0])
    rate = base[:, None] * frailty[:, None] * np.exp(np.outer(treated, s.log_hr(months)))
    rate[:, 0] *= s.month0_hazard_factor
    return 1 - np.exp(-rate)


def true_rmst_difference(s: Scenario) -> float:
    """Exact RMST(treated) - RMST(control, had they not been trained) for trainees, at the horizon."""
    values = []
    for treated in (1, 0):
        total = 0.0
        for temporary, p_x in ((1, s.trainee_temporary), (0, 1 - s.trainee_temporary)):
            for nu, p_nu in zip(FRAILTY_VALUES, FRAILTY_PROBS):
                h = _hazard(s, np.array([temporary]), np.array([nu]), np.array([treated]))[0]
                surv = np.cumprod(1 - h)[: s.rmst_horizon]
                total += p_x * p_nu * surv.sum()
        values.append(total)
    return float(values[0] - values[1])


@dataclass
class SimulatedStudy:
    panel: pd.DataFrame
    survival: pd.DataFrame
    pairs: pd.DataFrame
    truth: dict = field(default_factory=dict)


def simulate_matched_study(s: Scenario, rng: np.random.Generator) -> SimulatedStudy:
    """One matched study at analysis level (see the module docstring)."""
    C = s.n_cohorts
    cohort_start = np.arange(C) * 3  # calendar month of each cohort's month 0
    P = s.pool_persons
    person_temp, pool_person, pool_cohort, trainee_cohort, trainee_temp, pairs_idx = _draw_matches(s, rng)
    cweights = pairs_idx.groupby("control")["weight"].sum()
    ctrl = cweights.index.to_numpy()

    n_t, n_c = s.n_trainees, len(ctrl)
    unit_person = np.concatenate([np.arange(n_t) + P, pool_person[ctrl]])  # trainee persons after pool persons
    unit_cohort = np.concatenate([trainee_cohort, pool_cohort[ctrl]])
    unit_treated = np.concatenate([np.ones(n_t, np.int64), np.zeros(n_c, np.int64)])
    unit_weight = np.concatenate([np.ones(n_t), cweights.to_numpy()])
    unit_temp = np.concatenate([trainee_temp, person_temp[pool_person[ctrl]]])
    n = n_t + n_c
    unit_names = np.array([f"u{j:05d}" for j in range(n)])
    person_names = np.array([f"p{j:05d}" for j in range(P + n_t)])

    months = np.arange(s.first_month, s.followup_months + 1)
    M = len(months)
    _, inverse = np.unique(unit_person, return_inverse=True)
    employed, frailty = _draw_employment(s, rng, inverse, cohort_start, unit_cohort, unit_temp, unit_treated, months)
    # exits: the first month without observation
    exits = np.where(rng.random(n) < s.exit_share, rng.integers(s.reference_month + 1, s.followup_months + 1, size=n),
                     10 ** 6)
    observed = (months[None, :] < exits[:, None]).astype(np.int64)

    panel = pd.DataFrame(
        {
            "unit": np.repeat(unit_names, M),
            "person": np.repeat(person_names[unit_person], M),
            "cohort": np.repeat(unit_cohort, M),
            "treated": np.repeat(unit_treated, M),
            "weight": np.repeat(unit_weight, M),
            "month": np.tile(months, n),
            "employed_1h": employed.ravel(),
            "observed": observed.ravel(),
        }
    )
    time, event = _draw_job_loss(s, rng, unit_temp, frailty[inverse], unit_treated, exits)
    survival = pd.DataFrame(
        {
            "unit": unit_names,
            "person": person_names[unit_person],
            "cohort": unit_cohort,
            "treated": unit_treated,
            "weight": unit_weight,
            "time_job": time.astype(np.int64),
            "event_job": event,
            "temporary_contract": unit_temp,
        }
    )
    control_unit = {c: unit_names[n_t + j] for j, c in enumerate(ctrl)}
    pairs = pd.DataFrame(
        {
            "trainee_unit": unit_names[pairs_idx["trainee"].to_numpy()],
            "control_unit": pairs_idx["control"].map(control_unit).to_numpy(),
            "cohort": trainee_cohort[pairs_idx["trainee"].to_numpy()],
            "distance": 0.0,
            "weight": pairs_idx["weight"].to_numpy(),
        }
    )
    post = np.arange(1, s.followup_months + 1)
    truth = {
        "did_by_month": dict(zip(post.tolist(), s.did_effect(post).tolist())),
        "did_pooled": float(s.did_effect(post).mean()),
        "rmst_difference": true_rmst_difference(s),
    }
    return SimulatedStudy(panel=panel, survival=survival, pairs=pairs, truth=truth)


def _draw_matches(s: Scenario, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """The control pool (each person's temporary-contract trait and the cohorts they are a
    candidate in), the trainees (cohort, trait) and their matched controls: k controls per
    trainee of the same cohort and trait, weight 1/k each. Returns person_temp, pool_person,
    pool_cohort, trainee_cohort, trainee_temp and the pairs (trainee, control index, weight)."""
    C, P = s.n_cohorts, s.pool_persons
    person_temp = (rng.random(P) < s.control_temporary).astype(np.int64)
    eligible = rng.random((P, C)) < s.cohorts_per_person / C
    pool_person, pool_cohort = np.nonzero(eligible)
    trainee_cohort = np.sort(rng.integers(0, C, size=s.n_trainees))
    trainee_temp = (rng.random(s.n_trainees) < s.trainee_temporary).astype(np.int64)
    pair_trainee, pair_control, pair_weight = [], [], []
    cell = pool_cohort * 2 + person_temp[pool_person]
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(2 * C + 1))
    for i in range(s.n_trainees):
        c = trainee_cohort[i] * 2 + trainee_temp[i]
        cand = order[bounds[c]:bounds[c + 1]]
        k = int(min(len(cand), max(1, rng.integers(s.controls_per_trainee // 2, s.controls_per_trainee * 3 // 2 + 1))))
        chosen = rng.choice(cand, size=k, replace=False)
        pair_trainee += [i] * k
        pair_control += chosen.tolist()
        pair_weight += [1.0 / k] * k
    pairs_idx = pd.DataFrame({"trainee": pair_trainee, "control": pair_control, "weight": pair_weight})
    return person_temp, pool_person, pool_cohort, trainee_cohort, trainee_temp, pairs_idx


def _draw_employment(s: Scenario, rng: np.random.Generator, inverse: np.ndarray, cohort_start: np.ndarray,
                     unit_cohort: np.ndarray, unit_temp: np.ndarray, unit_treated: np.ndarray,
                     months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monthly employment per unit (units x months) from person-level traits (``inverse``: each
    unit's person): a baseline employment probability, a latent AR(1) in calendar time, and the
    effect for trainees. Also returns each person's frailty (drawn here, used by the job loss)."""
    n_p = int(inverse.max()) + 1 if len(inverse) else 0
    base = rng.uniform(0.55, 0.85, size=n_p)
    frailty = rng.choice(FRAILTY_VALUES, p=FRAILTY_PROBS, size=n_p)
    M = len(months)
    T_cal = cohort_start.max() + M
    z = np.empty((n_p, T_cal))
    z[:, 0] = rng.standard_normal(n_p)
    innov = rng.standard_normal((n_p, T_cal)) * np.sqrt(1 - s.rho ** 2)
    for t in range(1, T_cal):
        z[:, t] = s.rho * z[:, t - 1] + innov[:, t]
    u = stats.norm.cdf(z)
    cal = cohort_start[unit_cohort][:, None] + np.arange(M)[None, :]
    u_unit = u[inverse[:, None], cal]
    since = (months - s.first_month)[None, :]
    prob = (base[inverse][:, None] - 0.05 * unit_temp[:, None] - 0.001 * since - 0.004 * since * unit_temp[:, None]
            + unit_treated[:, None] * s.did_effect(months)[None, :])
    return (u_unit < prob).astype(np.int64), frailty


def _draw_job_loss(s: Scenario, rng: np.random.Generator, unit_temp: np.ndarray, unit_frailty: np.ndarray,
                   unit_treated: np.ndarray, exits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time to job loss from discrete hazards in months 0..F, censored at the exit or at the end of
    follow-up: (time, event)."""
    h = _hazard(s, unit_temp, unit_frailty, unit_treated)[:, : s.followup_months + 1]
    lost = rng.random(h.shape) < h
    first = np.where(lost.any(axis=1), lost.argmax(axis=1), 10 ** 6)
    censor = np.minimum(s.followup_months, np.maximum(exits - 1, 0))
    event = (first <= censor).astype(np.int64)
    time = np.where(event == 1, first, censor)
    return time, event


def _one_replication(s: Scenario, rng: np.random.Generator, band_draws: int, level: float) -> dict:
    study = simulate_matched_study(s, rng)
    fit = did_fit(study.panel, "employed_1h", s.reference_month, cr2=False)  # the validation reads CR1
    post = np.arange(1, s.followup_months + 1)
    idx = np.searchsorted(fit.months, post)
    est, se, _ = pooled_estimate(fit, post)
    low, high, _ = t_summary(est, se, fit.df, level)
    m_se = fit.se[idx]
    m_low, m_high, _ = t_summary(fit.estimate[idx], m_se, fit.df, level)
    crit = supt_critical_value(fit.cov[np.ix_(idx, idx)], fit.df, draws=band_draws,
                               seed=int(rng.integers(2 ** 31)), level=level)
    truth_m = np.array([study.truth["did_by_month"][m] for m in post])
    band_cover = bool(np.all(np.abs(fit.estimate[idx] - truth_m) <= crit * m_se))
    r = rmst(study.survival, "job", s.rmst_horizon, level=level).iloc[0]
    return {
        "pooled": est, "pooled_se": se, "pooled_cover": low <= study.truth["did_pooled"] <= high,
        "pooled_excludes_zero": (low > 0) or (high < 0),
        "month_est": fit.estimate[idx], "month_se": m_se, "month_cover": (m_low <= truth_m) & (truth_m <= m_high),
        "band_cover": band_cover,
        "rmst": r["difference"], "rmst_se": r["se"],
        "rmst_cover": r["ci_low"] <= study.truth["rmst_difference"] <= r["ci_high"],
        "rmst_excludes_zero": (r["ci_low"] > 0) or (r["ci_high"] < 0),
        "control_units": int((study.survival["treated"] == 0).sum()),
        "control_persons": int(study.survival.loc[study.survival["treated"] == 0, "person"].nunique()),
        "truth": study.truth,
    }


def _limits(replications: int, nominal: float, family: int = 1) -> tuple[float, float]:
    """Range a coverage share stays inside with 95% probability (Bonferroni over ``family`` checks)."""
    alpha = 0.05 / family
    lo = stats.binom.ppf(alpha / 2, replications, nominal) / replications
    hi = stats.binom.ppf(1 - alpha / 2, replications, nominal) / replications
    return float(lo), float(hi)


def run_validation(
    replications: int,
    seed: int,
    *,
    scenarios: tuple[Scenario, ...] | None = None,
    band_draws: int = 5000,
    level: float = 0.95,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Bias, coverage and power over ``replications`` simulated studies per scenario.

    Default scenarios: ``study`` (the study's size and the published effect shape) and
    ``study_null`` (no effect). Rows (``measure``): ``pooled_did``, ``did_month`` (one per
    follow-up month), ``supt_band`` (family-wise coverage of the simultaneous band),
    ``rmst_difference``, ``power_pooled_did`` and ``power_rmst_difference`` (share of intervals
    excluding 0: power under an effect, type I error under the null). ``coverage_lower`` /
    ``coverage_upper``: the binomial 95% range of the observed coverage if the true coverage is
    the nominal 95% (per month: Bonferroni over the follow-up months); ``verdict`` says whether
    the coverage lies inside it and whether the bias is within 3 Monte Carlo SEs.
    """
    if replications < 1:
        raise ValueError("replications must be at least 1")
    scenarios = scenarios or (Scenario(), Scenario().null())
    rows = []
    for k, s in enumerate(scenarios):
        children = np.random.SeedSequence([seed, k]).spawn(replications)
        results = []
        for r, child in enumerate(children):
            results.append(_one_replication(s, np.random.default_rng(child), band_draws, level))
            if progress and ((r + 1) % 50 == 0 or r + 1 == replications):
                progress(f"{s.name}: {r + 1}/{replications} replications")
        truth = results[0]["truth"]
        R = replications
        common = {"scenario": s.name, "replications": R, "n_trainees": s.n_trainees,
                  "mean_control_units": float(np.mean([x["control_units"] for x in results])),
                  "mean_control_persons": float(np.mean([x["control_persons"] for x in results]))}

        def summary(measure, month, true, est, se, cover, family=1):
            est, se, cover = np.asarray(est, float), np.asarray(se, float), np.asarray(cover, float)
            bias = est.mean() - true
            mc_se = est.std(ddof=1) / np.sqrt(R) if R > 1 else np.nan
            lo, hi = _limits(R, level, family)
            cov = cover.mean()
            ok_cov = lo <= cov <= hi
            ok_bias = (not np.isfinite(mc_se)) or abs(bias) <= 3 * mc_se
            verdict = ("coverage within limits" if ok_cov else "coverage outside limits") + (
                "; no detectable bias" if ok_bias else "; bias beyond 3 Monte Carlo SE")
            return {**common, "measure": measure, "month": month, "truth": true, "mean_estimate": est.mean(),
                    "bias": bias, "bias_mc_se": mc_se, "empirical_se": est.std(ddof=1) if R > 1 else np.nan,
                    "mean_se": se.mean(), "coverage": cov, "coverage_lower": lo, "coverage_upper": hi,
                    "verdict": verdict}

        rows.append(summary("pooled_did", pd.NA, truth["did_pooled"], [x["pooled"] for x in results],
                            [x["pooled_se"] for x in results], [x["pooled_cover"] for x in results]))
        F = s.followup_months
        for j, m in enumerate(range(1, F + 1)):
            rows.append(summary("did_month", m, truth["did_by_month"][m], [x["month_est"][j] for x in results],
                                [x["month_se"][j] for x in results], [x["month_cover"][j] for x in results], family=F))
        band = np.mean([x["band_cover"] for x in results])
        lo, hi = _limits(R, level)
        rows.append({**common, "measure": "supt_band", "month": pd.NA, "truth": np.nan, "coverage": band,
                     "coverage_lower": lo, "coverage_upper": hi,
                     "verdict": ("family-wise coverage within limits" if lo <= band <= hi
                                 else "family-wise coverage outside limits")})
        rows.append(summary("rmst_difference", pd.NA, truth["rmst_difference"], [x["rmst"] for x in results],
                            [x["rmst_se"] for x in results], [x["rmst_cover"] for x in results]))
        for measure, key, true in (("power_pooled_did", "pooled_excludes_zero", truth["did_pooled"]),
                                   ("power_rmst_difference", "rmst_excludes_zero", truth["rmst_difference"])):
            share = float(np.mean([x[key] for x in results]))
            what = f"type I error {share:.3f}" if true == 0 else f"power at the study's size {share:.3f}"
            if true == 0:
                lo0, hi0 = _limits(R, 1 - level)
                what += " within limits" if lo0 <= share <= hi0 else " outside limits"
            rows.append({**common, "measure": measure, "month": pd.NA, "truth": true, "coverage": np.nan,
                         "power": share, "verdict": what})
    columns = ["scenario", "measure", "month", "truth", "mean_estimate", "bias", "bias_mc_se", "empirical_se",
               "mean_se", "coverage", "coverage_lower", "coverage_upper", "power", "verdict", "replications",
               "n_trainees", "mean_control_units", "mean_control_persons"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["month"] = table["month"].astype("Int64")
    return table.sort_values(["scenario", "measure", "month"], na_position="first").reset_index(drop=True)


def write_validation_table(table: pd.DataFrame, path: str | Path) -> None:
    """Write the validation table as the project's CSV (:mod:`mentorwijs.tables`), atomically."""
    from mentorwijs.tables import write_csv_table

    write_csv_table(table, path)
