"""Render the synthetic register as CBS delivers it: tables with text cells, and planted defects.

Every table is sorted and every cell is text before it is written, so the bytes depend only on
the seed. The planted defects (listed in truth.json ``defects`` with file, kind, row, column,
record and detail; ``row`` is the line number in a csv file counting the header as line 1, and
the 1-based case number in a sav file):

- ``non_r_person``: people known only under RINPERSOONS S or A (payroll and key);
  ``rin_collision``: one of them shares its RINPERSOON digits with a person under R;
- ``correction``: a statement paid with wrong hours and wage, reversed later by a row with the
  negative amounts and followed by the corrected row (the three net to the corrected values);
- ``renumbered_job``: a job continuing under a new IKVID (same SBEID) from a period on, its
  SDATUMAANVANGIKVORG the renumbering date;
- ``out_of_window``: statements for December 2016 in the 2017 file; ``straddles_window``:
  four-weekly periods that begin in December 2016 and end in January 2017 (a yearly file holds
  the periods that begin in its year; these few arrived late);
- ``lower_case_contract``: employers that write b/o/n for a year;
- ``unknown_value``: unknown birth month or year in the persons file;
- ``death``, ``emigration``: deaths and emigrations (the pipeline censors follow-up there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mentorwijs.simulate import writers
from mentorwijs.simulate.employment import (
    NEVER, NOT_APPLICABLE, Calendar, Jobs, People, counter_uniform, day_number, month_of_day, yyyymmdd,
)
from mentorwijs.simulate.payroll import FOUR_WEEKLY
from mentorwijs.simulate.places import MUNICIPALITIES, YEARS, code_in_year, region_table
from mentorwijs.simulate.population import EDUCATION_CODES, EmployerRegister
from mentorwijs.simulate.socioeconomic import FLAGS, MonthlyPosition, secm_spells
from mentorwijs.simulate.world import Population, World

CORRECTION_SHARE = 0.003
RENUMBER_SHARE = 0.03
DECEMBER_2016_SHARE = 0.02
UNKNOWN_BIRTH_MONTH_SHARE = 0.002
UNKNOWN_BIRTH_YEAR_SHARE = 0.0005
EDUCATION_KNOWN = (0.75, 0.35)  # under 35, 35 and over (in 2020)
EDUCATION_DASHES = 0.05
WITHIN_REGION_MOVE = 0.15
NON_R_LETTERS = ("S", "A")
OPEN_END = "20221231"

PAYROLL_COLUMNS = [
    "RINPERSOONS", "RINPERSOON", "IKVID", "SBEID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO", "SDATUMAANVANGIKVORG",
    "SBASISUREN", "SLNINGLD", "SCONTRACTSOORT", "SSOORTBAAN", "SCAOSECTOR", "SIndAvrLkvDgBafSb", "STIJDVAKTYPE",
]
FILES = {
    "key": "cbs/koppeltabel.csv",
    "persons": "cbs/GBAPERSOON2022TABV1.sav",
    "socioeconomic": "cbs/SECMBUS2022V1.sav",
    "education": "cbs/HOOGSTEOPL2021TABV1.csv",
    "residence": "cbs/GBAADRESOBJECT2022BUSV1.csv",
    "addresses": "cbs/VSLGWB2022TAB03V1.csv",
    "municipality_regions": "cbs/gemeente_arbeidsmarktregio.csv",
    "deaths": "cbs/GBAOVERLIJDEN2022TABV1.csv",
    "migration": "cbs/GBAMIGRATIE2022BUSV1.csv",
    "businesses": "cbs/BETAB2022V1.csv",
}


def payroll_file(year: int) -> str:
    return f"cbs/SPOLISBUS{year}V1.csv"


@dataclass
class RegisterFiles:
    """The tables to write (relative path -> DataFrame of text) and what the truth needs to know."""

    tables: dict[str, pd.DataFrame]
    rinpersoons: np.ndarray  # per written row
    rinpersoon: np.ndarray  # per written row, text
    defects: list[dict[str, Any]]
    payroll: "Payroll"  # written statements as numeric columns
    residence: pd.DataFrame  # spells with internal columns (row, start, end, region)
    counts: dict[str, int] = field(default_factory=dict)


def _format_decimal(values: np.ndarray) -> np.ndarray:
    """Numbers with two decimals as text ('86.67', '-4.00')."""
    cents = np.round(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
    sign = np.where(cents < 0, "-", "")
    a = np.abs(cents)
    return np.char.add(np.char.add(np.char.add(sign, (a // 100).astype(str)), "."),
                       np.char.zfill((a % 100).astype(str), 2)).astype(object)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    return np.char.zfill(np.asarray(values, dtype=np.int64).astype(str), width).astype(object)


def _line_numbers(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64) + 2


def unique_ids(rngs: tuple[np.random.Generator, np.random.Generator], trainee: np.ndarray, low: int,
               high: int) -> np.ndarray:
    """Distinct random integers in [low, high), one per element; trainees' (``trainee`` True) come
    from their own stream and the pool's avoid them, so trainees' ids do not depend on the pool."""
    pool_rng, trainee_rng = rngs
    out = np.empty(len(trainee), dtype=np.int64)
    t, q = np.flatnonzero(trainee), np.flatnonzero(~trainee)
    out[t] = low + trainee_rng.choice(high - low, size=len(t), replace=False)
    draw = low + pool_rng.choice(high - low, size=len(q), replace=False)
    clash = np.isin(draw, out[t])
    while clash.any():
        draw[clash] = low + pool_rng.integers(0, high - low, size=int(clash.sum()))
        _, first = np.unique(draw, return_index=True)
        dup = np.ones(len(draw), dtype=bool)
        dup[first] = False
        clash = np.isin(draw, out[t]) | dup
    out[q] = draw
    return out


def build_tables(rngs: tuple[np.random.Generator, np.random.Generator], study: Any, tr: pd.DataFrame,
                 population: Population, world: World) -> RegisterFiles:
    """The register files of ``population`` (pool first, then the trainees ``tr``) with their
    planted defects. ``rngs``: the pool's and the trainees' streams (the trainees' records do not
    depend on the pool)."""
    written, role, jobs, st = population.people, population.role, population.jobs, population.statements
    position, n_pool = population.position, population.n_pool
    employers, cal, region_names = world.employers, world.calendar, world.region_names
    n = len(written)
    rng = rngs[0]  # the pool's stream: only for choices about pool members
    trainee = np.arange(n) >= n_pool
    defects: list[dict[str, Any]] = []
    tables: dict[str, pd.DataFrame] = {}

    # --- person keys -------------------------------------------------------------------------
    non_r = np.isin(role, ("non_r", "trainee_non_r"))
    letter = np.where(counter_uniform(written.key, 501) < 0.8, NON_R_LETTERS[0], NON_R_LETTERS[1])
    rins = np.where(non_r, letter, "R").astype(object)
    rin_int = unique_ids(rngs, trainee, 0, 1_000_000_000)
    # the pair sharing a RINPERSOON both have pay statements, so that a reader who joins on the
    # number alone really mixes two people's pay
    paid = np.zeros(n, dtype=bool)
    paid[st.row] = True
    r_pool = np.flatnonzero((role == "pool") & paid)
    non_r_pool = np.flatnonzero((role == "non_r") & paid)
    collision = None
    if len(non_r_pool) and len(r_pool):
        collision = (int(non_r_pool[0]), int(rng.choice(r_pool)))
        rin_int[collision[0]] = rin_int[collision[1]]
    rin = _digits(rin_int, 9)
    is_r = rins == "R"

    # --- key ---------------------------------------------------------------------------------
    trainee_rows = n_pool + np.arange(len(tr))
    key = pd.DataFrame({"studienummer": tr["study_number"].to_numpy(), "RINPERSOONS": rins[trainee_rows],
                        "RINPERSOON": rin[trainee_rows]})
    tables[FILES["key"]] = key.sort_values("studienummer", kind="stable").reset_index(drop=True)

    # --- payroll -----------------------------------------------------------------------------
    payroll, payroll_defects = _payroll(rngs, population, world, rins, rin_int)
    defects += payroll_defects
    pc = payroll.columns
    non_r_idx = np.flatnonzero(non_r[pc["row"]])
    if len(non_r_idx):
        key = pd.DataFrame({"row": pc["row"][non_r_idx], "year": pc["year"][non_r_idx], "line": pc["line"][non_r_idx]})
        for (i, y), lines in key.groupby(["row", "year"])["line"]:
            defects.append({"file": payroll_file(int(y)), "kind": "non_r_person", "row": int(lines.min()),
                            "column": "RINPERSOONS", "record": f"{rins[i]} {rin[i]}",
                            "detail": f"{len(lines)} statement(s) of a person not in the population "
                                      f"register (role {role[i]})"})
    if collision is not None:
        i, j = collision
        defects.append({"file": FILES["persons"], "kind": "rin_collision", "row": None, "column": "RINPERSOON",
                        "record": f"{rins[i]} {rin[i]}",
                        "detail": f"RINPERSOONS {rins[i]} and R share RINPERSOON {rin[i]}: only the "
                                  "pair identifies a person"})

    # --- persons, socio-economic position, education ------------------------------------------
    r_rows = np.flatnonzero(is_r)
    tables[FILES["persons"]], person_defects = _person_file(written, role, rin, r_rows)
    defects += person_defects
    tables[FILES["socioeconomic"]] = _secm_file(position, written, cal, rin, r_rows)
    tables[FILES["education"]] = _education_file(written, rin, r_rows)

    # --- residence, address objects, municipalities --------------------------------------------
    residence, addresses = _residence(rngs, written, r_rows, rin, region_names, n_pool)
    tables[FILES["residence"]] = residence.drop(columns=["row", "start", "end", "region"])
    tables[FILES["addresses"]] = addresses
    tables[FILES["municipality_regions"]] = region_table(region_names)

    # --- deaths and migration -------------------------------------------------------------------
    tables[FILES["deaths"]], tables[FILES["migration"]], event_defects = _deaths_and_migration(
        written, rin, r_rows, cal)
    defects += event_defects

    # --- business register ----------------------------------------------------------------------
    tables[FILES["businesses"]] = _business_file(jobs, employers, pc)

    counts = {"persons_R": int(is_r.sum()), "persons_non_R": int(non_r.sum()), "payroll_rows": int(len(payroll))}
    tables = RegisterTables(tables, payroll)
    return RegisterFiles(tables=tables, rinpersoons=rins, rinpersoon=rin, defects=defects, payroll=payroll,
                         residence=residence, counts=counts)


def _person_file(written: People, role: np.ndarray, rin: np.ndarray,
                 r_rows: np.ndarray) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The person file (GBAPERSOON) of the persons with RINPERSOONS R (``r_rows``), sorted by
    RINPERSOON, with birth months and years made unknown for a share of the pool; and those defects."""
    defects: list[dict[str, Any]] = []
    births = written.birth[r_rows].astype("datetime64[D]")
    year = births.astype("datetime64[Y]").astype(int) + 1970
    month = births.astype("datetime64[M]").astype(int) % 12 + 1
    persons = pd.DataFrame({
        "row": r_rows, "RINPERSOONS": "R", "RINPERSOON": rin[r_rows],
        "GBAGESLACHT": written.sex[r_rows].astype(str).astype(object),
        "GBAGEBOORTEJAAR": year.astype(str).astype(object),
        "GBAGEBOORTEMAAND": np.char.zfill(month.astype(str), 2).astype(object),
        "GBAHERKOMSTGROEPERING": written.origin[r_rows], "GBAGENERATIE": written.generation[r_rows],
    })
    pool_positions = np.flatnonzero(role[r_rows] == "pool")
    # keyed by the person, not drawn from the pool's stream: how far that stream has run depends
    # on the trainees' ids (unique_ids redraws clashes), which differ between an effect and a null study
    pool_keys = written.key[r_rows[pool_positions]]
    unknown_month = counter_uniform(pool_keys, 502) < UNKNOWN_BIRTH_MONTH_SHARE
    unknown_year = counter_uniform(pool_keys, 503) < UNKNOWN_BIRTH_YEAR_SHARE
    persons.loc[pool_positions[unknown_month | unknown_year], "GBAGEBOORTEMAAND"] = "--"
    persons.loc[pool_positions[unknown_year], "GBAGEBOORTEJAAR"] = "----"
    persons = persons.sort_values("RINPERSOON", kind="stable").reset_index(drop=True)
    for pos in np.flatnonzero((persons["GBAGEBOORTEMAAND"] == "--").to_numpy()):
        defects.append({"file": FILES["persons"], "kind": "unknown_value", "row": int(pos) + 1,
                        "column": ("GBAGEBOORTEJAAR" if persons.at[pos, "GBAGEBOORTEJAAR"] == "----"
                                   else "GBAGEBOORTEMAAND"),
                        "record": f"R {persons.at[pos, 'RINPERSOON']}",
                        "detail": ("birth year and month unknown" if persons.at[pos, "GBAGEBOORTEJAAR"] == "----"
                                   else "birth month unknown")})
    return persons.drop(columns="row"), defects


