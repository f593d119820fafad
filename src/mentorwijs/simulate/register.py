"""The synthetic study's CBS register extracts, with both potential outcomes of every trainee.

:func:`write_register` writes the files ``config.yaml`` names under ``register`` (key, persons,
payroll per year, socio-economic position, education, residence, address objects,
municipality-to-region table, deaths, migration, business register) and returns the truth
fragment; :func:`simulate_register` does the work and keeps the internal arrays for tests.

Who is in the files
    - the consenting trainees of the study design: found ones under ``RINPERSOONS`` R,
      ``not_found_rin`` ones under S or A (key row and payroll, nothing under R),
      ``not_found_absent`` ones nowhere; the planned ``paid_work_at_baseline=False`` trainees
      have no paid hours in their reference month (their job starts in month -2..0); the
      ``off_support`` trainee was out of work from month -20 and holds, from month -4, a sheltered
      job on a fixed-term contract at a tenth of the minimum wage with an employer unlike any
      other (``OFF_SUPPORT_*``): no candidate has such covariates, so its propensity score lies
      above every control's;
    - a candidate pool of ``BASE_POOL_PER_REGION * pool_scale`` target-group people per control
      region; people who fail one eligibility criterion (no target-group marker, over the state
      pension age, living outside the control regions, moving between regions; 'no paid work at
      baseline' happens by itself); and people known only under RINPERSOONS S or A (payroll).

Selection into training is on the matching variables only: each trainee's history is drawn from
the same model as the pool's (with the trainee's own sex, birth date and region), by weighted
resampling of ``CANDIDATES_PER_TRAINEE`` histories (:func:`selection_weight`). The weights are
functions of register covariates at the reference month defined exactly as the pipeline measures
them (:class:`Covariates`: main job by paid hours, its sheltered status and contract, benefits as
main income, the hourly wage over the covariate window, the employer's size group and sector
category): a sheltered job, a fixed-term contract, benefits and a low wage (``SELECTION``), and
their agreement with the supervisor's organisation (``SUPERVISOR_AGREEMENT``). A valid history
also has its main job in a sector of the trainee's occupation (``OCCUPATION_SECTORS``), a finer
grouping than the pipeline's sector categories; the model lets no outcome depend on the finer
grouping (seasonality belongs to agriculture, a category of its own; pay frequency is shared
within a category). The candidates are drawn from the population model itself, without a
proposal: importance weights of latent traits inside a finite resample would tilt the draw on
those traits. Conditional on the matching variables (and cohort and region pair) the untreated
histories of trainees and pool therefore follow the same model, so matching and
difference-in-differences are unbiased; regions differ in composition only.

Random numbers: the caller's generator is split into independent streams (employers, pool,
trainees, the files of each, replicate futures) and per-person choices use counter-based draws
keyed by the person, so ``pool_scale`` changes the pool and nothing about the trainees.

The effect: from month 1 the exit hazard of the trainee's main job held at the end of the
training is multiplied by ``exp(log_hr_i * shape(month))`` (:func:`employment.effect_shape`);
``log_hr_i = log_hr_peak * g_i / mean(g)`` with ``g_i = exp(sum of modifier terms)``
(``MODIFIERS``), the mean over eligible trainees. Both potential outcomes are simulated with
common random numbers, so the realised effect on the trainees is known exactly (truth.json).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from mentorwijs.errors import InputError
from mentorwijs.simulate.calibration import (  # noqa: F401 (re-exported: the simulator's calibration)
    WINDOW, BASE_POOL_PER_REGION, FAILING_SHARES, NON_R_SHARE, CANDIDATES_PER_TRAINEE, MAX_ROUNDS,
    SELECTION, OFF_SUPPORT_MONTHS, OFF_SUPPORT_WAGE_FACTOR, OFF_SUPPORT_EMPLOYER, SUPERVISOR_AGREEMENT,
    MODIFIERS, EXIT_CALIBRATION, SECOND_JOB_START, SECOND_JOB_TRANSITIONS,
)
from mentorwijs.simulate.employment import (
    AGRICULTURE, BANEN, LANDSCAPING, OCCUPATION_SECTORS, REGULAR, SERVICES, SHELTERED_SECTORS, TEMPORARY, Calendar,
    Jobs, ModelParameters, People, Treatment, absolute_month, day_number, simulate_jobs,
)
from mentorwijs.simulate.payroll import Statements, apportion, hourly_minimum_wage, hours_in_month, pay_statements
from mentorwijs.simulate.places import MUNICIPALITIES, OTHER_REGIONS, YEARS
from mentorwijs.simulate import register_truth
from mentorwijs.simulate.register_files import FILES, build_tables, payroll_file, write_tables
from mentorwijs.simulate.population import EmployerRegister, draw_employers, draw_people
from mentorwijs.simulate.socioeconomic import CODES, MonthlyPosition, monthly_position
from mentorwijs.simulate.world import Population, TraineeHistories, World

# --- defaults (the config.yaml values; callers normally pass the config's own) --------------
DEFAULT_TARGETS: dict[str, Any] = {
    "four_weekly_share": 0.25,
    "jobs_per_person_month": 1.12,
    "agriculture_share": 0.41,
    "monthly_job_exit": {"temporary": 0.040, "permanent": 0.012, "sheltered": 0.005},
    "covid_shock": {"first_month": "2020-03", "last_month": "2020-06", "hazard_ratio": 1.8},
}
DEFAULT_EFFECT: dict[str, Any] = {"log_hr_peak": -2.5, "peak_month": 3, "fade_month": 12, "catch_up": 0.6}
DEFAULT_PAIRS: dict[str, list[str]] = {
    "Rivierenland": ["Noord-Oost Brabant"],
    "Helmond-De Peel": ["Noord-Limburg"],
    "Foodvalley": ["Stedendriehoek en Noord-West Veluwe"],
}
DEFAULT_ANCHORS: dict[str, Any] = {
    "reference_month": -3, "covariate_window_months": 12, "marker_window_months": 24, "panel_first_month": -24,
    "followup_months": 12, "placebo_reference_month": -24, "placebo_post_months": [-23, -15], "job_gap_months": 1,
}
#: the register files, relative to the synthetic study's folder (config.yaml ``register``)
REGISTER_FILES: dict[str, Any] = {"payroll": {year: payroll_file(year) for year in YEARS}, **FILES}


def _merge(defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    out = copy.deepcopy(dict(defaults))
    for key, value in (given or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def model_parameters(targets: Mapping[str, Any]) -> ModelParameters:
    """The employment model's parameters for the ``synthetic.targets`` section."""
    exits, shock = targets["monthly_job_exit"], targets["covid_shock"]
    return ModelParameters(
        exit_temporary=float(exits["temporary"]), exit_permanent=float(exits["permanent"]),
        exit_sheltered=float(exits["sheltered"]), exit_calibration=EXIT_CALIBRATION,
        covid_first=str(shock["first_month"]), covid_last=str(shock["last_month"]),
        covid_exit_hr=float(shock["hazard_ratio"]), four_weekly_share=float(targets["four_weekly_share"]),
        second_job_start=(SECOND_JOB_START
                          * max(float(targets["jobs_per_person_month"]) - 1.0 - SECOND_JOB_TRANSITIONS, 0.0)
                          / (0.12 - SECOND_JOB_TRANSITIONS)),
    )


