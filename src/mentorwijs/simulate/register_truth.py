"""The register side of truth.json: realised effects, survival, subgroups, realism, flow, defects.

Outcomes follow study.md, computed from the trainees' potential pay statements with the
pipeline's apportioning rule (hours spread evenly over the days a statement covers):
``employed_1h`` at least 1 paid hour in the month; ``employed_12h`` at least 12 paid hours a
week on average (the month's hours divided by its days / 7); ``employed_3m`` at least 1 paid
hour in the month and in the two before. The realised ATT of a month is the mean over the
trainees of Y(trained) - Y(untrained): exactly 0 up to month 0 (common random numbers).

Survival (months from month 0): ``job`` ends at the first month from month -2 in which the
baseline employer (the employer of the main job, most hours, at the reference month) pays for
fewer than 1 hour during ``job_gap_months`` consecutive months; ``work`` at the first month from
month -2 with fewer than 1 paid hour. Events during months -2..0 count at time 0. Follow-up is
censored at the month of death, emigration or the state pension age (an event in or after that
month is censored there) and after ``followup_months``. S(t) = P(T > t) by Kaplan-Meier on the
trainees' potential event times (the censoring is the same under both potential outcomes);
RMST(12) = sum of S(0..11).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from mentorwijs.simulate.employment import (
    AGRICULTURE, EXIT, LANDSCAPING, NEVER, SEASONAL_SECTORS, TEMPORARY, Calendar, Jobs, ModelParameters, People,
    Treatment, absolute_month, day_number, month_of_day, simulate_jobs,
)
from mentorwijs.simulate.payroll import (
    FOUR_WEEKLY, FOUR_WEEKLY_GRID, MINIMUM_WAGE, YOUTH_RATES, Statements, apportion, expand_job_months, hours_in_month,
    month_weeks, pay_statements,
)
from mentorwijs.simulate import calibration
from mentorwijs.simulate import population
from mentorwijs.simulate import register_files as rf
from mentorwijs.simulate.places import MERGERS
from mentorwijs.simulate.population import AOW_AGE
from mentorwijs.simulate.world import Population, TraineeHistories, World

OUTCOMES = ("employed_1h", "employed_12h", "employed_3m")
MODIFIER_LEVELS = {
    "temporary_contract": ("temporary", None),
    "welfare_benefit": ("welfare", None),
    "disability_benefit": ("disability", None),
    "sup_small_caseload": ("sup_n_employees_guided", lambda v: (v < 10).astype(int)),
    "sup_government": ("sup_sector", lambda v: (v == 3).astype(int)),
    "sup_sheltered_workplace": ("sup_sheltered_workplace", None),
    "sup_org_size": ("sup_org_size", None),
}


def relative_hours(st: Statements, n: int, month0_abs: np.ndarray, first_rel: int, last_rel: int,
                   mask: np.ndarray | None = None) -> np.ndarray:
    """Apportioned hours per row for months ``first_rel..last_rel`` relative to each row's month 0."""
    lo_abs = int(month0_abs.min()) + first_rel
    hi_abs = int(month0_abs.max()) + last_rel
    sel = np.ones(len(st), dtype=bool) if mask is None else mask
    hours = apportion(st.row[sel], st.start[sel], st.end[sel], st.hours[sel], n, lo_abs, hi_abs - lo_abs + 1)
    cols = (month0_abs[:, None] + np.arange(first_rel, last_rel + 1)[None, :]) - lo_abs
    return hours[np.arange(n)[:, None], cols]


def outcomes(hours: np.ndarray, month0_abs: np.ndarray, first_rel: int) -> dict[str, np.ndarray]:
    """The three outcomes (0/1) from hours per relative month; the first two columns only feed employed_3m."""
    n, m = hours.shape
    abs_month = month0_abs[:, None] + np.arange(first_rel, first_rel + m)[None, :]
    lo = int(abs_month.min())
    weeks = month_weeks(lo, int(abs_month.max()) - lo + 1)[abs_month - lo]
    e1 = hours >= 1
    e12 = hours / weeks >= 12
    e3 = np.zeros_like(e1)
    e3[:, 2:] = e1[:, 2:] & e1[:, 1:-1] & e1[:, :-2]
    return {"employed_1h": e1[:, 2:].astype(int), "employed_12h": e12[:, 2:].astype(int),
            "employed_3m": e3[:, 2:].astype(int)}


