"""Income statements (SPOLISBUS) to a person x calendar-month table.

A payroll extract has one row per income statement per job per pay period, not per month.
The rules (``docs/raw-data.md``), in the order applied:

1. rows whose ``RINPERSOONS`` is not ``R`` are dropped and counted; so are rows of persons
   absent from the person file, and rows with an unusable date or number;
2. corrections (negative hours or wages) are netted within job and pay period: the rows of
   one job (person, employer, ``IKVID``) with the same period start and end are summed; a
   period whose hours stay negative after netting is excluded and counted;
3. each netted statement is apportioned to calendar months by the days it covers (a
   four-weekly period of 28 days spanning two months gives each month its share of days), so
   four-weekly payers are not penalised; months outside the study window are trimmed and the
   statements concerned counted;
4. per person and month the jobs are summed; the main job is the one with the most hours
   (ties: the lowest employer code, then the lowest job code); its employer, contract,
   sheltered-job and government-sector codes describe the month.

A job renumbered by its employer (new ``IKVID``, same ``SBEID``) is not a job end: job
retention (``job_held``) follows the employer, through :func:`employer_months`.

Outputs are compact: integer person codes (``pid``), integer months (``year * 12 + month - 1``)
as int16, flags as int8, employers as int32 codes in the order of their ``SBEID``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mentorwijs.errors import InputError
from mentorwijs.flow import Exclusions
from mentorwijs.register.calendar import first_day, last_day, month_of_day
from mentorwijs.register.extracts import BAD, EMPTY, check_bad, first_data_row, parse_dates, parse_numbers, text
from mentorwijs.register.persons import PersonIndex, require_linked
from mentorwijs.register.spec import code_in

log = logging.getLogger(__name__)

SOURCE = "payroll"

#: Contract codes in the person-month table.
CONTRACT_UNKNOWN, CONTRACT_FIXED, CONTRACT_OPEN, CONTRACT_NA = 0, 1, 2, 3

PERSON_MONTH_COLUMNS = [
    "pid", "month", "hours", "wage", "n_jobs", "employer", "contract", "sheltered", "government",
    "any_sheltered", "wage_cost_benefit", "period_type",
]


def payroll_columns(variables: Mapping) -> list[str]:
    """The raw payroll columns the pipeline reads, in a fixed order."""
    pv = variables["payroll"]
    return [variables["person_type"], variables["person"]] + [
        pv[k] for k in ("job", "employer", "start", "end", "job_start", "hours", "wage", "contract",
                        "job_type", "cao_sector", "wage_cost_benefit", "period_type")
    ]


def period_type_codes(codes: Mapping) -> dict[str, int]:
    """Category name -> int8 code (1, 2, ... in config order; 0 = unknown)."""
    return {name: i + 1 for i, name in enumerate(codes["period_type"])}


def parse_statements(
    raw: pa.Table,
    persons: pd.DataFrame,
    *,
    variables: Mapping,
    codes: Mapping,
    file: str | Path,
    max_bad_share: float,
    exclusions: Exclusions,
) -> pd.DataFrame:
    """One payroll file's usable rows, parsed: ``pid, ikvid, sbeid, start, end, job_start,
    hours, wage, contract, sheltered, government, wage_cost_benefit, period_type``.

    ``start``/``end``/``job_start`` are days since 1970-01-01 (``job_start`` -1 when unknown).
    ``ikvid`` and ``sbeid`` stay text (Arrow strings) until all files are combined.
    (:class:`StatementParser` with the whole file as one batch.)
    """
    parser = StatementParser(persons, variables=variables, codes=codes, file=file)
    columns = parser.add(raw, 0)
    parser.finish(max_bad_share=max_bad_share, exclusions=exclusions)
    frame = pd.DataFrame({name: values for name, values in columns.items() if name not in ("ikvid", "sbeid")})
    frame["ikvid"] = pd.arrays.ArrowStringArray(columns["ikvid"])
    frame["sbeid"] = pd.arrays.ArrowStringArray(columns["sbeid"])
    return frame


#: Why :class:`StatementParser` leaves rows out, in the order the exclusions are recorded.
PARSE_REASONS = (
    "RINPERSOONS other than R",
    "person not in the person file",
    "pay period start or end not a date",
    "hours or wage not a number",
    "pay period ends before it starts",
    "employer (SBEID) missing",
)


class StatementParser:
    """:func:`parse_statements` for one payroll file read in batches.

    :meth:`add` parses a batch (its first row's index in the file given) and returns its usable
    rows; :meth:`finish`, after the last batch, applies the whole-file checks in the order of
    :func:`parse_statements` (no row a person of the person file; more than ``max_bad_share``
    of a date or number column unusable, naming the file's first unusable row) and records
    the file's exclusions. The rows kept do not depend on how the file is cut into batches.
    """

    def __init__(self, persons: pd.DataFrame | PersonIndex, *, variables: Mapping, codes: Mapping, file: str | Path):
        from mentorwijs.register.extracts import BadTally

        self.persons = persons if isinstance(persons, PersonIndex) else PersonIndex(persons)
        self.v, self.pv, self.codes, self.file = variables, variables["payroll"], codes, file
        pv = self.pv
        self.tallies = [BadTally(pv["start"], "dates YYYYMMDD", (BAD, EMPTY)),
                        BadTally(pv["end"], "dates YYYYMMDD", (BAD, EMPTY)),
                        BadTally(pv["hours"], "numbers", (BAD, EMPTY)), BadTally(pv["wage"], "numbers", (BAD,))]
        self.counts = dict.fromkeys(PARSE_REASONS, 0)
        self.n_rows = self.n_linked = self.n_job_start_bad = 0

    def add(self, raw: pa.Table, offset: int) -> dict:
        """The usable rows of one batch: a dict of columns (numpy; ``ikvid``, ``sbeid`` Arrow text)."""
        v, pv, codes = self.v, self.pv, self.codes
        n = raw.num_rows
        self.n_rows += n
        pid, found = self.persons.lookup(raw[v["person_type"]], raw[v["person"]], codes["person_found"])
        self.counts["RINPERSOONS other than R"] += int((~found).sum())
        self.counts["person not in the person file"] += int((found & (pid < 0)).sum())
        keep = pid >= 0
        self.n_linked += int(keep.sum())

        t_start, t_end, t_hours, t_wage = self.tallies
        start, s_status = parse_dates(raw[pv["start"]])
        end, e_status = parse_dates(raw[pv["end"]])
        bad_date = (t_start.add(s_status, raw[pv["start"]], offset)
                    | t_end.add(e_status, raw[pv["end"]], offset)) & keep
        self.counts["pay period start or end not a date"] += int(bad_date.sum())
        keep &= ~bad_date

        hours, h_status = parse_numbers(raw[pv["hours"]])
        wage, w_status = parse_numbers(raw[pv["wage"]])
        bad_num = (t_hours.add(h_status, raw[pv["hours"]], offset)
                   | t_wage.add(w_status, raw[pv["wage"]], offset)) & keep
        self.counts["hours or wage not a number"] += int(bad_num.sum())
        keep &= ~bad_num
        wage = np.where(w_status == EMPTY, 0.0, wage)

        reversed_ = keep & (end < start)
        self.counts["pay period ends before it starts"] += int(reversed_.sum())
        keep &= ~reversed_

        employer = text(raw[pv["employer"]])
        no_job = keep & (pc.utf8_length(employer).to_numpy(zero_copy_only=False) == 0)
        self.counts["employer (SBEID) missing"] += int(no_job.sum())
        keep &= ~no_job

        job_start, js_status = parse_dates(raw[pv["job_start"]])
        job_start = np.where(js_status == 0, job_start, -1)
        self.n_job_start_bad += int(((js_status == BAD) & keep).sum())

        contract = np.full(n, CONTRACT_UNKNOWN, dtype=np.int8)
        contract[code_in(raw[pv["contract"]], codes["contract"]["fixed_term"])] = CONTRACT_FIXED
        contract[code_in(raw[pv["contract"]], codes["contract"]["open_ended"])] = CONTRACT_OPEN
        contract[code_in(raw[pv["contract"]], codes["contract"]["not_applicable"])] = CONTRACT_NA
        ptype = np.zeros(n, dtype=np.int8)
        for name, value in period_type_codes(codes).items():
            ptype[code_in(raw[pv["period_type"]], codes["period_type"][name])] = value

        rows = np.flatnonzero(keep)
        take = pa.array(rows)
        return {
            "pid": pid[rows].astype(np.int32),
            "start": start[rows].astype(np.int32),
            "end": end[rows].astype(np.int32),
            "job_start": job_start[rows].astype(np.int32),
            "hours": hours[rows],
            "wage": wage[rows],
            "contract": contract[rows],
            "sheltered": code_in(raw[pv["job_type"]], codes["sheltered_job"])[rows].astype(np.int8),
            "government": code_in(raw[pv["cao_sector"]], codes["government_cao_sectors"])[rows].astype(np.int8),
            "wage_cost_benefit": code_in(raw[pv["wage_cost_benefit"]],
                                         codes["wage_cost_benefit"])[rows].astype(np.int8),
            "period_type": ptype[rows],
            "ikvid": text(raw[pv["job"]]).take(take),
            "sbeid": employer.take(take),
        }

    def finish(self, *, max_bad_share: float, exclusions: Exclusions) -> None:
        """The whole-file checks (an :class:`InputError` naming the file) and the file's exclusions."""
        if self.n_rows and not self.n_linked:
            require_linked(np.full(self.n_rows, -1),
                           np.r_[np.zeros(self.counts["RINPERSOONS other than R"], bool),
                                 np.ones(self.n_rows - self.counts["RINPERSOONS other than R"], bool)],
                           file=self.file, column=self.v["person_type"], kind="payroll")
        row0 = first_data_row(self.file)
        for tally in self.tallies:
            tally.check(file=self.file, max_bad_share=max_bad_share, first_data_row=row0)
        for reason in PARSE_REASONS:
            exclusions.add(SOURCE, reason, self.counts[reason])
        if self.n_job_start_bad:
            log.warning("%s: %d original job start dates are not dates; years in the job then count from "
                        "the first paid month",
                        Path(self.file).name, self.n_job_start_bad)


def group_codes(key: np.ndarray, *, distinct: bool = False) -> np.ndarray:
    """Codes 0, 1, ... of integer keys in sorted order of the keys (like ``np.unique``'s inverse).

    Keys that arrive sorted are coded in one pass; others by hashing, which is fast when
    they take few distinct values, or (``distinct``: most keys differ, as job-months do) by
    sorting, about three times faster there. The codes are the same either way.
    """
    key = np.asarray(key)
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    if (key[1:] >= key[:-1]).all():
        return np.cumsum(np.r_[False, key[1:] != key[:-1]])
    if distinct:
        order = np.argsort(key, kind="stable")
        ranked = key[order]
        codes = np.empty(len(key), dtype=np.int64)
        codes[order] = np.cumsum(np.r_[False, ranked[1:] != ranked[:-1]])
        return codes
    codes, _ = pd.factorize(key, sort=True)
    return codes.astype(np.int64)


def _combined(values: pd.Series) -> pa.Array:
    array = pa.array(values.array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], pa.string())
    return array


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of text values in sorted order of the text, and the sorted uniques."""
    array = _combined(values)
    encoded = array.dictionary_encode()
    dictionary = encoded.dictionary
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    order = pc.sort_indices(dictionary).to_numpy(zero_copy_only=False)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[indices], np.asarray(dictionary.take(pa.array(order)).to_pylist(), dtype=object)


@dataclass
class Payroll:
    """Netted statements with integer job and employer codes, and the employer list."""

    statements: pd.DataFrame  # pid, job, pair, employer, start, end, job_start, hours, wage, attributes
    employers: np.ndarray  # SBEID per employer code (sorted text)


def combine_statements(parts: Sequence[pd.DataFrame], *, exclusions: Exclusions, employers: np.ndarray | None = None,
                       quiet: bool = False) -> Payroll:
    """Concatenate the parsed files, code jobs and employers, and net corrections.

    Jobs are (person, employer, ``IKVID``); corrections are netted within job and pay period
    (same start and end). Periods whose hours stay negative are excluded ("negative hours
    that do not net out"); periods cancelled to zero hours and zero wage are dropped and
    counted. ``employers`` (sorted ``SBEID`` text) gives the employer codes when the parts are
    some persons of a larger extract (:func:`stream_month_tables`); ``quiet`` leaves the count
    of corrections to the caller's log.
    """
    frame = pd.concat(list(parts), ignore_index=True) if len(parts) != 1 else parts[0]
    if frame.empty:
        raise InputError("the payroll extracts hold no usable income statement",
                         hint="check register.files.payroll in config.yaml and the files it names")
    if employers is None:
        employer, employers = _sorted_codes(frame["sbeid"])
    else:
        employer = pc.index_in(_combined(frame["sbeid"]), value_set=pa.array(list(employers), type=pa.string()))
        employer = employer.to_numpy(zero_copy_only=False).astype(np.int64)
    ikv, _ = _sorted_codes(frame["ikvid"])
    pid = frame["pid"].to_numpy(np.int64)
    pair_key = pid * (len(employers) + 1) + employer
    pair = group_codes(pair_key)
    job_key = pair.astype(np.int64) * (int(ikv.max()) + 1) + ikv
    job = group_codes(job_key)

    start = frame["start"].to_numpy(np.int64)
    length = frame["end"].to_numpy(np.int64) - start
    period_key = (start - start.min()) * (int(length.max()) + 1) + length
    period = group_codes(period_key)
    group_key = job.astype(np.int64) * (int(period.max()) + 1) + period
    group = group_codes(group_key, distinct=True)
    n_groups = int(group.max()) + 1

    hours = frame["hours"].to_numpy(np.float64)
    wage = frame["wage"].to_numpy(np.float64)
    net_hours = np.bincount(group, weights=hours, minlength=n_groups)
    net_wage = np.bincount(group, weights=wage, minlength=n_groups)
    # attributes of the statement with the most hours (the original, not its correction)
    order = np.lexsort((-hours, group))
    first = order[np.r_[True, group[order][1:] != group[order][:-1]]]
    n_rows = np.bincount(group, minlength=n_groups)

    eps = 1e-9
    negative = net_hours < -eps
    cancelled = (np.abs(net_hours) <= eps) & (np.abs(net_wage) <= 1e-6) & (n_rows > 1)
    n_corrections = int((hours < 0).sum())
    if n_corrections and not quiet:
        log.info("%d correction rows (negative hours) netted within job and pay period", n_corrections)
    exclusions.add(SOURCE, "negative hours that do not net out within job and pay period", int(negative.sum()))
    exclusions.add(SOURCE, "statement cancelled by its correction", int(cancelled.sum()))
    keep = ~negative & ~cancelled
    rows = first[keep]
    statements = pd.DataFrame(
        {
            "pid": frame["pid"].to_numpy(np.int32)[rows],
            "job": job[rows].astype(np.int32),
            "pair": pair[rows].astype(np.int32),
            "employer": employer[rows].astype(np.int32),
            "start": frame["start"].to_numpy(np.int32)[rows],
            "end": frame["end"].to_numpy(np.int32)[rows],
            "hours": np.maximum(net_hours[keep], 0.0),
            "wage": net_wage[keep],
        }
    )
    # the earliest known original job start among the job's rows
    js = frame["job_start"].to_numpy(np.int64)
    js_known = np.where(js >= 0, js, np.iinfo(np.int64).max)
    js_min = np.full(n_groups, np.iinfo(np.int64).max)
    np.minimum.at(js_min, group, js_known)
    statements["job_start"] = np.where(js_min[keep] == np.iinfo(np.int64).max, -1, js_min[keep]).astype(np.int32)
    for column in ("contract", "sheltered", "government", "wage_cost_benefit", "period_type"):
        statements[column] = frame[column].to_numpy()[rows]
    return Payroll(statements=statements, employers=employers)


def apportion(statements: pd.DataFrame, *, window: tuple[int, int], exclusions: Exclusions) -> pd.DataFrame:
    """Split statements into calendar-month pieces by the days they cover, inside the window.

    A statement covering days ``start..end`` (inclusive) gives month ``m`` the share
    ``days of m covered / days covered`` of its hours and wage. Months outside
    ``window = (first month, last month)`` are trimmed; statements entirely or partly outside
    are counted.
    """
    first_m, last_m = window
    ms = month_of_day(statements["start"].to_numpy())
    me = month_of_day(statements["end"].to_numpy())
    outside = (me < first_m) | (ms > last_m)
    partly = ~outside & ((ms < first_m) | (me > last_m))
    exclusions.add(SOURCE, "pay period outside the study window (trimmed)", int(outside.sum()))
    exclusions.add(SOURCE, "pay period partly outside the study window (months outside trimmed)", int(partly.sum()))
    inside = np.flatnonzero(~outside)
    lo_m = np.maximum(ms[inside], first_m)
    hi_m = np.minimum(me[inside], last_m)
    count = (hi_m - lo_m + 1).astype(np.int64)
    idx = np.repeat(inside, count)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(count) - count, count)
    month = np.repeat(lo_m, count) + offset
    start = statements["start"].to_numpy(np.int64)[idx]
    end = statements["end"].to_numpy(np.int64)[idx]
    covered = np.minimum(end, last_day(month)) - np.maximum(start, first_day(month)) + 1
    share = covered / (end - start + 1)
    pieces = _take_rows(statements, idx)
    pieces["month"] = month.astype(np.int16)
    pieces["hours"] = pieces["hours"].to_numpy() * share
    pieces["wage"] = pieces["wage"].to_numpy() * share
    return pieces.drop(columns=["start", "end"])


def _take_rows(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[rows].reset_index(drop=True)`` without the second copy."""
    out = frame.take(rows)
    out.index = pd.RangeIndex(len(out))
    return out


def _first_per_group(group: np.ndarray, *sort_keys: np.ndarray) -> np.ndarray:
    """Row index of the first row per group after sorting by ``sort_keys`` (last key primary)."""
    order = np.lexsort(sort_keys + (group,))
    g = group[order]
    return order[np.r_[True, g[1:] != g[:-1]]]


def job_months(pieces: pd.DataFrame, *, window: tuple[int, int]) -> pd.DataFrame:
    """Pieces summed per job and month; attributes from the piece with the most hours."""
    n_months = window[1] - window[0] + 1
    key = pieces["job"].to_numpy(np.int64) * n_months + (pieces["month"].to_numpy(np.int64) - window[0])
    group = group_codes(key, distinct=True)
    n = int(group.max()) + 1 if len(group) else 0
    hours = pieces["hours"].to_numpy()
    rows = _first_per_group(group, -hours)
    result = _take_rows(pieces, rows)
    result["hours"] = np.bincount(group, weights=hours, minlength=n)
    result["wage"] = np.bincount(group, weights=pieces["wage"].to_numpy(), minlength=n)
    js = pieces["job_start"].to_numpy(np.int64)
    big = np.iinfo(np.int64).max
    js_min = np.full(n, big)
    np.minimum.at(js_min, group, np.where(js >= 0, js, big))
    result["job_start"] = np.where(js_min == big, -1, js_min).astype(np.int32)
    return result


def person_months(jobs: pd.DataFrame, *, window: tuple[int, int]) -> pd.DataFrame:
    """The person x calendar-month table (only months with a statement).

    ``hours``/``wage``: all jobs summed; ``n_jobs``: jobs with paid hours; ``employer``,
    ``contract``, ``sheltered``, ``government``, ``period_type``: of the main job (most hours;
    ties: lowest employer code, then lowest job code); ``any_sheltered``,
    ``wage_cost_benefit``: any job of the month.
    """
    n_months = window[1] - window[0] + 1
    key = jobs["pid"].to_numpy(np.int64) * n_months + (jobs["month"].to_numpy(np.int64) - window[0])
    group = group_codes(key, distinct=True)
    n = int(group.max()) + 1 if len(group) else 0
    hours = jobs["hours"].to_numpy()
    rows = _first_per_group(group, jobs["job"].to_numpy(), jobs["employer"].to_numpy(), -hours)
    main = _take_rows(jobs, rows)

    def any_of(column: str) -> np.ndarray:
        out = np.zeros(n, dtype=np.int8)
        np.maximum.at(out, group, jobs[column].to_numpy(np.int8))
        return out

    return pd.DataFrame(
        {
            "pid": main["pid"].to_numpy(np.int32),
            "month": main["month"].to_numpy(np.int16),
            "hours": np.bincount(group, weights=hours, minlength=n),
            "wage": np.bincount(group, weights=jobs["wage"].to_numpy(), minlength=n),
            "n_jobs": np.minimum(np.bincount(group, weights=(hours > 0), minlength=n), 127).astype(np.int8),
            "employer": main["employer"].to_numpy(np.int32),
            "contract": main["contract"].to_numpy(np.int8),
            "sheltered": main["sheltered"].to_numpy(np.int8),
            "government": main["government"].to_numpy(np.int8),
            "any_sheltered": any_of("sheltered"),
            "wage_cost_benefit": any_of("wage_cost_benefit"),
            "period_type": main["period_type"].to_numpy(np.int8),
        }
    )


def employer_months(jobs: pd.DataFrame, *, window: tuple[int, int]) -> pd.DataFrame:
    """Pay per person, employer and month (renumbered jobs of one employer summed):
    ``pid, employer, month, hours, wage, job_start`` (earliest known original job start,
    days since 1970-01-01, -1 when unknown)."""
    n_months = window[1] - window[0] + 1
    key = jobs["pair"].to_numpy(np.int64) * n_months + (jobs["month"].to_numpy(np.int64) - window[0])
    group = group_codes(key, distinct=True)
    n = int(group.max()) + 1 if len(group) else 0
    rows = _first_per_group(group)
    first = jobs.iloc[rows]
    js = jobs["job_start"].to_numpy(np.int64)
    big = np.iinfo(np.int64).max
    js_min = np.full(n, big)
    np.minimum.at(js_min, group, np.where(js >= 0, js, big))
    return pd.DataFrame(
        {
            "pid": first["pid"].to_numpy(np.int32),
            "employer": first["employer"].to_numpy(np.int32),
            "month": first["month"].to_numpy(np.int16),
            "hours": np.bincount(group, weights=jobs["hours"].to_numpy(), minlength=n),
            "wage": np.bincount(group, weights=jobs["wage"].to_numpy(), minlength=n),
            "job_start": np.where(js_min == big, -1, js_min).astype(np.int32),
        }
    )


def businesses(raw: pa.Table, employers: np.ndarray, *, variables: Mapping, codes: Mapping,
               file: str | Path | None = None, max_bad_share: float = 0.01) -> pd.DataFrame:
    """Business register rows of the employers paying in the extract:
    ``employer, year, sector, size`` (sector from SBI divisions, size from the size class).

    Rows whose year is not a number are left out; with ``file`` given, more than
    ``max_bad_share`` of them is an :class:`InputError` naming the first."""
    from mentorwijs.register.spec import activity_sector, categorise

    bv = variables["businesses"]
    sbeid = text(raw[bv["employer"]])
    index = pc.fill_null(pc.index_in(sbeid, value_set=pa.array(list(employers), type=pa.string())),
                         -1).to_numpy(zero_copy_only=False)
    year_txt = text(raw[bv["year"]])
    year_ok = pc.fill_null(pc.utf8_is_digit(year_txt), False).to_numpy(zero_copy_only=False)
    if file is not None:
        check_bad(np.where(year_ok, 0, BAD).astype(np.int8), year_txt, file=file, column=bv["year"], what="years",
                  max_bad_share=max_bad_share, first_data_row=first_data_row(file))
    keep = (index >= 0) & year_ok
    rows = pa.array(np.flatnonzero(keep))
    year = (pc.cast(pc.filter(year_txt, pa.array(keep)), pa.int64()).to_numpy(zero_copy_only=False) if keep.any()
            else np.zeros(0, np.int64))
    frame = pd.DataFrame(
        {
            "employer": index[keep].astype(np.int32),
            "year": year.astype(np.int16),
            "sector": activity_sector(raw[bv["activity"]].take(rows), codes["activity_sectors"]),
            "size": categorise(raw[bv["size"]].take(rows), codes["employer_size"]),
        }
    )
    frame = (frame.sort_values(["employer", "year"], kind="mergesort")
             .drop_duplicates(["employer", "year"], keep="first"))
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# the payroll files streamed: bounded memory whatever their size

#: Reasons recorded after the files are parsed, in the order of :func:`combine_statements` and :func:`apportion`.
MONTH_REASONS = (
    "negative hours that do not net out within job and pay period",
    "statement cancelled by its correction",
    "pay period outside the study window (trimmed)",
    "pay period partly outside the study window (months outside trimmed)",
)

_STRING_COLUMNS = ("ikvid", "sbeid")

#: The most parts of the persons the statements are spilled into (open files per thread).
MAX_PARTS = 256

#: Sizes of the streamed payroll step (:func:`stream_month_tables`): persons per part on disk,
#: statements per group reduced at once, bytes of text per batch read, threads (files parsed and
#: groups reduced side by side). The outputs do not depend on them; memory does (a group of 4
#: million statements takes about 1.5 GB at its peak, and each thread holds one).
STREAM_SIZES = {"persons_per_part": 20_000, "rows_per_chunk": 2_500_000, "block_bytes": 1 << 25, "workers": 2}


class _Spill:
    """Parsed statements on disk, by file and by part of the persons (``pid // persons_per_part``),
    as Arrow IPC streams; read back per group of parts in file order, then row order. Each file
    is written through its own :class:`_FileSpill` (files may be parsed side by side)."""

    def __init__(self, folder: Path, persons_per_part: int):
        self.folder, self.persons_per_part = Path(folder), int(persons_per_part)
        self.rows: dict[tuple[int, int], int] = {}

    def path(self, file: int, part: int) -> Path:
        return self.folder / f"f{file:03d}-p{part:05d}.arrows"

    def file(self, file: int) -> "_FileSpill":
        return _FileSpill(self, file)

    def part_rows(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for (_, part), n in self.rows.items():
            out[part] = out.get(part, 0) + n
        return dict(sorted(out.items()))

    def read(self, parts: Sequence[int]) -> pd.DataFrame:
        """The statements of ``parts`` (ascending) as :func:`parse_statements` gives them, each file's
        rows in file order (files in the order read)."""
        tables = []
        for part in parts:
            for file in sorted({f for f, p in self.rows if p == part}):
                with pa.OSFile(str(self.path(file, part)), "rb") as source:
                    tables.append(pa.ipc.open_stream(source).read_all())
                self.path(file, part).unlink()
        table = pa.concat_tables(tables)
        frame = pd.DataFrame({name: table[name].to_numpy() for name in table.column_names
                              if name not in _STRING_COLUMNS})
        for name in _STRING_COLUMNS:
            frame[name] = pd.arrays.ArrowStringArray(table[name].combine_chunks() if table[name].num_chunks
                                                     else pa.array([], pa.string()))
        return frame


class _FileSpill:
    """The statements of one file, by part of the persons; :meth:`commit` hands the counts to the spill."""

    def __init__(self, spill: _Spill, file: int):
        self.spill, self.file = spill, file
        self.rows: dict[int, int] = {}
        self.writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}

    def write(self, columns: dict) -> None:
        part = columns["pid"] // self.spill.persons_per_part
        if not len(part):
            return
        order = np.argsort(part, kind="stable")
        sorted_part = part[order]
        cuts = np.flatnonzero(np.r_[True, sorted_part[1:] != sorted_part[:-1], True])
        whole = len(cuts) == 2
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            p = int(sorted_part[lo])
            rows = order[lo:hi]
            take = pa.array(rows)
            table = pa.table({name: ((values.take(take) if name in _STRING_COLUMNS else values[rows]) if not whole
                                     else values)
                              for name, values in columns.items()})
            writer = self.writers.get(p)
            if writer is None:
                writer = self.writers[p] = pa.ipc.new_stream(str(self.spill.path(self.file, p)), table.schema)
            writer.write_table(table)
            self.rows[p] = self.rows.get(p, 0) + (hi - lo)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers = {}

    def forget(self) -> None:
        """Drop what this file wrote (it is read again from its first row)."""
        self.close()
        for part in self.rows:
            self.spill.path(self.file, part).unlink(missing_ok=True)
        self.rows = {}

    def commit(self) -> None:
        self.close()
        for part, n in self.rows.items():
            self.spill.rows[(self.file, part)] = n


@dataclass
class _FileResult:
    parser: StatementParser
    spill: _FileSpill
    n_rows: int
    employers: pa.Array | None
    seconds: float
    error: InputError | None


@dataclass
class MonthTables:
    """What :func:`stream_month_tables` returns: the person x month and employer x month tables in
    pieces (in ``pid`` order: stacked they are the tables; empty when ``on_chunk`` took them),
    the employers, the persons paid per window month and counts for the log."""

    person_months: list[pd.DataFrame]
    employer_months: list[pd.DataFrame]
    employers: np.ndarray
    n_statements: int
    coverage: pd.DataFrame
    n_person_months: int
    n_employer_months: int


@dataclass(frozen=True)
class _Stream:
    """What phase 1 of :func:`stream_month_tables` shares between its worker threads: the persons'
    index, the delivery's names and codes, the spill folder, the columns read, the size of a read
    block in bytes (None: :data:`~mentorwijs.register.extracts.STREAM_BLOCK_BYTES`), the seconds
    between progress lines and the event that tells the other threads to stop after an error."""

    index: PersonIndex
    variables: Mapping
    codes: Mapping
    spill: _Spill
    columns: list
    block_bytes: int | None
    progress_seconds: float
    stop: threading.Event


def _parse_file(i: int, path, s: _Stream) -> _FileResult:
    """Phase 1 for file ``i`` (in a worker thread): parse it batch by batch into the spill, keeping
    its distinct employers; a file that is not UTF-8 after its first rows is read again."""
    from mentorwijs.register.extracts import RESTART, STREAM_BLOCK_BYTES, iter_extract

    started = last_log = time.perf_counter()
    out = _FileSpill(s.spill, i)
    parser = StatementParser(s.index, variables=s.variables, codes=s.codes, file=path)
    uniques: list[pa.Array] = []
    n_rows = 0
    try:
        for item in iter_extract(path, s.columns, kind="payroll", block_bytes=s.block_bytes or STREAM_BLOCK_BYTES):
            if s.stop.is_set():
                break
            if item is RESTART:
                log.info("payroll: %s: not UTF-8 after its first rows; read again as Windows-1252", Path(path).name)
                out.forget()
                parser = StatementParser(s.index, variables=s.variables, codes=s.codes, file=path)
                uniques, n_rows = [], 0
                continue
            offset, raw = item
            batch = parser.add(raw, offset)
            n_rows = offset + raw.num_rows
            del raw
            if len(batch["pid"]):
                uniques.append(batch["sbeid"].unique())
                out.write(batch)
            now = time.perf_counter()
            if now - last_log >= s.progress_seconds:
                last_log = now
                log.info("payroll: %s: %d rows read (%.0f rows/s)", Path(path).name, n_rows, n_rows / (now - started))
    except InputError as exc:
        out.close()
        return _FileResult(parser, out, n_rows, None, time.perf_counter() - started, exc)
    out.close()
    employers = pa.concat_arrays(uniques).unique() if uniques else None
    return _FileResult(parser, out, n_rows, employers, time.perf_counter() - started, None)


def _finish_file(path, result: _FileResult, *, max_bad_share: float, exclusions: Exclusions, after_file) -> None:
    """A parsed file's checks (too many unusable values stop the run), exclusions and log line;
    its rows in the spill then count."""
    if result.error is not None:
        raise result.error
    before = dict(exclusions.rows)
    result.parser.finish(max_bad_share=max_bad_share, exclusions=exclusions)
    if after_file is not None:
        after_file(path, result.n_rows, before)
    result.spill.commit()
    log.info("payroll: %s: %d rows read in %.1f s (%.0f rows/s)", Path(path).name, result.n_rows,
             result.seconds, result.n_rows / result.seconds if result.seconds > 0 else float("nan"))


def _parse_files(files: Sequence, s: _Stream, *, workers: int, max_bad_share: float, exclusions: Exclusions,
                 after_file) -> list[pa.Array]:
    """Phase 1: the files parsed side by side (``workers`` threads), their checks and exclusions
    taken in file order; the distinct employers (``SBEID``) of each file."""
    employer_sets: list[pa.Array] = []
    with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
        futures = [pool.submit(_parse_file, i, path, s) for i, path in enumerate(files)]
        try:
            for path, future in zip(files, futures):
                result = future.result()
                _finish_file(path, result, max_bad_share=max_bad_share, exclusions=exclusions, after_file=after_file)
                if result.employers is not None:
                    employer_sets.append(result.employers)
        except BaseException:
            s.stop.set()
            for future in futures:
                future.cancel()
            raise
    return employer_sets


def _group_parts(part_rows: Mapping[int, int], rows_per_chunk: int) -> list[list[int]]:
    """Consecutive parts in groups of at most ``rows_per_chunk`` statements (a part larger than that
    is a group of its own)."""
    chunks: list[list[int]] = [[]]
    size = 0
    for part, n in part_rows.items():
        if chunks[-1] and size + n > rows_per_chunk:
            chunks.append([])
            size = 0
        chunks[-1].append(part)
        size += n
    return chunks


@dataclass
class _Piece:
    """One group's pieces of the month tables, its exclusion counts, its persons paid per window
    month, its statements after combining and its correction rows (negative hours)."""

    person_months: pd.DataFrame
    employer_months: pd.DataFrame
    counts: Exclusions
    coverage: pd.DataFrame
    n_statements: int
    n_corrections: int


def _reduce_chunk(parts: list[int], spill: _Spill, employers: np.ndarray, window: tuple[int, int]) -> _Piece:
    """Phase 2 for one group of parts (in a worker thread): statements combined, apportioned to
    months, then job x month, person x month and employer x month."""
    from mentorwijs.register.calendar import month_coverage

    frame = spill.read(parts)
    counts = Exclusions()
    n_corrections = int((frame["hours"].to_numpy() < 0).sum())
    payroll = combine_statements([frame], exclusions=counts, employers=employers, quiet=True)
    del frame
    n_statements = len(payroll.statements)
    pieces = apportion(payroll.statements, window=window, exclusions=counts)
    del payroll
    cover = month_coverage(pieces["month"].to_numpy(np.int64), pieces["pid"].to_numpy(np.int64), window)
    jobs = job_months(pieces, window=window)
    del pieces
    return _Piece(person_months(jobs, window=window), employer_months(jobs, window=window), counts, cover,
                  n_statements, n_corrections)


@dataclass
class _Totals:
    """The sums over the groups of phase 2 (exclusion counts, persons paid per month, statements,
    correction rows, person-months, employer-months) and the pieces kept."""

    counts: Exclusions = field(default_factory=Exclusions)
    coverage: pd.DataFrame | None = None
    n_statements: int = 0
    n_corrections: int = 0
    n_pm: int = 0
    n_em: int = 0
    pm: list = field(default_factory=list)
    em: list = field(default_factory=list)

    def add(self, piece: _Piece, on_chunk) -> None:
        """Count one group and keep its pieces (or hand them to ``on_chunk``)."""
        self.counts.extend(piece.counts)
        cover = piece.coverage
        self.coverage = cover if self.coverage is None else self.coverage.assign(
            persons=self.coverage["persons"].to_numpy() + cover["persons"].to_numpy())
        self.n_statements += piece.n_statements
        self.n_corrections += piece.n_corrections
        self.n_pm += len(piece.person_months)
        self.n_em += len(piece.employer_months)
        if on_chunk is None:
            self.pm.append(piece.person_months)
            self.em.append(piece.employer_months)
        else:
            on_chunk(piece.person_months, piece.employer_months)


def _reduce_chunks(chunks: list[list[int]], spill: _Spill, employers: np.ndarray, *, window: tuple[int, int],
                   workers: int, on_chunk) -> _Totals:
    """Phase 2: the groups reduced side by side, taken in ``pid`` order (at most ``workers`` ahead)."""
    totals = _Totals()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
        pending: deque = deque()
        next_chunk = 0
        try:
            for k, parts in enumerate(chunks):
                while next_chunk < len(chunks) and len(pending) < max(1, int(workers)):
                    pending.append(pool.submit(_reduce_chunk, chunks[next_chunk], spill, employers, window))
                    next_chunk += 1
                piece = pending.popleft().result()
                totals.add(piece, on_chunk)
                if len(chunks) > 1:
                    log.info("payroll: persons %d..%d: %d person-months (group %d of %d, %.1f s)",
                             parts[0] * spill.persons_per_part, (parts[-1] + 1) * spill.persons_per_part - 1,
                             len(piece.person_months), k + 1, len(chunks), time.perf_counter() - started)
                del piece
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return totals


def stream_month_tables(
    files: Sequence[str | Path],
    persons: pd.DataFrame,
    *,
    variables: Mapping,
    codes: Mapping,
    window: tuple[int, int],
    max_bad_share: float,
    exclusions: Exclusions,
    folder: str | Path,
    after_file=None,
    on_chunk=None,
    workers: int = 2,
    persons_per_part: int = 20_000,
    rows_per_chunk: int = 2_500_000,
    block_bytes: int | None = None,
    progress_seconds: float = 10.0,
) -> MonthTables:
    """The payroll files -> person x month and employer x month tables, in bounded memory.

    Every file is read in batches (:func:`~mentorwijs.register.extracts.iter_extract`) and each
    batch parsed (:class:`StatementParser`); the usable rows go to ``folder`` by part of the
    persons (``persons_per_part`` consecutive ``pid``). Then the parts are taken in groups of
    about ``rows_per_chunk`` statements, and each group goes through :func:`combine_statements`,
    :func:`apportion`, :func:`job_months`, :func:`person_months` and :func:`employer_months`.
    Every grouping and ordering of those functions starts with the person, and employer codes
    come from the sorted ``SBEID`` of all files, so the stacked pieces are the tables of the
    whole extract at once, byte for byte; exclusions are the same counts, in the same order.
    Memory: one batch of text plus one group of statements, and the month tables themselves.

    ``after_file(path, rows, exclusions_before)`` is called when a file is parsed (the step's
    checks of excluded rows). ``on_chunk(person_months, employer_months)`` takes the pieces of
    the month tables as they are made, in ``pid`` order (they are then not kept); by default
    they are returned. The log gets rows read per file with the rate, every
    ``progress_seconds`` and at the end of the file.
    """
    # at most MAX_PARTS parts: each thread keeps a file open per part while it parses a file
    persons_per_part = max(int(persons_per_part), -(-len(persons) // MAX_PARTS))
    spill = _Spill(Path(folder), persons_per_part)
    stream = _Stream(PersonIndex(persons), variables, codes, spill, payroll_columns(variables), block_bytes,
                     progress_seconds, threading.Event())
    employer_sets = _parse_files(files, stream, workers=workers, max_bad_share=max_bad_share, exclusions=exclusions,
                                 after_file=after_file)
    part_rows = spill.part_rows()
    if not part_rows:
        raise InputError("the payroll extracts hold no usable income statement",
                         hint="check register.files.payroll in config.yaml and the files it names")
    distinct = pa.concat_arrays(employer_sets).unique()
    employers = np.asarray(distinct.take(pc.sort_indices(distinct)).to_pylist(), dtype=object)
    totals = _reduce_chunks(_group_parts(part_rows, rows_per_chunk), spill, employers, window=window,
                            workers=workers, on_chunk=on_chunk)
    if totals.n_corrections:
        log.info("%d correction rows (negative hours) netted within job and pay period", totals.n_corrections)
    for reason in MONTH_REASONS:
        exclusions.add(SOURCE, reason, totals.counts.rows.get((SOURCE, reason), 0))
    return MonthTables(person_months=totals.pm, employer_months=totals.em, employers=employers,
                       n_statements=totals.n_statements, coverage=totals.coverage, n_person_months=totals.n_pm,
                       n_employer_months=totals.n_em)