def _secm_file(position: MonthlyPosition, written: People, cal: Calendar, rin: np.ndarray,
               r_rows: np.ndarray) -> pd.DataFrame:
    """The SECM spells (socio-economic position and benefit flags) of the persons ``r_rows``."""
    spells = secm_spells(position, written, cal, r_rows)
    secm = pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[spells["row"].to_numpy()],
                         "AANVSECM": yyyymmdd(spells["start"].to_numpy()),
                         "EINDSECM": yyyymmdd(spells["end"].to_numpy()), "SECM": spells["SECM"].to_numpy()})
    for name in FLAGS:
        secm[name] = spells[name].to_numpy()
    secm["_start"] = spells["start"].to_numpy()
    secm = secm.sort_values(["RINPERSOON", "_start"], kind="stable").drop(columns="_start").reset_index(drop=True)
    return secm


def _education_file(written: People, rin: np.ndarray, r_rows: np.ndarray) -> pd.DataFrame:
    """The highest education (HOOGSTEOPL): known for a share by age, ``----`` for a few, absent otherwise."""
    age_2020 = (day_number("2020-01-01") - written.birth[r_rows]) / 365.25
    p_known = np.where(age_2020 < 35, EDUCATION_KNOWN[0], EDUCATION_KNOWN[1])
    known = counter_uniform(written.key[r_rows], 701) < p_known
    dashes = ~known & (counter_uniform(written.key[r_rows], 702) < EDUCATION_DASHES / (1 - p_known))
    level = np.array(EDUCATION_CODES, dtype=object)[written.education[r_rows]]
    edu_rows = known | dashes
    education = pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[r_rows[edu_rows]],
                              "OPLNIVSOI2021AGG4HBMETNIRWO": np.where(known[edu_rows], level[edu_rows], "----")})
    return education.sort_values("RINPERSOON", kind="stable").reset_index(drop=True)


