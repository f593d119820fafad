"""Eligible units, their cohort and region pair, and the propensity covariates.

A *unit* is a person in a cohort. ``cohort`` is the calendar month of a training group's
last meeting (month 0); the *reference month* is month ``anchors.reference_month`` (-3), the
baseline. Trainees are units of their own group's cohort; a register person is a candidate
control in every cohort of the region pair whose control regions they live in at that
cohort's reference month (so one person may be a candidate in several cohorts, stacked).

Eligibility (``candidates`` in config.yaml), checked at the unit's reference month:

- ``region``: living in a control region of the pair on the last day of the reference month
  (candidates only; trainees come from their training group's intervention region);
- ``age``: aged ``age_min`` up to the state-pension age of that year;
- ``paid_work``: at least ``min_hours`` paid hours in the reference month;
- ``marker``: a target-group marker in the ``marker_window_months`` months ending at the
  reference month: a sheltered (WSW) job, the employer's banenafspraak wage-cost benefit,
  receipt of a sickness or disability benefit, receipt of social assistance.

Trainees pass the checks named in ``candidates.trainee_criteria``. Covariates are measured in
the ``covariate_window_months`` months ending at the reference month and never later.

Everything is computed vectorised on dense person x month arrays (:class:`MonthArrays`)
built once for the persons concerned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from mentorwijs.errors import ConfigError, InputError
from mentorwijs.files import check_written
from mentorwijs.handover import TRAINEES
from mentorwijs.register.calendar import first_day, last_day, month_code, month_label
from mentorwijs.register.payroll import CONTRACT_FIXED
from mentorwijs.register.persons import REGISTER
from mentorwijs.register.socioeconomic import FLAGS

log = logging.getLogger(__name__)

CRITERIA = ("region", "age", "paid_work", "marker")
MARKERS = ("sheltered_job", "wage_cost_benefit", "disability_benefit", "social_assistance")
CRITERION_TEXT = {
    "region": "not living in a control region of the pair at the reference month",
    "age": "outside the age range at the reference month (or age unknown)",
    "paid_work": "without paid work at baseline",
    "marker": "without a target-group marker",
}

#: Propensity covariates (13), in the order of the published list without region.
COVARIATES = (
    "sex", "age", "education", "migration_background", "months_worked", "years_in_job",
    "benefit_unemployment_assistance", "benefit_sickness_disability", "temporary_contract",
    "sector", "employer_size", "sheltered", "wage_hourly",
)
#: Further characteristics at the reference month (effect modifiers and clustering).
MODIFIERS = ("social_welfare_benefit", "work_disability_benefit", "government_sector", "employer")

#: Flow orders of the steps written here (population employees and controls).
FLOW_ORDER = {
    "paid_work": 130, "age": 140, "marker": 150, "eligible": 160,
    "candidate_units": 110, "candidate_persons": 120,
}
FLOW_STEP = {
    "paid_work": "excluded_without_paid_work_at_baseline",
    "age": "excluded_outside_age_range",
    "marker": "excluded_without_target_group_marker",
}


@dataclass(frozen=True)
class Anchors:
    """Time anchors in months relative to month 0 (``anchors`` in config.yaml)."""

    reference_month: int = -3
    covariate_window_months: int = 12
    marker_window_months: int = 24
    panel_first_month: int = -24
    followup_months: int = 12
    job_gap_months: int = 1

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "Anchors":
        names = cls.__dataclass_fields__
        return cls(**{k: int(section[k]) for k in names if k in section})

    def first_needed(self) -> int:
        """Earliest relative month the register part reads (panel, covariate and marker windows)."""
        return min(self.panel_first_month,
                   self.reference_month - self.covariate_window_months + 1,
                   self.reference_month - self.marker_window_months + 1)


@dataclass(frozen=True)
class EligibilityRule:
    """The candidate rule (``candidates`` in config.yaml)."""

    age_min: int = 18
    state_pension_age: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    min_hours: float = 1.0
    markers: tuple[str, ...] = MARKERS
    trainee_criteria: tuple[str, ...] = ("paid_work", "age")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "EligibilityRule":
        pension = {int(year): (int(v[0]), int(v[1])) for year, v in section["state_pension_age"].items()}
        markers = tuple(section.get("markers", MARKERS))
        unknown = sorted(set(markers) - set(MARKERS))
        if unknown:
            raise ConfigError(f"candidates.markers: unknown marker(s) {', '.join(unknown)}",
                              hint=f"use {', '.join(MARKERS)}")
        criteria = tuple(section.get("trainee_criteria", ("paid_work", "age")))
        bad = sorted(set(criteria) - {"age", "paid_work", "marker"})
        if bad:
            raise ConfigError(f"candidates.trainee_criteria: unknown criterion {', '.join(bad)}",
                              hint="use age, paid_work, marker")
        return cls(age_min=int(section["age_min"]), state_pension_age=pension, min_hours=float(section["min_hours"]),
                   markers=markers, trainee_criteria=criteria)

    def pension_age_months(self, years: np.ndarray) -> np.ndarray:
        """State-pension age in months for calendar years (the latest configured year not after each)."""
        table = sorted(self.state_pension_age.items())
        if not table:
            raise ConfigError("candidates.state_pension_age is empty", hint="give the state-pension age per year")
        years = np.asarray(years, dtype=np.int64)
        if (years < table[0][0]).any():
            raise ConfigError(f"candidates.state_pension_age starts in {table[0][0]}, after year {int(years.min())}",
                              hint="add the state-pension age of the earlier years")
        keys = np.array([y for y, _ in table])
        ages = np.array([a * 12 + m for _, (a, m) in table])
        return ages[np.searchsorted(keys, years, side="right") - 1]


# --------------------------------------------------------------------------------------
# dense month arrays


class MonthArrays:
    """Dense person x month arrays over the window for a set of persons (rows in ``pids`` order).

    ``hours``, ``wage``: all jobs; ``employer``: main job's employer code (-1: no pay);
    ``contract``, ``sheltered``, ``government``: main job; ``any_sheltered``,
    ``wage_cost_benefit``: any job; plus the benefit flags of :data:`FLAGS`.
    """

    INT8 = ("contract", "sheltered", "government", "any_sheltered", "wage_cost_benefit") + FLAGS

    def __init__(self, pids: np.ndarray, person_months: pd.DataFrame, benefits: pd.DataFrame, window: tuple[int, int],
                 *, last_needed: int | None = None):
        self.pids = np.unique(np.asarray(pids, dtype=np.int32))
        self.first, self.window_last = window
        # the months after the last one asked for are not held (``last_needed``: the latest
        # reference month); the arrays always start at the window's first month, so sums over
        # months are the same whatever the end
        self.last = (self.window_last if last_needed is None
                     else max(min(self.window_last, int(last_needed)), self.first))
        self.n_months = self.last - self.first + 1
        shape = (len(self.pids), self.n_months)
        self.hours = np.zeros(shape, dtype=np.float64)
        self.wage = np.zeros(shape, dtype=np.float64)
        self.employer = np.full(shape, -1, dtype=np.int32)
        self.arrays: dict[str, np.ndarray] = {name: np.zeros(shape, dtype=np.int8) for name in self.INT8}
        take, r, c = self._cells(person_months)
        self.hours[r, c] = person_months["hours"].to_numpy()[take]
        self.wage[r, c] = person_months["wage"].to_numpy()[take]
        self.employer[r, c] = person_months["employer"].to_numpy()[take]
        for name in ("contract", "sheltered", "government", "any_sheltered", "wage_cost_benefit"):
            self.arrays[name][r, c] = person_months[name].to_numpy()[take]
        take, r, c = self._cells(benefits)
        for name in FLAGS:
            self.arrays[name][r, c] = benefits[name].to_numpy()[take]
        self._cumulative: dict[str, np.ndarray] = {}

    def _cells(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of ``frame`` of these persons in the months held, and their cells (row, column)."""
        pid = frame["pid"].to_numpy()
        rows = np.searchsorted(self.pids, pid)
        ours = rows < len(self.pids)
        ours[ours] = self.pids[rows[ours]] == pid[ours]
        month = frame["month"].to_numpy(np.int64)
        inside = (month >= self.first) & (month <= self.window_last)
        if not inside[ours].all():
            raise ValueError("month outside the window")
        take = np.flatnonzero(ours & (month <= self.last))
        return take, rows[take], month[take] - self.first

    def rows(self, pids: np.ndarray) -> np.ndarray:
        pids = np.asarray(pids, dtype=np.int32)
        rows = np.searchsorted(self.pids, pids)
        if len(pids) and (rows.max(initial=0) >= len(self.pids)
                          or (self.pids[np.minimum(rows, len(self.pids) - 1)] != pids).any()):
            raise ValueError("person without month arrays")
        return rows

    def column(self, months: np.ndarray) -> np.ndarray:
        return np.asarray(months, dtype=np.int64) - self.first

    def indicator(self, name: str) -> np.ndarray:
        if name == "employed_1h":
            return (self.hours >= 1.0).astype(np.int8)
        return self.arrays[name]

    def window_sum(self, name: str, rows: np.ndarray, last_months: np.ndarray, length: int) -> np.ndarray:
        """Sum of an indicator (or ``hours``/``wage``) over the ``length`` months ending at ``last_months``."""
        if name not in self._cumulative:
            values = {"hours": self.hours, "wage": self.wage}.get(name)
            values = self.indicator(name) if values is None else values
            dtype = np.float64 if values.dtype.kind == "f" else np.int32
            cum = np.zeros((values.shape[0], values.shape[1] + 1), dtype=dtype)
            np.cumsum(values, axis=1, dtype=dtype, out=cum[:, 1:])
            self._cumulative[name] = cum
        cum = self._cumulative[name]
        hi = self.column(last_months) + 1
        lo = np.maximum(hi - length, 0)
        return cum[rows, hi] - cum[rows, lo]

    def at(self, name: str, rows: np.ndarray, months: np.ndarray) -> np.ndarray:
        cols = self.column(months)
        source = {"hours": self.hours, "wage": self.wage, "employer": self.employer}.get(name)
        source = self.indicator(name) if source is None else source
        return source[rows, cols]