@dataclass
class RegisterSimulation:
    """What :func:`simulate_register` produced: file tables, truth and the arrays behind it."""

    tables: Mapping[str, pd.DataFrame]  # relative path -> text table (register_files.RegisterTables)
    truth: dict[str, Any]
    trainees: pd.DataFrame  # one row per trainee with a history
    potential: dict[str, Any]  # potential statements and monthly hours of the trainees
    internals: dict[str, Any]


# =============================================================================================
# people of the register
# =============================================================================================
def _draw_pool(rng: np.random.Generator, p: ModelParameters, pairs: Mapping[str, list[str]], ri: Mapping[str, int],
               pool_scale: float) -> tuple[People, np.ndarray]:
    """Candidate pool, people failing one criterion, and non-R people; with their roles."""
    controls = [c for cs in pairs.values() for c in cs]
    interventions = list(pairs)
    n_region = max(1, int(round(BASE_POOL_PER_REGION * pool_scale)))
    n_total = n_region * len(controls)
    parts: list[People] = []
    roles: list[np.ndarray] = []
    for name in controls:
        parts.append(draw_people(rng, n_region, ri[name], p))
        roles.append(np.full(n_region, "pool", dtype=object))
    n = max(2, int(round(FAILING_SHARES["no_marker"] * n_total)))
    regions = rng.choice(np.array([ri[c] for c in controls]), size=n)
    parts.append(draw_people(rng, n, regions, p, kind=np.full(n, REGULAR)))
    roles.append(np.full(n, "no_marker", dtype=object))
    n = max(2, int(round(FAILING_SHARES["over_pension_age"] * n_total)))
    regions = rng.choice(np.array([ri[c] for c in controls]), size=n)
    birth = day_number("1950-01-01") + np.floor(rng.uniform(0, 4, size=n) * 365.25).astype(np.int64)
    old = draw_people(rng, n, regions, p, birth=birth, kind=np.full(n, BANEN))
    old.retire_prob[:] = 0.15
    parts.append(old)
    roles.append(np.full(n, "over_pension_age", dtype=object))
    n = max(2, int(round(FAILING_SHARES["outside_regions"] * n_total)))
    elsewhere = np.array([ri[r] for r in interventions + list(OTHER_REGIONS)])
    parts.append(draw_people(rng, n, rng.choice(elsewhere, size=n), p))
    roles.append(np.full(n, "outside_regions", dtype=object))
    n = max(2, int(round(FAILING_SHARES["mover"] * n_total)))
    control_idx = np.array([ri[c] for c in controls])
    other_idx = np.array([ri[r] for r in list(OTHER_REGIONS) + interventions])
    movers = draw_people(rng, n, rng.choice(control_idx, size=n), p)
    # half move out of a control region, a quarter move in, a quarter move between control regions
    kind = rng.choice(3, size=n, p=[0.5, 0.25, 0.25])
    dest_other = rng.choice(other_idx, size=n)
    dest_control = np.array([rng.choice(control_idx[control_idx != r]) if len(control_idx) > 1 else r
                             for r in movers.region0])
    movers.region1 = np.where(kind == 0, dest_other, np.where(kind == 1, movers.region0, dest_control))
    movers.region0 = np.where(kind == 1, dest_other, movers.region0)
    movers.move_day = day_number("2018-01-01") + np.floor(rng.uniform(0, 4 * 365.25, size=n)).astype(np.int64)
    parts.append(movers)
    roles.append(np.full(n, "mover", dtype=object))
    n = max(3, int(round(NON_R_SHARE * n_total)))
    parts.append(draw_people(rng, n, rng.choice(control_idx, size=n), p))
    roles.append(np.full(n, "non_r", dtype=object))
    return People.concat(parts), np.concatenate(roles)