def _deaths_and_migration(written: People, rin: np.ndarray, r_rows: np.ndarray, cal: Calendar,
                          ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """Deaths and migrations (emigration E, immigration I) up to the calendar's last day, with
    the defects that list them."""
    defects: list[dict[str, Any]] = []
    dead = r_rows[(written.leave_kind[r_rows] == 1) & (written.leave[r_rows] <= cal.end_day)]
    deaths = pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[dead],
                           "GBADatumOverlijden": yyyymmdd(written.leave[dead])})
    deaths = deaths.sort_values("RINPERSOON", kind="stable").reset_index(drop=True)
    for pos, (r, d) in enumerate(zip(deaths["RINPERSOON"], deaths["GBADatumOverlijden"])):
        defects.append({"file": FILES["deaths"], "kind": "death", "row": pos + 2, "column": "GBADatumOverlijden",
                        "record": f"R {r}", "detail": d})
    emigrated = r_rows[(written.leave_kind[r_rows] == 2) & (written.leave[r_rows] <= cal.end_day)]
    arrived = r_rows[written.arrive[r_rows] > -NEVER]
    migration = pd.concat([
        pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[emigrated],
                      "GBADATUMVESTIGING": yyyymmdd(written.leave[emigrated]), "GBAVESTIGINGSTYPE": "E"}),
        pd.DataFrame({"RINPERSOONS": "R", "RINPERSOON": rin[arrived],
                      "GBADATUMVESTIGING": yyyymmdd(written.arrive[arrived]), "GBAVESTIGINGSTYPE": "I"}),
    ]).sort_values(["RINPERSOON", "GBADATUMVESTIGING", "GBAVESTIGINGSTYPE"], kind="stable").reset_index(drop=True)
    for pos in np.flatnonzero((migration["GBAVESTIGINGSTYPE"] == "E").to_numpy()):
        defects.append({"file": FILES["migration"], "kind": "emigration", "row": int(pos) + 2,
                        "column": "GBADATUMVESTIGING", "record": f"R {migration.at[pos, 'RINPERSOON']}",
                        "detail": migration.at[pos, "GBADATUMVESTIGING"]})
    return deaths, migration, defects