def event_times(pay: np.ndarray, censor: np.ndarray, gap: int, first_rel: int,
                followup: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole-month event times from month 0 and event indicators.

    ``pay`` [n, months from ``first_rel``] is 1 where paid (>= 1 hour); the event month is the
    first month from -2 starting ``gap`` months without pay; ``censor`` is the relative month of
    death, emigration or state pension (large when none).
    """
    n, m = pay.shape
    rel = np.arange(first_rel, first_rel + m)
    no_pay = pay < 1
    run = np.ones((n, m), dtype=bool)
    for k in range(gap):
        shifted = np.zeros((n, m), dtype=bool)
        shifted[:, : m - k] = no_pay[:, k:]
        run &= shifted
    run[:, rel < -2] = False
    has = run.any(axis=1)
    first = np.where(has, rel[np.argmax(run, axis=1)], 10**6)
    event = (first <= followup) & (first < censor)
    time = np.where(event, np.maximum(first, 0), np.minimum(np.maximum(np.minimum(censor, followup), 0), followup))
    return time.astype(int), event.astype(int)


def kaplan_meier(time: np.ndarray, event: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """S(k) = P(T > k) for k = 0..horizon; numbers at risk and events per month."""
    surv, at_risk, events = [], [], []
    s = 1.0
    for k in range(horizon + 1):
        r = int((time >= k).sum())
        d = int(((time == k) & (event == 1)).sum())
        s *= (1 - d / r) if r else 1.0
        surv.append(s)
        at_risk.append(r)
        events.append(d)
    return np.array(surv), np.array(at_risk), np.array(events)


def _att(y1: dict[str, np.ndarray], y0: dict[str, np.ndarray], members: np.ndarray, months: np.ndarray,
         followup: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    post = (months >= 1) & (months <= followup)
    for name in OUTCOMES:
        a, b = y1[name][members], y0[name][members]
        diff = (a - b).mean(axis=0) if len(members) else np.zeros(len(months))
        out[name] = {
            "n": int(len(members)), "months": months.tolist(), "att": diff.tolist(),
            "mean_trained": a.mean(axis=0).tolist() if len(members) else [],
            "mean_untrained": b.mean(axis=0).tolist() if len(members) else [], "pooled_months": [1, followup],
            "pooled": float(diff[post].mean()) if len(members) else None,
        }
    return out


def _finite(values: np.ndarray) -> list[float | None]:
    """A JSON list: numbers, None where undefined."""
    return [float(v) if np.isfinite(v) else None for v in values]


def _survival(kind_pay1: np.ndarray, kind_pay0: np.ndarray, censor: np.ndarray, gap: int, first_rel: int, followup: int,
              members: np.ndarray) -> dict[str, Any]:
    t1, e1 = event_times(kind_pay1[members], censor[members], gap, first_rel, followup)
    t0, e0 = event_times(kind_pay0[members], censor[members], gap, first_rel, followup)
    s1, r1, d1 = kaplan_meier(t1, e1, followup)
    s0, r0, d0 = kaplan_meier(t0, e0, followup)
    h1 = np.where(r1 > 0, d1 / np.maximum(r1, 1), np.nan)
    h0 = np.where(r0 > 0, d0 / np.maximum(r0, 1), np.nan)
    rate1 = d1.sum() / max(r1.sum(), 1)
    rate0 = d0.sum() / max(r0.sum(), 1)
    return {
        "n": int(len(members)), "times": list(range(followup + 1)), "S1": s1.tolist(), "S0": s0.tolist(),
        "events_trained": int(e1.sum()), "events_untrained": int(e0.sum()),
        "events_at_time_0_trained": int(((t1 == 0) & (e1 == 1)).sum()),
        "events_at_time_0_untrained": int(((t0 == 0) & (e0 == 1)).sum()), "censored": int((e1 == 0).sum()),
        "rmst_horizon": followup, "rmst_trained": float(s1[:followup].sum()),
        "rmst_untrained": float(s0[:followup].sum()),
        "rmst_difference": float(s1[:followup].sum() - s0[:followup].sum()), "hazard_trained": _finite(h1),
        "hazard_untrained": _finite(h0),
        "hazard_ratio_by_month": _finite(np.where((h0 > 0) & np.isfinite(h1), h1 / np.where(h0 > 0, h0, 1), np.nan)),
        "average_hazard_ratio": float(rate1 / rate0) if rate0 > 0 else None,
        "note": "the training's effect rises and fades, so the hazard ratio is not constant over time: the RMST "
                "difference is the primary contrast, the average hazard ratio (ratio of event rates over months "
                "0..12) a summary only",
    }


def expected_outcomes(
    rng: np.random.Generator, chosen: People, tr: pd.DataFrame, employers: Any, cal: Calendar, p: ModelParameters,
    effect: Mapping[str, Any], anchors: Mapping[str, Any], replicate_rows: int = 4000,
) -> dict[str, Any]:
    """Each trainee's expected outcomes per month under both potential outcomes: the mean over
    replicate futures that keep the history up to month 0 and draw new random numbers after it."""
    n = len(tr)
    replicates = int(max(8, min(50, replicate_rows // max(n, 1))))
    idx = np.tile(np.arange(n), replicates)
    people = chosen.take(idx)
    future = rng.integers(0, 2**64, size=len(idx), dtype=np.uint64, endpoint=False)
    month0 = tr["month0"].to_numpy()[idx]
    month0_abs = month0 + cal.first_abs
    lo, hi = int(anchors["panel_first_month"]) - 2, int(anchors["followup_months"])
    out: dict[str, Any] = {"replicates": replicates}
    for world, log_hr in (("untrained", np.zeros(len(idx))), ("trained", tr["log_hr"].to_numpy()[idx])):
        treatment = Treatment(month0=month0, log_hr=log_hr, peak_month=int(effect["peak_month"]),
                              fade_month=int(effect["fade_month"]), catch_up=float(effect.get("catch_up", 0.0)),
                              future_key=future)
        jobs = simulate_jobs(people, employers.units, cal, p, treatment)
        st = pay_statements(jobs, employers.units.four_weekly[jobs.employer], people, cal, p)
        y = outcomes(relative_hours(st, len(idx), month0_abs, lo, hi), month0_abs, lo)
        out[world] = {k: v.reshape(replicates, n, -1).mean(axis=0) for k, v in y.items()}
    return out


def build_truth(world: World, trainees: TraineeHistories, population: Population, files: Any,
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The register's truth fragment (see the module docstring) and the trainees' potential
    statements, hours and outcomes behind it; ``files``: the register files as written
    (:class:`~mentorwijs.simulate.register_files.RegisterFiles`)."""
    tr = trainees.frame
    potential = _potential(world, trainees)
    matched = np.flatnonzero(tr["matched_set"].to_numpy())
    eligible = np.flatnonzero(tr["eligible"].to_numpy())
    followup = int(world.anchors["followup_months"])
    effects = _effects(potential, trainees.expected, matched, eligible, followup)
    survival = _survival_truth(potential, matched, eligible, world.anchors)
    subgroups = _subgroups(potential, tr, matched, followup)
    realism = _realism(tr, population, files, world)
    flow = _flow(tr, population, files, world, trainees.n_absent)
    parameters = _parameters(world)
    truth = {
        "parameters": {"register": parameters},
        "effects": effects,
        "survival": survival,
        "subgroups": subgroups,
        "realism": realism,
        "flow": {"register": flow},
        "defects": sorted(files.defects,
                          key=lambda d: (d["file"], d["row"] if d["row"] is not None else 0, d["kind"], d["record"])),
    }
    return truth, potential


def _potential(world: World, trainees: TraineeHistories) -> dict[str, Any]:
    """The trainees' potential pay statements without and with the training (``statements0``,
    ``statements1``), their hours per month relative to month 0 from ``first_relative_month``
    (all jobs; ``baseline_*``: only the employer of the main job at the reference month), the
    outcomes per month (``outcomes0``, ``outcomes1``, over ``months``), the month of censoring
    relative to month 0 (death, emigration, state pension) and the baseline employer."""
    tr, chosen = trainees.frame, trainees.people
    y0_jobs, y1_jobs = trainees.untrained_jobs, trainees.trained_jobs
    employers, cal, p, anchors = world.employers, world.calendar, world.params, world.anchors
    n = len(tr)
    followup = int(anchors["followup_months"])
    first_rel = int(anchors["panel_first_month"])
    gap = int(anchors["job_gap_months"])
    ref_rel = int(anchors["reference_month"])
    month0_abs = tr["month0"].to_numpy() + cal.first_abs
    st0 = pay_statements(y0_jobs, employers.units.four_weekly[y0_jobs.employer], chosen, cal, p)
    st1 = pay_statements(y1_jobs, employers.units.four_weekly[y1_jobs.employer], chosen, cal, p)
    lo, hi = first_rel - 2, followup + gap + 1
    h0 = relative_hours(st0, n, month0_abs, lo, hi)
    h1 = relative_hours(st1, n, month0_abs, lo, hi)
    months = np.arange(first_rel, followup + 1)
    span = slice(0, followup - first_rel + 3)
    y0 = outcomes(h0[:, span], month0_abs, lo)
    y1 = outcomes(h1[:, span], month0_abs, lo)
    # baseline employer: the employer of the main job at the reference month (identical in both worlds)
    ref_abs = month0_abs + ref_rel
    per_job = np.bincount(st0.job, weights=hours_in_month(st0, ref_abs), minlength=len(y0_jobs))
    baseline = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        own = np.flatnonzero(y0_jobs.row == i)
        if len(own) and per_job[own].max() > 0:
            baseline[i] = y0_jobs.employer[own[np.argmax(per_job[own])]]
    b0 = relative_hours(st0, n, month0_abs, lo, hi, mask=y0_jobs.employer[st0.job] == baseline[st0.row])
    b1 = relative_hours(st1, n, month0_abs, lo, hi, mask=y1_jobs.employer[st1.job] == baseline[st1.row])
    # censoring: death, emigration, state pension
    leave_abs = np.where(chosen.leave < NEVER, month_of_day(np.minimum(chosen.leave, 10**5)), 10**6)
    aow_abs = month_of_day(chosen.aow)
    censor = np.minimum(leave_abs, aow_abs) - month0_abs
    return {"statements0": st0, "statements1": st1, "hours0": h0, "hours1": h1, "baseline_hours0": b0,
            "baseline_hours1": b1,
                 "first_relative_month": lo, "outcomes0": y0, "outcomes1": y1, "months": months, "censor": censor,
            "baseline_employer": baseline}


def _effects(potential: Mapping[str, Any], expected: Mapping[str, Any], matched: np.ndarray, eligible: np.ndarray,
             followup: int) -> dict[str, Any]:
    """Per outcome and population (matched, eligible): the realised ATT per month and pooled over
    months 1..followup, and the expected ATT over replicate futures, with their definitions."""
    y0, y1, months = potential["outcomes0"], potential["outcomes1"], potential["months"]
    effects = {"matched": _att(y1, y0, matched, months, followup), "eligible": _att(y1, y0, eligible, months, followup)}
    effects = {name: {pop: effects[pop][name] for pop in effects} for name in OUTCOMES}
    post = (months >= 1) & (months <= followup)
    for name in OUTCOMES:
        for pop, members in (("matched", matched), ("eligible", eligible)):
            diff = (expected["trained"][name][members] - expected["untrained"][name][members]).mean(axis=0)
            effects[name][pop]["expected_att"] = diff.tolist()
            effects[name][pop]["expected_pooled"] = float(diff[post].mean())
            effects[name][pop]["expected_replicates"] = int(expected["replicates"])
    for name in OUTCOMES:
        effects[name]["definition"] = {
            "employed_1h": "at least 1 paid hour in the month",
            "employed_12h": "at least 12 paid hours a week: the month's apportioned hours / (days in "
                            "the month / 7) >= 12",
            "employed_3m": "at least 1 paid hour in the month and in each of the two months before",
        }[name]
    effects["expected"] = (
        "expected_att: the mean effect over replicate futures of the same trainees (their histories "
        "up to month 0 kept, new random numbers from month 1 on, common to both potential outcomes); att is the "
        "realised effect, the estimand"
    )
    effects["populations"] = {
        "matched": "trainees found in the register with paid work at baseline and on common support (the trainees the "
                   "default matching keeps)",
        "eligible": "trainees found in the register with paid work at baseline (including the one "
                    "planted off common support)",
    }
    return effects


def _survival_truth(potential: Mapping[str, Any], matched: np.ndarray, eligible: np.ndarray,
                    anchors: Mapping[str, Any]) -> dict[str, Any]:
    """The true survival curves of the baseline job and of paid work, per population."""
    h0, h1, b0, b1 = (potential["hours0"], potential["hours1"], potential["baseline_hours0"],
                      potential["baseline_hours1"])
    censor, lo = potential["censor"], potential["first_relative_month"]
    followup, gap = int(anchors["followup_months"]), int(anchors["job_gap_months"])
    survival: dict[str, Any] = {}
    for kind, pay1, pay0 in (("job", b1, b0), ("work", h1, h0)):
        g = gap if kind == "job" else 1
        survival[kind] = {
            "matched": _survival(pay1, pay0, censor, g, lo, followup, matched),
            "eligible": _survival(pay1, pay0, censor, g, lo, followup, eligible),
        }
    survival["definition"] = {
        "job": f"end of the baseline job: first month from -2 that starts {gap} month(s) without pay (>= 1 hour) from "
               "the employer of the main job at the reference month",
        "work": "first month from -2 without paid work (>= 1 hour)",
        "time_zero": "events in months -2..0 are at time 0; censoring at death, emigration or state pension age (an "
                     "event in or after that month is censored there), and at the end of follow-up",
    }
    return survival


def _subgroups(potential: Mapping[str, Any], tr: pd.DataFrame, matched: np.ndarray, followup: int) -> dict[str, Any]:
    """The pooled ATT on employed_1h among the matched trainees per level of each effect modifier."""
    y0, y1, months = potential["outcomes0"], potential["outcomes1"], potential["months"]
    subgroups: dict[str, Any] = {}
    e1 = y1["employed_1h"] - y0["employed_1h"]
    post_cols = (months >= 1) & (months <= followup)
    for name, (column, transform) in MODIFIER_LEVELS.items():
        values = tr[column].to_numpy()
        values = transform(values) if transform is not None else values.astype(int)
        levels = {}
        for level in sorted(np.unique(values[matched])):
            members = matched[values[matched] == level]
            levels[str(int(level))] = {
                "n": int(len(members)), "att_employed_1h_pooled": float(e1[members][:, post_cols].mean()),
                "mean_log_hr_peak": float(tr["log_hr"].to_numpy()[members].mean()),
            }
        subgroups[name] = levels
    subgroups["definition"] = ("pooled ATT on employed_1h over months 1..followup among the matched trainees, per "
                               "level of each modifier (supervisor modifiers from the supervisors' questionnaire, the "
                               "others from the register at the reference month)")
    return subgroups


def _parameters(world: World) -> dict[str, Any]:
    """The generator's parameters as truth.json records them."""
    p, targets, effect, anchors = world.params, world.targets, world.effect, world.anchors
    pairs, pool_scale = world.pairs, world.pool_scale
    return {
        "targets": dict(targets), "effect": dict(effect), "anchors": dict(anchors),
        "regions_pairs": {k: list(v) for k, v in pairs.items()}, "employment_model": p.as_dict(),
        "effect_model": {
            "shape": "log hazard ratio of leaving the main job held at the end of the training = log_hr_i * "
                     "shape(month); shape 0 up to month 0, linear to 1 at peak_month, linear to 0 "
                     "at fade_month, 0 after",
            "log_hr_i": "log_hr_peak * g_i / mean(g over eligible trainees), g_i = exp(sum of modifier "
                        "coefficient * value)",
            "modifiers": dict(calibration.MODIFIERS),
        },
        "selection": {
            "method": "weighted resampling of model histories per trainee (own sex, birth date and region; drawn from "
                      "the population model), weights exp(score) * supervisor agreement among valid histories; score "
                      "and agreement are functions of the matching variables at the reference month, defined as the "
                      "pipeline measures them",
            "score": dict(calibration.SELECTION),
            "supervisor_disagreement_weight": dict(calibration.SUPERVISOR_AGREEMENT),
            "score_variables": "sheltered and temporary: the main job (most paid hours in the reference month) and its "
                               "statement with the most hours; welfare_benefit / disability_benefit: SECM 21-22 / 24 "
                               "as main income in a month of the covariate window; relative_wage: wages / paid hours "
                               "over the covariate window, all jobs, divided by the adult hourly minimum wage "
                               "of the reference month",
            "agreement_variables": "sheltered job with a sheltered workplace; employer size group with the "
                                   "organisation's size; a job in public administration, education or health (SBI "
                                   "84-88) or a sheltered job with a public or semi-public "
                                   "organisation (sector 2 or 3)",
            "valid": "alive and resident, aged 18 up to the state pension age, a target-group marker in the marker "
                     "window ending at the reference month, at least 1 paid hour in the reference month, the main job "
                     "in a sector of the trainee's occupation",
            "candidates_per_trainee": calibration.CANDIDATES_PER_TRAINEE,
            "off_support": f"out of work from month {calibration.OFF_SUPPORT_MONTHS[0]}, a sheltered job on a "
                           f"fixed-term contract from month {calibration.OFF_SUPPORT_MONTHS[1]}, wage factor "
                           f"{calibration.OFF_SUPPORT_WAGE_FACTOR} of the minimum wage",
        },
        "calibration": {
            "exit_hazard_factors_temporary_permanent_sheltered": list(calibration.EXIT_CALIBRATION),
            "second_job_start_at_1_12": calibration.SECOND_JOB_START,
            "job_changes_per_employed_person_month": calibration.SECOND_JOB_TRANSITIONS,
            "four_weekly_sector_share_factor": population.FOUR_WEEKLY_CALIBRATION,
        },
        "population": {
            "route_shares_born_before_1997": {str(k): v for k, v in population.KIND_SHARES_WSW_POSSIBLE.items()},
            "route_shares_born_1997_or_later": {str(k): v for k, v in population.KIND_SHARES_YOUNG.items()},
            "routes": {"0": "regular (no target group)", "1": "sheltered WSW", "2": "banenafspraak",
                       "3": "disability benefit", "4": "social assistance"},
            "young_share": population.YOUNG_SHARE,
            "wage_dispensation_share_banenafspraak": population.WAGE_DISPENSATION_SHARE,
            "origins": dict(population.ORIGINS),
            "first_generation_share_of_foreign_origin": population.FIRST_GENERATION_SHARE,
        },
        "pool": {"base_per_control_region": calibration.BASE_POOL_PER_REGION, "pool_scale": pool_scale,
                 "failing_shares": dict(calibration.FAILING_SHARES), "non_r_share": calibration.NON_R_SHARE},
        "defect_rates": {"correction": rf.CORRECTION_SHARE, "renumber": rf.RENUMBER_SHARE,
                         "december_2016_statements": rf.DECEMBER_2016_SHARE,
                         "unknown_birth_month": rf.UNKNOWN_BIRTH_MONTH_SHARE,
                         "education_known": list(rf.EDUCATION_KNOWN), "education_dashes": rf.EDUCATION_DASHES},
        "state_pension_age": {str(k): {"years": v[0], "months": v[1]} for k, v in AOW_AGE.items()},
        "minimum_wage_month": dict(MINIMUM_WAGE), "youth_rates_18_19_20": list(YOUTH_RATES),
        "four_weekly_grid_start": FOUR_WEEKLY_GRID,
        "secm_codes": {"11": "working", "21": "unemployment benefit", "22": "social assistance",
                       "24": "sickness or disability benefit", "25": "pension", "31": "in education, no income",
                       "32": "other without income"},
        "municipal_mergers": [{"year": y, "code": c, "name": nm, "from": list(o)} for y, c, nm, o in MERGERS],
        "open_end_date": rf.OPEN_END,
        "defect_row": "line number in a csv file (header = line 1); 1-based case number in a sav file",
        "calendar": {"burn_in_from": "2012-01", "payroll_from": "2016-12", "last_month": "2022-12",
                     "window": list(calibration.WINDOW)},
    }


def _pool_exit_rates(jobs: Jobs, rows_mask: np.ndarray, cal: Calendar, p: ModelParameters) -> dict[str, Any]:
    """Monthly exit rates of main jobs held at the start of a month, by category, in the written window."""
    job, t = expand_job_months(jobs, cal, mask=(jobs.slot == 0) & rows_mask[jobs.row])
    ms = cal.start[t]
    me = cal.start[t + 1] - 1
    held = (jobs.start[job] < ms) & (t >= cal.index("2017-01"))
    ended = (jobs.end[job] <= me) & (jobs.end_reason[job] == EXIT)
    seasonal = np.isin(jobs.sector[job], SEASONAL_SECTORS)
    shock = (t >= cal.index(p.covid_first)) & (t <= cal.index(p.covid_last))
    temp = (jobs.contract[job] == TEMPORARY) & (jobs.converted[job] > ms)
    sheltered = jobs.sheltered[job]
    base = held & ~seasonal & ~shock
    cats = {"temporary": base & temp & ~sheltered, "permanent": base & ~temp & ~sheltered,
            "sheltered": base & sheltered}
    out = {k: {"rate": float(ended[m].mean()), "job_months": int(m.sum())} for k, m in cats.items()}
    out["agriculture_all_months"] = {"rate": float(ended[held & seasonal].mean()),
                                     "job_months": int((held & seasonal).sum())}
    by_moy = {}
    for moy in range(1, 13):
        mm = held & seasonal & ~shock & (cal.month[t] == moy)
        by_moy[str(moy)] = float(ended[mm].mean()) if mm.any() else None
    out["agriculture_by_calendar_month"] = by_moy
    in_shock = held & shock & ~seasonal
    spring = held & ~seasonal & ~shock & np.isin(cal.month[t], (3, 4, 5, 6)) & np.isin(cal.year[t], (2019, 2021))
    out["covid_shock"] = {
        "rate_in_shock_months": float(ended[in_shock].mean()), "rate_march_june_2019_2021": float(ended[spring].mean()),
        "realised_ratio": float(ended[in_shock].mean() / ended[spring].mean()) if ended[spring].mean() > 0 else None,
        "target_hazard_ratio": p.covid_exit_hr,
        "note": "main jobs outside agriculture (the seasonal sector); the ratio also reflects the mix of contracts and "
                "tenure in those months",
    }
    out["definition"] = ("main jobs of pool members held at the start of a month (2017-2022) outside agriculture (the "
                         "seasonal sector) and the 2020 shock; exit = the job ends that month (not by death, "
                         "emigration or pension)")
    return out


def _realism(tr: pd.DataFrame, population: Population, files: Any, world: World) -> dict[str, Any]:
    """Achieved realism figures next to their targets (see the definitions written with them)."""
    written, role, jobs, st, position = (population.people, population.role, population.jobs, population.statements,
                                         population.position)
    cal, p, targets, pairs = world.calendar, world.params, world.targets, world.pairs
    ri, pool_scale = world.region_index, world.pool_scale
    window_first, window_last = day_number("2017-01-01"), day_number("2022-12-31")
    is_r = files.rinpersoons == "R"
    in_window = (st.end >= window_first) & (st.start <= window_last)
    sel = in_window & is_r[st.row]
    job_ids = np.unique(st.job[sel])
    four_weekly_jobs = np.unique(st.job[sel & (st.kind == FOUR_WEEKLY)])
    first_abs = absolute_month("2017-01")
    n_months = 72
    n = len(written)
    hours = apportion(st.row[sel], st.start[sel], st.end[sel], st.hours[sel], n, first_abs, n_months)
    # jobs with positive hours per person-month (a statement covers at most two months)
    keys = []
    rows_sel, jobs_sel, hours_sel = st.row[sel], st.job[sel], st.hours[sel]
    for mcol in (month_of_day(st.start[sel]) - first_abs, month_of_day(st.end[sel]) - first_abs):
        ok = (mcol >= 0) & (mcol < n_months) & (hours_sel > 0)
        keys.append((rows_sel[ok] * n_months + mcol[ok]) * (len(jobs) + 1) + jobs_sel[ok])
    person_month = np.unique(np.concatenate(keys)) // (len(jobs) + 1)
    jobs_count = np.bincount(person_month, minlength=n * n_months).reshape(n, n_months)
    employed = hours >= 1
    jobs_per_employed = float(jobs_count[employed].mean())
    pool_rows = role == "pool"
    exit_rates = _pool_exit_rates(jobs, pool_rows, cal, p)
    # target-group markers among pool members with paid work in December 2019
    t_ref = cal.index("2019-12")
    col = t_ref - cal.index("2017-01")
    works = pool_rows & (hours[:, col] >= 1)
    marker24 = position.marker[:, t_ref - 24 : t_ref].any(axis=1)
    eligible_trainees = tr["eligible"].to_numpy()
    agri = np.isin(tr["sector"].to_numpy(), (AGRICULTURE, LANDSCAPING))
    sizes = {}
    for name in [c for cs in pairs.values() for c in cs]:
        sizes[name] = int(((role == "pool") & (written.region0 == ri[name])).sum())
    roles, counts = np.unique(role, return_counts=True)
    edu = files.tables["cbs/HOOGSTEOPL2021TABV1.csv"]
    return {
        "four_weekly_share": {"achieved": float(len(four_weekly_jobs) / max(len(job_ids), 1)),
                              "target": targets["four_weekly_share"],
                              "definition": "share of jobs (persons under R, statements in 2017-2022) whose "
                                            "employer pays four-weekly"},
        "jobs_per_person_month": {"achieved": jobs_per_employed, "target": targets["jobs_per_person_month"],
                                  "definition": "mean number of jobs with paid hours in person-months with at least 1 "
                                                "paid hour (persons under R, 2017-2022)"},
        "monthly_job_exit": {**exit_rates, "target": dict(targets["monthly_job_exit"])},
        "agriculture_share": {
            "achieved": float(agri[eligible_trainees].mean()) if eligible_trainees.any() else None,
            "target": targets["agriculture_share"],
            "occupation_1_share_eligible": (float((tr["occupation"].to_numpy()[eligible_trainees] == 1).mean())
                                            if eligible_trainees.any() else None),
            "definition": "share of eligible trainees whose main job at the reference month is in agriculture or "
                          "landscaping (by construction: those with occupation 1)",
        },
        "target_group_markers": {
            "share_with_marker_24m_among_pool_working_2019_12": float(marker24[works].mean()) if works.any() else None,
            "share_of_pool_with_any_marker_2017_2022": float(position.marker[pool_rows][:, cal.index("2017-01"):]
                                                             .any(axis=1).mean()),
        },
        "employment_rate_pool_by_year": {str(2017 + k): float((hours[pool_rows][:, 12 * k : 12 * k + 12] >= 1).mean())
                                         for k in range(6)},
        "education_known_share": float((edu["OPLNIVSOI2021AGG4HBMETNIRWO"] != "----").sum() / max(int(is_r.sum()), 1)),
        "pool": {
            "base_per_control_region": calibration.BASE_POOL_PER_REGION, "pool_scale": pool_scale,
            "pool_per_control_region": sizes, "persons_by_role": {str(r): int(c) for r, c in zip(roles, counts)},
            "persons_R": int(is_r.sum()), "persons_non_R": int((~is_r).sum()),
            "payroll_rows": int(files.counts["payroll_rows"]),
        },
    }


def _flow(tr: pd.DataFrame, population: Population, files: Any, world: World, n_absent: int) -> dict[str, Any]:
    """The register side of the flow, by the definitions of the module docstring and study.md;
    ``n_absent``: trainees without any register history."""
    written, role, st = population.people, population.role, population.statements
    position, n_pool = population.position, population.n_pool
    cal, pairs, ri, anchors = world.calendar, world.pairs, world.region_index, world.anchors
    status = tr["register_status"].to_numpy()
    key = files.tables["cbs/koppeltabel.csv"]
    found = status == "found"
    rows = n_pool + np.arange(len(tr))
    ref = tr["ref"].to_numpy()
    n = len(written)
    first_abs = absolute_month(cal.out_first)
    hours = apportion(st.row, st.start, st.end, st.hours, n, first_abs, cal.n - cal.out_t)
    hours_ref = hours[rows, ref - cal.out_t]
    paid = found & (hours_ref >= 1)
    marker_months = int(anchors["marker_window_months"])
    # the window of the pipeline's eligibility: the marker_months months ending at the reference month
    marker = np.array([position.marker[r, t - marker_months + 1 : t + 1].any() for r, t in zip(rows, ref)])
    ref_end = cal.start[ref + 1] - 1
    age_ok = (written.aow[rows] > ref_end) & (written.birth[rows] + int(18 * 365.25) <= ref_end)
    trainees = {
        "sent_to_cbs": int(len(tr) + n_absent), "key_rows": int(len(key)),
        "key_rows_R": int((key["RINPERSOONS"] == "R").sum()), "key_rows_not_R": int((key["RINPERSOONS"] != "R").sum()),
        "no_key_row": int(n_absent), "found": int(found.sum()), "not_found": int((~found).sum() + n_absent),
        "paid_work_at_baseline": int(paid.sum()), "no_paid_work_at_baseline": int((found & ~paid).sum()),
        "with_marker": int((paid & marker).sum()), "age_18_to_pension": int((paid & age_ok).sum()),
        "eligible": int((paid & marker & age_ok).sum()),
        "off_support_planned": int((paid & tr["off_support"].to_numpy()).sum()),
        "matched_planned": int((paid & marker & age_ok & ~tr["off_support"].to_numpy()).sum()),
    }
    # candidates per cohort and region pair
    cohorts = sorted(set(tr.loc[tr["eligible"], "cohort"]))
    pool_like = np.flatnonzero(np.isin(role, ("pool", "no_marker", "over_pension_age", "outside_regions", "mover")))
    per_cell = []
    distinct: set[int] = set()
    for cohort in cohorts:
        t0 = cal.index(cohort)
        t_ref = t0 + int(anchors["reference_month"])
        day_end = int(cal.start[t_ref + 1] - 1)
        present = (written.arrive[pool_like] <= day_end) & (written.leave[pool_like] > day_end)
        region_now = written.region_at(np.full(len(pool_like), day_end), pool_like)
        age = (written.aow[pool_like] > day_end) & (written.birth[pool_like] + int(18 * 365.25) <= day_end)
        work = hours[pool_like, t_ref - cal.out_t] >= 1
        mark = position.marker[pool_like, t_ref - marker_months + 1 : t_ref + 1].any(axis=1)
        for intervention, controls in pairs.items():
            in_region = np.isin(region_now, [ri[c] for c in controls])
            steps = [("in_register", present), ("living_in_control_region", in_region), ("age_18_to_pension", age),
                     ("paid_work_at_baseline", work), ("target_group_marker", mark)]
            keep = np.ones(len(pool_like), dtype=bool)
            cell = {"cohort": cohort, "region_pair": intervention}
            for name, cond in steps:
                keep &= cond
                cell[name] = int(keep.sum())
            cell["trainees_eligible"] = int(((tr["cohort"] == cohort) & (tr["region"] == intervention)
                                             & tr["eligible"]).sum())
            per_cell.append(cell)
            distinct.update(pool_like[keep].tolist())
    totals = {k: int(sum(c[k] for c in per_cell)) for k in ("in_register", "living_in_control_region",
                                                            "age_18_to_pension", "paid_work_at_baseline",
                                                            "target_group_marker")}
    return {
        "trainees": trainees,
        "candidates": {"per_cohort_and_pair": per_cell, "units_by_step": totals,
                       "distinct_eligible_persons": int(len(distinct)),
                       "definition": "people under R (not trainees) per cohort and region pair, criteria applied in "
                                     "this order at the reference month: alive and resident, living in a control "
                                     "region of the pair at the end of the month, aged 18 up to the state pension age, "
                                     "at least 1 paid hour, a target-group marker in the 24 months before"},
    }