def _trainee_frame(study: Any, cal: Calendar, anchors: Mapping[str, Any], pairs: Mapping[str, list[str]],
                   ri: Mapping[str, int]) -> pd.DataFrame:
    """The consenting trainees (those sent to CBS) with their anchors and their supervisors' characteristics."""
    emp = study.employees
    emp = emp[emp["register_status"].isin(["found", "not_found_rin", "not_found_absent"])].copy()
    groups = study.groups.set_index("training_group")
    sup = study.supervisors.set_index("castor_id")
    emp["region"] = groups.loc[emp["training_group"], "region"].to_numpy()
    unknown = sorted(set(emp["region"]) - set(pairs))
    if unknown:
        raise InputError(f"training region(s) {unknown} have no control regions in regions.pairs",
                         hint="add them to regions.pairs")
    last = groups.loc[emp["training_group"], "last_meeting"].to_numpy()
    emp["cohort"] = [f"{d.year:04d}-{d.month:02d}" for d in last]
    emp["month0"] = [cal.index(c) for c in emp["cohort"]]
    emp["ref"] = emp["month0"] + int(anchors["reference_month"])
    emp["region_index"] = [ri[r] for r in emp["region"]]
    for column in ("n_employees_guided", "sector", "org_size", "sheltered_workplace"):
        emp[f"sup_{column}"] = sup.loc[emp["supervisor"], column].to_numpy()
    emp["birth_day"] = [int((np.datetime64(d, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))
                        for d in emp["birth_date"]]
    emp["special"] = np.where(~emp["paid_work_at_baseline"], "no_paid_work",
                              np.where(emp["off_support"], "off_support", ""))
    return emp.reset_index(drop=True)


# =============================================================================================
# covariates at the reference month, as the pipeline measures them
# =============================================================================================
#: the pipeline's sector of economic activity as the matching codes it (config.yaml
#: ``register.codes.activity_sectors`` grouped by the levels of ``matching.covariates`` sector):
#: ranges of SBI divisions (the code's first two digits); every other division is services
ACTIVITY_CATEGORIES = (((1, 3), "agriculture"), ((5, 43), "industry_construction"),
                       ((84, 88), "public_education_health"))
SERVICES_CATEGORY = "services"
PUBLIC_CATEGORY = "public_education_health"


def activity_category(sbi: np.ndarray) -> np.ndarray:
    """The matching's sector category of five-digit SBI codes (``ACTIVITY_CATEGORIES``)."""
    division = np.array([int(str(code)[:2]) for code in sbi], dtype=np.int64)
    category = np.full(len(division), SERVICES_CATEGORY, dtype=object)
    for (low, high), name in ACTIVITY_CATEGORIES:
        category[(division >= low) & (division <= high)] = name
    return category


@dataclass
class Covariates:
    """Register covariates of rows at their own reference month, each defined as the register part
    of the pipeline measures it from the extracts (:func:`mentorwijs.register.candidates.unit_covariates`
    and ``eligibility``), so that selecting on them is selecting on the matching variables.

    The main job is the job with the most paid hours in the reference month (ties: the employer
    with the lowest SBEID, then the job listed first); without paid hours ``main_job`` is -1 and
    the main job's attributes are False.
    """

    hours_ref: np.ndarray  # paid hours in the reference month, all jobs
    main_job: np.ndarray  # job index
    months_worked: np.ndarray  # months with at least 1 paid hour in the covariate window
    welfare: np.ndarray  # unemployment benefit or social assistance as main income (SECM 21, 22) in a window month
    disability: np.ndarray  # sickness or disability benefit as main income (SECM 24) in a window month
    marker: np.ndarray  # a target-group marker in the marker window (the months ending at the reference month)
    sheltered: np.ndarray  # the main job is a sheltered (WSW) job
    temporary: np.ndarray  # the main job's statement with the most hours in the month is for a fixed-term contract
    wage_hourly: np.ndarray  # wages / paid hours over the covariate window, all jobs (NaN without paid hours)


def covariates_at_reference(
    people: People, jobs: Jobs, st: Statements, position: MonthlyPosition, cal: Calendar, ref_t: np.ndarray,
    marker_months: int, window: int, employers: EmployerRegister,
) -> Covariates:
    """Covariates each row has at its reference month ``ref_t`` (month index); windows of
    ``window`` and ``marker_months`` months end at the reference month."""
    n = len(people)
    rows = np.arange(n)
    first_abs = absolute_month(cal.out_first)
    n_months = cal.n - cal.out_t
    hours = apportion(st.row, st.start, st.end, st.hours, n, first_abs, n_months)
    wages = apportion(st.row, st.start, st.end, st.wage, n, first_abs, n_months)
    col = ref_t - cal.out_t
    hours_ref = hours[rows, col]
    per_statement = hours_in_month(st, ref_t + cal.first_abs)
    job_hours = np.bincount(st.job, weights=per_statement, minlength=len(jobs))
    order = np.lexsort((np.arange(len(jobs)), employers.sbeid[jobs.employer], -job_hours, jobs.row))
    first = np.ones(len(order), dtype=bool)
    first[1:] = jobs.row[order][1:] != jobs.row[order][:-1]
    best = order[first]
    has = job_hours[best] > 0
    main = np.full(n, -1, dtype=np.int64)
    main[jobs.row[best[has]]] = best[has]
    sheltered = (main >= 0) & jobs.sheltered[np.maximum(main, 0)]
    # the contract of the main job's month: that of its statement with the most hours in the month
    own = np.flatnonzero(main[st.row] == st.job)
    own = own[np.lexsort((own, -per_statement[own], st.row[own]))]
    lead = own[np.r_[True, st.row[own][1:] != st.row[own][:-1]]] if len(own) else own
    temporary = np.zeros(n, dtype=bool)
    temporary[st.row[lead]] = st.temporary[lead]
    worked = np.zeros(n, dtype=int)
    hours_w = np.zeros(n)
    wages_w = np.zeros(n)
    welfare = np.zeros(n, dtype=bool)
    disab = np.zeros(n, dtype=bool)
    for k in range(window):
        c = col - k
        worked += hours[rows, c] >= 1
        hours_w += hours[rows, c]
        wages_w += wages[rows, c]
        code = position.code[rows, ref_t - k]
        welfare |= np.isin(code, (CODES.index("21"), CODES.index("22")))
        disab |= code == CODES.index("24")
    marker = np.zeros(n, dtype=bool)
    for k in range(marker_months):
        marker |= position.marker[rows, ref_t - k]
    wage_hourly = np.where(hours_w > 0, np.maximum(wages_w, 0.0) / np.where(hours_w > 0, hours_w, 1.0), np.nan)
    return Covariates(hours_ref=hours_ref, main_job=main, months_worked=worked, welfare=welfare, disability=disab,
                      marker=marker, sheltered=sheltered, temporary=temporary, wage_hourly=wage_hourly)


def adult_hourly_minimum_wage(days: np.ndarray) -> np.ndarray:
    """The adult hourly minimum wage on ``days`` (euros)."""
    days = np.asarray(days, dtype=np.int64)
    return hourly_minimum_wage(days, days - int(100 * 365.25))


# =============================================================================================
# trainees: selection on the matching variables by weighted resampling
# =============================================================================================
def _candidates(rng: np.random.Generator, tr: pd.DataFrame, which: np.ndarray, m: int,
                p: ModelParameters) -> tuple[People, np.ndarray]:
    """``m`` candidate people per trainee ``which`` (row positions in ``tr``) drawn from the
    population model with the trainee's sex, birth date and region, and the planted histories of
    the trainees without paid work at baseline and off support. Returns them and their trainee."""
    idx = np.repeat(which, m)
    people = draw_people(rng, len(idx), tr["region_index"].to_numpy()[idx], p, birth=tr["birth_day"].to_numpy()[idx],
                         sex=tr["sex"].to_numpy()[idx])
    month0 = tr["month0"].to_numpy()[idx]
    special = tr["special"].to_numpy()[idx]
    occupation = tr["occupation"].to_numpy()[idx]
    sector_choice = np.array([OCCUPATION_SECTORS[o][rng.integers(len(OCCUPATION_SECTORS[o]))] for o in occupation])
    npw = special == "no_paid_work"
    people.force_end[npw] = month0[npw] - 5
    people.force_start[npw] = month0[npw] + rng.integers(-2, 1, size=npw.sum())
    people.force_sector[npw] = sector_choice[npw]
    off = special == "off_support"
    people.force_end[off] = month0[off] + OFF_SUPPORT_MONTHS[0]
    people.force_start[off] = month0[off] + OFF_SUPPORT_MONTHS[1]
    sheltered_sector = np.where(np.isin(sector_choice, SHELTERED_SECTORS), sector_choice,
                                np.where(sector_choice == AGRICULTURE, LANDSCAPING, SERVICES))
    people.force_sector[off] = sheltered_sector[off]
    people.force_sheltered[off] = True
    people.force_contract[off] = TEMPORARY
    people.force_wage[off] = OFF_SUPPORT_WAGE_FACTOR
    return people, idx


def selection_weight(cov: Covariates, category: np.ndarray, size: np.ndarray, ref_day: np.ndarray,
                     sup: pd.DataFrame) -> np.ndarray:
    """The weight of a history in the trainee's draw: ``exp(score) * agreement``, both functions of
    the matching variables only (``cov``, the employer's sector ``category`` and ``size`` group,
    the cohort through ``ref_day``, the first day of the reference month).

    score (``SELECTION``): sheltered job, fixed-term contract, welfare and disability benefits, and
    the hourly wage relative to the adult minimum wage of the reference month; agreement
    (``SUPERVISOR_AGREEMENT``, the factor when they disagree): the supervisor's sheltered
    workplace with the sheltered job, the organisation's size group with the employer's, and a
    public or semi-public supervisor (sector 2, 3) with a job in public administration,
    education or health or a sheltered job (a private one, sector 1, with any other job).
    ``sup`` holds the supervisor's ``sup_sheltered_workplace``, ``sup_org_size``, ``sup_sector``.
    """
    relative_wage = np.nan_to_num(cov.wage_hourly / adult_hourly_minimum_wage(ref_day), nan=1.0)
    score = (
        SELECTION["sheltered"] * cov.sheltered + SELECTION["temporary"] * cov.temporary
        + SELECTION["welfare_benefit"] * cov.welfare
        + SELECTION["disability_benefit"] * cov.disability + SELECTION["relative_wage"] * relative_wage
    )
    public = (category == PUBLIC_CATEGORY) | cov.sheltered
    agree = np.where(cov.sheltered == (sup["sup_sheltered_workplace"].to_numpy() == 1), 1.0,
                     SUPERVISOR_AGREEMENT["sheltered"])
    agree *= np.where(size == sup["sup_org_size"].to_numpy(), 1.0, SUPERVISOR_AGREEMENT["org_size"])
    agree *= np.where(public == (sup["sup_sector"].to_numpy() != 1), 1.0, SUPERVISOR_AGREEMENT["sector"])
    return np.exp(score) * agree


def _select_histories(
    rng: np.random.Generator, tr: pd.DataFrame, employers: EmployerRegister, cal: Calendar, p: ModelParameters,
    anchors: Mapping[str, Any], progress: Callable[[str], None],
) -> tuple[People, Jobs, dict[str, np.ndarray]]:
    """One history per trainee, resampled from model histories with weights on the matching variables."""
    n_tr = len(tr)
    chosen_people: list[People | None] = [None] * n_tr
    chosen_jobs: list[Jobs | None] = [None] * n_tr
    kept = ("temporary", "welfare", "disability", "sheltered", "sector", "category", "size", "wage_hourly")
    chosen_x: dict[str, list[Any]] = {k: [None] * n_tr for k in kept}
    remaining = np.arange(n_tr)
    rounds = 0
    n_candidates = 0
    while len(remaining):
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise RuntimeError("no valid register history found for some trainees")
        people, owner = _candidates(rng, tr, remaining, CANDIDATES_PER_TRAINEE, p)
        n_candidates += len(people)
        jobs = simulate_jobs(people, employers.units, cal, p)
        st = pay_statements(jobs, employers.units.four_weekly[jobs.employer], people, cal, p)
        position = monthly_position(people, jobs, cal, p.lkv_from)
        ref = tr["ref"].to_numpy()[owner]
        month0 = tr["month0"].to_numpy()[owner]
        cov = covariates_at_reference(people, jobs, st, position, cal, ref, int(anchors["marker_window_months"]),
                                      int(anchors["covariate_window_months"]), employers)
        has_main = cov.main_job >= 0
        employer = jobs.employer[np.maximum(cov.main_job, 0)]
        sector = np.where(has_main, jobs.sector[np.maximum(cov.main_job, 0)], -1)
        category = np.where(has_main, activity_category(employers.sbi[employer]), "")
        size = np.where(has_main, employers.units.size_class[employer], 0)
        ref_start = cal.start[ref]
        ref_end = cal.start[ref + 1] - 1
        special = tr["special"].to_numpy()[owner]
        occupation = tr["occupation"].to_numpy()[owner]
        in_occupation = np.array([s in OCCUPATION_SECTORS[o] for s, o in zip(sector, occupation)])
        # hours in month 0 (for trainees whose job starts during the training)
        first_abs = absolute_month(cal.out_first)
        hours_all = apportion(st.row, st.start, st.end, st.hours, len(people), first_abs, cal.n - cal.out_t)
        hours0 = hours_all[np.arange(len(people)), month0 - cal.out_t]
        # validity uses what the pipeline sees at the reference month only (eligibility and the
        # covariates): nothing after it, so untreated futures of trainees and controls agree
        present = (people.leave > ref_end) & (people.arrive <= ref_start)
        age_ok = (people.aow > ref_end) & (people.birth + int(18 * 365.25) <= ref_start)
        base_ok = present & age_ok & cov.marker
        works = base_ok & (cov.hours_ref >= 1) & has_main
        valid = np.where(special == "no_paid_work", base_ok & (cov.hours_ref == 0) & (hours0 >= 1), works)
        valid &= np.where(special == "", in_occupation, True)
        sup = tr[["sup_sheltered_workplace", "sup_org_size", "sup_sector"]].iloc[owner]
        weight = np.where(special == "", selection_weight(cov, category, size, ref_start, sup), 1.0) * valid
        still = []
        for j in remaining:
            members = np.flatnonzero(owner == j)
            w = weight[members]
            if w.sum() <= 0:
                still.append(j)
                continue
            pick = members[rng.choice(len(members), p=w / w.sum())]
            chosen_people[j] = people.take(np.array([pick]))
            chosen_jobs[j] = jobs.take(np.flatnonzero(jobs.row == pick))
            chosen_jobs[j].row = np.zeros(len(chosen_jobs[j]), dtype=np.int64)
            for k, v in (("temporary", cov.temporary), ("welfare", cov.welfare), ("disability", cov.disability),
                         ("sheltered", cov.sheltered), ("sector", sector), ("category", category), ("size", size),
                         ("wage_hourly", cov.wage_hourly)):
                chosen_x[k][j] = v[pick]
        remaining = np.array(still, dtype=np.int64)
        if len(remaining):
            progress(f"  {len(remaining)} trainee(s) need more candidate histories (round {rounds + 1})")
    people = People.concat([c for c in chosen_people])  # type: ignore[misc]
    parts = []
    for j, jb in enumerate(chosen_jobs):
        jb = dataclasses.replace(jb)  # type: ignore[arg-type]
        jb.row = np.full(len(jb), j, dtype=np.int64)
        parts.append(jb)
    jobs = Jobs(**{f.name: np.concatenate([getattr(j, f.name) for j in parts]) for f in dataclasses.fields(Jobs)})
    info = {k: np.array(v) for k, v in chosen_x.items()}
    info["rounds"] = np.array([rounds])
    info["candidates"] = np.array([n_candidates])
    return people, jobs, info


def individual_log_hr(tr: pd.DataFrame, log_hr_peak: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Each trainee's log hazard ratio at the peak: log_hr_peak * g_i / mean(g over eligible trainees)."""
    terms = {
        "temporary_contract": tr["temporary"].astype(float), "welfare_benefit": tr["welfare"].astype(float),
        "disability_benefit": tr["disability"].astype(float),
        "sup_small_caseload": (tr["sup_n_employees_guided"] < 10).astype(float),
        "sup_government": (tr["sup_sector"] == 3).astype(float),
        "sup_sheltered": (tr["sup_sheltered_workplace"] == 1).astype(float),
        "sup_org_size": tr["sup_org_size"].astype(float) - 1,
    }
    g = np.exp(sum(MODIFIERS[k] * v.to_numpy() for k, v in terms.items()))
    eligible = tr["eligible"].to_numpy()
    norm = float(g[eligible].mean()) if eligible.any() else 1.0
    return log_hr_peak * g / norm, g, norm


# =============================================================================================
# the simulation
# =============================================================================================
def simulate_register(
    study: Any,
    rng: np.random.Generator,
    *,
    pool_scale: float = 1.0,
    targets: Mapping[str, Any] | None = None,
    effect: Mapping[str, Any] | None = None,
    regions: Mapping[str, list[str]] | None = None,
    anchors: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> RegisterSimulation:
    """Simulate the register side of the study (see the module docstring); nothing is written."""
    targets = _merge(DEFAULT_TARGETS, targets)
    effect = _merge(DEFAULT_EFFECT, effect)
    pairs = {k: list(v) for k, v in (regions or DEFAULT_PAIRS).items()}
    anchors = _merge(DEFAULT_ANCHORS, anchors)
    if pool_scale <= 0:
        raise InputError("the pool scale must be positive", hint="use e.g. --pool-scale 1")
    p = model_parameters(targets)
    cal = Calendar()
    controls = [c for cs in pairs.values() for c in cs]
    region_names = tuple(pairs) + tuple(controls) + tuple(r for r in OTHER_REGIONS
                                                          if r not in pairs and r not in controls)
    unknown = [r for r in region_names if r not in MUNICIPALITIES]
    if unknown:
        raise InputError(f"the synthetic study has no municipalities for region(s) {unknown}",
                         hint="use the labour-market regions of config.yaml's default regions.pairs")
    ri = {name: i for i, name in enumerate(region_names)}

    # independent streams: the trainees' records do not depend on the size of the pool
    employers_rng, pool_rng, trainee_rng, pool_files_rng, trainee_files_rng, replicate_rng = rng.spawn(6)
    progress("register: employers and the candidate pool")
    employers = draw_employers(employers_rng, len(region_names), p)
    pool, roles = _draw_pool(pool_rng, p, pairs, ri, pool_scale)
    pool_jobs = simulate_jobs(pool, employers.units, cal, p)

    progress("register: trainees' histories (selection on the matching variables)")
    tr = _trainee_frame(study, cal, anchors, pairs, ri)
    has_history = (tr["register_status"] != "not_found_absent").to_numpy()
    tr_hist = tr[has_history].reset_index(drop=True)
    chosen, y0_jobs, x = _select_histories(trainee_rng, tr_hist, employers, cal, p, anchors, progress)
    for k in ("temporary", "welfare", "disability", "sheltered", "sector", "category", "size", "wage_hourly"):
        tr_hist[k] = x[k]
    tr_hist["eligible"] = (tr_hist["register_status"] == "found") & tr_hist["paid_work_at_baseline"]
    tr_hist["matched_set"] = tr_hist["eligible"] & ~tr_hist["off_support"]
    log_hr, g, norm = individual_log_hr(tr_hist, float(effect["log_hr_peak"]))
    tr_hist["log_hr"] = log_hr
    treatment = Treatment(month0=tr_hist["month0"].to_numpy(), log_hr=log_hr, peak_month=int(effect["peak_month"]),
                          fade_month=int(effect["fade_month"]), catch_up=float(effect.get("catch_up", 0.0)))
    y1_jobs = simulate_jobs(chosen, employers.units, cal, p, treatment)
    _check_common_past(y0_jobs, y1_jobs, tr_hist["month0"].to_numpy(), cal)
    _plant_off_support_employer(employers, tr_hist, (y0_jobs, y1_jobs), trainee_rng)

    progress("register: expected effects over replicate futures")
    expected = register_truth.expected_outcomes(replicate_rng, chosen, tr_hist, employers, cal, p, effect, anchors)
    progress("register: payroll, benefits and socio-economic position")
    n_absent = int((~has_history).sum())
    world = World(calendar=cal, params=p, employers=employers, pairs=pairs, region_index=ri, region_names=region_names,
                  anchors=anchors, effect=effect, targets=targets, pool_scale=pool_scale)
    trainees = TraineeHistories(frame=tr_hist, people=chosen, untrained_jobs=y0_jobs, trained_jobs=y1_jobs,
                                n_absent=n_absent, expected=expected)
    sim = _assemble((pool_files_rng, trainee_files_rng), study, world, trainees, pool, roles, pool_jobs)
    sim.internals.update({"g": g, "g_norm": norm,
                          "selection": {k: v for k, v in x.items() if k in ("rounds", "candidates")}})
    return sim


def _plant_off_support_employer(employers: EmployerRegister, tr: pd.DataFrame, job_sets: tuple[Jobs, ...],
                                rng: np.random.Generator) -> None:
    """Move the off-support trainees' planted jobs to employer units of their own (``OFF_SUPPORT_EMPLOYER``).

    Employer identity does not enter the hazards, so both potential histories are unchanged; the
    new units are appended to the register (never chosen for other jobs).
    """
    rows = np.flatnonzero(tr["off_support"].to_numpy() & (tr["register_status"] == "found").to_numpy())
    if not len(rows):
        return
    u = employers.units
    first_new = len(u.region)
    for k, row in enumerate(rows):
        for jobs in job_sets:
            planted = np.flatnonzero((jobs.row == row) & (jobs.slot == 0) & jobs.sheltered
                                     & (jobs.contract == TEMPORARY))
            jobs.employer[planted] = first_new + k
    n = len(rows)
    taken = set(employers.sbeid.tolist())
    new_ids = []
    while len(new_ids) < n:
        candidate = int(10_000 + rng.integers(0, 1_000_000_000 - 10_000))
        if candidate not in taken:
            taken.add(candidate)
            new_ids.append(candidate)
    for name, value in (("region", u.region[0]), ("sector", u.sector[0]), ("sheltered", False), ("weight", 0.0),
                        ("size_class", 1), ("four_weekly", False), ("cao", 1000), ("agency", False)):
        setattr(u, name, np.concatenate([getattr(u, name), np.full(n, value, dtype=getattr(u, name).dtype)]))
    employers.sbeid = np.concatenate([employers.sbeid, np.array(new_ids, dtype=employers.sbeid.dtype)])
    employers.sbi = np.concatenate([employers.sbi, np.full(n, OFF_SUPPORT_EMPLOYER["sbi"], dtype=object)])
    employers.gksbs = np.concatenate([employers.gksbs, np.full((n, employers.gksbs.shape[1]),
                                                               OFF_SUPPORT_EMPLOYER["gksbs"], dtype=object)])
    employers.lower_case = np.concatenate([employers.lower_case,
                                           np.zeros((n, employers.lower_case.shape[1]), dtype=bool)])


def _check_common_past(y0: Jobs, y1: Jobs, month0: np.ndarray, cal: Calendar) -> None:
    """Both potential histories coincide up to the end of month 0 (common random numbers)."""
    for jobs_a, jobs_b in ((y0, y1), (y1, y0)):
        end0 = cal.start[month0[jobs_a.row] + 1] - 1
        early = jobs_a.start <= end0
        a = pd.DataFrame({"row": jobs_a.row[early], "slot": jobs_a.slot[early], "start": jobs_a.start[early],
                          "employer": jobs_a.employer[early],
                          "end": np.where(jobs_a.end[early] <= end0[early], jobs_a.end[early], -1)})
        end0b = cal.start[month0[jobs_b.row] + 1] - 1
        early_b = jobs_b.start <= end0b
        b = pd.DataFrame({"row": jobs_b.row[early_b], "slot": jobs_b.slot[early_b], "start": jobs_b.start[early_b],
                          "employer": jobs_b.employer[early_b],
                          "end": np.where(jobs_b.end[early_b] <= end0b[early_b], jobs_b.end[early_b], -1)})
        if not a.sort_values(list(a.columns)).reset_index(drop=True).equals(
                b.sort_values(list(b.columns)).reset_index(drop=True)):
            raise RuntimeError("the potential histories differ before the end of the training")


def _assemble(rngs, study, world: World, trainees: TraineeHistories, pool: People, roles: np.ndarray,
              pool_jobs: Jobs) -> RegisterSimulation:
    """The written population (pool, then trainees under training), its statements, positions, files and truth."""
    tr, employers, cal = trainees.frame, world.employers, world.calendar
    n_pool = len(pool)
    written = People.concat([pool, trainees.people])
    y1_jobs = trainees.trained_jobs
    shifted = dataclasses.replace(y1_jobs)
    shifted.row = y1_jobs.row + n_pool
    all_jobs = Jobs(**{f.name: np.concatenate([getattr(pool_jobs, f.name), getattr(shifted, f.name)])
                       for f in dataclasses.fields(Jobs)})
    role = np.concatenate([roles,
                           np.where(tr["register_status"] == "found", "trainee", "trainee_non_r").astype(object)])
    statements = pay_statements(all_jobs, employers.units.four_weekly[all_jobs.employer], written, cal, world.params)
    position = monthly_position(written, all_jobs, cal, world.params.lkv_from)
    population = Population(people=written, role=role, jobs=all_jobs, statements=statements, position=position,
                            n_pool=n_pool)
    files = build_tables(rngs, study, tr, population, world)
    truth, potential = register_truth.build_truth(world, trainees, population, files)
    return RegisterSimulation(tables=files.tables, truth=truth, trainees=tr, potential=potential,
                              internals={"files": files, "written": written, "role": role, "jobs": all_jobs,
                                         "statements": statements, "position": position, "calendar": cal,
                                         "employers": employers})


# =============================================================================================
# writing
# =============================================================================================
def write_register(
    study: Any,
    out: str | Path,
    rng: np.random.Generator,
    *,
    pool_scale: float = 1.0,
    targets: Mapping[str, Any] | None = None,
    effect: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] = lambda message: None,
    regions: Mapping[str, list[str]] | None = None,
    anchors: Mapping[str, Any] | None = None,
    trainee_truth: str | Path | None = None,
) -> dict[str, Any]:
    """Write the register files (``REGISTER_FILES``) under ``out`` and return the truth fragment.

    ``targets`` and ``effect`` are config.yaml's ``synthetic.targets`` and ``synthetic.effect``
    (empty: the defaults, which equal config.yaml's values); ``regions`` and ``anchors`` are
    config.yaml's ``regions.pairs`` and ``anchors`` (None: the defaults). ``trainee_truth``:
    also write each trainee's realised effects there (:func:`trainee_effects`).
    """
    sim = simulate_register(study, rng, pool_scale=pool_scale, targets=targets, effect=effect, regions=regions,
                            anchors=anchors, progress=progress)
    progress("register: writing the extracts")
    write_tables(sim.tables, Path(out))
    if trainee_truth is not None:
        from mentorwijs.simulate.writers import write_csv

        write_csv(trainee_effects(sim, anchors), Path(trainee_truth))
    return sim.truth


def trainee_effects(sim: RegisterSimulation, anchors: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Each trainee with a register history: ``rin`` (RINPERSOONS + RINPERSOON, as the register
    part's person table writes it), ``matched_set`` (1: in truth.json's matched trainees) and per
    outcome ``effect_<outcome>``, the realised effect Y(trained) - Y(untrained) averaged over
    months 1..followup (truth.json's ``effects.<outcome>.matched.pooled`` is their mean over the
    matched set). Lets a validation take the truth of any subgroup the analysis forms."""
    followup = int(_merge(DEFAULT_ANCHORS, anchors)["followup_months"])
    files, tr = sim.internals["files"], sim.trainees
    rows = len(sim.internals["written"]) - len(tr) + np.arange(len(tr))
    months = np.asarray(sim.potential["months"])
    post = (months >= 1) & (months <= followup)
    table = {"rin": [f"{a}{b}" for a, b in zip(files.rinpersoons[rows], files.rinpersoon[rows])],
             "matched_set": tr["matched_set"].astype(int).to_numpy()}
    for name in register_truth.OUTCOMES:
        diff = sim.potential["outcomes1"][name] - sim.potential["outcomes0"][name]
        table[f"effect_{name}"] = [f"{v:.10g}" for v in diff[:, post].mean(axis=1)]
    return pd.DataFrame(table).astype(str)
