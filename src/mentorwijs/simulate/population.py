"""Who is in the synthetic register: people with their traits, and employer units.

People belong to a target-group route (sheltered WSW worker, banenafspraak, disability
benefit, social assistance; or none for regular workers). The route is never written: it
shows in the register as WSW jobs, the employer's banenafspraak flag, and benefits. Other
traits: sex, birth date, migration background, education, a latent employability ``z``
(lowers the job-exit hazard and raises job finding; education rises with it), the sector
a person usually works in, preferred hours and wage level, residence region (and a move),
arrival (first-generation migrants), death or emigration, and the state pension (AOW) date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mentorwijs.simulate.employment import (
    ASSISTANCE, BANEN, DISABILITY, NEVER, REGULAR, SECTORS, SHELTERED_SECTORS, WSW, Employers, ModelParameters, People,
    day_number, month_of_day, month_start_day,
)

#: state pension (AOW) age (years, months) by the calendar year in which it is reached
AOW_AGE = {
    2012: (65, 0), 2013: (65, 1), 2014: (65, 2), 2015: (65, 3), 2016: (65, 6), 2017: (65, 9), 2018: (66, 0),
    2019: (66, 4), 2020: (66, 4), 2021: (66, 4), 2022: (66, 7), 2023: (66, 10), 2024: (67, 0), 2025: (67, 0),
    2026: (67, 0), 2027: (67, 0),
}
#: migration background: GBAHERKOMSTGROEPERING code -> share (6030 the Netherlands)
ORIGINS = {"6030": 0.74, "5022": 0.05, "6043": 0.05, "5007": 0.04, "5095": 0.02, "7028": 0.03, "7009": 0.02,
           "9003": 0.01, "6014": 0.04}
FIRST_GENERATION_SHARE = 0.5
WAGE_DISPENSATION_SHARE = 0.05
YOUNG_SHARE = 0.25
#: highest education (OPLNIVSOI2021AGG4HBMETNIRWO) by level index 0..5
EDUCATION_CODES = ("1111", "1211", "1212", "2111", "2121", "3111")
#: route shares for people old enough to have entered the WSW before 2015, and for the others
KIND_SHARES_WSW_POSSIBLE = {WSW: 0.10, BANEN: 0.40, DISABILITY: 0.25, ASSISTANCE: 0.25}
KIND_SHARES_YOUNG = {BANEN: 0.5, DISABILITY: 0.15, ASSISTANCE: 0.35}
DISABILITY_BENEFIT_SHARE = {WSW: 0.3, BANEN: 0.4, DISABILITY: 1.0, ASSISTANCE: 0.05, REGULAR: 0.0}
ASSISTANCE_ELIGIBLE_SHARE = {WSW: 0.35, BANEN: 0.35, DISABILITY: 0.35, ASSISTANCE: 0.9, REGULAR: 0.1}

# employers per labour-market region and sector (sheltered companies apart), and size-group shares
EMPLOYERS_PER_SECTOR = (50, 16, 60, 70, 24, 24, 30, 16, 12)
SIZE_SHARES = (
    (0.75, 0.2, 0.05), (0.6, 0.3, 0.1), (0.4, 0.4, 0.2), (0.5, 0.3, 0.2), (0.2, 0.4, 0.4), (0.5, 0.35, 0.15),
    (0.4, 0.3, 0.3), (0.6, 0.3, 0.1), (0.0, 0.3, 0.7),
)
SIZE_WEIGHT = (1.0, 4.0, 12.0)
GKSBS_CODES = (("10", "21", "22", "30", "40", "50"), ("60", "71", "72", "81"), ("82", "91", "92", "93"))
SBI_CODES = (
    ("01130", "01191", "01192", "01300", "01410", "01470"), ("81300",),
    ("10110", "10890", "22220", "25620", "28290", "31090", "18129"), ("47111", "56101", "81210", "96021", "55101"),
    ("87301", "88101", "86101"), ("49410", "52100", "53200"), ("82110", "82990", "78201"), ("62010", "71121", "74101"),
    ("84110",),
)
SHELTERED_SBI = {1: "81300", 2: "82920", 3: "81210"}
#: share of employers paying four-weekly by sector group. Equal within each of the pipeline's
#: sector categories (agriculture; industry; services: landscaping, services, transport,
#: administration, specialised; public: care, government): pay frequency moves the outcome
#: '12 hours a week' from month to month, and trainees are chosen on the finer sector groups
FOUR_WEEKLY_BY_SECTOR = (0.45, 0.35, 0.25, 0.35, 0.05, 0.35, 0.35, 0.35, 0.05)
SHELTERED_FOUR_WEEKLY = 0.2
#: scales the sector shares so that the realised share of four-weekly paid jobs meets the target
FOUR_WEEKLY_CALIBRATION = 0.86
GOVERNMENT_CAO = ("3100", "3300", "3400", "3600")
LOWER_CASE_EMPLOYER_SHARE = 0.015


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Day numbers ``months`` calendar months later (day of month clipped to the month's length)."""
    days = np.asarray(days, dtype=np.int64)
    m = month_of_day(days)
    dom = days - month_start_day(m)
    target = m + np.asarray(months, dtype=np.int64)
    length = month_start_day(target + 1) - month_start_day(target)
    return month_start_day(target) + np.minimum(dom, length - 1)


