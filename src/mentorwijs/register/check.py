"""Checks of register extracts before the register part runs (``mentorwijs check-register``).

:func:`check_register` reads every extract the configuration names and reports, one row per
finding: whether the file is there with the columns the pipeline reads, the mix of
``RINPERSOONS`` codes, unusable dates, duplicate persons, whether the payroll extracts cover
every month of ``register.window``, and how many key entries are found in the register.
Status ``error`` stops the pipeline; ``warning`` deserves a look; ``ok`` is informative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from mentorwijs.errors import InputError
from mentorwijs.register.calendar import month_coverage, month_label, month_of_day
from mentorwijs.register.extracts import first_data_row, parse_dates, read_extract, text

COLUMNS = ["check", "file", "status", "value", "message"]
#: How the messages name each extract parsed row by row.
KINDS = {"persons": "person", "education": "education", "deaths": "deaths", "migration": "migration",
         "residence": "residence", "socioeconomic": "socio-economic (SECM)", "payroll": "payroll"}


def coverage_problem(pieces: pd.DataFrame, *, window: tuple[int, int], min_share: float) -> str | None:
    """A message when some window months have fewer persons paid than ``min_share`` times the
    median month (a missing or truncated payroll file), else None."""
    coverage = month_coverage(pieces["month"].to_numpy(np.int64), pieces["pid"].to_numpy(np.int64), window)
    return coverage_message(coverage, window=window, min_share=min_share)


def coverage_message(coverage: pd.DataFrame, *, window: tuple[int, int], min_share: float) -> str | None:
    """:func:`coverage_problem` from the persons paid per month (:func:`month_coverage`)."""
    median = float(np.median(coverage["persons"]))
    low = coverage[coverage["persons"] < min_share * median]
    if median == 0 or len(low):
        months = low["month"].to_numpy() if len(low) else coverage["month"].to_numpy()
        return (f"the payroll extracts do not cover the window {month_label(window[0])}..{month_label(window[1])}: "
                f"{len(months)} month(s) with fewer than {min_share:.0%} of the median number of persons paid "
                f"({_ranges(months)})")
    return None


def _ranges(months: Sequence[int]) -> str:
    months = sorted(int(m) for m in months)
    if not months:
        return ""
    parts, start, prev = [], months[0], months[0]
    for m in months[1:] + [None]:
        if m is not None and m == prev + 1:
            prev = m
            continue
        parts.append(month_label(start) if start == prev else f"{month_label(start)}..{month_label(prev)}")
        if m is not None:
            start = prev = m
    return ", ".join(parts)


def _row(check: str, file, status: str, value, message: str) -> dict:
    return {"check": check, "file": Path(file).as_posix() if file is not None else "", "status": status,
            "value": value, "message": message}


def _person_types(table, column: str, file) -> dict:
    counts = pd.Series(text(table[column]).to_pylist()).value_counts().sort_index()
    total = int(counts.sum())
    mix = ", ".join(f"{k or '(empty)'} {v} ({v / total:.1%})" for k, v in counts.items()) if total else "no rows"
    # no R at all: a warning here; the check "values" (parsing as the run does) gives the error with its fix
    status = "warning" if total and counts.get("R", 0) == 0 else "ok"
    return _row("person_types", file, status, float(counts.get("R", 0) / total) if total else float("nan"),
                f"RINPERSOONS mix: {mix}")


@dataclass(frozen=True)
class RegisterChecks:
    """``register.checks``: the limits of the register extracts' checks, with their defaults
    (the register steps, the rules' params and ``mentorwijs check-register`` all take them from here)."""

    #: More than this share of a date or number column unusable stops the run.
    max_bad_share: float = 0.01
    #: More than this share of an extract's rows excluded gives a warning.
    warn_excluded_share: float = 0.1
    #: A payroll month with fewer persons paid than this share of the median month stops the run.
    min_month_share: float = 0.5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "RegisterChecks":
        """From the whole configuration (its ``register.checks`` section, which may be absent)."""
        checks = config["register"].get("checks") or {}
        return cls(**{name: float(checks.get(name, getattr(cls, name)))
                      for name in ("max_bad_share", "warn_excluded_share", "min_month_share")})


#: Default of ``register.checks.warn_excluded_share``: a warning above this share of a file's rows excluded.
WARN_EXCLUDED_SHARE = RegisterChecks.warn_excluded_share


def excluded_by_reason(exclusions, before: Mapping | None = None) -> list[tuple[int, str]]:
    """``(n, reason)`` of the rows excluded since ``before`` (an earlier copy of ``exclusions.rows``),
    most frequent first."""
    before = before or {}
    counts: dict[str, int] = {}
    for key, n in exclusions.rows.items():
        counts[key[1]] = counts.get(key[1], 0) + n - before.get(key, 0)
    return sorted(((n, reason) for reason, n in counts.items() if n), key=lambda x: (-x[0], x[1]))


def _summary(n_rows: int, counts: list[tuple[int, str]]) -> str:
    n_excluded = sum(n for n, _ in counts)
    share = n_excluded / n_rows if n_rows else 0.0
    return (f"{n_rows} rows read, {n_excluded} excluded ({share:.1%})"
            + "".join(f"; {n} {reason}" for n, reason in counts))


def no_usable_row(file, n_rows: int, counts: list[tuple[int, str]], *, kind: str) -> InputError | None:
    """The error when an extract has rows and every one of them is excluded (the run stops on it)."""
    if not n_rows or sum(n for n, _ in counts) < n_rows:
        return None
    return InputError(f"no usable row in the {kind} extract: {_summary(n_rows, counts)}", file=file,
                      hint=f"most rows are excluded as '{counts[0][1]}': check that the extract is complete and "
                           "belongs to this delivery")


def many_excluded(n_rows: int, counts: list[tuple[int, str]], *, threshold: float) -> str | None:
    """The warning text when more than ``threshold`` of an extract's rows are excluded, else None."""
    if not n_rows or sum(n for n, _ in counts) / n_rows <= threshold:  # a correctly rounded quotient: 29/100 is 0.29
        return None
    return (f"{_summary(n_rows, counts)}; more than register.checks.warn_excluded_share ({threshold:g}): check that "
            "the extract is complete and belongs to this delivery")


def exclusion_finding(file, n_rows: int, exclusions, *, kind: str, threshold: float) -> dict:
    """The ``exclusions`` row of one extract: rows read, rows excluded by reason; an ``error`` when
    rows were read and none is usable, a ``warning`` above ``threshold`` of the rows excluded."""
    counts = excluded_by_reason(exclusions)
    share = sum(n for n, _ in counts) / n_rows if n_rows else 0.0
    message = _summary(n_rows, counts)
    problem = no_usable_row(file, n_rows, counts, kind=kind)
    if problem is not None:
        return _error("exclusions", file, problem)
    warning = many_excluded(n_rows, counts, threshold=threshold)
    if warning:
        return _row("exclusions", file, "warning", share, warning)
    return _row("exclusions", file, "ok", share, message)


def _error(check: str, file, exc: InputError) -> dict:
    """An error row: row, column, problem and fix of the :class:`InputError` (the file has its own column)."""
    return _row(check, exc.file if exc.file is not None else file, "error", "", exc.located())


@dataclass(frozen=True)
class _Check:
    """What every step of :func:`check_register` reads: the delivery's variable names and codes,
    the window (first and last month, ``year * 12 + month - 1``) and the limits: the share of
    unusable values that stops the run (``max_bad_share``), the share of a window month's persons
    paid, relative to the median month, below which the month counts as missing
    (``min_month_share``), and the share of excluded rows that earns a warning."""

    variables: Mapping
    codes: Mapping
    window: tuple[int, int]
    max_bad_share: float
    min_month_share: float
    warn_excluded_share: float


#: Extracts that may have no data row (nobody deceased or migrating in a small delivery).
MAY_BE_EMPTY = ("deaths", "migration")


def _wanted_columns(v: Mapping) -> dict[str, list[str]]:
    """The columns the register part reads from each extract other than payroll (the address
    file's year columns are added when it is read)."""
    from mentorwijs.register.residence import residence_columns
    from mentorwijs.register.socioeconomic import socioeconomic_columns

    pt, pn = v["person_type"], v["person"]
    return {
        "persons": [pt, pn, *v["persons"].values()],
        "socioeconomic": socioeconomic_columns(v),
        "education": [pt, pn, v["education"]["level"]],
        "residence": residence_columns(v),
        "addresses": [v["addresses"]["object_type"], v["addresses"]["object"]],
        "municipality_regions": list(v["municipality_regions"].values()),
        "deaths": [pt, pn, v["deaths"]["date"]],
        "migration": [pt, pn, v["migration"]["date"], v["migration"]["type"]],
        "businesses": list(v["businesses"].values()),
    }


def _date_columns(v: Mapping) -> dict[str, list[str]]:
    """The date columns (YYYYMMDD) of each extract whose unusable values are counted."""
    return {"socioeconomic": [v["socioeconomic"]["start"]], "residence": [v["residence"]["start"]],
            "deaths": [v["deaths"]["date"]], "migration": [v["migration"]["date"]]}


def _address_columns(path, columns: list[str], v: Mapping) -> list[str]:
    """The address file's columns plus its municipality-per-year columns (``gem2017``, ...)."""
    from mentorwijs.register.extracts import extract_columns
    from mentorwijs.register.residence import year_columns

    av = v["addresses"]
    years = year_columns(extract_columns(path, kind="addresses"), av["municipality"])
    if not years:
        raise InputError(f"no municipality column named like {av['municipality']!r}", file=path, row=1,
                         hint="set register.variables.addresses.municipality to the pattern of the year "
                              "columns (e.g. gem{year})")
    return columns + list(years.values())


def _read_findings(kind: str, path, table, columns: list[str], v: Mapping) -> list[dict]:
    """``readable`` (rows; a warning for an empty deaths or migration file), ``person_types``
    (share of RINPERSOONS ``R``) and ``dates`` (share of values not a date) of one extract."""
    n_rows = table.num_rows
    rows = [_row("readable", path, "warning" if n_rows == 0 else "ok", n_rows,
                 f"{n_rows} rows, columns present"
                 + (" (no data rows: nobody is "
                    f"{'deceased' if kind == 'deaths' else 'migrating'} in the extract; check it is complete)"
                    if n_rows == 0 else ""))]
    if v["person_type"] in columns:
        rows.append(_person_types(table, v["person_type"], path))
    for column in _date_columns(v).get(kind, []):
        _, status = parse_dates(table[column])
        share = float((status != 0).mean()) if len(status) else 0.0
        level = "warning" if share > 0 else "ok"  # too many: an error of the check "values" below
        rows.append(_row("dates", path, level, share,
                         f"{column}: {int((status != 0).sum())} value(s) not a date YYYYMMDD"))
    return rows


def _read_extracts(files: Mapping, v: Mapping) -> tuple[dict, list[dict]]:
    """Every extract but payroll, read as the run reads it: the tables that could be read and
    their findings (an ``error`` row for each that could not)."""
    tables, rows = {}, []
    for kind, columns in _wanted_columns(v).items():
        path = files[kind]
        try:
            if kind == "addresses":
                columns = _address_columns(path, columns, v)
            tables[kind] = read_extract(path, columns, kind=kind, allow_empty=kind in MAY_BE_EMPTY)
        except InputError as exc:
            rows.append(_error("readable", path, exc))
            continue
        rows.extend(_read_findings(kind, path, tables[kind], columns, v))
    return tables, rows


def _business_years(table, file, c: _Check) -> list[dict]:
    """A ``values`` error when more than ``max_bad_share`` of the business file's years are not digits."""
    from mentorwijs.register.extracts import check_bad

    bv = c.variables["businesses"]
    year_txt = text(table[bv["year"]])
    year_ok = pc.fill_null(pc.utf8_is_digit(year_txt), False).to_numpy(zero_copy_only=False)
    try:
        check_bad(np.where(year_ok, 0, 2).astype(np.int8), year_txt, file=file, column=bv["year"],
                  what="years", max_bad_share=c.max_bad_share, first_data_row=first_data_row(file))
    except InputError as exc:
        return [_error("values", file, exc)]
    return []


def _region_findings(table, file, c: _Check) -> list[dict]:
    """A ``regions`` error when the municipality -> labour-market-region table cannot be used."""
    from mentorwijs.register.residence import municipality_regions

    try:
        municipality_regions(table, variables=c.variables, file=file)
    except InputError as exc:
        return [_error("regions", file, exc)]
    return []


def _person_findings(table, file, c: _Check) -> tuple[pd.DataFrame | None, list[dict]]:
    """The person table as the run builds it (None when it cannot be), with ``duplicate_persons``
    (exact duplicate rows) and ``exclusions`` findings."""
    from mentorwijs.flow import Exclusions
    from mentorwijs.register import persons as P

    exclusions = Exclusions()
    try:
        persons = P.person_table(table, variables=c.variables, codes=c.codes, unknown_birth_month=7,
                                 file=file, exclusions=exclusions)
    except InputError as exc:
        return None, [_error("persons", file, exc)]
    dup = exclusions.count("duplicate row of a person (copy dropped)")
    return persons, [
        _row("duplicate_persons", file, "warning" if dup else "ok", dup, f"{dup} exact duplicate row(s) of a person"),
        exclusion_finding(file, table.num_rows, exclusions, kind="person", threshold=c.warn_excluded_share)]


def _person_parsers(persons: pd.DataFrame, c: _Check) -> dict[str, Callable]:
    """``kind -> parse(raw, file, exclusions)``: the register part's parsing of each extract keyed
    on the person table (too many unusable values stop the run there)."""
    from mentorwijs.register import persons as P
    from mentorwijs.register.residence import residence_spells
    from mentorwijs.register.socioeconomic import benefit_months

    v, codes, limit = c.variables, c.codes, c.max_bad_share
    return {
        "education": lambda raw, f, ex: P.add_education(persons, raw, variables=v, codes=codes, exclusions=ex, file=f),
        "deaths": lambda raw, f, ex: P.add_deaths(persons, raw, variables=v, codes=codes, file=f,
                                                  max_bad_share=limit, exclusions=ex),
        "migration": lambda raw, f, ex: P.migration_events(persons, raw, variables=v, codes=codes, file=f,
                                                           max_bad_share=limit, exclusions=ex),
        "residence": lambda raw, f, ex: residence_spells(raw, persons, variables=v, codes=codes, file=f,
                                                         max_bad_share=limit, exclusions=ex),
        "socioeconomic": lambda raw, f, ex: benefit_months(raw, persons, variables=v, codes=codes, window=c.window,
                                                           file=f, max_bad_share=limit, exclusions=ex),
    }


def _parsed_findings(persons: pd.DataFrame, tables: Mapping, files: Mapping, c: _Check) -> list[dict]:
    """A ``values`` error or an ``exclusions`` row for each extract parsed against the person table."""
    from mentorwijs.flow import Exclusions

    rows = []
    for kind, parse in _person_parsers(persons, c).items():
        if kind not in tables:
            continue
        exclusions = Exclusions()
        try:
            parse(tables[kind], files[kind], exclusions)
        except InputError as exc:
            rows.append(_error("values", files[kind], exc))
            continue
        rows.append(exclusion_finding(files[kind], tables[kind].num_rows, exclusions, kind=KINDS[kind],
                                      threshold=c.warn_excluded_share))
    return rows


def _key_pairs(key, key_file, study_number: str, v: Mapping) -> tuple[pd.Series, pd.DataFrame]:
    """The key's study numbers (one per key row) and its distinct (study number, person) pairs
    with their row number in the file; raises when a study number has two register persons."""
    from mentorwijs.register import persons as P

    study = pd.Series(text(key[study_number]).to_pylist())
    rin = pd.Series(P.rin_keys(key[v["person_type"]], key[v["person"]]).to_pylist())
    pairs = pd.DataFrame({"study": study, "rin": rin, "row": np.arange(key.num_rows) + 2})
    pairs = pairs[pairs["study"] != ""].drop_duplicates(["study", "rin"])
    twice = pairs["study"].duplicated(keep=False)
    if twice.any():
        raise InputError(f"{pairs.loc[twice, 'study'].nunique()} study number(s) are linked to more "
                         "than one register person",
                         file=key_file, row=int(pairs.loc[twice, "row"].iloc[1]), column=study_number,
                         hint="the key must give one RINPERSOONS/RINPERSOON per study number: ask "
                              "CBS for a corrected key")
    return study, pairs


def _key_match(key, key_file, study, pairs, persons, study_number: str, c: _Check) -> tuple[dict, tuple | None]:
    """The ``key_match_rate`` row (share of key entries found in the person file; an error when the
    key links too few study numbers) and the link problem, if any."""
    from mentorwijs.register import persons as P

    v = c.variables
    n_key = key.num_rows
    pid, found = P.lookup_pids(key[v["person_type"]], key[v["person"]], persons, c.codes["person_found"])
    linked = int(((pid >= 0) & (study != "").to_numpy()).sum())
    problem = P.key_link_problem(n_key, int(pairs["study"].nunique()), linked, study_number=study_number)
    row = _row("key_match_rate", key_file, "error" if problem else "ok", float((pid >= 0).mean()),
               f"column {problem[1]!r}: {problem[0]}; fix: {problem[2]}" if problem else
               f"{int((pid >= 0).sum())} of {n_key} key entries found in the person file "
               f"({int((~found).sum())} with RINPERSOONS other than R)")
    return row, problem


def _trainees_linked(key, key_file, persons, trainees_file, pseudonym_key: Callable[[], bytes],
                     study_number: str, c: _Check) -> dict:
    """The ``trainees_linked`` row: trainees of the hand-over found in the register through the key
    (an error when none is)."""
    from mentorwijs.register import persons as P
    from mentorwijs.tables import read_parquet

    linkage = P.link_trainees(P.check_trainees(read_parquet(trainees_file), file=trainees_file), key, persons,
                              study_number=study_number, variables=c.variables, codes=c.codes,
                              pseudonym_key=pseudonym_key(), key_file=key_file)
    missing = sum(linkage.not_found.values())
    return _row("trainees_linked", key_file, "error" if linkage.found.empty else "ok", len(linkage.found),
                f"{len(linkage.found)} of {linkage.n_trainees} trainees of the hand-over found in the register "
                f"({missing} not found)" + ("; fix: check that the key belongs to this study's hand-over"
                                            if linkage.found.empty else ""))


def _key_findings(key_file, study_number: str, persons, trainees_file, pseudonym_key, c: _Check) -> list[dict]:
    """The linkage key: its RINPERSOONS mix, how many entries the person file has, and (with the
    hand-over and the pseudonym key) how many trainees it links; a ``key`` error stops there."""
    v = c.variables
    rows = []
    try:
        key = read_extract(key_file, [study_number, v["person_type"], v["person"]], kind="linkage key")
        rows.append(_person_types(key, v["person_type"], key_file))
        study, pairs = _key_pairs(key, key_file, study_number, v)
        problem = None
        if persons is not None:
            row, problem = _key_match(key, key_file, study, pairs, persons, study_number, c)
            rows.append(row)
        if trainees_file is not None and not Path(trainees_file).is_file():
            rows.append(_row("trainees_linked", trainees_file, "error", "",
                             "the trainee hand-over is not there: the run needs it to link the trainees; fix: bring "
                             "data/processed/trainees.parquet from the questionnaire part into the environment"))
        elif persons is not None and not problem and trainees_file is not None and pseudonym_key is not None:
            rows.append(_trainees_linked(key, key_file, persons, trainees_file, pseudonym_key, study_number, c))
    except InputError as exc:
        rows.append(_error("key", key_file, exc))
    return rows


@dataclass
class _PayrollSeen:
    """What the payroll files gave so far: the start month and the person of every pay period with
    usable dates (for the window coverage), the parsed statements, and whether a file could not
    be read (its months are then missing for a reason already reported)."""

    months: list = field(default_factory=list)
    people: list = field(default_factory=list)
    parts: list = field(default_factory=list)
    unreadable: bool = False


def _statement_findings(table, path, persons, seen: _PayrollSeen, c: _Check) -> list[dict]:
    """The payroll file parsed into statements as the run parses it: an ``exclusions`` row or a
    ``values`` error."""
    from mentorwijs.flow import Exclusions
    from mentorwijs.register.payroll import parse_statements

    exclusions = Exclusions()
    try:
        seen.parts.append(parse_statements(table, persons, variables=c.variables, codes=c.codes, file=path,
                                           max_bad_share=c.max_bad_share, exclusions=exclusions))
    except InputError as exc:
        return [_error("values", path, exc)]
    return [exclusion_finding(path, table.num_rows, exclusions, kind="payroll", threshold=c.warn_excluded_share)]


def _period_findings(table, path, start, bad, seen: _PayrollSeen, c: _Check) -> list[dict]:
    """``period_types`` (share of four-weekly periods) and ``periods`` (first and last start month,
    periods starting outside the window); keeps the start months and persons for the coverage."""
    from mentorwijs.register.spec import code_in

    pv, window, rows = c.variables["payroll"], c.window, []
    if table.num_rows:
        share = {name: float(code_in(table[pv["period_type"]], values).mean())
                 for name, values in c.codes["period_type"].items()}
        rows.append(_row("period_types", path, "ok", share.get("four_weekly", float("nan")),
                         "pay periods: " + ", ".join(f"{name} {v:.1%}" for name, v in share.items())))
    months = month_of_day(start[~bad])
    people = pc.binary_join_element_wise(text(table[c.variables["person_type"]]), text(table[c.variables["person"]]),
                                         "").to_numpy(zero_copy_only=False)[~bad]
    if len(months):
        outside = int(((months < window[0]) | (months > window[1])).sum())
        rows.append(_row("periods", path, "ok", outside,
                         f"pay periods start {month_label(months.min())}..{month_label(months.max())}; "
                         f"{outside} start outside the window (trimmed)"))
    seen.months.append(months)
    seen.people.append(people)
    return rows


def _payroll_file_findings(path, persons, seen: _PayrollSeen, c: _Check) -> list[dict]:
    """Every finding about one payroll file: readable, RINPERSOONS mix, dates, statements, periods."""
    from mentorwijs.register.payroll import payroll_columns

    try:
        table = read_extract(path, payroll_columns(c.variables), kind="payroll")
    except InputError as exc:
        seen.unreadable = True  # its months are missing for a reason already given: no coverage finding
        return [_error("readable", path, exc)]
    pv = c.variables["payroll"]
    rows = [_row("readable", path, "ok", table.num_rows, f"{table.num_rows} rows, columns present"),
            _person_types(table, c.variables["person_type"], path)]
    start, s_status = parse_dates(table[pv["start"]])
    _, e_status = parse_dates(table[pv["end"]])
    bad = (s_status != 0) | (e_status != 0)
    share = float(bad.mean()) if len(bad) else 0.0
    rows.append(_row("dates", path, "warning" if share else "ok", share,
                     f"{int(bad.sum())} pay period(s) with a start or end that is not a date YYYYMMDD"))
    if persons is not None:
        rows.extend(_statement_findings(table, path, persons, seen, c))
    return rows + _period_findings(table, path, start, bad, seen, c)


def _window_coverage(seen: _PayrollSeen, c: _Check) -> dict:
    """The ``window_coverage`` row: window months with at least ``min_month_share`` of the median
    month's persons paid; an error naming the thin or missing months otherwise."""
    window = c.window
    months = np.concatenate(seen.months) if seen.months else np.zeros(0, dtype=np.int64)
    people = pd.factorize(np.concatenate(seen.people))[0] if seen.months else np.zeros(0, dtype=np.int64)
    coverage = month_coverage(months, people, window)
    median = float(np.median(coverage["persons"]))
    low = coverage[coverage["persons"] < c.min_month_share * median] if median > 0 else coverage
    ok = median > 0 and low.empty
    return _row(
        "window_coverage", None, "ok" if ok else "error", int(len(coverage) - len(low)),
        f"payroll covers {len(coverage) - len(low)} of {len(coverage)} months of the window "
        f"{month_label(window[0])}..{month_label(window[1])}"
        + ("" if ok else f"; thin or missing: {_ranges(low['month'])}; "
           "fix: bring the payroll files of every year of register.window, or narrow the window in config.yaml"))


def _payroll_findings(payroll, persons, c: _Check) -> list[dict]:
    """The payroll files one by one, then the statements combined across files (overlaps between
    files) and the window coverage (left out when a file could not be read)."""
    from mentorwijs.flow import Exclusions
    from mentorwijs.register.payroll import combine_statements

    payroll = [payroll] if isinstance(payroll, (str, PurePath)) else list(payroll)
    seen, rows = _PayrollSeen(), []
    for path in payroll:
        rows.extend(_payroll_file_findings(path, persons, seen, c))
    if seen.parts and len(seen.parts) == len(payroll):
        try:
            combine_statements(seen.parts, exclusions=Exclusions())
        except InputError as exc:
            rows.append(_error("values", None, exc))
    if not seen.unreadable:
        rows.append(_window_coverage(seen, c))
    return rows


def check_register(
    *,
    files: Mapping[str, str | PurePath | Sequence[str | PurePath]],
    key_file: str | PurePath,
    study_number: str,
    window: tuple[int, int],
    variables: Mapping,
    codes: Mapping,
    max_bad_share: float = RegisterChecks.max_bad_share,
    min_month_share: float = RegisterChecks.min_month_share,
    warn_excluded_share: float = WARN_EXCLUDED_SHARE,
    trainees_file: str | PurePath | None = None,
    pseudonym_key: Callable[[], bytes] | None = None,
) -> pd.DataFrame:
    """Findings about the register extracts: ``check, file, status, value, message`` rows.

    With ``trainees_file`` (the hand-over of the questionnaire part) and ``pseudonym_key`` (a
    function returning the pseudonymisation key) the trainees are linked through the key as
    the run links them, so two trainees with one register person are found here too.

    Every extract is read and parsed by the same functions as the register part, so each
    problem that would stop the run (an unreadable or empty file, a missing column, too many
    unusable dates or numbers, a key that links nobody, a payroll year missing) is an ``error``
    row here too. Each extract parsed row by row (person file, education, deaths, migration,
    residence, SECM, every payroll file) also gets an ``exclusions`` row: rows read and rows
    excluded by reason, an ``error`` when none is usable and a ``warning`` when more than
    ``warn_excluded_share`` of them are excluded.
    """
    c = _Check(variables=variables, codes=codes, window=window, max_bad_share=max_bad_share,
               min_month_share=min_month_share, warn_excluded_share=warn_excluded_share)
    tables, rows = _read_extracts(files, variables)
    if "businesses" in tables:
        rows += _business_years(tables["businesses"], files["businesses"], c)
    if "municipality_regions" in tables:
        rows += _region_findings(tables["municipality_regions"], files["municipality_regions"], c)
    persons = None
    if "persons" in tables:
        persons, found = _person_findings(tables["persons"], files["persons"], c)
        rows += found
    if persons is not None:
        rows += _parsed_findings(persons, tables, files, c)
    rows += _key_findings(key_file, study_number, persons, trainees_file, pseudonym_key, c)
    rows += _payroll_findings(files["payroll"], persons, c)
    return pd.DataFrame(rows, columns=COLUMNS)