def _business_file(jobs: Jobs, employers: EmployerRegister, pc: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """The business register (BETAB): every employer with a written statement, one row per year."""
    used = np.unique(jobs.employer[np.unique(pc["job"])])
    betab = pd.DataFrame({
        "SBEID": np.repeat(np.char.add("E", np.char.zfill(employers.sbeid[used].astype(str), 9)).astype(object),
                           len(YEARS)),
        "JAAR": np.tile(np.array([str(y) for y in YEARS], dtype=object), len(used)),
        "SBI2008": np.repeat(employers.sbi[used], len(YEARS)),
        "GKSBS": employers.gksbs[used].reshape(-1),
    })
    return betab.sort_values(["SBEID", "JAAR"], kind="stable").reset_index(drop=True)


RINS_CODES = ("A", "R", "S")  # sorted, so that codes sort like the letters
CONTRACT_CODES = ("B", "O", "N", "b", "o", "n")
SOORT_CODES = ("3", "4", "5", "9")


@dataclass
class Payroll:
    """The written statements as numeric columns, sorted as the files are (year, person, IKVID,
    period start, then the original / reversal / corrected row of a correction); ``line`` is
    the line number in the year's file (header = line 1). :meth:`table` renders a year's file."""

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["row"])

    def year_index(self, year: int) -> np.ndarray:
        return np.flatnonzero(self.columns["year"] == year)

    def table(self, year: int) -> "Any":
        """The year's file as an Arrow table of text columns (``PAYROLL_COLUMNS``)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        idx = self.year_index(year)
        c = {k: v[idx] for k, v in self.columns.items()}

        def text(values: np.ndarray) -> Any:
            return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())

        def codes(values: np.ndarray, labels: tuple[str, ...]) -> Any:
            return pa.DictionaryArray.from_arrays(pa.array(np.asarray(values, dtype=np.int8)),
                                                  pa.array(list(labels))).dictionary_decode()

        def dates(days: np.ndarray) -> Any:
            d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
            y = d.astype("datetime64[Y]").astype(np.int64) + 1970
            m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
            dom = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
            return text(y * 10000 + m * 100 + dom)

        def decimal(values: np.ndarray) -> Any:
            cents = np.round(np.asarray(values, dtype=np.float64) * 100).astype(np.int64)
            a = np.abs(cents)
            body = pc.binary_join_element_wise(text(a // 100), pc.utf8_lpad(text(a % 100), width=2, padding="0"), ".")
            return pc.if_else(pa.array(cents < 0), pc.binary_join_element_wise(pa.scalar("-"), body, ""), body)

        columns = {
            "RINPERSOONS": codes(c["rins"], RINS_CODES),
            "RINPERSOON": pc.utf8_lpad(text(c["rin"]), width=9, padding="0"),
            "IKVID": text(c["ikvid"]),
            "SBEID": pc.binary_join_element_wise(pa.scalar("E"),
                                                 pc.utf8_lpad(text(c["sbeid"]), width=9, padding="0"), ""),
            "SDATUMAANVANGIKO": dates(c["start"]),
            "SDATUMEINDEIKO": dates(c["end"]),
            "SDATUMAANVANGIKVORG": dates(c["ikvorg"]),
            "SBASISUREN": decimal(c["hours"]),
            "SLNINGLD": decimal(c["wage"]),
            "SCONTRACTSOORT": codes(c["contract"], CONTRACT_CODES),
            "SSOORTBAAN": codes(c["soort"], SOORT_CODES),
            "SCAOSECTOR": text(c["cao"]),
            "SIndAvrLkvDgBafSb": codes(c["lkv"], ("0", "1")),
            "STIJDVAKTYPE": codes(np.where(c["kind"] == FOUR_WEEKLY, 0, 1), ("1", "5")),
        }
        return pa.table(columns)

    def frame(self, year: int) -> pd.DataFrame:
        """The year's file as a DataFrame of text (what a reader with all columns as text sees)."""
        return self.table(year).to_pandas()