def aow_day(birth: np.ndarray) -> np.ndarray:
    """The day a person born on ``birth`` reaches the state pension age (``AOW_AGE``)."""
    birth = np.asarray(birth, dtype=np.int64)
    out = np.full(len(birth), NEVER, dtype=np.int64)
    for year in sorted(AOW_AGE):
        years, months = AOW_AGE[year]
        candidate = add_months(birth, 12 * years + months)
        in_year = (month_of_day(candidate) // 12 == year) & (out == NEVER)
        out[in_year] = candidate[in_year]
    early = out == NEVER
    out[early] = add_months(birth[early], 12 * 65)
    late = out > day_number("2027-12-31")
    out[late] = add_months(birth[late], 12 * 67)
    return out


N_KINDS = 5


def kind_probabilities(birth: np.ndarray) -> np.ndarray:
    """P(route) per person [n, 5] given the birth date (the WSW only took people in before 2015)."""
    birth = np.asarray(birth)
    old_enough = birth <= day_number("1996-12-31")
    probs = np.zeros((len(birth), N_KINDS))
    for kind, share in KIND_SHARES_WSW_POSSIBLE.items():
        probs[old_enough, kind] = share
    for kind, share in KIND_SHARES_YOUNG.items():
        probs[~old_enough, kind] = share
    return probs


def sector_probabilities(kind: np.ndarray, p: ModelParameters) -> np.ndarray:
    """P(usual sector) per person [n, sectors] given the route (WSW members work where sheltered companies do)."""
    shares = np.asarray(p.sector_shares) / np.sum(p.sector_shares)
    probs = np.tile(shares, (len(kind), 1))
    wsw = np.zeros(len(SECTORS))
    wsw[list(SHELTERED_SECTORS)] = 1 / len(SHELTERED_SECTORS)
    probs[np.asarray(kind) == WSW] = 0.6 * wsw + 0.4 * shares
    return probs


def draw_categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of a probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1).astype(np.int64)


