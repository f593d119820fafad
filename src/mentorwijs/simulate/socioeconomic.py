"""Benefits, socio-economic position (SECM) and target-group markers, month by month.

Derived from the job spells and the person's traits:

- unemployment benefit (WW) after losing a main job when the person worked at least 6 of the
  9 months before, for 3 months plus one per year in that job (at most 24), until a new main job;
- sickness benefit (ZW) for 2..6 months after one in ten job losses;
- disability benefit (Wajong/WIA) over the person's benefit period;
- social assistance when eligible and without work, WW, ZW or disability benefit, and as a
  supplement to small jobs for part of the social-assistance route;
- state pension from the AOW date.

The SECM code of a month: 25 pension; working: 24 when a disability benefit is the main income
(fewer than 16 hours a week), else 11; not working: 24 (ZW), 21 (WW), 24 (disability), 22
(social assistance), 31 (under 23: in education), 32 (other without income). The X-flags say
which incomes were received: XKOPPELWERKNEMERSECM (working), XKOPPELBIJSTANDSECM (assistance),
XKOPPELZIEKTEAOSECM (sickness or disability), XKOPPELWERKLUITKSECM (unemployment).
Target-group markers per month: a WSW job, a job for which the employer claimed the
banenafspraak wage-cost benefit (from 2018), a disability or sickness benefit, social assistance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mentorwijs.simulate.employment import EXIT, FORCED, NEVER, Calendar, Jobs, People, counter_uniform
from mentorwijs.simulate.payroll import expand_job_months

SECM_WORKING, SECM_UNEMPLOYMENT, SECM_ASSISTANCE, SECM_SICK_DISABLED, SECM_PENSION = "11", "21", "22", "24", "25"
SECM_STUDENT, SECM_OTHER = "31", "32"
CODES = ("11", "21", "22", "24", "25", "31", "32")
FLAGS = ("XKOPPELWERKNEMERSECM", "XKOPPELBIJSTANDSECM", "XKOPPELZIEKTEAOSECM", "XKOPPELWERKLUITKSECM")


@dataclass
class MonthlyPosition:
    """Arrays [rows, months t of the whole calendar]."""

    present: np.ndarray
    working: np.ndarray
    main_job: np.ndarray
    weekly_hours: np.ndarray
    unemployment: np.ndarray
    sickness: np.ndarray
    disability: np.ndarray
    assistance: np.ndarray
    pension: np.ndarray
    code: np.ndarray  # index into CODES, -1 when absent
    marker: np.ndarray  # any target-group marker this month
    wsw_job: np.ndarray


def _interval_months(n: int, cal: Calendar, rows: np.ndarray, t_from: np.ndarray, t_to: np.ndarray) -> np.ndarray:
    """Bool [n, T]: months t_from..t_to (inclusive, clipped) marked for each (row, interval)."""
    T = cal.n
    a = np.clip(t_from, 0, T)
    b = np.clip(t_to + 1, 0, T)
    keep = b > a
    diff = np.zeros((n, T + 1), dtype=np.int32)
    np.add.at(diff, (rows[keep], a[keep]), 1)
    np.add.at(diff, (rows[keep], b[keep]), -1)
    return np.cumsum(diff, axis=1)[:, :T] > 0


def monthly_position(people: People, jobs: Jobs, cal: Calendar, lkv_from: str) -> MonthlyPosition:
    """Benefits, SECM code and markers per row and month (see the module docstring)."""
    n, T = len(people), cal.n
    job, t = expand_job_months(jobs, cal)
    lo = np.maximum(jobs.start[job], cal.start[t])
    hi = np.minimum(jobs.end[job], cal.start[t + 1] - 1)
    share = (hi - lo + 1) / cal.ndays[t]
    flat = jobs.row[job] * T + t
    weekly = np.bincount(flat, weights=jobs.hours[job] * share, minlength=n * T).reshape(n, T)
    working = np.bincount(flat, minlength=n * T).reshape(n, T) > 0
    main_job = np.bincount(flat, weights=(jobs.slot[job] == 0).astype(float), minlength=n * T).reshape(n, T) > 0
    wsw = np.bincount(flat, weights=jobs.sheltered[job].astype(float), minlength=n * T).reshape(n, T) > 0
    lkv_t = cal.index(lkv_from)
    lkv = np.bincount(flat, weights=(jobs.lkv[job] & (t >= lkv_t)).astype(float), minlength=n * T).reshape(n, T) > 0

    month_end = cal.start[1:] - 1
    present = (people.arrive[:, None] <= month_end[None, :]) & (people.leave[:, None] > cal.start[None, :-1])
    present &= (people.birth[:, None] + int(15 * 365.25)) <= month_end[None, :]
    adult = (people.birth[:, None] + int(18 * 365.25)) <= month_end[None, :]
    pension = people.aow[:, None] <= month_end[None, :]
    age = (cal.start[None, :-1] - people.birth[:, None]) / 365.25

    # job losses: main-slot jobs that ended by exit or a planted end
    lost = np.flatnonzero((jobs.slot == 0) & np.isin(jobs.end_reason, (EXIT, FORCED)) & (jobs.end < cal.end_day))
    e = cal.t_of_day(jobs.end[lost])
    rows = jobs.row[lost]
    worked_before = np.zeros(len(lost), dtype=int)
    for k in range(9):
        tk = e - k
        ok = tk >= 0
        worked_before[ok] += main_job[rows[ok], tk[ok]]
    years = np.floor((jobs.end[lost] - jobs.start[lost]) / 365.25).astype(int)
    duration = np.clip(3 + years, 3, 24)
    qualifies = worked_before >= 6
    unemployment = _interval_months(n, cal, rows[qualifies], e[qualifies] + 1, e[qualifies] + duration[qualifies])
    keys = people.key[rows]
    sick = counter_uniform(keys, jobs.end[lost], 81) < 0.1
    sick_len = 2 + np.floor(counter_uniform(keys, jobs.end[lost], 82) * 5).astype(int)
    sickness = _interval_months(n, cal, rows[sick], e[sick] + 1, e[sick] + sick_len[sick])
    unemployment &= ~main_job & present & ~pension
    sickness &= ~working & present & ~pension
    d_rows = np.flatnonzero(people.disability_from < NEVER)
    disability = _interval_months(n, cal, d_rows, cal.t_of_day(people.disability_from[d_rows]),
                                  cal.t_of_day(np.maximum(people.disability_to[d_rows],
                                                          people.disability_from[d_rows])))
    disability &= present & ~pension
    assistance = (people.assistance_eligible[:, None] & present & adult & ~working & ~unemployment & ~sickness
                  & ~disability & ~pension)
    assistance |= people.assistance_supplement[:, None] & present & working & (weekly < 20) & ~pension

    code = np.full((n, T), -1, dtype=np.int8)
    choice = np.select(
        [pension, working & disability & (weekly < 16), working, sickness, unemployment, disability, assistance,
         age < 23],
        [CODES.index("25"), CODES.index("24"), CODES.index("11"), CODES.index("24"), CODES.index("21"),
         CODES.index("24"), CODES.index("22"), CODES.index("31")],
        CODES.index("32"),
    )
    code[present] = choice[present]
    marker = (wsw | lkv | disability | sickness | assistance) & present
    return MonthlyPosition(
        present=present, working=working & present, main_job=main_job & present, weekly_hours=weekly,
        unemployment=unemployment, sickness=sickness, disability=disability, assistance=assistance,
        pension=pension & present, code=code, marker=marker, wsw_job=wsw,
    )


def secm_spells(position: MonthlyPosition, people: People, cal: Calendar, rows: np.ndarray) -> pd.DataFrame:
    """SECMBUS spells of ``rows``: runs of months with the same code and flags.

    Columns ``row, start, end, SECM`` and the four X-flags ('0'/'1'); a run still going in the
    last month ends on the last day of the calendar; a person who dies or emigrates ends the day
    before leaving.
    """
    T = cal.n
    state = position.code[rows].astype(np.int64) * 16
    flags = [position.working, position.assistance, position.sickness | position.disability, position.unemployment]
    for bit, f in enumerate(flags):
        state += f[rows].astype(np.int64) << bit
    state = np.where(position.code[rows] >= 0, state, -1)
    padded = np.concatenate([np.full((len(rows), 1), -2), state, np.full((len(rows), 1), -2)], axis=1)
    change = padded[:, 1:] != padded[:, :-1]  # [n, T+1]: a run starts at t when change[:, t]
    r_idx, t_start = np.nonzero(change[:, :-1])
    r_end, t_stop = np.nonzero(change[:, 1:])  # run ends at t when change[:, t+1]
    vals = state[r_idx, t_start]
    keep = vals >= 0
    r_idx, t_start, t_stop, vals = r_idx[keep], t_start[keep], t_stop[keep], vals[keep]
    person = rows[r_idx]
    start = np.maximum.reduce([cal.start[t_start], people.arrive[person], people.birth[person] + int(15 * 365.25)])
    end = np.where(t_stop == T - 1, cal.end_day, cal.start[t_stop + 1] - 1)
    end = np.minimum(end, people.leave[person] - 1)
    frame = pd.DataFrame({"row": person, "start": start, "end": end, "SECM": np.array(CODES, dtype=object)[vals // 16]})
    for bit, name in enumerate(FLAGS):
        frame[name] = np.where((vals >> bit) & 1, "1", "0").astype(object)
    return frame


