"""Employment histories of the synthetic register: jobs as spells, month by month.

The model (all numbers are in :class:`ModelParameters` and in truth.json):

- Each person has two job slots: a main slot and a second slot for a small job held beside
  the main one. Sheltered WSW jobs are open-ended; part of the banenafspraak route earns below
  the minimum wage (wage dispensation). A job is a spell with a start and an end day, an employer, a contract type
  (fixed-term, open-ended, not applicable), weekly hours, a wage factor relative to the
  minimum wage, and flags: sheltered (WSW) job, on-call hours, banenafspraak wage-cost benefit.
- Every month a held job ends with a hazard: a base hazard by contract type and sheltered
  status, times seasonality (agriculture loses people in late autumn and winter, see
  ``SEASONAL_SECTORS``; fixed-term contracts end more often in December and June), times the 2020 shock,
  times a higher hazard in the first year of a job, times a person effect. Fixed-term
  contracts end on the last day of the month more often than not; some become open-ended.
- A person without a main job finds one with a hazard that depends on the person, the time
  since the last job, the season (spring hires in agriculture) and the 2020 shock; some job
  exits are job-to-job moves that start the next day. Sheltered WSW jobs only start before
  2015 (the WSW intake closed then).
- A trainee's potential outcome under training multiplies the exit hazard of the main job held
  at the end of the training (month 0) by ``exp(log_hr_i * shape(month))`` from month 1 on.

All random numbers come from a counter-based generator keyed by the person's 64-bit key,
the calendar month and a stream number (:func:`counter_uniform`), so two runs of the same
person (both potential outcomes) use the same uniforms: common random numbers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtri

EPOCH = np.datetime64("1970-01-01", "D")
#: A day number far beyond every calendar used here: "never" / "still open".
NEVER = 1_000_000

# person types (the target-group route a person belongs to; latent, never written)
REGULAR, WSW, BANEN, DISABILITY, ASSISTANCE = 0, 1, 2, 3, 4
# contract types
TEMPORARY, PERMANENT, NOT_APPLICABLE = 0, 1, 2
# sector groups of employers
SECTORS = (
    "agriculture", "landscaping", "industry", "services", "care", "transport", "administration", "specialised",
    "government",
)
AGRICULTURE, LANDSCAPING, INDUSTRY, SERVICES, CARE, TRANSPORT, ADMINISTRATION, SPECIALISED, GOVERNMENT = range(9)
#: the trainees' occupation (questionnaire codes 1..6) -> sector groups of their job
OCCUPATION_SECTORS = {1: (AGRICULTURE, LANDSCAPING), 2: (INDUSTRY,), 3: (SERVICES, CARE), 4: (TRANSPORT,),
                      5: (ADMINISTRATION, GOVERNMENT), 6: (SPECIALISED,)}
#: sectors where sheltered companies operate (a sheltered job in another sector is placed in services)
SHELTERED_SECTORS = (LANDSCAPING, INDUSTRY, SERVICES)
#: sectors with seasonal job exits and hires. Only agriculture: the register's activity sectors
#: (SBI divisions) file landscaping (SBI 81.30) with business services, so trainees chosen by their
#: occupation (agriculture or landscaping) would otherwise differ from controls of the same
#: measured sector in a way that moves their untreated outcomes (selection on an unmeasured variable)
SEASONAL_SECTORS = (AGRICULTURE,)

# end reasons of a job spell
OPEN, EXIT, LEAVE, PENSION, FORCED = 0, 1, 2, 3, 4


def day_number(text: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return int((np.datetime64(text, "D") - EPOCH).astype(np.int64))


def absolute_month(text: str) -> int:
    """``YYYY-MM`` as months since year 0 (year * 12 + month - 1)."""
    year, month = text.split("-")[:2]
    return int(year) * 12 + int(month) - 1


def month_of_day(days: np.ndarray) -> np.ndarray:
    """Absolute month (year * 12 + month - 1) of day numbers."""
    months = (np.asarray(days).astype("datetime64[D]").astype("datetime64[M]")).astype(np.int64)
    return months + 1970 * 12


def month_start_day(absolute: np.ndarray | int) -> np.ndarray:
    """Day number of the first day of an absolute month."""
    months = np.asarray(absolute, dtype=np.int64) - 1970 * 12
    return (months.astype("datetime64[M]").astype("datetime64[D]") - EPOCH).astype(np.int64)


def yyyymmdd(days: np.ndarray) -> np.ndarray:
    """Day numbers as ``YYYYMMDD`` text (object array)."""
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return np.array([], dtype=object)
    low, high = int(days.min()), int(days.max())
    table = np.datetime_as_string(np.arange(low, high + 1).astype("datetime64[D]"), unit="D")
    table = np.char.replace(table, "-", "").astype(object)
    return table[days - low]


class Calendar:
    """The simulated months: a burn-in from ``first``, written data from ``out_first`` to ``last``.

    ``t`` indexes months from ``first``; ``start[t]`` is the first day of month ``t`` (with one
    extra entry for the month after ``last``), ``ndays[t]`` its length, ``year[t]`` and
    ``month[t]`` (1..12) its calendar year and month.
    """

    def __init__(self, first: str = "2012-01", out_first: str = "2016-12", last: str = "2022-12") -> None:
        self.first, self.out_first, self.last = first, out_first, last
        self.first_abs = absolute_month(first)
        self.n = absolute_month(last) - self.first_abs + 1
        absolute = self.first_abs + np.arange(self.n + 1)
        self.start = month_start_day(absolute)
        self.ndays = np.diff(self.start)
        self.year = (absolute[:-1] // 12).astype(np.int64)
        self.month = (absolute[:-1] % 12 + 1).astype(np.int64)
        self.out_t = self.index(out_first)

    def index(self, month: str) -> int:
        """Month index ``t`` of ``YYYY-MM``."""
        return absolute_month(month) - self.first_abs

    def label(self, t: int) -> str:
        return f"{self.year[t]:04d}-{self.month[t]:02d}"

    def t_of_day(self, days: np.ndarray) -> np.ndarray:
        return month_of_day(days) - self.first_abs

    @property
    def end_day(self) -> int:
        """Last day of the last month."""
        return int(self.start[-1] - 1)


# --- counter-based random numbers ------------------------------------------------------------
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def counter_uniform(keys: np.ndarray, *counters: Any) -> np.ndarray:
    """Uniforms in (0, 1), a pure function of (key, counters...): the same inputs, the same numbers.

    ``counters`` are integers or integer arrays broadcastable to ``keys`` (month, stream, day...).
    """
    z = np.asarray(keys, dtype=np.uint64)
    for counter in counters:
        c = np.atleast_1d(np.asarray(counter, dtype=np.int64)).astype(np.uint64)
        z = _mix(z ^ _mix(c))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def counter_normal(keys: np.ndarray, *counters: Any) -> np.ndarray:
    return ndtri(counter_uniform(keys, *counters))


# stream numbers of the monthly draws (one uniform per person, month, slot and stream)
S_EXIT, S_EXIT_DAY, S_EXIT_DAY2, S_CONVERT, S_J2J, S_FIND, S_START_DAY, S_START_DAY2, S_RETIRE = range(9)
S_ATTR = 20  # 20.. : attributes of a new job
S_INIT = 60  # 60.. : the state at the start of the burn-in


# --- parameters ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelParameters:
    """Parameters of the employment model; see the module docstring."""

    exit_temporary: float = 0.040
    exit_permanent: float = 0.012
    exit_sheltered: float = 0.005
    #: base hazards are target * calibration so that realised pool rates meet the targets
    exit_calibration: tuple[float, float, float] = (1.0, 1.0, 1.0)
    covid_first: str = "2020-03"
    covid_last: str = "2020-06"
    covid_exit_hr: float = 1.8
    covid_hiring_ratio: float = 0.6
    four_weekly_share: float = 0.25
    second_job_start: float = 0.014
    second_job_exit: float = 0.09
    job_finding: float = 0.045
    recent_job_factor: float = 1.2  # job finding within 3 months of the last job
    job_to_job: float = 0.15
    conversion: float = 0.02
    tenure_factor: tuple[float, float] = (1.4, 1.15)  # first 6 months, months 6-11
    young_factor: float = 1.25  # under 23
    older_factor: float = 1.15  # 60 and over
    z_exit: float = 0.35
    z_find: float = 0.5
    season_agriculture_exit: tuple[float, ...] = (1.5, 1.1, 0.6, 0.5, 0.5, 0.6, 0.8, 0.9, 1.0, 1.3, 1.7, 1.5)
    season_temporary_exit: tuple[float, ...] = (1.1, 0.95, 0.95, 0.95, 0.95, 1.15, 0.95, 0.9, 0.95, 0.95, 0.9, 1.3)
    season_agriculture_hire: tuple[float, ...] = (0.7, 0.9, 1.6, 1.8, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.5, 0.4)
    temporary_month_end_share: float = 0.55
    start_first_day_share: float = 0.45
    new_job_contract: tuple[float, float, float] = (0.74, 0.23, 0.03)
    second_job_temporary: float = 0.85
    oncall_share: float = 0.3
    oncall_sd: float = 0.35
    oncall_zero: float = 0.04
    sector_shares: tuple[float, ...] = (0.16, 0.09, 0.17, 0.20, 0.11, 0.08, 0.10, 0.03, 0.06)
    sector_loyalty: float = 0.75
    lkv_claim: float = 0.85
    wsw_intake_closed: str = "2015-01"
    lkv_from: str = "2018-01"

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    def base_exit(self) -> np.ndarray:
        """Base monthly exit hazards [temporary, permanent, sheltered] after calibration."""
        return (np.array([self.exit_temporary, self.exit_permanent, self.exit_sheltered])
                * np.array(self.exit_calibration))


def _normalised(values: tuple[float, ...]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr / arr.mean()


# --- people ----------------------------------------------------------------------------------
@dataclass
class People:
    """The persons simulated, one entry per simulation row (numpy arrays of equal length).

    Days are day numbers; ``NEVER`` means never. ``force_*`` fields plant a history: all jobs
    end in month ``force_end`` (index ``t``), no job starts until month ``force_start``, when a
    main job starts with the given sector (``-1``: drawn), sheltered status and contract.
    """

    key: np.ndarray
    sex: np.ndarray
    birth: np.ndarray
    kind: np.ndarray
    z: np.ndarray
    education: np.ndarray
    sector_pref: np.ndarray
    hours_pref: np.ndarray
    wage_pref: np.ndarray
    region0: np.ndarray
    move_day: np.ndarray
    region1: np.ndarray
    arrive: np.ndarray
    leave: np.ndarray
    leave_kind: np.ndarray
    aow: np.ndarray
    retire_prob: np.ndarray
    disability_from: np.ndarray
    disability_to: np.ndarray
    assistance_eligible: np.ndarray
    assistance_supplement: np.ndarray
    force_end: np.ndarray
    force_start: np.ndarray
    force_sector: np.ndarray
    force_sheltered: np.ndarray
    force_contract: np.ndarray
    force_wage: np.ndarray  # wage factor of the planted job (NaN: drawn)
    origin: np.ndarray  # GBAHERKOMSTGROEPERING code (text)
    generation: np.ndarray  # GBAGENERATIE code (text)

    def __len__(self) -> int:
        return len(self.key)

    def take(self, index: np.ndarray) -> "People":
        return People(**{f.name: np.asarray(getattr(self, f.name))[index].copy() for f in dataclasses.fields(self)})

    @staticmethod
    def concat(parts: list["People"]) -> "People":
        return People(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                         for f in dataclasses.fields(People)})

    def region_at(self, days: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        rows = slice(None) if rows is None else rows
        return np.where(days >= self.move_day[rows], self.region1[rows], self.region0[rows])


# --- employers -------------------------------------------------------------------------------
@dataclass
class Employers:
    """Employer units: region, sector group, sheltered company, hiring weight, and what payroll shows."""

    region: np.ndarray
    sector: np.ndarray
    sheltered: np.ndarray
    weight: np.ndarray
    size_class: np.ndarray  # size group 1 (<50), 2 (50-249), 3 (250+)
    four_weekly: np.ndarray
    cao: np.ndarray  # SCAOSECTOR code as int
    agency: np.ndarray  # temporary-work agency (SSOORTBAAN 4)
    edges: np.ndarray = dataclasses.field(default=None)  # type: ignore[assignment]
    n_regions: int = 0

    def block(self, region: np.ndarray, sector: np.ndarray, sheltered: np.ndarray) -> np.ndarray:
        return (np.asarray(region) * len(SECTORS) + np.asarray(sector)) * 2 + np.asarray(sheltered, dtype=np.int64)

    def prepare(self, n_regions: int) -> None:
        """Order-independent choice: employers sorted by block, cumulative weights per block."""
        self.n_regions = n_regions
        blocks = self.block(self.region, self.sector, self.sheltered)
        if np.any(np.diff(blocks) < 0):
            raise ValueError("employers must be sorted by region, sector and sheltered status")
        edges = np.empty(len(blocks), dtype=np.float64)
        for b in np.unique(blocks):
            members = np.flatnonzero(blocks == b)
            cw = np.cumsum(self.weight[members])
            edges[members] = b + cw / cw[-1]
            edges[members[-1]] = b + 1.0
        self.edges = edges
        self._present = np.zeros(n_regions * len(SECTORS) * 2, dtype=bool)
        self._present[np.unique(blocks)] = True

    def choose(self, region: np.ndarray, sector: np.ndarray, sheltered: np.ndarray, u: np.ndarray) -> np.ndarray:
        b = self.block(region, sector, sheltered)
        if not self._present[b].all():
            raise ValueError("no employer for some region, sector and sheltered combination")
        return np.searchsorted(self.edges, b + np.minimum(u, 1 - 1e-12), side="left")


# --- jobs ------------------------------------------------------------------------------------
@dataclass
class Jobs:
    """Job spells: one entry per job (arrays of equal length), sorted by row, slot and start."""

    row: np.ndarray
    slot: np.ndarray
    start: np.ndarray
    end: np.ndarray  # last day (inclusive); NEVER while still open at the end of the calendar
    end_reason: np.ndarray
    employer: np.ndarray
    sector: np.ndarray
    contract: np.ndarray  # at the start
    converted: np.ndarray  # day from which a fixed-term contract is open-ended (NEVER: not)
    sheltered: np.ndarray
    oncall: np.ndarray
    hours: np.ndarray  # weekly hours
    wage_factor: np.ndarray
    lkv: np.ndarray
    treated: np.ndarray  # the job held at the end of the training (trainees' potential outcome under training)

    def __len__(self) -> int:
        return len(self.row)

    def take(self, index: np.ndarray) -> "Jobs":
        return Jobs(**{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)})


_JOB_FIELDS = [f.name for f in dataclasses.fields(Jobs)]


@dataclass
class Treatment:
    """Potential outcome under training: rows' month 0 (index ``t``; -1 untreated) and log hazard
    ratio at the peak. ``future_key`` (optional) replaces the rows' keys after month 0: a
    replicate future of the same past (for the expected effect)."""

    month0: np.ndarray
    log_hr: np.ndarray
    peak_month: int
    fade_month: int
    future_key: np.ndarray | None = None
    catch_up: float = 0.0


def effect_shape(month: np.ndarray, peak: int, fade: int, catch_up: float = 0.0) -> np.ndarray:
    """Shape of the training effect on the log hazard of leaving the job.

    0 up to month 0, rising linearly to 1 at ``peak``, then falling linearly to ``-catch_up`` at
    ``fade`` and 0 after. A positive ``catch_up`` makes part of the prevented exits happen later
    (postponed, not prevented), so the effect on employment rises and then fades, as the
    published monthly curve does; 0 gives a hazard effect that simply wears off.
    """
    m = np.asarray(month, dtype=float)
    rise = np.clip(m / peak, 0, 1)
    share = np.clip((m - peak) / max(fade - peak, 1e-9), 0, 1)
    fall = 1.0 - share * (1.0 + catch_up)
    return np.where((m <= 0) | (m > fade), 0.0, np.where(m <= peak, rise, fall))


class _Slot:
    """Mutable state of one job slot for every row."""

    def __init__(self, n: int) -> None:
        self.active = np.zeros(n, dtype=bool)
        self.start = np.full(n, NEVER, dtype=np.int64)
        self.employer = np.zeros(n, dtype=np.int64)
        self.sector = np.zeros(n, dtype=np.int64)
        self.contract = np.zeros(n, dtype=np.int64)
        self.converted = np.full(n, NEVER, dtype=np.int64)
        self.sheltered = np.zeros(n, dtype=bool)
        self.oncall = np.zeros(n, dtype=bool)
        self.hours = np.zeros(n, dtype=np.float64)
        self.wage_factor = np.ones(n, dtype=np.float64)
        self.lkv = np.zeros(n, dtype=bool)
        self.treated = np.zeros(n, dtype=bool)

    def record(self, rows: np.ndarray, slot: int, end: np.ndarray, reason: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "row": rows.astype(np.int64), "slot": np.full(len(rows), slot, dtype=np.int64), "start": self.start[rows],
            "end": end.astype(np.int64), "end_reason": reason.astype(np.int64), "employer": self.employer[rows],
            "sector": self.sector[rows], "contract": self.contract[rows], "converted": self.converted[rows],
            "sheltered": self.sheltered[rows], "oncall": self.oncall[rows], "hours": self.hours[rows],
            "wage_factor": self.wage_factor[rows], "lkv": self.lkv[rows], "treated": self.treated[rows],
        }


def _draw_new_jobs(
    rows: np.ndarray, slot: int, t: int, start: np.ndarray, people: People, employers: Employers, p: ModelParameters,
    cal: Calendar, state: _Slot, keys_all: np.ndarray | None = None,
) -> None:
    """Draw the attributes of jobs starting on ``start`` for ``rows`` into ``state``."""
    if len(rows) == 0:
        return
    keys = (people.key if keys_all is None else keys_all)[rows]
    u = [counter_uniform(keys, t, slot, S_ATTR + k) for k in range(9)]
    forced = (people.force_start[rows] == t) & (slot == 0) & (t >= 0)
    shares = np.cumsum(p.sector_shares) / np.sum(p.sector_shares)
    sector = np.where(u[0] < p.sector_loyalty, people.sector_pref[rows], np.searchsorted(shares, u[1], side="left"))
    sector = np.minimum(sector, len(SECTORS) - 1)
    wsw_open = t < cal.index(p.wsw_intake_closed)
    sheltered = (slot == 0) & wsw_open & (people.kind[rows] == WSW) & (u[2] < 0.6)
    sector = np.where(forced & (people.force_sector[rows] >= 0), people.force_sector[rows], sector)
    sheltered = np.where(forced, people.force_sheltered[rows], sheltered)
    sheltered_sector = np.where(np.isin(sector, SHELTERED_SECTORS), sector,
                                np.where(sector == AGRICULTURE, LANDSCAPING, SERVICES))
    sector = np.where(sheltered, sheltered_sector, sector)
    region = people.region_at(start, rows)
    employer = employers.choose(region, sector, sheltered, u[3])
    c = np.cumsum(p.new_job_contract)
    contract = np.searchsorted(c / c[-1], u[4], side="left")
    if slot == 1:
        contract = np.where(u[4] < p.second_job_temporary, TEMPORARY, PERMANENT)
    contract = np.where(sheltered, PERMANENT, contract)
    contract = np.where(forced & (people.force_contract[rows] >= 0), people.force_contract[rows], contract)
    oncall = (contract == TEMPORARY) & ~sheltered & (u[5] < (p.oncall_share if slot == 0 else 0.6))
    if slot == 0:
        hours = np.where(sheltered, 30 + np.floor(u[6] * 7),
                         np.clip(np.round(people.hours_pref[rows] + 4 * ndtri(u[6])), 6, 40))
    else:
        hours = 4 + np.floor(u[6] * 10)
    pref = people.wage_pref[rows]
    wage = np.where(sheltered, 1.12 * np.exp(0.03 * ndtri(u[7])),
                    np.maximum(np.minimum(pref, 1.0), pref * np.exp(0.05 * ndtri(u[7]))))
    wage = np.where(forced & np.isfinite(people.force_wage[rows]), people.force_wage[rows], wage)
    lkv = (people.kind[rows] == BANEN) & ~sheltered & (u[8] < p.lkv_claim)
    state.active[rows] = True
    state.start[rows] = start
    state.employer[rows] = employer
    state.sector[rows] = sector
    state.contract[rows] = contract
    state.converted[rows] = NEVER
    state.sheltered[rows] = sheltered
    state.oncall[rows] = oncall
    state.hours[rows] = hours
    state.wage_factor[rows] = wage
    state.lkv[rows] = lkv
    state.treated[rows] = False


def _initial_state(people: People, employers: Employers, p: ModelParameters, cal: Calendar, main: _Slot,
                   second: _Slot) -> None:
    """Jobs held at the start of the burn-in, with start dates in the past."""
    keys = people.key
    t0 = -1  # attributes of jobs held at the start use their own draws
    day0 = int(cal.start[0])
    adult_from = people.birth + int(18 * 365.25)
    u = [counter_uniform(keys, -1, S_INIT + k) for k in range(6)]
    rate = np.select(
        [people.kind == WSW, people.kind == BANEN, people.kind == DISABILITY, people.kind == ASSISTANCE],
        [0.85, 0.5, 0.45, 0.35], 0.8,
    )
    present = (people.arrive <= day0) & (people.leave > day0) & (adult_from <= day0) & (people.aow > day0)
    employed = present & (u[0] < rate)
    rows = np.flatnonzero(employed)
    mean_years = np.where(people.kind[rows] == WSW, 8.0, 3.0)
    start = day0 - np.floor(-np.log(u[1][rows]) * mean_years * 365.25).astype(np.int64) - 1
    start = np.maximum(start, np.maximum(adult_from[rows], people.arrive[rows]))
    _draw_new_jobs(rows, 0, t0, start, people, employers, p, cal, main)
    # WSW members hold their sheltered job; others held a fixed-term contract less often than new hires
    wsw = rows[(people.kind[rows] == WSW) & (u[2][rows] < 0.85)]
    if len(wsw):
        sector = np.where(np.isin(people.sector_pref[wsw], SHELTERED_SECTORS), people.sector_pref[wsw], SERVICES)
        main.sheltered[wsw] = True
        main.sector[wsw] = sector
        main.employer[wsw] = employers.choose(people.region_at(main.start[wsw], wsw), sector, np.ones(len(wsw), bool),
                                              u[3][wsw])
        main.contract[wsw] = PERMANENT
        main.oncall[wsw] = False
        main.lkv[wsw] = False
        main.hours[wsw] = 30 + np.floor(u[4][wsw] * 7)
        main.wage_factor[wsw] = 1.12
    regular = rows[~main.sheltered[rows]]
    make_open = u[5][regular] < 0.5
    main.contract[regular[make_open & (main.contract[regular] == TEMPORARY)]] = PERMANENT
    main.oncall[main.contract != TEMPORARY] = False
    second_rows = rows[u[4][rows] < 0.05]
    _draw_new_jobs(second_rows, 1, t0, day0 - 30 - np.floor(u[5][second_rows] * 300).astype(np.int64), people,
                   employers, p, cal, second)


def simulate_jobs(people: People, employers: Employers, cal: Calendar, p: ModelParameters,
                  treatment: Treatment | None = None) -> Jobs:
    """Simulate every row's job spells over the calendar (burn-in included); see the module docstring."""
    n = len(people)
    base_keys = people.key
    keys = base_keys
    main, second = _Slot(n), _Slot(n)
    _initial_state(people, employers, p, cal, main, second)
    base = p.base_exit()
    season_agri = _normalised(p.season_agriculture_exit)
    season_temp = _normalised(p.season_temporary_exit)
    season_hire = _normalised(p.season_agriculture_hire)
    covid = (cal.index(p.covid_first), cal.index(p.covid_last))
    person_exit = np.exp(-p.z_exit * people.z)
    person_find = np.exp(p.z_find * people.z)
    kind_find = np.select(
        [people.kind == WSW, people.kind == DISABILITY, people.kind == ASSISTANCE, people.kind == REGULAR],
        [0.6, 0.7, 0.8, 1.3], 1.0
    )
    last_end = np.full(n, -NEVER, dtype=np.int64)
    adult_from = people.birth + int(18 * 365.25)
    records: list[dict[str, np.ndarray]] = []
    if treatment is not None:
        treated_rows = treatment.month0 >= 0

    for t in range(cal.n):
        ms, me = int(cal.start[t]), int(cal.start[t + 1] - 1)
        nd = me - ms + 1
        moy = int(cal.month[t]) - 1
        shock = covid[0] <= t <= covid[1]
        age = (ms - people.birth) / 365.25
        forced_off = (people.force_end >= 0) & (t >= people.force_end) & (t < people.force_start)
        if treatment is not None and treatment.future_key is not None:
            keys = np.where(treated_rows & (t > treatment.month0), treatment.future_key, base_keys)
        for slot, state in ((0, main), (1, second)):
            act = state.active & (state.start <= me)
            u_exit = counter_uniform(keys, t, slot, S_EXIT)
            # fixed-term contracts that become open-ended from this month on
            conv = (act & (state.contract == TEMPORARY) & ~state.sheltered & (state.converted == NEVER)
                    & (counter_uniform(keys, t, slot, S_CONVERT) < p.conversion))
            state.converted[conv] = ms
            temp_now = (state.contract == TEMPORARY) & (state.converted > ms)
            if slot == 0:
                category = np.where(state.sheltered, 2, np.where(temp_now, 0, 1))
                h = base[category].copy()
            else:
                h = np.full(n, p.second_job_exit)
            seasonal = np.isin(state.sector, SEASONAL_SECTORS)
            h *= np.where(seasonal, season_agri[moy], np.where(temp_now, season_temp[moy], 1.0))
            if shock:
                h *= p.covid_exit_hr
            tenure = (ms - state.start) / 30.4375
            h *= np.where(tenure < 6, p.tenure_factor[0], np.where(tenure < 12, p.tenure_factor[1], 1.0))
            h *= person_exit * np.where(age < 23, p.young_factor, np.where(age >= 60, p.older_factor, 1.0))
            if treatment is not None and slot == 0:
                m = t - treatment.month0
                effect = np.where(treated_rows & state.treated,
                                  np.exp(treatment.log_hr * effect_shape(m, treatment.peak_month, treatment.fade_month,
                                                                         treatment.catch_up)), 1.0)
                h *= effect
            h = np.minimum(h, 0.95)
            end = np.full(n, NEVER, dtype=np.int64)
            reason = np.zeros(n, dtype=np.int64)
            # exits by hazard: fixed-term contracts mostly end on the last day of the month
            ex = act & (u_exit < h)
            month_end = temp_now & (counter_uniform(keys, t, slot, S_EXIT_DAY) < p.temporary_month_end_share)
            day = np.where(month_end, me,
                           ms + np.floor(counter_uniform(keys, t, slot, S_EXIT_DAY2) * nd).astype(np.int64))
            end = np.where(ex, np.maximum(day, state.start), end)
            reason = np.where(ex, EXIT, reason)
            # retirement at the state pension age
            ret = (act & (people.aow >= ms) & (people.aow <= me)
                   & (counter_uniform(keys, t, slot, S_RETIRE) < people.retire_prob))
            end = np.where(ret, np.minimum(end, np.maximum(people.aow - 1, state.start)), end)
            reason = np.where(ret & ~ex, PENSION, reason)
            # planted ends
            fe = act & (people.force_end == t)
            end = np.where(fe, np.minimum(end, np.maximum(
                ms + np.floor(counter_uniform(keys, t, slot, S_EXIT_DAY2) * nd).astype(np.int64), state.start)), end)
            reason = np.where(fe & ~ex & ~ret, FORCED, reason)
            # death and emigration end every job
            lv = act & (people.leave <= me)
            end = np.where(lv, np.minimum(end, np.maximum(people.leave - 1, state.start)), end)
            reason = np.where(lv & (people.leave - 1 <= end), LEAVE, reason)
            ended = ex | ret | fe | lv
            rows = np.flatnonzero(ended)
            if len(rows):
                records.append(state.record(rows, slot, end[rows], reason[rows]))
                state.active[rows] = False
                if slot == 0:
                    last_end[rows] = end[rows]
            # new jobs
            present = (people.arrive <= me) & (people.leave > me) & (adult_from <= me)
            can_start = present & ~state.active & ~forced_off & (people.force_start != t)
            if slot == 0:
                j2j = ex & ~ret & ~fe & ~lv & can_start & (counter_uniform(keys, t, slot, S_J2J) < p.job_to_job)
                months_out = (ms - last_end) / 30.4375
                f = p.job_finding * person_find * kind_find
                f = f * np.where(age < 23, 1.2, np.where(age >= 60, 0.4, np.where(age >= 55, 0.6, 1.0)))
                f = f * np.where(months_out <= 3, p.recent_job_factor, np.where(months_out > 24, 0.6, 1.0))
                f = f * np.where(np.isin(people.sector_pref, SEASONAL_SECTORS), season_hire[moy], 1.0)
                f = f * np.where(people.aow <= ms, 0.1, 1.0)
                if shock:
                    f = f * p.covid_hiring_ratio
                finders = can_start & ~ended & (counter_uniform(keys, t, slot, S_FIND) < np.minimum(f, 0.9))
                forced_start = (people.force_start == t) & present & ~state.active
            else:
                j2j = np.zeros(n, dtype=bool)
                holds_main = main.active & (main.start <= ms)
                f2 = p.second_job_start * np.exp(0.3 * people.z)
                finders = can_start & ~ended & holds_main & (counter_uniform(keys, t, slot, S_FIND) < f2)
                forced_start = np.zeros(n, dtype=bool)
            first_day = counter_uniform(keys, t, slot, S_START_DAY) < p.start_first_day_share
            sday = np.where(first_day, ms,
                            ms + np.floor(counter_uniform(keys, t, slot, S_START_DAY2) * nd).astype(np.int64))
            sday = np.maximum(sday, np.maximum(people.arrive, adult_from))
            start = np.where(j2j, end + 1, sday)
            new = np.flatnonzero((j2j | finders | forced_start) & (start < people.leave))
            _draw_new_jobs(new, slot, t, start[new], people, employers, p, cal, state, keys)
        if treatment is not None:
            at_end = treated_rows & (treatment.month0 == t)
            main.treated[at_end] = main.active[at_end] & (main.start[at_end] <= me)

    for slot, state in ((0, main), (1, second)):
        rows = np.flatnonzero(state.active)
        records.append(state.record(rows, slot, np.full(len(rows), NEVER), np.full(len(rows), OPEN)))
    columns = {name: np.concatenate([r[name] for r in records]) if records else np.array([]) for name in _JOB_FIELDS}
    jobs = Jobs(**columns)
    order = np.lexsort((jobs.start, jobs.slot, jobs.row))
    return jobs.take(order)