def draw_people(
    rng: np.random.Generator,
    n: int,
    region: np.ndarray | int,
    p: ModelParameters,
    *,
    birth: np.ndarray | None = None,
    sex: np.ndarray | None = None,
    kind: np.ndarray | None = None,
    sector_pref: np.ndarray | None = None,
) -> People:
    """``n`` people living in ``region`` (index) from the population model; given births/sexes/routes are kept."""
    keys = rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)
    if sex is None:
        sex = rng.choice(np.array([1, 2]), size=n, p=[0.58, 0.42])
    if birth is None:
        # many in the target group are young (school leavers with a work disability)
        age_2020 = np.where(rng.random(n) < YOUNG_SHARE, rng.uniform(16.5, 30, size=n),
                            18 + 48 * rng.beta(1.6, 1.4, size=n))
        birth = day_number("2020-01-01") - np.floor(age_2020 * 365.25).astype(np.int64)
    birth = np.asarray(birth, dtype=np.int64)
    if kind is None:
        kind = draw_categorical(rng, kind_probabilities(birth))
    kind = np.asarray(kind, dtype=np.int64)
    if sector_pref is None:
        sector_pref = draw_categorical(rng, sector_probabilities(kind, p))
    z = rng.normal(size=n)
    education = np.digitize(0.6 * z + rng.normal(size=n), [-1.6, -0.8, 0.0, 0.7, 1.5])
    hours_pref = np.clip(rng.normal(24, 7, size=n), 8, 38)
    wage_pref = 1.0 + np.abs(rng.normal(0, 0.08, size=n)) + 0.03 * education
    # wage dispensation (loondispensatie): part of the banenafspraak route earns below the minimum wage
    dispensation = (kind == BANEN) & (rng.random(n) < WAGE_DISPENSATION_SHARE)
    wage_pref = np.where(dispensation, rng.uniform(0.6, 0.9, size=n), wage_pref)
    region = np.broadcast_to(np.asarray(region, dtype=np.int64), (n,)).copy()
    origin_codes, origin_p = zip(*ORIGINS.items())
    origin = rng.choice(np.array(origin_codes, dtype=object), size=n, p=np.array(origin_p))
    foreign = origin != "6030"
    first_gen = foreign & (rng.random(n) < FIRST_GENERATION_SHARE)
    arrive = np.where(first_gen, birth + np.floor(rng.uniform(0, 40, size=n) * 365.25).astype(np.int64), -NEVER)
    arrive = np.where(arrive > day_number("2022-06-30"),
                      birth + np.floor(rng.uniform(0, 15, size=n) * 365.25).astype(np.int64), arrive)
    # death and emigration: exponential waiting times from 2012
    age_2019 = (day_number("2019-07-01") - birth) / 365.25
    death_rate = 0.0009 * np.exp(0.085 * (age_2019 - 40))
    emig_rate = np.where(first_gen, 0.008, 0.0012)
    t0 = day_number("2012-01-01")
    death = t0 + np.floor(rng.exponential(1 / death_rate) * 365.25).astype(np.int64)
    emig = np.maximum(arrive + 365, t0) + np.floor(rng.exponential(1 / emig_rate) * 365.25).astype(np.int64)
    leave = np.minimum(death, emig)
    leave_kind = np.where(death <= emig, 1, 2)
    beyond = leave > day_number("2022-12-31")
    leave = np.where(beyond, NEVER, leave)
    leave_kind = np.where(beyond, 0, leave_kind)
    aow = aow_day(birth)
    disab_share = np.vectorize(DISABILITY_BENEFIT_SHARE.get)(kind)
    has_disab = rng.random(n) < disab_share
    adult = birth + np.floor(18 * 365.25).astype(np.int64)
    disab_from = np.where(has_disab,
                          adult + np.floor(rng.uniform(0, 1, size=n) * np.maximum(t0 - adult, 0)).astype(np.int64),
                          NEVER)
    ends = rng.random(n) < 0.1
    disab_to = np.where(ends, day_number("2013-01-01") + np.floor(rng.uniform(0, 10, size=n) * 365.25).astype(np.int64),
                        aow - 1)
    disab_to = np.where(has_disab, np.minimum(disab_to, aow - 1), -NEVER)
    assist = rng.random(n) < np.vectorize(ASSISTANCE_ELIGIBLE_SHARE.get)(kind)
    supplement = (kind == ASSISTANCE) & (rng.random(n) < 0.5)
    return People(
        key=keys, sex=np.asarray(sex, dtype=np.int64), birth=birth, kind=np.asarray(kind, dtype=np.int64), z=z,
        education=education.astype(np.int64), sector_pref=sector_pref.astype(np.int64), hours_pref=hours_pref,
        wage_pref=wage_pref, region0=region, move_day=np.full(n, NEVER, dtype=np.int64), region1=region.copy(),
        arrive=arrive.astype(np.int64), leave=leave.astype(np.int64), leave_kind=leave_kind.astype(np.int64), aow=aow,
        retire_prob=np.full(n, 0.85), disability_from=disab_from.astype(np.int64),
        disability_to=disab_to.astype(np.int64), assistance_eligible=assist, assistance_supplement=supplement,
        force_end=np.full(n, -1, dtype=np.int64), force_start=np.full(n, -1, dtype=np.int64),
        force_sector=np.full(n, -1, dtype=np.int64), force_sheltered=np.zeros(n, dtype=bool),
        force_contract=np.full(n, -1, dtype=np.int64), force_wage=np.full(n, np.nan), origin=origin,
        generation=np.where(origin == "6030", "0", np.where(first_gen, "1", "2")).astype(object),
    )


