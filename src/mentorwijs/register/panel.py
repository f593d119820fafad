"""Matched units in event time: the monthly panel and the survival view.

Only matched units are expanded (a few thousand rows per month), from the person x month
table built once. Month ``t`` of a unit is calendar month ``cohort + t``.

Monthly outcomes (study.md):

- ``employed_1h``: at least 1 paid hour in the month;
- ``employed_12h``: at least 12 paid hours a week on average: the month's apportioned hours
  divided by its weeks (days / 7);
- ``employed_3m``: ``employed_1h`` in this month and the two before (missing when one of the
  three is unobserved or outside the window);
- ``job_held``: the baseline job (the employer of the main job at the reference month) is
  still held. The job ends at the first month after the reference month that starts a run of
  ``job_gap_months`` months without paid hours from that employer, and stays ended; before
  the reference month it is held back to the last such run.

``observed`` is 0 from the month of death, and from the month of emigration up to the month
before a return (and before a first immigration); outcomes of unobserved months are missing,
never "not employed".

Survival (study.md "Time anchors" and "Survival view"): the clock starts at month 0 and
counts whole months. ``time_job``/``event_job``: the end of the baseline job;
``time_work``/``event_work``: the first month without paid work (``employed_1h`` = 0). An end
in months ``reference + 1 .. 0`` is an event at time 0 (the unit stays in). Censoring: end of
follow-up, death, emigration (the last observed month), and reaching the state-pension age
(the month before).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from mentorwijs.files import check_read, check_written
from mentorwijs.register.calendar import month_code, month_length
from mentorwijs.register.candidates import Anchors, EligibilityRule

WEEKLY_HOURS_12H = 12.0
#: Column of the panel and survival tables: 1 for a unit of the main matched sample, 0 for a unit
#: that only the re-matched modifier pairs use (weight 0).
MAIN_SAMPLE = "main_sample"
HOURS_1H = 1.0
_EPS = 1e-9


def observed_months(pids: np.ndarray, persons: pd.DataFrame, migrations: pd.DataFrame,
                    window: tuple[int, int]) -> np.ndarray:
    """Boolean (persons x months) array: 1 while the person lives in the country and is alive."""
    first, last = window
    n_months = last - first + 1
    observed = np.ones((len(pids), n_months), dtype=bool)
    cols = np.arange(first, last + 1)
    death = persons["death_month"].to_numpy(dtype="float64", na_value=np.nan)[pids]
    observed &= ~(cols[None, :] >= death[:, None])
    events = migrations[np.isin(migrations["pid"].to_numpy(), pids)]
    row_of = {int(p): i for i, p in enumerate(pids)}
    for pid, group in events.groupby("pid", sort=True):
        row = row_of[int(pid)]
        abroad_since = None
        for i, (month, emigration) in enumerate(zip(group["month"].to_numpy(), group["emigration"].to_numpy())):
            if emigration:
                if abroad_since is None:
                    abroad_since = int(month)
                continue
            if abroad_since is None and i > 0:
                continue  # an immigration without an emigration before it, after the first event
            since = first if abroad_since is None else abroad_since  # a first immigration: abroad before it
            observed[row, max(since - first, 0):max(int(month) - first, 0)] = False
            abroad_since = None
        if abroad_since is not None:
            observed[row, max(abroad_since - first, 0):] = False
    return observed


def _first_true_after(mask: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per row, the first column > ``after`` where ``mask`` is true (``mask.shape[1]`` if none)."""
    n, t = mask.shape
    cols = np.arange(t)[None, :]
    m = mask & (cols > after[:, None])
    return np.where(m.any(axis=1), m.argmax(axis=1), t)


