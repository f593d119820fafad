"""Payroll income statements from job spells, and their apportioning to calendar months.

An employer pays monthly (``STIJDVAKTYPE`` 5: one statement per calendar month) or
four-weekly (``STIJDVAKTYPE`` 1: 28-day periods on a fixed grid, 13 a year, crossing month
boundaries). A statement covers the part of its period during which the job existed. Paid
hours for a full period are the weekly hours times 13/3 (monthly) or times 4 (four-weekly),
pro rata the days covered; on-call jobs vary around that from period to period and now and
then pay no hours at all. The wage is the hours times the hourly minimum wage of the half
year (youth rates under 21) times the job's wage factor.

:func:`apportion` spreads each statement's hours evenly over the days it covers and sums them
per person and calendar month: the rule the pipeline applies, used here for the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mentorwijs.simulate.employment import (
    TEMPORARY, Calendar, Jobs, ModelParameters, People, absolute_month, counter_normal, counter_uniform, day_number,
    month_of_day, month_start_day,
)

MONTHLY, FOUR_WEEKLY = 5, 1
#: first day of the four-weekly grid; period k runs from GRID + 28k for 28 days (the grid's
#: 80th period ends on 2022-12-31, its first begins in December 2016 and ends in January 2017)
FOUR_WEEKLY_GRID = "2016-12-11"
#: adult minimum wage per month (euros) from the first month of each half year
MINIMUM_WAGE = {
    "2011-07": 1435.20, "2012-01": 1446.60, "2012-07": 1456.20, "2013-01": 1469.40, "2013-07": 1477.20,
    "2014-01": 1485.60, "2014-07": 1495.20, "2015-01": 1501.80, "2015-07": 1507.80, "2016-01": 1524.60,
    "2016-07": 1537.20, "2017-01": 1551.60, "2017-07": 1565.40, "2018-01": 1578.00, "2018-07": 1594.20,
    "2019-01": 1615.80, "2019-07": 1635.60, "2020-01": 1653.60, "2020-07": 1680.00, "2021-01": 1684.80,
    "2021-07": 1701.00, "2022-01": 1725.00, "2022-07": 1756.20,
}
#: share of the adult minimum wage by age (18, 19, 20); 21 and over earn the adult rate
YOUTH_RATES = (0.5, 0.6, 0.8)
HOURS_PER_WEEK_MINIMUM_WAGE = 38.0


@dataclass
class Statements:
    """Income statements (arrays of equal length) before any planted defect."""

    job: np.ndarray  # index into the Jobs
    row: np.ndarray
    kind: np.ndarray  # MONTHLY / FOUR_WEEKLY
    period_start: np.ndarray  # start of the full pay period
    start: np.ndarray  # first day covered (period clipped to the job)
    end: np.ndarray  # last day covered
    hours: np.ndarray
    wage: np.ndarray
    temporary: np.ndarray  # contract at the period: fixed-term
    lkv: np.ndarray  # banenafspraak wage-cost benefit claimed for the period

    def __len__(self) -> int:
        return len(self.job)

    def take(self, index: np.ndarray) -> "Statements":
        return Statements(**{k: v[index] for k, v in self.__dict__.items()})


def hourly_minimum_wage(days: np.ndarray, birth: np.ndarray) -> np.ndarray:
    """Hourly minimum wage on ``days`` for people born on ``birth`` (euros)."""
    firsts = np.array([absolute_month(m) for m in MINIMUM_WAGE])
    amounts = np.array(list(MINIMUM_WAGE.values()))
    months = month_of_day(days)
    monthly = amounts[np.clip(np.searchsorted(firsts, months, side="right") - 1, 0, len(amounts) - 1)]
    age = np.floor((days - birth) / 365.25)
    rate = np.select([age < 19, age < 20, age < 21], list(YOUTH_RATES), 1.0)
    return monthly * 12 / 52 / HOURS_PER_WEEK_MINIMUM_WAGE * rate


def pay_statements(jobs: Jobs, four_weekly: np.ndarray, people: People, cal: Calendar,
                   p: ModelParameters) -> Statements:
    """Every job's statements from the first written month (``cal.out_first``) to the end.

    ``four_weekly`` is the job's employer's pay frequency (bool per job).
    """
    first_day = int(cal.start[cal.out_t])
    last_day = cal.end_day
    grid = day_number(FOUR_WEEKLY_GRID)
    grid_last = grid + 28 * ((last_day - grid) // 28) + 27  # the four-weekly period holding the last day
    lo = np.where(four_weekly, np.maximum(jobs.start, grid), np.maximum(jobs.start, first_day))
    hi = np.where(four_weekly, np.minimum(jobs.end, grid_last), np.minimum(jobs.end, last_day))
    keep = hi >= lo
    job_index = np.flatnonzero(keep)
    lo, hi, fw = lo[keep], hi[keep], four_weekly[keep]
    # period numbers: four-weekly grid index, or absolute month
    first_period = np.where(fw, (lo - grid) // 28, month_of_day(lo))
    last_period = np.where(fw, (hi - grid) // 28, month_of_day(hi))
    count = (last_period - first_period + 1).astype(np.int64)
    job = np.repeat(job_index, count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    period = np.repeat(first_period, count) + offset
    is_fw = np.repeat(fw, count)
    p_start = np.where(is_fw, grid + 28 * period, month_start_day(np.where(is_fw, 0, period)))
    p_end = np.where(is_fw, p_start + 27, month_start_day(np.where(is_fw, 0, period) + 1) - 1)
    start = np.maximum(p_start, jobs.start[job])
    end = np.minimum(p_end, jobs.end[job])
    period_days = (p_end - p_start + 1).astype(np.float64)
    covered = (end - start + 1).astype(np.float64)
    weekly = jobs.hours[job]
    full = np.where(is_fw, weekly * 4.0, weekly * 13.0 / 3.0)
    row = jobs.row[job]
    keys = people.key[row]
    factor = np.ones(len(job))
    oncall = jobs.oncall[job]
    if oncall.any():
        idx = np.flatnonzero(oncall)
        k = keys[idx]
        factor[idx] = np.exp(p.oncall_sd * counter_normal(k, jobs.start[job[idx]], p_start[idx], 71)
                             - p.oncall_sd**2 / 2)
        factor[idx] *= counter_uniform(k, jobs.start[job[idx]], p_start[idx], 72) >= p.oncall_zero
    hours = np.round(full * covered / period_days * factor, 2)
    hourly = hourly_minimum_wage(p_start, people.birth[row]) * jobs.wage_factor[job]
    wage = np.round(hours * hourly, 2)
    temporary = (jobs.contract[job] == TEMPORARY) & (jobs.converted[job] > p_start)
    lkv = jobs.lkv[job] & (p_start >= month_start_day(absolute_month(p.lkv_from)))
    return Statements(
        job=job, row=row, kind=np.where(is_fw, FOUR_WEEKLY, MONTHLY), period_start=p_start, start=start, end=end,
        hours=hours, wage=wage, temporary=temporary, lkv=lkv,
    )


def apportion(
    row: np.ndarray, start: np.ndarray, end: np.ndarray, hours: np.ndarray, n_rows: int, first_month: int, n_months: int
) -> np.ndarray:
    """Hours per row and calendar month: each statement's hours spread evenly over its days.

    ``first_month`` is the absolute month (year * 12 + month - 1) of column 0; days outside the
    ``n_months`` columns are dropped. A statement covers at most two calendar months (28 days or
    less). Returns a float64 array ``[n_rows, n_months]``.
    """
    out = np.zeros(n_rows * n_months, dtype=np.float64)
    m_start = month_of_day(start)
    m_end = month_of_day(end)
    days = (end - start + 1).astype(np.float64)
    if np.any(m_end - m_start > 1):
        raise ValueError("a statement spans more than two calendar months")
    split = month_start_day(m_end)
    first_days = np.where(m_end > m_start, split - start, end - start + 1)
    parts = ((m_start, hours * first_days / days),
             (m_end, np.where(m_end > m_start, hours * (end - split + 1) / days, 0.0)))
    for month, amount in parts:
        col = month - first_month
        ok = (col >= 0) & (col < n_months)
        out += np.bincount(row[ok] * n_months + col[ok], weights=amount[ok], minlength=n_rows * n_months)
    return out.reshape(n_rows, n_months)


def hours_in_month(st: Statements, month_of_row: np.ndarray) -> np.ndarray:
    """Per statement: the part of its hours that falls in its row's month ``month_of_row[row]``
    (absolute month), by the same even spreading over days as :func:`apportion`."""
    target = month_of_row[st.row]
    m_start, m_end = month_of_day(st.start), month_of_day(st.end)
    days = (st.end - st.start + 1).astype(float)
    split = month_start_day(m_end)
    first = np.where(m_end > m_start, (split - st.start) / days, 1.0) * st.hours
    second = np.where(m_end > m_start, (st.end - split + 1) / days, 0.0) * st.hours
    return np.where(m_start == target, first, 0.0) + np.where((m_end == target) & (m_end > m_start), second, 0.0)


def month_weeks(first_month: int, n_months: int) -> np.ndarray:
    """Weeks in each month (days / 7) for the outcome 'at least 12 paid hours a week'."""
    starts = month_start_day(first_month + np.arange(n_months + 1))
    return np.diff(starts) / 7.0


def expand_job_months(jobs: Jobs, cal: Calendar, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(job index, month index t) for every month in which each job (or the masked ones) is held."""
    index = np.arange(len(jobs)) if mask is None else np.flatnonzero(mask)
    lo = np.maximum(jobs.start[index], cal.start[0])
    hi = np.minimum(jobs.end[index], cal.end_day)
    keep = hi >= lo
    index, lo, hi = index[keep], lo[keep], hi[keep]
    t0, t1 = cal.t_of_day(lo), cal.t_of_day(hi)
    count = t1 - t0 + 1
    job = np.repeat(index, count)
    t = np.repeat(t0, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    return job, t