@dataclass
class EmployerRegister:
    """Employer units with what the business register and payroll show about them."""

    units: Employers
    sbeid: np.ndarray  # int, written as 'E' + nine digits
    sbi: np.ndarray  # object: five-digit SBI2008 code
    gksbs: np.ndarray  # object [n, years]: size-class code per year 2017..2022
    lower_case: np.ndarray  # bool [n, years]: writes contract codes in lower case that year


def draw_employers(rng: np.random.Generator, n_regions: int, p: ModelParameters) -> EmployerRegister:
    """Employer units of every region (``n_regions``), sorted by region, sector and sheltered status."""
    region, sector, sheltered, size, sbi = [], [], [], [], []
    for r in range(n_regions):
        for s in range(len(SECTORS)):
            k = EMPLOYERS_PER_SECTOR[s]
            size += list(rng.choice(3, size=k, p=SIZE_SHARES[s]) + 1)
            sbi += list(rng.choice(np.array(SBI_CODES[s], dtype=object), size=k))
            region += [r] * k
            sector += [s] * k
            sheltered += [False] * k
            if s in SHELTERED_SECTORS:  # one sheltered company unit per activity
                size.append(3)
                sbi.append(SHELTERED_SBI[s])
                region.append(r)
                sector.append(s)
                sheltered.append(True)
    region_a, sector_a, sheltered_a = np.array(region), np.array(sector), np.array(sheltered)
    size_a = np.array(size)
    n = len(region_a)
    weight = np.array(SIZE_WEIGHT)[size_a - 1] * rng.lognormal(0, 0.5, size=n)
    # pay frequency per employer: in each region and sector, employers in random order pay
    # four-weekly until their share of the hiring weight reaches the sector's share
    scale = p.four_weekly_share / 0.25 * FOUR_WEEKLY_CALIBRATION
    share = np.clip(np.where(sheltered_a, SHELTERED_FOUR_WEEKLY, np.array(FOUR_WEEKLY_BY_SECTOR)[sector_a]) * scale,
                    0, 1)
    order_key = rng.random(n)
    four_weekly = np.zeros(n, dtype=bool)
    block = (region_a * len(SECTORS) + sector_a) * 2 + sheltered_a
    for b in np.unique(block):
        members = np.flatnonzero(block == b)
        members = members[np.argsort(order_key[members], kind="stable")]
        before = np.cumsum(weight[members]) - weight[members]
        four_weekly[members] = before + weight[members] / 2 < share[members] * weight[members].sum()
    cao = np.where(sector_a == 8, rng.choice(np.array([int(c) for c in GOVERNMENT_CAO]), size=n),
                   np.where(sector_a == 4, 2000, 1000))
    cao = np.where(sheltered_a, 3400, cao)
    sbi_a = np.array(sbi, dtype=object)
    agency = sbi_a == "78201"
    units = Employers(region=region_a, sector=sector_a, sheltered=sheltered_a, weight=weight, size_class=size_a,
                      four_weekly=four_weekly, cao=cao, agency=agency)
    units.prepare(n_regions)
    sbeid = 10_000 + rng.choice(1_000_000_000 - 10_000, size=n, replace=False)
    years = 6
    codes = [np.array(GKSBS_CODES[g - 1], dtype=object) for g in (1, 2, 3)]
    base = np.array([rng.integers(len(codes[g - 1])) for g in size_a])
    drift = np.cumsum(rng.choice([-1, 0, 0, 0, 0, 0, 0, 0, 0, 1], size=(n, years)), axis=1)
    gksbs = np.empty((n, years), dtype=object)
    for i in range(n):
        c = codes[size_a[i] - 1]
        gksbs[i] = c[np.clip(base[i] + drift[i], 0, len(c) - 1)]
    lower = (rng.random(n) < LOWER_CASE_EMPLOYER_SHARE)[:, None] & (rng.random((n, years)) < 0.5)
    return EmployerRegister(units=units, sbeid=sbeid, sbi=sbi_a, gksbs=gksbs, lower_case=lower)