def _last_true_before(mask: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Per row, the last column < ``before`` where ``mask`` is true (-1 if none)."""
    n, t = mask.shape
    cols = np.arange(t)[None, :]
    m = mask & (cols < before[:, None])
    rev = m[:, ::-1]
    return np.where(m.any(axis=1), t - 1 - rev.argmax(axis=1), -1)


def _runs_starting(z: np.ndarray, length: int) -> np.ndarray:
    """True at column j when ``z[j .. j+length-1]`` are all true (inside the array)."""
    n, t = z.shape
    cum = np.zeros((n, t + 1), dtype=np.int32)
    np.cumsum(z, axis=1, out=cum[:, 1:])
    out = np.zeros_like(z)
    if length <= t:
        out[:, : t - length + 1] = (cum[:, length:] - cum[:, : t - length + 1]) == length
    return out


def _runs_ending(z: np.ndarray, length: int) -> np.ndarray:
    """True at column j when ``z[j-length+1 .. j]`` are all true (inside the array)."""
    starting = _runs_starting(z, length)
    out = np.zeros_like(z)
    if length <= z.shape[1]:
        out[:, length - 1:] = starting[:, : z.shape[1] - length + 1]
    return out


class Histories:
    """Dense histories over the window of the matched units (rows in ``units`` order)."""

    def __init__(self, units: pd.DataFrame, persons: pd.DataFrame, person_months: pd.DataFrame,
                 employer_months: pd.DataFrame, migrations: pd.DataFrame, *, window: tuple[int, int],
                 anchors: Anchors, rule: EligibilityRule):
        first, last = window
        self.window, self.anchors = window, anchors
        n_units, n_months = len(units), last - first + 1
        person_index = pd.Series(persons["pid"].to_numpy(), index=persons["person"].to_numpy())
        pid = person_index.reindex(units["person"].to_numpy()).to_numpy()
        if np.isnan(pid.astype("float64")).any():
            raise ValueError("matched unit without a register person")
        self.pid = pid.astype(np.int64)
        self.cohort = np.array([month_code(c) for c in units["cohort"]], dtype=np.int64)
        self.c0 = self.cohort - first
        self.ref = self.c0 + anchors.reference_month

        pids = np.unique(self.pid)
        prow = np.searchsorted(pids, self.pid)
        hours_p = np.zeros((len(pids), n_months))
        employer_p = np.full((len(pids), n_months), -1, dtype=np.int64)
        pm = person_months[np.isin(person_months["pid"].to_numpy(), pids)]
        r = np.searchsorted(pids, pm["pid"].to_numpy())
        c = pm["month"].to_numpy(np.int64) - first
        hours_p[r, c] = pm["hours"].to_numpy()
        employer_p[r, c] = pm["employer"].to_numpy()
        self.hours = hours_p[prow]
        self.observed = observed_months(pids, persons, migrations, window)[prow]
        rows = np.arange(n_units)
        self.baseline_employer = employer_p[prow, self.ref]

        em = employer_months[np.isin(employer_months["pid"].to_numpy(), pids)]
        self.paid_baseline = np.zeros((n_units, n_months), dtype=bool)
        if len(em):
            key_units = pd.DataFrame({"pid": self.pid, "employer": self.baseline_employer, "row": rows})
            hits = em[em["hours"].to_numpy() > 0].merge(key_units, on=["pid", "employer"], how="inner")
            self.paid_baseline[hits["row"].to_numpy(), hits["month"].to_numpy(np.int64) - first] = True

        birth = persons["birth_month"].to_numpy(dtype="float64", na_value=np.nan)[self.pid]
        months = np.arange(first, last + 1)
        pension_age = rule.pension_age_months(months // 12) if rule.state_pension_age else np.full(n_months, 10**6)
        reached = (months[None, :] - birth[:, None]) >= pension_age[None, :]
        self.pension_col = np.where(reached.any(axis=1), reached.argmax(axis=1), n_months)

        g = anchors.job_gap_months
        unpaid = ~self.paid_baseline
        end_run = _runs_starting(unpaid & self.observed, g)
        self.job_end = _first_true_after(end_run, self.ref)  # first month of the run that ends the job
        self.job_start_run = _last_true_before(_runs_ending(unpaid, g), self.ref)  # last month of the run before it
        self.censor = _first_true_after(~self.observed | (np.arange(n_months)[None, :] >= self.pension_col[:, None]),
                                        self.ref)
        self.work_end = _first_true_after((self.hours < HOURS_1H - _EPS) & self.observed, self.ref)

    def job_held(self) -> np.ndarray:
        cols = np.arange(self.hours.shape[1])[None, :]
        return (cols > self.job_start_run[:, None]) & (cols < self.job_end[:, None])

    def employed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        first, last = self.window
        e1 = self.hours >= HOURS_1H - _EPS
        weeks = month_length(np.arange(first, last + 1)) / 7.0
        e12 = self.hours / weeks[None, :] >= WEEKLY_HOURS_12H - _EPS
        e3 = np.zeros_like(e1)
        e3[:, 2:] = e1[:, 2:] & e1[:, 1:-1] & e1[:, :-2]
        obs3 = np.zeros_like(e1)
        obs3[:, 2:] = self.observed[:, 2:] & self.observed[:, 1:-1] & self.observed[:, :-2]
        return e1, e12, np.where(obs3, e3, False), obs3


def _nullable(values: np.ndarray, valid: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(np.int8), ~valid)


def event_time_panel(units: pd.DataFrame, histories: Histories) -> pd.DataFrame:
    """The panel: one row per matched unit and month ``panel_first_month .. followup_months``."""
    a = histories.anchors
    months = np.arange(a.panel_first_month, a.followup_months + 1)
    n_u, n_t = len(units), len(months)
    cols = histories.c0[:, None] + months[None, :]
    rows = np.repeat(np.arange(n_u), n_t)
    flat = cols.ravel()
    e1, e12, e3, obs3 = histories.employed()
    obs = histories.observed[rows, flat]
    held = histories.job_held()[rows, flat]
    hours = np.where(obs, histories.hours[rows, flat], np.nan)
    panel = pd.DataFrame({
        "unit": np.repeat(units["unit"].to_numpy(dtype=object), n_t),
        "person": np.repeat(units["person"].to_numpy(dtype=object), n_t),
        "cohort": np.repeat(units["cohort"].to_numpy(dtype=object), n_t),
        "treated": np.repeat(units["treated"].to_numpy(np.int8), n_t),
        "weight": np.repeat(units["weight"].to_numpy(np.float64), n_t),
        "month": np.tile(months, n_u).astype(np.int16),
        "hours": hours,
        "employed_1h": _nullable(e1[rows, flat], obs),
        "employed_12h": _nullable(e12[rows, flat], obs),
        "employed_3m": _nullable(e3[rows, flat], obs3[rows, flat]),
        "job_held": _nullable(held, obs),
        "observed": obs.astype(np.int8),
    })
    if MAIN_SAMPLE in units.columns:
        panel[MAIN_SAMPLE] = np.repeat(units[MAIN_SAMPLE].to_numpy(np.int8), n_t)
    for column in ("unit", "person", "cohort"):
        panel[column] = panel[column].astype("string")
    return panel


def _survival_times(end: np.ndarray, censor: np.ndarray, c0: np.ndarray,
                    followup: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole-month time from month 0 and event indicator (see the module docstring)."""
    t_end = end - c0
    t_censor_last = censor - c0 - 1  # last month at risk
    limit = np.minimum(t_censor_last, followup)
    event = (end < censor) & (t_end <= followup)
    time = np.where(event, np.maximum(t_end, 0), np.maximum(limit, 0))
    return time.astype(np.int16), event.astype(np.int8)


def survival_table(units: pd.DataFrame, histories: Histories, *, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per matched unit: ``unit, person, cohort, treated, weight, time_job, event_job,
    time_work, event_work`` + the unit's other columns (``extra``, aligned with ``units``)."""
    f = histories.anchors.followup_months
    time_job, event_job = _survival_times(histories.job_end, histories.censor, histories.c0, f)
    time_work, event_work = _survival_times(histories.work_end, histories.censor, histories.c0, f)
    table = pd.DataFrame({
        "unit": units["unit"].astype("string").to_numpy(),
        "person": units["person"].astype("string").to_numpy(),
        "cohort": units["cohort"].astype("string").to_numpy(),
        "treated": units["treated"].to_numpy(np.int8),
        "weight": units["weight"].to_numpy(np.float64),
        "time_job": time_job,
        "event_job": event_job,
        "time_work": time_work,
        "event_work": event_work,
    })
    if extra is not None:
        table = pd.concat([table, extra.reset_index(drop=True)], axis=1)
    return table


def employment_share(units: pd.DataFrame, persons: pd.DataFrame, person_months: pd.DataFrame, migrations: pd.DataFrame,
                     *, window: tuple[int, int], anchors: Anchors) -> pd.Series:
    """Per unit (indexed by ``unit``): the share of its observed months ``1 .. followup_months``
    with ``employed_1h`` (at least 1 paid hour), as the panel codes it; missing when no such
    month is observed (dead, abroad, or beyond the register window). The outcome of the
    prognostic score (:func:`mentorwijs.matching.prognostic_score`)."""
    first, last = window
    n_months = last - first + 1
    person_index = pd.Series(persons["pid"].to_numpy(), index=persons["person"].to_numpy())
    pid = person_index.reindex(units["person"].to_numpy()).to_numpy(dtype="float64")
    known = np.isfinite(pid)
    pid = np.where(known, pid, -1).astype(np.int64)
    pids = np.unique(pid[known])
    hours = np.zeros((len(pids), n_months))
    pm = person_months[np.isin(person_months["pid"].to_numpy(), pids)]
    hours[np.searchsorted(pids, pm["pid"].to_numpy()), pm["month"].to_numpy(np.int64) - first] = pm["hours"].to_numpy()
    observed = observed_months(pids, persons, migrations, window)
    row = np.searchsorted(pids, pid)
    row = np.where(known, np.minimum(row, max(len(pids) - 1, 0)), 0)
    c0 = np.array([month_code(c) for c in units["cohort"]], dtype=np.int64) - first
    employed = np.zeros(len(units))
    months = np.zeros(len(units))
    for t in range(1, anchors.followup_months + 1):
        col = c0 + t
        inside = known & (col >= 0) & (col < n_months)
        colc = np.clip(col, 0, n_months - 1)
        obs = inside & (observed[row, colc] if len(pids) else False)
        months += obs
        employed += obs & (hours[row, colc] >= HOURS_1H - _EPS) if len(pids) else 0
    share = np.where(months > 0, employed / np.where(months > 0, months, 1), np.nan)
    return pd.Series(share, index=units["unit"].astype(str).to_numpy(), name="employment_share")


def analysis_units(matched: pd.DataFrame, modifier_pairs: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """The units to expand: the matched units (``main_sample`` 1, their matching weight) and the
    units of the modifier pairs the main matching did not use (``main_sample`` 0, weight 0,
    ``pscore`` missing; their row of the candidate table), sorted by unit."""
    from mentorwijs.errors import InputError

    check_read(matched, "matched")
    check_read(modifier_pairs, "modifier_pairs")
    check_read(candidates, "candidates")
    units = matched.copy()
    units[MAIN_SAMPLE] = np.int8(1)
    wanted = pd.Index(pd.concat([modifier_pairs["treated_unit"], modifier_pairs["control_unit"]])
                      .dropna().astype(str).unique())
    others = wanted.difference(pd.Index(matched["unit"].astype(str)))
    if len(others) == 0:
        return units
    extra = candidates[candidates["unit"].astype(str).isin(others)].drop(columns=["tie_order"], errors="ignore").copy()
    if len(extra) != len(others):
        raise InputError(f"{len(others) - len(extra)} unit(s) of the modifier pairs have no row in the candidate table",
                         column="control_unit",
                         hint="the modifier pairs and the candidates must come from the same run")
    extra["weight"] = 0.0
    extra["pscore"] = np.nan
    extra[MAIN_SAMPLE] = np.int8(0)
    extra = extra[list(units.columns)]
    combined = pd.concat([units, extra], ignore_index=True)
    return combined.sort_values("unit", kind="mergesort").reset_index(drop=True)


def supervisor_columns(trainees: pd.DataFrame) -> list[str]:
    """The trainee table's supervisor characteristics (``sup_*``), as effect modifiers."""
    return [c for c in trainees.columns if str(c).startswith("sup_")]


def matched_panel_and_survival(matched: pd.DataFrame, trainees: pd.DataFrame, persons: pd.DataFrame,
                               person_months: pd.DataFrame, employer_months: pd.DataFrame, migrations: pd.DataFrame,
                               *, window: tuple[int, int], anchors: Anchors, rule: EligibilityRule,
                               extra_columns: Mapping | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Panel and survival tables of the matched units (rows sorted by unit, then month)."""
    check_read(matched, "matched")
    units = matched.sort_values("unit", kind="mergesort").reset_index(drop=True)
    histories = Histories(units, persons, person_months, employer_months, migrations, window=window, anchors=anchors,
                          rule=rule)
    panel = event_time_panel(units, histories)
    keys = {"unit", "person", "cohort", "treated", "weight"}
    extra = units[[c for c in units.columns if c not in keys]].reset_index(drop=True)
    sup = supervisor_columns(trainees)
    if sup:
        values = trainees.drop_duplicates("person").set_index("person")[sup]
        values = values.reindex(units["person"].astype(str).to_numpy()).reset_index(drop=True)
        extra = pd.concat([extra, values], axis=1)
    survival = survival_table(units, histories, extra=extra)
    return check_written(panel, "panel"), check_written(survival, "survival")