# --------------------------------------------------------------------------------------
# cohorts and time anchors


def pair_of_regions(pairs: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Control region -> its intervention region (the region pair's name)."""
    result: dict[str, str] = {}
    for intervention, controls in pairs.items():
        for control in controls:
            if control in pairs:
                raise ConfigError(f"regions.pairs: {control!r} is both an intervention and a control region")
            if control in result and result[control] != intervention:
                raise ConfigError(
                    f"regions.pairs: control region {control!r} is paired with {result[control]!r} "
                    f"and {intervention!r}",
                    hint="pair every control region with one intervention region, so that a unit "
                         "belongs to one region pair",
                )
            result[control] = intervention
    return result


def _month_of_date(values: pd.Series) -> np.ndarray:
    dates = (pd.to_datetime(values.astype(str), errors="coerce", format="mixed") if values.dtype == object
             else pd.to_datetime(values, errors="coerce"))
    return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy(dtype="float64")


def trainee_units(trainees: pd.DataFrame, found: pd.DataFrame, *, pairs: Mapping[str, Sequence[str]], anchors: Anchors,
                  window: tuple[int, int], file: str = TRAINEES) -> pd.DataFrame:
    """Found trainees as units: ``person, pid, training_group, region, region_pair, cohort, cohort_month, reference``.

    Checks the time anchors: the reference month must lie before every group's first
    meeting, and every cohort's months (panel, covariate and marker windows, follow-up) must
    lie inside the register window.
    """
    units = trainees.merge(found, on="person", how="inner")
    unknown = sorted(set(units["region"]) - set(pairs))
    if unknown:
        raise InputError(f"training region(s) {', '.join(map(repr, unknown))} are not intervention "
                         "regions of regions.pairs",
                         file=file, column="region",
                         hint="add the region to regions.pairs in config.yaml or correct the schedule")
    units = units.copy()
    units["region_pair"] = units["region"].astype(str)
    units["cohort_month"] = np.array([month_code(c) for c in units["cohort"].astype(str)], dtype=np.int64)
    units["reference"] = units["cohort_month"] + anchors.reference_month
    first_meeting = _month_of_date(trainees.set_index("person").loc[units["person"], "first_meeting"]
                                   .reset_index(drop=True))
    late = np.isfinite(first_meeting) & (units["reference"].to_numpy() >= first_meeting)
    if late.any():
        groups = sorted(units.loc[late, "training_group"].astype(str).unique())
        raise InputError(
            f"the reference month (month {anchors.reference_month}) is not before the first meeting of "
            f"group(s) {', '.join(groups)}",
            file=file,
            column="first_meeting",
            hint="set anchors.reference_month earlier, so that nothing measured after the start enters the matching",
        )
    check_window(units["cohort_month"].to_numpy(), anchors=anchors, window=window)
    return units


def check_window(cohort_months: np.ndarray, *, anchors: Anchors, window: tuple[int, int]) -> None:
    """An :class:`InputError` when a cohort needs months outside the register window."""
    if len(cohort_months) == 0:
        return
    first_needed = int(np.min(cohort_months)) + anchors.first_needed()
    last_needed = int(np.max(cohort_months)) + anchors.followup_months
    if first_needed < window[0] or last_needed > window[1]:
        raise InputError(
            f"the register window {month_label(window[0])}..{month_label(window[1])} does not cover "
            f"the cohorts' months {month_label(first_needed)}..{month_label(last_needed)} (panel from month "
            f"{anchors.panel_first_month}, covariate and marker windows, follow-up to month {anchors.followup_months})",
            hint="extend register.window (and the extracts) or shorten the anchors in config.yaml",
        )


# --------------------------------------------------------------------------------------
# eligibility and covariates


def eligibility(units: pd.DataFrame, persons: pd.DataFrame, arrays: MonthArrays, *, rule: EligibilityRule,
                anchors: Anchors) -> pd.DataFrame:
    """Per unit (``pid``, ``reference``) whether it passes ``age``, ``paid_work`` and ``marker`` (bool columns)."""
    pid = units["pid"].to_numpy(np.int32)
    ref = units["reference"].to_numpy(np.int64)
    rows = arrays.rows(pid)
    birth = persons["birth_month"].to_numpy(dtype="float64", na_value=np.nan)[pid]
    age_months = ref - birth
    pension = rule.pension_age_months(ref // 12)
    age_ok = np.isfinite(age_months) & (age_months >= rule.age_min * 12) & (age_months < pension)
    paid = arrays.at("hours", rows, ref) >= rule.min_hours
    source = {"sheltered_job": "any_sheltered", "wage_cost_benefit": "wage_cost_benefit",
              "disability_benefit": "receives_sickness_disability", "social_assistance": "receives_social_assistance"}
    marker = np.zeros(len(units), dtype=bool)
    for name in rule.markers:
        marker |= arrays.window_sum(source[name], rows, ref, anchors.marker_window_months) > 0
    return pd.DataFrame({"age": age_ok, "paid_work": paid, "marker": marker}, index=units.index)


def tenure_years(units: pd.DataFrame, employer_at_ref: np.ndarray, employer_months: pd.DataFrame, *,
                 gap_months: int) -> np.ndarray:
    """Years with the reference-month employer, at the end of the reference month.

    The job with an employer is the run of months with pay from it, bridging gaps shorter
    than ``gap_months`` (so a renumbered job is one job); it starts at the earliest original
    job start date (``SDATUMAANVANGIKVORG``) of the employer's jobs in that run, or at the
    run's first month when the dates are unknown or later.
    """
    em_pid = employer_months["pid"].to_numpy()
    n_emp = int(max(employer_months["employer"].to_numpy().max(initial=0), np.max(employer_at_ref, initial=0))) + 2
    n_month = int(max(employer_months["month"].to_numpy().max(initial=0), units["reference"].max())) + 2
    unit_pid = units["pid"].to_numpy(np.int64)
    employer_at_ref = np.asarray(employer_at_ref)
    reference = units["reference"].to_numpy(np.int64)
    if len(em_pid) <= TENURE_ROWS or not (em_pid[1:] >= em_pid[:-1]).all():
        return _tenure(unit_pid, employer_at_ref, reference, employer_months, n_emp, n_month, gap_months)
    # the table in pid order (as the payroll step writes it): one slice of persons at a time,
    # each job's months lie within one slice, so the years are those of the whole table
    result = np.full(len(unit_pid), np.nan)
    bounds = sorted({0, len(em_pid)} | {int(np.searchsorted(em_pid, em_pid[c], side="left"))
                                         for c in range(TENURE_ROWS, len(em_pid), TENURE_ROWS)})
    first_pids = em_pid[np.array(bounds[:-1])]
    slice_of = np.maximum(np.searchsorted(first_pids, unit_pid, side="right") - 1, 0)
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        these = np.flatnonzero(slice_of == i)
        if len(these):
            result[these] = _tenure(unit_pid[these], employer_at_ref[these], reference[these],
                                    employer_months.iloc[lo:hi], n_emp, n_month, gap_months)
    return result


#: Rows of the employer x month table taken at once by :func:`tenure_years`.
TENURE_ROWS = 4_000_000


def _tenure(unit_pid: np.ndarray, employer_at_ref: np.ndarray, reference: np.ndarray, employer_months: pd.DataFrame,
            n_emp: int, n_month: int, gap_months: int) -> np.ndarray:
    pid = employer_months["pid"].to_numpy(np.int64)
    emp = employer_months["employer"].to_numpy(np.int64)
    month = employer_months["month"].to_numpy(np.int64)
    key = (pid * n_emp + emp) * n_month + month
    order = np.argsort(key, kind="stable")
    key, month = key[order], month[order]
    pair = key // n_month
    new = (np.r_[True, (pair[1:] != pair[:-1]) | (month[1:] - month[:-1] > gap_months)] if len(key)
           else np.zeros(0, bool))
    spell = np.cumsum(new) - 1
    spell_first = month[new][spell]
    js = employer_months["job_start"].to_numpy(np.int64)[order]
    js = np.where(js >= 0, js, np.iinfo(np.int64).max)
    cummin = pd.Series(js).groupby(spell).cummin().to_numpy() if len(js) else js
    want = (unit_pid.astype(np.int64) * n_emp + employer_at_ref.astype(np.int64)) * n_month + reference
    pos = np.minimum(np.searchsorted(key, want), max(len(key) - 1, 0))
    hit = (len(key) > 0) & (key[pos] == want) & (employer_at_ref >= 0) if len(key) else np.zeros(len(want), bool)
    start = np.minimum(cummin[pos], first_day(spell_first[pos])) if len(key) else np.zeros(len(want))
    end = last_day(reference) + 1
    return np.where(hit, (end - start) / 365.25, np.nan)


def employer_register(employers_at_ref: np.ndarray, years: np.ndarray,
                      businesses: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Sector and size class of each unit's employer in the reference year (the nearest earlier
    year delivered, else the nearest later one); ``unknown`` when the employer is absent."""
    sector = np.full(len(employers_at_ref), "unknown", dtype=object)
    size = np.full(len(employers_at_ref), "unknown", dtype=object)
    if businesses.empty:
        return sector, size
    b = businesses.sort_values(["employer", "year"], kind="mergesort").reset_index(drop=True)
    bemp = b["employer"].to_numpy(np.int64)
    byear = b["year"].to_numpy(np.int64)
    key = bemp * 10000 + byear
    want = employers_at_ref.astype(np.int64) * 10000 + years.astype(np.int64)
    pos = np.searchsorted(key, want, side="right") - 1  # latest year not after
    ok = (pos >= 0) & (bemp[np.maximum(pos, 0)] == employers_at_ref)
    later = np.minimum(pos + 1, len(b) - 1)
    ok_later = ~ok & (bemp[later] == employers_at_ref)
    pick = np.where(ok, pos, later)
    hit = (ok | ok_later) & (employers_at_ref >= 0)
    sector[hit] = b["sector"].to_numpy(dtype=object)[pick[hit]]
    size[hit] = b["size"].to_numpy(dtype=object)[pick[hit]]
    return sector, size


def unit_covariates(units: pd.DataFrame, persons: pd.DataFrame, arrays: MonthArrays, *, employer_months: pd.DataFrame,
                    businesses: pd.DataFrame, employers: pd.DataFrame, anchors: Anchors) -> pd.DataFrame:
    """The 13 propensity covariates and the modifiers of each unit, measured in the covariate
    window (the ``covariate_window_months`` months ending at the reference month).

    - ``age``: years at the reference month; ``months_worked``: months with at least 1 paid hour;
    - ``years_in_job``: see :func:`tenure_years`; ``wage_hourly``: wage / paid hours over the window;
    - ``benefit_*``: main income from that benefit in at least one month (SECM);
    - ``temporary_contract``, ``sheltered``, ``government_sector``: of the main job at the reference month;
    - ``social_welfare_benefit`` / ``work_disability_benefit``: receipt in at least one month;
    - ``sector``, ``employer_size``: business register, reference-month employer;
    - ``employer``: pseudonym of that employer (for clustering sensitivity).
    """
    pid = units["pid"].to_numpy(np.int32)
    ref = units["reference"].to_numpy(np.int64)
    rows = arrays.rows(pid)
    w = anchors.covariate_window_months
    birth = persons["birth_month"].to_numpy(dtype="float64", na_value=np.nan)[pid]
    hours_w = arrays.window_sum("hours", rows, ref, w)
    wage_w = arrays.window_sum("wage", rows, ref, w)
    employer = arrays.at("employer", rows, ref)
    sector, size = employer_register(employer, ref // 12, businesses)
    pseudonyms = employers.set_index("employer")["employer_pseudonym"]
    out = pd.DataFrame(index=units.index)
    out["sex"] = persons["sex"].to_numpy(dtype=object)[pid]
    out["age"] = (ref - birth) / 12.0
    out["education"] = persons["education"].to_numpy(dtype=object)[pid]
    out["migration_background"] = persons["migration_background"].to_numpy(dtype=object)[pid]
    out["months_worked"] = arrays.window_sum("employed_1h", rows, ref, w).astype(np.int16)
    out["years_in_job"] = tenure_years(units, employer, employer_months, gap_months=anchors.job_gap_months)
    out["benefit_unemployment_assistance"] = (
        arrays.window_sum("main_unemployment_assistance", rows, ref, w) > 0).astype(np.int8)
    out["benefit_sickness_disability"] = (
        arrays.window_sum("main_sickness_disability", rows, ref, w) > 0).astype(np.int8)
    out["temporary_contract"] = (arrays.at("contract", rows, ref) == CONTRACT_FIXED).astype(np.int8)
    out["sector"] = sector
    out["employer_size"] = size
    out["sheltered"] = arrays.at("sheltered", rows, ref).astype(np.int8)
    out["wage_hourly"] = np.where(hours_w > 0, np.maximum(wage_w, 0.0) / np.where(hours_w > 0, hours_w, 1.0), np.nan)
    out["social_welfare_benefit"] = (arrays.window_sum("receives_social_assistance", rows, ref, w) > 0).astype(np.int8)
    out["work_disability_benefit"] = (
        arrays.window_sum("receives_sickness_disability", rows, ref, w) > 0).astype(np.int8)
    out["government_sector"] = arrays.at("government", rows, ref).astype(np.int8)
    out["employer"] = pd.Series(employer).map(pseudonyms).to_numpy(dtype=object)
    return out


# --------------------------------------------------------------------------------------
# the candidate table


@dataclass
class CandidateResult:
    candidates: pd.DataFrame
    flow: list[tuple[str, int, str, int]]
    removed: dict[tuple[str, str], int]  # (source, reason) -> units removed (sequential)


BASE_COLUMNS = ["pid", "region", "region_pair", "cohort", "cohort_month", "reference"]


def _cohorts(t_units: pd.DataFrame) -> pd.DataFrame:
    """The distinct cohorts of the trainee units (region pair, cohort, its month, its reference
    month), in region pair and cohort month order."""
    return (t_units[["region_pair", "cohort", "cohort_month", "reference"]]
            .drop_duplicates().sort_values(["region_pair", "cohort_month"], kind="mergesort").reset_index(drop=True))


def _control_base(cohorts: pd.DataFrame, register_pids: np.ndarray, regions_at: "RegionLookup",
                  control_pair: Mapping) -> pd.DataFrame:
    """Control candidate units: every register person living, on the last day of a cohort's
    reference month, in a control region of the cohort's region pair (one row per person and
    cohort)."""
    region_cache: dict[int, pd.Series] = {}
    base_parts = []
    for row in cohorts.itertuples(index=False):
        day = int(last_day(np.array([row.reference]))[0])
        if day not in region_cache:
            region_cache[day] = regions_at(day)
        regions = region_cache[day]
        regions = regions[regions.index.isin(register_pids)]
        in_pair = regions[regions.map(control_pair).to_numpy(dtype=object) == row.region_pair]
        base_parts.append(pd.DataFrame({
            "pid": in_pair.index.to_numpy(np.int32), "region": in_pair.to_numpy(dtype=object),
            "region_pair": row.region_pair, "cohort": row.cohort, "cohort_month": row.cohort_month,
            "reference": row.reference,
        }))
    return pd.concat(base_parts, ignore_index=True) if base_parts else pd.DataFrame(columns=BASE_COLUMNS)


def _eligible_trainees(t_units: pd.DataFrame, persons: pd.DataFrame, arrays: MonthArrays, *, rule: EligibilityRule,
                       anchors: Anchors, flow: list, removed: dict) -> pd.DataFrame:
    """The trainee units that meet the configured criteria, checked in a fixed order (paid work,
    age, marker); the units each criterion removes go to the flow and to ``removed``."""
    t_ok = eligibility(t_units, persons, arrays, rule=rule, anchors=anchors)
    keep = np.ones(len(t_units), dtype=bool)
    for criterion in ("paid_work", "age", "marker"):
        if criterion in rule.trainee_criteria:
            fails = keep & ~t_ok[criterion].to_numpy()
            flow.append(("employees", FLOW_ORDER[criterion], FLOW_STEP[criterion], int(fails.sum())))
            removed[("trainees", CRITERION_TEXT[criterion])] = int(fails.sum())
            keep &= ~fails
    t_units = t_units[keep]
    flow.append(("employees", FLOW_ORDER["eligible"], "eligible", int(len(t_units))))
    return t_units


def _eligible_controls(base: pd.DataFrame, t_units: pd.DataFrame, persons: pd.DataFrame, arrays: MonthArrays, *,
                       rule: EligibilityRule, anchors: Anchors, flow: list, removed: dict) -> pd.DataFrame:
    """The control candidate units in a cohort with an eligible trainee that meet every criterion
    (age, paid work, marker, removed in that order); the log gets how many fail each one alone."""
    live = pd.MultiIndex.from_frame(t_units[["region_pair", "cohort"]].astype(str)).unique()
    in_live = pd.MultiIndex.from_frame(base[["region_pair", "cohort"]].astype(str)).isin(live)
    removed[("candidates", "in a cohort without an eligible trainee")] = int((~in_live).sum())
    base = base[in_live].reset_index(drop=True)
    c_ok = eligibility(base, persons, arrays, rule=rule, anchors=anchors)
    keep = np.ones(len(base), dtype=bool)
    marginal = {}
    for criterion in ("age", "paid_work", "marker"):
        fails = ~c_ok[criterion].to_numpy()
        marginal[criterion] = int(fails.sum())
        removed[("candidates", CRITERION_TEXT[criterion])] = int((keep & fails).sum())
        keep &= ~fails
    log.info("candidate units before the age, paid-work and marker checks: %d; failing each alone: %s", len(base),
             ", ".join(f"{k} {v}" for k, v in marginal.items()))
    controls = base[keep].reset_index(drop=True)
    flow.append(("controls", FLOW_ORDER["candidate_units"], "candidate_units", int(len(controls))))
    flow.append(("controls", FLOW_ORDER["candidate_persons"], "candidate_persons", int(controls["pid"].nunique())))
    return controls


def _stack_units(t_units: pd.DataFrame, controls: pd.DataFrame) -> pd.DataFrame:
    """Trainee units (``treated`` 1) above control units (``treated`` 0, no training group)."""
    t_units = t_units.assign(treated=np.int8(1))
    # a control has no training group: missing, in the trainees' column type (concatenating an
    # all-missing object column with it is deprecated in pandas and would change the type later)
    controls = controls.assign(treated=np.int8(0),
                               training_group=pd.Series(pd.NA, index=controls.index,
                                                        dtype=t_units["training_group"].dtype))
    columns = [*BASE_COLUMNS, "treated", "training_group"]
    return pd.concat([t_units[columns], controls[columns]], ignore_index=True)


def _candidate_table(units: pd.DataFrame, covariates: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """One row per unit (``person:cohort``), sorted by unit, with its covariates; text columns as
    pandas strings."""
    person = persons["person"].to_numpy(dtype=object)[units["pid"].to_numpy()]
    table = pd.DataFrame({
        "unit": [f"{p}:{c}" for p, c in zip(person, units["cohort"])],
        "person": person,
        "cohort": units["cohort"].astype(str).to_numpy(),
        "region_pair": units["region_pair"].astype(str).to_numpy(),
        "region": units["region"].astype(str).to_numpy(),
        "treated": units["treated"].to_numpy(np.int8),
        "training_group": units["training_group"].astype("string").to_numpy(),
        "tie_order": units["pid"].to_numpy(np.int64),
    })
    table = pd.concat([table, covariates.reset_index(drop=True)], axis=1)
    table = table.sort_values("unit", kind="mergesort").reset_index(drop=True)
    for name in ("sex", "education", "migration_background", "sector", "employer_size", "employer"):
        table[name] = table[name].astype("string")
    table["training_group"] = table["training_group"].astype("string")
    return table


def build_candidates(
    *,
    trainees: pd.DataFrame,
    found: pd.DataFrame,
    persons: pd.DataFrame,
    person_months: pd.DataFrame,
    benefits: pd.DataFrame,
    employer_months: pd.DataFrame,
    businesses: pd.DataFrame,
    employers: pd.DataFrame,
    regions_at: "RegionLookup",
    pairs: Mapping[str, Sequence[str]],
    anchors: Anchors,
    rule: EligibilityRule,
    window: tuple[int, int],
    trainees_file: str = TRAINEES,
) -> CandidateResult:
    """Eligible trainees and control candidates, stacked per cohort, with their covariates.

    ``regions_at(day)`` gives the labour-market region per ``pid`` on a day (see
    :mod:`mentorwijs.register.residence`). Returns the candidate table (one row per unit,
    sorted by ``unit``), the flow steps and the units each criterion removed.
    """
    control_pair = pair_of_regions(pairs)
    t_units = trainee_units(trainees, found, pairs=pairs, anchors=anchors, window=window, file=trainees_file)
    flow: list[tuple[str, int, str, int]] = []
    removed: dict[tuple[str, str], int] = {}

    # control candidates: residence at each cohort's reference month
    register_pids = persons.loc[persons["group"].to_numpy() == REGISTER, "pid"].to_numpy(np.int32)
    cohorts = _cohorts(t_units)
    base = _control_base(cohorts, register_pids, regions_at, control_pair)
    removed[("candidates", CRITERION_TEXT["region"])] = len(register_pids) * len(cohorts) - len(base)

    references = np.r_[t_units["reference"].to_numpy(np.int64), base["reference"].to_numpy(np.int64)]
    arrays = MonthArrays(np.union1d(t_units["pid"].to_numpy(np.int32), base["pid"].to_numpy(np.int32)), person_months,
                         benefits, window, last_needed=int(references.max()) if len(references) else None)
    t_units = _eligible_trainees(t_units, persons, arrays, rule=rule, anchors=anchors, flow=flow, removed=removed)
    # only cohorts with an eligible trainee need candidates
    controls = _eligible_controls(base, t_units, persons, arrays, rule=rule, anchors=anchors, flow=flow,
                                  removed=removed)

    units = _stack_units(t_units, controls)
    covariates = unit_covariates(units, persons, arrays, employer_months=employer_months, businesses=businesses,
                                 employers=employers, anchors=anchors)
    table = _candidate_table(units, covariates, persons)
    return CandidateResult(candidates=check_written(table, "candidates"), flow=flow, removed=removed)


class RegionLookup:
    """A callable giving the labour-market region per ``pid`` on a day (a Series indexed by pid)."""

    def __init__(self, spells: pd.DataFrame, addresses: pd.DataFrame, regions: pd.DataFrame):
        from mentorwijs.register.residence import regions_on

        self._regions_on = regions_on
        self.spells, self.addresses, self.regions = spells, addresses, regions

    def __call__(self, day: int) -> pd.Series:
        return self._regions_on(self.spells, self.addresses, self.regions, day)

