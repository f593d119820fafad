"""Register persons, their fixed characteristics, and the linkage of trainees.

The person file (GBAPERSOONTAB) defines who is in the register: one row per person found in
the population register (``RINPERSOONS`` = ``R``). Every person gets an integer code ``pid``
in the order of ``RINPERSOONS + RINPERSOON``; that order does not depend on the
pseudonymisation key, which is why matching breaks ties by it. Trainees are linked through
the key file CBS returns (study number -> RINPERSOONS/RINPERSOON): their ``person`` is the
pseudonym of the study number (namespace ``study``), everyone else's the pseudonym of
``RINPERSOONS + RINPERSOON`` (namespace ``rin``).

Trainees not found in the register (study number absent from the key, ``RINPERSOONS`` other
than ``R``, or absent from the person file) are counted per reason: the flow's "not found in
the register".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mentorwijs.errors import InputError
from mentorwijs.files import check_read
from mentorwijs.flow import Exclusions
from mentorwijs.pseudonymise import pseudonymise
from mentorwijs.register.calendar import month_of_day
from mentorwijs.register.extracts import BAD, EMPTY, check_bad, first_data_row, parse_dates, text
from mentorwijs.register.spec import categorise, categorise_prefix, code_in

log = logging.getLogger(__name__)

#: ``group`` of a register person.
REGISTER, TRAINEE, KEY_ONLY = 0, 1, 2

NOT_IN_KEY = "not found in the register: study number not in the linkage key"
NOT_R = "not found in the register: RINPERSOONS other than R"
NOT_IN_PERSONS = "not found in the register: not in the person file"


def rin_keys(person_type: pa.ChunkedArray | pa.Array, person: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """``RINPERSOONS + RINPERSOON`` with the number zero-padded to nine characters."""
    number = text(person)
    number = pc.utf8_lpad(number, 9, "0")
    return pc.binary_join_element_wise(text(person_type), number, "")


def lookup_pids(person_type, person, persons: pd.DataFrame, found_types) -> tuple[np.ndarray, np.ndarray]:
    """(pid per row, -1 where absent from the person file; mask of rows whose RINPERSOONS is found)."""
    found = code_in(person_type, found_types) if len(person_type) else np.zeros(0, dtype=bool)
    keys = rin_keys(person_type, person)
    index = pc.index_in(keys, value_set=pa.array(persons["rin"].tolist(), type=pa.string()))
    pid = pc.fill_null(index, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    pid[~found] = -1
    return pid, found



class PersonIndex:
    """The person file's ``RINPERSOONS + RINPERSOON`` -> ``pid``, hashed once: :func:`lookup_pids`
    for an extract read in batches (hashing a national person file again for every batch would
    cost more than the batch). The distinct keys of a batch are looked up, then spread."""

    def __init__(self, persons: pd.DataFrame):
        rin = np.asarray(persons["rin"].astype(object).to_numpy(), dtype=object)
        self.index = pd.Index(rin, dtype=object)
        self.persons = persons if not self.index.is_unique else None  # a doubled key: index_in keeps the first
        self.index.get_indexer(np.array([], dtype=object))  # the hash table built now, not by two threads at once

    def lookup(self, person_type, person, found_types) -> tuple[np.ndarray, np.ndarray]:
        """The same as :func:`lookup_pids`."""
        if self.persons is not None:
            return lookup_pids(person_type, person, self.persons, found_types)
        found = code_in(person_type, found_types) if len(person_type) else np.zeros(0, dtype=bool)
        keys = rin_keys(person_type, person)
        if isinstance(keys, pa.ChunkedArray):
            keys = keys.combine_chunks() if keys.num_chunks else pa.array([], pa.string())
        encoded = keys.dictionary_encode()
        position = self.index.get_indexer(np.asarray(encoded.dictionary.to_pylist(), dtype=object))
        pid = position[encoded.indices.to_numpy(zero_copy_only=False)].astype(np.int32)
        pid[~found] = -1
        return pid, found


def require_linked(pid: np.ndarray, found: np.ndarray, *, file: str | Path, column: str, kind: str) -> None:
    """An :class:`InputError` when an extract has rows but none of them is a person of the person
    file: every row would be excluded, so the file is not the one that belongs to this delivery."""
    if len(pid) and not (pid >= 0).any():
        raise InputError(
            f"none of the {len(pid)} rows of the {kind} extract is a person of the person file "
            f"({int((~found).sum())} with RINPERSOONS other than R, {int((found & (pid < 0)).sum())} "
            "not in the person file)",
            file=file, column=column,
            hint="every row would be excluded: check that the extract belongs to the same delivery as the person file "
                 "(RINPERSOONS R and the same RINPERSOON numbers), or register.codes.person_found in config.yaml",
        )


@dataclass(frozen=True)
class Spells:
    """Rows of a spell file (residence, SECM): ``pid`` (-1 absent), ``start`` and ``end`` (days
    since 1970-01-01), ``open_end`` (the end date is empty) and ``keep`` (a person of the person
    file with valid dates)."""

    pid: np.ndarray
    start: np.ndarray
    end: np.ndarray
    open_end: np.ndarray
    keep: np.ndarray


def read_spells(raw: pa.Table, *, person_type: str, person: str, start: str, end: str, persons: pd.DataFrame,
                found_types, file: str | Path, max_bad_share: float, exclusions: Exclusions, source: str) -> Spells:
    """The persons and dates of a spell file, with the rows left out counted under ``source``:
    persons not under R or not in the person file, and start or end dates that are not
    ``YYYYMMDD`` (an empty end is an open spell; an empty start is bad)."""
    row0 = first_data_row(file)
    pid, found = lookup_pids(raw[person_type], raw[person], persons, found_types)
    require_linked(pid, found, file=file, column=person_type, kind=source)
    exclusions.add(source, "RINPERSOONS other than R", int((~found).sum()))
    exclusions.add(source, "person not in the person file", int((found & (pid < 0)).sum()))
    start_day, s_status = parse_dates(raw[start])
    end_day, e_status = parse_dates(raw[end])
    bad_s = check_bad(s_status, raw[start], file=file, column=start, what="dates YYYYMMDD",
                      max_bad_share=max_bad_share, bad_codes=(BAD, EMPTY), first_data_row=row0)
    bad_e = check_bad(e_status, raw[end], file=file, column=end, what="dates YYYYMMDD",
                      max_bad_share=max_bad_share, bad_codes=(BAD,), first_data_row=row0)
    keep = pid >= 0
    bad = keep & (bad_s | bad_e)
    exclusions.add(source, "spell start or end not a date", int(bad.sum()))
    return Spells(pid=pid, start=start_day, end=end_day, open_end=e_status == EMPTY, keep=keep & ~bad)


def person_table(
    raw: pa.Table,
    *,
    variables: Mapping,
    codes: Mapping,
    unknown_birth_month: int,
    file: str | Path,
    exclusions: Exclusions,
) -> pd.DataFrame:
    """One row per person found in the register: ``pid, rin, sex, birth_month, migration_background``.

    ``birth_month`` is the integer calendar month of birth (missing when the birth year is
    unknown; an unknown month within a known year is ``unknown_birth_month``).
    Rows with ``RINPERSOONS`` other than ``R`` are dropped and counted; exact duplicate rows
    are dropped and counted; two different rows for one person are an error.
    """
    v = variables
    pv = v["persons"]
    found = code_in(raw[v["person_type"]], codes["person_found"])
    if len(found) and not found.any():
        raise InputError(f"none of the {len(found)} rows of the person file has RINPERSOONS R (a person of the "
                         "population register)", file=file, column=v["person_type"],
                         hint="ask CBS for the person file of this delivery, or correct "
                              "register.codes.person_found in config.yaml")
    exclusions.add("persons", "RINPERSOONS other than R", int((~found).sum()))
    rows = np.flatnonzero(found)
    table = raw.take(pa.array(rows))
    rin = np.asarray(rin_keys(table[v["person_type"]], table[v["person"]]).to_pylist(), dtype=object)
    frame = pd.DataFrame(
        {
            "rin": rin,
            "sex_code": np.asarray(text(table[pv["sex"]]).to_pylist(), dtype=object),
            "year": np.asarray(text(table[pv["birth_year"]]).to_pylist(), dtype=object),
            "month": np.asarray(text(table[pv["birth_month"]]).to_pylist(), dtype=object),
            "generation": np.asarray(text(table[pv["generation"]]).to_pylist(), dtype=object),
            "_row": rows,
        }
    )
    empty = frame["rin"].str.len() <= 1
    exclusions.add("persons", "person number missing", int(empty.sum()))
    frame = frame[~empty]
    exact = frame.duplicated(["rin", "sex_code", "year", "month", "generation"])
    exclusions.add("persons", "duplicate row of a person (copy dropped)", int(exact.sum()))
    frame = frame[~exact]
    conflict = frame.duplicated("rin", keep=False)
    if conflict.any():
        rows_c = frame.loc[conflict, "_row"].to_numpy()
        raise InputError(
            f"{conflict.sum()} rows describe {frame.loc[conflict, 'rin'].nunique()} person(s) more than once "
            "with different values",
            file=file,
            row=int(rows_c[1]) + first_data_row(file),
            column=v["person"],
            hint="the person file must hold one row per person: ask CBS for a corrected extract",
        )
    frame = frame.sort_values("rin", kind="mergesort").reset_index(drop=True)
    year_ok = frame["year"].str.fullmatch(r"[0-9]{4}")
    month_num = pd.to_numeric(frame["month"].where(frame["month"].str.fullmatch(r"[0-9]{1,2}"), ""), errors="coerce")
    month_num = month_num.where((month_num >= 1) & (month_num <= 12), unknown_birth_month)
    year_num = pd.to_numeric(frame["year"].where(year_ok, ""), errors="coerce")
    birth = (year_num * 12 + month_num - 1).where(year_ok)
    sex_arr = pa.array(frame["sex_code"].tolist(), type=pa.string())
    gen_arr = pa.array(frame["generation"].tolist(), type=pa.string())
    return pd.DataFrame(
        {
            "pid": np.arange(len(frame), dtype=np.int32),
            "rin": frame["rin"].to_numpy(dtype=object),
            "sex": categorise(sex_arr, codes["sex"]),
            "birth_month": birth.astype("Int32"),
            "migration_background": categorise(gen_arr, codes["generation"]),
        }
    )


def _linked_rows(raw: pa.Table, persons: pd.DataFrame, *, variables, codes, source: str,
                 exclusions: Exclusions) -> tuple[pa.Table, np.ndarray]:
    pid, found = lookup_pids(raw[variables["person_type"]], raw[variables["person"]], persons, codes["person_found"])
    exclusions.add(source, "RINPERSOONS other than R", int((~found).sum()))
    exclusions.add(source, "person not in the person file", int((found & (pid < 0)).sum()))
    keep = np.flatnonzero(pid >= 0)
    return raw.take(pa.array(keep)), pid[keep]


def add_education(persons: pd.DataFrame, raw: pa.Table, *, variables, codes, exclusions: Exclusions,
                  file: str | Path | None = None) -> pd.DataFrame:
    """``persons`` with ``education`` (a level of ``register.codes.education_level``, or ``unknown``).

    Persons absent from the education file have ``unknown``. Several rows for one person:
    the highest level code is kept (and counted in the log).
    """
    if file is not None:
        pid_all, found = lookup_pids(raw[variables["person_type"]], raw[variables["person"]], persons,
                                     codes["person_found"])
        require_linked(pid_all, found, file=file, column=variables["person_type"], kind="education")
    table, pid = _linked_rows(raw, persons, variables=variables, codes=codes, source="education", exclusions=exclusions)
    code = np.asarray(text(table[variables["education"]["level"]]).to_pylist(), dtype=object)
    frame = pd.DataFrame({"pid": pid, "code": code}).sort_values(["pid", "code"], kind="mergesort")
    several = frame.duplicated("pid", keep=False)
    if several.any():
        log.warning("%d person(s) have more than one row; the highest level code is kept",
                    frame.loc[several, "pid"].nunique())
    frame = frame.drop_duplicates("pid", keep="last")
    level = categorise_prefix(pa.array(frame["code"].tolist(), type=pa.string()), codes["education_level"])
    result = persons.copy()
    result["education"] = "unknown"
    result.loc[frame["pid"].to_numpy(), "education"] = level
    return result


def add_deaths(persons: pd.DataFrame, raw: pa.Table, *, variables, codes, file, max_bad_share,
               exclusions: Exclusions) -> pd.DataFrame:
    """``persons`` with ``death_month`` (integer calendar month of death, missing if alive)."""
    table, pid = _linked_rows(raw, persons, variables=variables, codes=codes, source="deaths", exclusions=exclusions)
    column = variables["deaths"]["date"]
    days, status = parse_dates(table[column])
    bad = check_bad(status, table[column], file=file, column=column, what="dates YYYYMMDD",
                    max_bad_share=max_bad_share, bad_codes=(BAD, 1), first_data_row=first_data_row(file))
    exclusions.add("deaths", "date of death not a date", int(bad.sum()))
    frame = pd.DataFrame({"pid": pid[~bad], "month": month_of_day(days[~bad])})
    first = frame.groupby("pid")["month"].min()
    result = persons.copy()
    death = pd.Series(pd.NA, index=result.index, dtype="Int32")
    death.iloc[first.index.to_numpy()] = first.to_numpy()
    result["death_month"] = death
    return result


def migration_events(persons: pd.DataFrame, raw: pa.Table, *, variables, codes, file, max_bad_share,
                     exclusions: Exclusions) -> pd.DataFrame:
    """Emigrations and immigrations: ``pid, month, emigration`` (1 emigration, 0 immigration)."""
    table, pid = _linked_rows(raw, persons, variables=variables, codes=codes, source="migration", exclusions=exclusions)
    mv = variables["migration"]
    days, status = parse_dates(table[mv["date"]])
    bad = check_bad(status, table[mv["date"]], file=file, column=mv["date"], what="dates YYYYMMDD",
                    max_bad_share=max_bad_share, bad_codes=(BAD, 1), first_data_row=first_data_row(file))
    exclusions.add("migration", "date not a date", int(bad.sum()))
    emig = code_in(table[mv["type"]], codes["migration"]["emigration"])
    immig = code_in(table[mv["type"]], codes["migration"]["immigration"])
    other = ~(emig | immig)
    exclusions.add("migration", "type neither emigration nor immigration", int((other & ~bad).sum()))
    keep = ~bad & ~other
    frame = pd.DataFrame(
        {"pid": pid[keep].astype(np.int32), "day": days[keep], "emigration": emig[keep].astype(np.int8)}
    ).sort_values(["pid", "day", "emigration"], kind="mergesort")
    frame["month"] = month_of_day(frame["day"].to_numpy()).astype(np.int32)
    return frame[["pid", "month", "emigration"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# linkage


def check_trainees(trainees: pd.DataFrame, *, file: str | Path) -> pd.DataFrame:
    """The trainee hand-over, checked against its contract (:data:`mentorwijs.files.FILES`
    ``trainees``): the columns with their types, one row per person, months as YYYY-MM."""
    return check_read(trainees, "trainees", file=file)


def key_link_problem(n_rows: int, n_study_numbers: int, n_linked: int, *,
                     study_number: str) -> tuple[str, str, str] | None:
    """(problem, column, fix) when the linkage key cannot link anyone, else None: no study
    numbers, or none of its persons in the person file (the run would have no trainee)."""
    if n_study_numbers == 0:
        return (f"the linkage key has {n_rows} row(s) but no study number in column {study_number!r}", study_number,
                "the key CBS returns must hold the study numbers: check register.key.study_number in config.yaml")
    if n_linked == 0:
        return (f"none of the {n_study_numbers} study number(s) of the linkage key links a person of the person file",
                "RINPERSOON", "the key and the person file must come from the same delivery (same RINPERSOON numbers): "
                "ask CBS which person file belongs to this key")
    return None


@dataclass
class Linkage:
    """The result of linking the trainees: register persons with their ``person`` and
    ``group``, the found trainees (``person, pid``), and the not-found counts per reason."""

    persons: pd.DataFrame
    found: pd.DataFrame
    not_found: dict[str, int]
    n_trainees: int


def link_trainees(
    trainees: pd.DataFrame,
    key: pa.Table,
    persons: pd.DataFrame,
    *,
    study_number: str,
    variables: Mapping,
    codes: Mapping,
    pseudonym_key: bytes,
    key_file: str | Path,
) -> Linkage:
    """Link trainees (``person`` = study pseudonym) to register persons through the key file.

    Key rows whose study number is not a trainee are kept out of the control pool (they are
    employees of trained supervisors) and logged. A study number with two different register
    persons, or two trainees with one register person, is an error.
    """
    v = variables
    study = np.asarray(text(key[study_number]).to_pylist(), dtype=object)
    ptype = key[v["person_type"]]
    keys = np.asarray(rin_keys(ptype, key[v["person"]]).to_pylist(), dtype=object)
    found_type = code_in(ptype, codes["person_found"])
    frame = pd.DataFrame({"study": study, "rin": keys, "found_type": found_type, "_row": np.arange(len(study))})
    frame = frame[frame["study"] != ""].drop_duplicates(["study", "rin"])
    conflict = frame["study"].duplicated(keep=False)
    if conflict.any():
        raise InputError(
            f"{frame.loc[conflict, 'study'].nunique()} study number(s) are linked to more than one register person",
            file=key_file,
            row=int(frame.loc[conflict, "_row"].iloc[1]) + 2,
            column=study_number,
            hint="the key must give one RINPERSOONS/RINPERSOON per study number: ask CBS for a corrected key",
        )
    frame["person"] = pseudonymise(frame["study"], pseudonym_key, "study").to_numpy(dtype=object)
    rin_index = pd.Series(persons["pid"].to_numpy(), index=persons["rin"].to_numpy())
    frame["pid"] = frame["rin"].map(rin_index).where(frame["found_type"]).astype("Int64")
    key_problem = key_link_problem(len(study), int(len(frame)), int(frame["pid"].notna().sum()),
                                   study_number=study_number)
    if key_problem:
        raise InputError(key_problem[0], file=key_file, column=key_problem[1], hint=key_problem[2])

    trainee_persons = trainees["person"].astype(str)
    merged = pd.DataFrame({"person": trainee_persons}).merge(frame, on="person", how="left")
    in_key = merged["study"].notna().to_numpy()
    found_type = merged["found_type"].eq(True).to_numpy()
    not_found = {
        NOT_IN_KEY: int((~in_key).sum()),
        NOT_R: int((in_key & ~found_type).sum()),
        NOT_IN_PERSONS: int((found_type & merged["pid"].isna().to_numpy()).sum()),
    }
    found = merged.loc[merged["pid"].notna(), ["person", "pid"]].copy()
    found["pid"] = found["pid"].astype(np.int32)
    twice = found["pid"].duplicated(keep=False)
    if twice.any():
        raise InputError(
            f"{twice.sum()} trainees are linked to the same register person",
            file=key_file,
            column=study_number,
            hint="two study numbers point to one RINPERSOONS/RINPERSOON: check the key and the trainee table",
        )
    others = frame[~frame["person"].isin(set(trainee_persons)) & frame["pid"].notna()]
    if len(others):
        log.warning("linkage key: %d register person(s) in the key are not trainees; they are kept "
                    "out of the control pool", len(others))

    result = persons.copy()
    result["person"] = pseudonymise(result["rin"], pseudonym_key, "rin").to_numpy(dtype=object)
    result["group"] = np.int8(REGISTER)
    result.loc[others["pid"].astype(int).to_numpy(), "group"] = np.int8(KEY_ONLY)
    trainee_pids = found["pid"].to_numpy()
    result.loc[trainee_pids, "person"] = found["person"].to_numpy()
    result.loc[trainee_pids, "group"] = np.int8(TRAINEE)
    result["group"] = result["group"].astype(np.int8)
    return Linkage(persons=result, found=found.reset_index(drop=True), not_found=not_found, n_trainees=len(trainees))