def _payroll(rngs: tuple[np.random.Generator, np.random.Generator], population: Population, world: World,
             rins: np.ndarray, rin_int: np.ndarray) -> tuple[Payroll, list[dict[str, Any]]]:
    """The statements as written: window trimming choices, IKVIDs, renumbering, corrections, codes.
    ``rins``, ``rin_int``: each person's RINPERSOONS letter and RINPERSOON number."""
    written, jobs, st, n_pool = population.people, population.jobs, population.statements, population.n_pool
    employers = world.employers
    defects: list[dict[str, Any]] = []
    window_first = day_number("2017-01-01")
    window_last = day_number("2022-12-31")
    # a yearly file holds the periods that begin in its year; a few of December 2016 arrive in the 2017 file
    december = st.period_start < window_first
    st_key = written.key[st.row]
    keep = ~december | (counter_uniform(st_key, jobs.start[st.job], st.period_start, 601) < DECEMBER_2016_SHARE)
    s = st.take(np.flatnonzero(keep))
    m = len(s)
    job = s.job
    # IKVIDs: eight digits, unique; a renumbered job gets a second one from a statement on
    ikvid_job = unique_ids(rngs, np.concatenate([jobs.row, jobs.row]) >= n_pool, 10_000_000, 100_000_000)
    order = np.lexsort((s.start, job))
    rank = np.empty(m, dtype=np.int64)
    counts = np.bincount(job, minlength=len(jobs))
    starts = np.cumsum(counts) - counts
    rank[order] = np.arange(m) - np.repeat(starts, counts)
    job_key = written.key[jobs.row]
    candidates = np.flatnonzero(counts >= 5)
    renumbered = candidates[counter_uniform(job_key[candidates], jobs.start[candidates], jobs.slot[candidates], 602)
                            < RENUMBER_SHARE]
    from_rank = np.full(len(jobs), NEVER, dtype=np.int64)
    u = counter_uniform(job_key[renumbered], jobs.start[renumbered], jobs.slot[renumbered], 603)
    from_rank[renumbered] = 2 + np.floor(u * (counts[renumbered] - 3)).astype(np.int64)
    second = rank >= from_rank[job]
    ikvid = np.where(second, ikvid_job[len(jobs) + job], ikvid_job[job])
    renumber_day = np.full(len(jobs), NEVER, dtype=np.int64)
    first_second = second & (rank == from_rank[job])
    renumber_day[job[first_second]] = s.start[first_second]
    ikvorg = np.where(second, renumber_day[job], jobs.start[job])
    year = np.clip(month_of_day(s.period_start) // 12, YEARS[0], YEARS[-1])
    employer = jobs.employer[job]
    lower = employers.lower_case[employer, year - YEARS[0]]
    contract = np.where(jobs.contract[job] == NOT_APPLICABLE, 2, np.where(s.temporary, 0, 1)) + 3 * lower
    soort = np.where(jobs.sheltered[job], 0,
                     np.where(employers.units.agency[employer], 1, np.where(jobs.oncall[job], 2, 3)))
    rins_code = np.searchsorted(np.array(RINS_CODES), rins[s.row].astype(str))
    cols: dict[str, np.ndarray] = {
        "row": s.row.astype(np.int64), "job": job.astype(np.int64), "seq": np.zeros(m, dtype=np.int8),
        "year": year.astype(np.int16), "rins": rins_code.astype(np.int8), "rin": rin_int[s.row].astype(np.int64),
        "ikvid": ikvid.astype(np.int64), "sbeid": employers.sbeid[employer].astype(np.int64),
        "start": s.start.astype(np.int64), "end": s.end.astype(np.int64),
        "period_start": s.period_start.astype(np.int64), "ikvorg": ikvorg.astype(np.int64), "hours": s.hours,
        "wage": s.wage, "contract": contract.astype(np.int8), "soort": soort.astype(np.int8),
        "cao": employers.units.cao[employer].astype(np.int16), "lkv": s.lkv.astype(np.int8),
        "kind": s.kind.astype(np.int8), "renumbered_here": first_second, "lower": lower,
    }
    # corrections: a statement paid with wrong amounts, reversed, then corrected
    s_key = written.key[s.row]
    u = counter_uniform(s_key, jobs.start[job], s.period_start, 604)
    chosen = np.flatnonzero((s.hours > 0) & (s.period_start >= window_first) & (u < CORRECTION_SHARE))
    factor = np.round(
        1.1 + 0.5 * counter_uniform(s_key[chosen], jobs.start[job[chosen]], s.period_start[chosen], 605), 2)
    extra = {k: np.concatenate([v[chosen], v[chosen]]) for k, v in cols.items()}
    wrong_hours, wrong_wage = np.round(s.hours[chosen] * factor, 2), np.round(s.wage[chosen] * factor, 2)
    extra["hours"] = np.concatenate([-wrong_hours, s.hours[chosen]])
    extra["wage"] = np.concatenate([-wrong_wage, s.wage[chosen]])
    extra["seq"] = np.concatenate([np.ones(len(chosen)), np.full(len(chosen), 2)]).astype(np.int8)
    extra["renumbered_here"] = np.zeros(2 * len(chosen), dtype=bool)
    cols["hours"] = cols["hours"].copy()
    cols["wage"] = cols["wage"].copy()
    cols["hours"][chosen] = wrong_hours
    cols["wage"][chosen] = wrong_wage
    cols = {k: np.concatenate([v, extra[k]]) for k, v in cols.items()}
    order = np.lexsort((cols["seq"], cols["start"], cols["ikvid"], cols["rin"], cols["rins"], cols["year"]))
    cols = {k: v[order] for k, v in cols.items()}
    line = np.empty(len(order), dtype=np.int64)
    for y in YEARS:
        idx = np.flatnonzero(cols["year"] == y)
        line[idx] = np.arange(len(idx)) + 2
    cols["line"] = line
    payroll = Payroll(cols)

    # defects
    def record(i: int) -> str:
        return f"{RINS_CODES[cols['rins'][i]]} {cols['rin'][i]:09d} IKVID {cols['ikvid'][i]}"

    def period(i: int) -> str:
        return f"{day_text(int(cols['start'][i]))}-{day_text(int(cols['end'][i]))}"

    for i in np.flatnonzero(cols["seq"] == 1):
        defects.append({"file": payroll_file(int(cols["year"][i])), "kind": "correction", "row": int(cols["line"][i]),
                        "column": "SBASISUREN", "record": record(i),
                        "detail": f"period {period(i)}: {cols['hours'][i - 1]:.2f} hours reversed, corrected to "
                                  f"{cols['hours'][i + 1]:.2f}"})
    for i in np.flatnonzero(cols["renumbered_here"]):
        defects.append({"file": payroll_file(int(cols["year"][i])), "kind": "renumbered_job",
                        "row": int(cols["line"][i]), "column": "IKVID", "record": record(i),
                        "detail": f"same job (SBEID E{cols['sbeid'][i]:09d}) continues under a new IKVID from "
                                  f"{day_text(int(cols['start'][i]))}"})
    before = cols["start"] < window_first
    after = cols["end"] > window_last
    outside = (cols["end"] < window_first) | (cols["start"] > window_last)
    for i in np.flatnonzero(before | after):
        defects.append({"file": payroll_file(int(cols["year"][i])),
                        "kind": "out_of_window" if outside[i] else "straddles_window", "row": int(cols["line"][i]),
                        "column": "SDATUMAANVANGIKO" if before[i] else "SDATUMEINDEIKO", "record": record(i),
                        "detail": f"period {period(i)} {'lies outside' if outside[i] else 'crosses the edge of'} the "
                                  f"window {day_text(window_first)}-{day_text(window_last)}"})
    lower_idx = np.flatnonzero(cols["lower"])
    if len(lower_idx):
        key = pd.DataFrame({"year": cols["year"][lower_idx], "rins": cols["rins"][lower_idx],
                            "rin": cols["rin"][lower_idx], "ikvid": cols["ikvid"][lower_idx], "i": lower_idx})
        for (y, _r, _n, _k), group in key.groupby(["year", "rins", "rin", "ikvid"], sort=True):
            i = int(group["i"].min())
            defects.append({"file": payroll_file(int(y)), "kind": "lower_case_contract", "row": int(cols["line"][i]),
                            "column": "SCONTRACTSOORT", "record": record(i),
                            "detail": f"{len(group)} statement(s) with a lower-case contract code"})
    return payroll, defects


def day_text(day: int) -> str:
    return str(yyyymmdd(np.array([day]))[0])


def _residence(
    rngs: tuple[np.random.Generator, np.random.Generator], people: People, rows: np.ndarray, rin: np.ndarray,
    region_names: tuple[str, ...], n_pool: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Residence spells (GBAADRESOBJECTBUS) and their address objects (VSLGWB) for ``rows``."""
    n = len(rows)
    key = people.key[rows]
    first = np.where(
        people.arrive[rows] > -NEVER, people.arrive[rows],
        np.maximum(people.birth[rows],
                   day_number("2012-01-01") - np.floor(counter_uniform(key, 801) * 15 * 365.25).astype(np.int64)),
    )
    moves = counter_uniform(key, 802) < WITHIN_REGION_MOVE
    within = np.where(moves,
                      day_number("2013-01-01") + np.floor(counter_uniform(key, 803) * 9.5 * 365.25).astype(np.int64),
                      NEVER)
    within = np.where(within > first, within, NEVER)
    cross = np.where(people.move_day[rows] > first, people.move_day[rows], NEVER)
    end = np.where(people.leave[rows] < NEVER,
                   np.where(people.leave_kind[rows] == 1, people.leave[rows], people.leave[rows] - 1), NEVER)
    bounds = np.sort(np.stack([first, within, cross], axis=1), axis=1)
    spell_rows, spell_start, spell_end = [], [], []
    for k in range(3):
        b = bounds[:, k]
        nxt = np.where(bounds[:, k + 1] >= NEVER, NEVER, bounds[:, k + 1] - 1) if k < 2 else np.full(n, NEVER)
        stop = np.minimum(nxt, end)
        ok = (b < NEVER) & (b <= stop)
        spell_rows.append(rows[ok])
        spell_start.append(b[ok])
        spell_end.append(stop[ok])
    srow = np.concatenate(spell_rows)
    sstart = np.concatenate(spell_start)
    send = np.concatenate(spell_end)
    order = np.lexsort((sstart, srow))
    srow, sstart, send = srow[order], sstart[order], send[order]
    region = people.region_at(sstart, srow)
    codes = np.empty(len(srow), dtype=object)
    u = counter_uniform(people.key[srow], sstart, 804)
    for r in np.unique(region):
        members = np.flatnonzero(region == r)
        options = MUNICIPALITIES[region_names[r]]
        w = np.cumsum([o[2] for o in options])
        codes[members] = np.array([o[0] for o in options], dtype=object)[np.searchsorted(w / w[-1], u[members])]
    objects = unique_ids(rngs, srow >= n_pool, 100_000_000_000, 1_000_000_000_000)
    kind = np.where(counter_uniform(people.key[srow], sstart, 805) < 0.98, "1", "2").astype(object)
    residence = pd.DataFrame({
        "row": srow, "start": sstart, "end": send, "region": region, "RINPERSOONS": "R", "RINPERSOON": rin[srow],
        "GBADATUMAANVANGADRESHOUDING": yyyymmdd(sstart),
        "GBADATUMEINDEADRESHOUDING": np.where(send >= NEVER, OPEN_END, yyyymmdd(np.where(send >= NEVER, sstart, send))),
        "SOORTOBJECTNUMMER": kind, "RINOBJECTNUMMER": objects.astype(str).astype(object),
    })
    residence = residence.sort_values(["RINPERSOON", "start"], kind="stable").reset_index(drop=True)
    addresses = pd.DataFrame({"SOORTOBJECTNUMMER": kind, "RINOBJECTNUMMER": objects.astype(str).astype(object)})
    for year in YEARS:
        addresses[f"gem{year}"] = [code_in_year(c, year) for c in codes]
    addresses = addresses.sort_values(["RINOBJECTNUMMER", "SOORTOBJECTNUMMER"], kind="stable").reset_index(drop=True)
    return residence, addresses


class RegisterTables(Mapping):
    """Relative path -> table of text cells; the yearly payroll files are rendered on demand."""

    def __init__(self, tables: dict[str, pd.DataFrame], payroll: Payroll) -> None:
        self._tables = dict(tables)
        self.payroll = payroll
        self._years = {payroll_file(y): y for y in YEARS}

    def __getitem__(self, rel: str) -> pd.DataFrame:
        if rel in self._years:
            return self.payroll.frame(self._years[rel])
        return self._tables[rel]

    def __iter__(self):
        return iter(sorted([*self._tables, *self._years]))

    def __len__(self) -> int:
        return len(self._tables) + len(self._years)


def write_tables(tables: RegisterTables, out: Path) -> None:
    """Write every table with the deterministic writers (csv: comma, UTF-8, LF; sav: strings with
    user-missing codes); the payroll files with :func:`write_arrow_csv`, byte-identical to
    :func:`writers.write_csv` for their cells."""
    for rel in tables:
        path = out / rel
        if rel in tables._years:
            write_arrow_csv(tables.payroll.table(tables._years[rel]), path)
        elif rel.endswith(".sav"):
            frame = tables[rel]
            missing = {c: v for c, v in SAV_MISSING.items() if c in frame.columns}
            labels = {c: v for c, v in SAV_LABELS.items() if c in frame.columns}
            writers.write_sav(frame, path, missing_ranges=missing, variable_value_labels=labels)
        else:
            writers.write_csv(tables[rel], path)


SAV_MISSING = {"GBAGESLACHT": ["-"], "GBAGEBOORTEJAAR": ["----"], "GBAGEBOORTEMAAND": ["--"], "GBAGENERATIE": ["-"]}
SAV_LABELS = {
    "GBAGESLACHT": {"1": "Mannen", "2": "Vrouwen", "-": "Onbekend"},
    "GBAGENERATIE": {"0": "Autochtoon", "1": "Eerste generatie", "2": "Tweede generatie", "-": "Onbekend"},
    "SECM": {"11": "Werknemer", "21": "Ontvanger werkloosheidsuitkering", "22": "Ontvanger bijstandsuitkering",
             "24": "Ontvanger uitkering ziekte/AO", "25": "Ontvanger pensioenuitkering",
             "31": "Scholier/student zonder inkomen", "32": "Overig zonder inkomen"},
}
def write_arrow_csv(table: Any, path: Path) -> None:
    """Write an Arrow table of text columns as :func:`writers.write_csv` would (comma, UTF-8, LF,
    one header line), fast. Cells holding a separator, quote or line break are refused (Arrow
    raises), so no cell needs quoting and the bytes are the same."""
    import pyarrow.csv as pacsv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write((",".join(table.column_names) + "\n").encode("utf-8"))
        pacsv.write_csv(table, handle,
                        write_options=pacsv.WriteOptions(include_header=False, quoting_style="none", eol="\n"))
