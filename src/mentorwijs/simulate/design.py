"""The synthetic study's people and trainings, and the published flow of participants.

:func:`study_design` draws the training groups (schedule), the invited supervisors and the
employees their supervisors recruited, with every count of the published flow reproduced
exactly at ``scale=1`` (study.md, "Flow of participants") and every published percentage of
the employees' questionnaire reproduced after rounding. The questionnaire and register writers
render these people into exports; nothing here writes a file.

Tables of :class:`StudyDesign` (one row per entity, plain pandas dtypes):

``groups``
    ``training_group`` (G01..), ``region``, ``site`` (two-digit Castor site code), ``mode``
    (``on_site``/``online``), ``first_meeting``, ``last_meeting`` (``datetime.date``),
    ``meetings_delivered``, ``n_enrolled``.
``supervisors``
    ``castor_id`` (six digits: site + number), ``training_group``, ``region``, ``first_name``,
    ``last_name``, ``email``, ``organisation``, ``invited_on`` (date), ``completed_T0`` (bool),
    characteristics ``age, sex, years_supervisor, n_employees_guided, org_size, sector,
    sheltered_workplace`` and ``disability_types`` (tuple of option codes).
``employees``
    ``study_number`` (MW + five digits), ``supervisor`` (castor id), ``training_group``,
    identifiers ``bsn, first_name, last_name, birth_date, sex, postcode, email``, ``consent``
    (bool), ``occupation`` (1..6), ``disability`` (tuple of codes 1..5), ``work_ability`` (1..5),
    ``demands_physical``, ``demands_mental`` (1..5), ``job_satisfaction`` (1..5), and the planned
    register role: ``register_status`` (``refused``, ``found``, ``not_found_rin`` [key row with
    RINPERSOONS other than R], ``not_found_absent`` [no key row]), ``paid_work_at_baseline``
    (bool), ``off_support`` (bool: the register writer makes this trainee's covariates extreme).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

# --- published flow (study.md) -------------------------------------------------------------
N_GROUPS = 19
N_ON_SITE = 14
N_INVITED = 164
N_COMPLETED = {"T0": 127, "T1": 95, "T2": 91, "T3": 87}
N_EMPLOYEES = 118
N_REFUSED = 32
N_NOT_FOUND = 8
N_NOT_FOUND_RIN = 5  # of the 8: a key row with RINPERSOONS other than R; the rest have no key row
N_NO_PAID_WORK = 4
N_OFF_SUPPORT = 1
GROUP_SIZE = (5, 18)

OCCUPATION_COUNTS = {1: 48, 2: 31, 3: 20, 4: 7, 5: 7, 6: 5}  # agriculture/landscaping .. specialised
DISABILITY_COUNTS = {1: 41, 2: 30, 3: 26, 4: 21, 5: 22}  # physical, learning, intellectual, psychological, unknown
WORK_ABILITY_COUNTS = {1: 2, 2: 11, 3: 32, 4: 55, 5: 18}  # good or excellent: 73 of 118
DEMANDS_MEAN_SD = (6.0, 0.9)  # sum of two 1..5 items, 2..10
SATISFIED = 96  # satisfied or very satisfied (4, 5) of 118
#: employees' age at the first meeting (ASSUMPTION): a normal law (mean, SD) truncated to
#: [low, high], mean about 37. Truncated, not clipped: clipping piles employees onto the bounds
#: (one in sixteen at exactly 18.5), a spike no control population has and a propensity score with
#: a smooth age term cannot balance (such employees could not have worked five months earlier)
EMPLOYEE_AGE = {"mean": 35.7, "sd": 12.0, "low": 18.5, "high": 63.5}

REGIONS = ("Rivierenland", "Helmond-De Peel", "Foodvalley")
SITES = {"Rivierenland": "01", "Helmond-De Peel": "02", "Foodvalley": "03"}
POSTCODE_AREAS = {
    "Rivierenland": (4001, 4007, 4101, 4107, 4191, 4197, 4211, 4214, 5301, 5308),
    "Helmond-De Peel": (5701, 5709, 5751, 5754, 5721, 5725, 5741, 5745, 5735, 5738),
    "Foodvalley": (6711, 6718, 3901, 3906, 3771, 3774, 6701, 6709, 3861, 3864),
}

FIRST_NAMES = (
    "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Jesse", "Thijs", "Ruben", "Bram", "Mohamed",
    "Youssef", "Kevin", "Dennis", "Mark", "Patrick", "Jeroen", "Sander", "Bas", "Tim", "Emma", "Julia",
    "Sophie", "Lisa", "Anouk", "Fleur", "Iris", "Sanne", "Femke", "Esther", "Fatima", "Samira", "Linda",
    "Marieke", "Renée", "Chantal", "Monique", "Ingrid", "Priya", "Noor",
)
LAST_NAMES = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
    "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen",
    "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "Kok", "Jacobs",
    "van der Linden", "Vermeulen", "van den Heuvel", "Yilmaz", "El Amrani", "Kaya", "Boukhari",
    "van Beek", "Verhoeven", "Willems", "Koster", "Prins", "Kuipers",
)
ORGANISATIONS = (
    "Groenvoorziening {r}", "Kwekerij De Linde", "Werkbedrijf {r}", "Gemeente {r}", "Bouwbedrijf Van Os",
    "Zorggroep {r}", "Logistiek Centrum {r}", "Metaalbewerking Peelland", "Schoonmaakbedrijf Helder",
    "Supermarkt De Kar", "Champignonkwekerij Betuwe", "Recycling {r}", "Hoveniers Vallei", "Drukkerij Roos",
)


@dataclass
class StudyDesign:
    """The entities of the synthetic study; see the module docstring for the columns."""

    scale: float
    groups: pd.DataFrame
    supervisors: pd.DataFrame
    employees: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def truth(self) -> dict[str, Any]:
        """The planned flow of participants, for truth.json."""
        return {"flow": {"planned": dict(self.counts)}}


def scaled(n: int, scale: float) -> int:
    """A published count at ``scale`` (exact at scale 1)."""
    return int(n) if scale == 1 else max(1, int(round(n * scale)))


def scaled_counts(counts: dict[Any, int], total: int) -> dict[Any, int]:
    """Counts in the published proportions summing exactly to ``total`` (largest remainder)."""
    published = sum(counts.values())
    if total == published:
        return dict(counts)
    raw = {k: v * total / published for k, v in counts.items()}
    floor = {k: int(np.floor(v)) for k, v in raw.items()}
    rest = total - sum(floor.values())
    for k in sorted(raw, key=lambda k: (floor[k] - raw[k], str(k)))[:rest]:
        floor[k] += 1
    return floor


def bsn_eleven_test(bsn: str) -> bool:
    """The Dutch citizen service number check: sum(d_i * w_i) with weights 9..2, -1 is divisible by 11."""
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(bsn, weights)) % 11 == 0


def fake_bsns(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct nine-digit numbers that pass the eleven-test (fake: drawn at random)."""
    out: list[str] = []
    seen: set[str] = set()
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2])
    while len(out) < n:
        head = rng.integers(0, 10, size=8)
        head[0] = rng.integers(1, 7)  # real BSNs in use start with 1..6 and we keep them plausible
        last = int((head * weights).sum() % 11)  # the ninth digit weighs -1: it must equal sum mod 11
        if last == 10:
            continue
        bsn = "".join(map(str, head)) + str(last)
        if bsn not in seen and bsn_eleven_test(bsn):
            seen.add(bsn)
            out.append(bsn)
    return out


def values_with_mean_sd(
    rng: np.random.Generator,
    n: int,
    support: Sequence[int],
    mean: float,
    sd: float,
    *,
    decimals: int = 1,
    start: Sequence[int] | None = None,
    max_steps: int = 200_000,
) -> np.ndarray:
    """``n`` integers from ``support`` whose mean and SD (n-1) round to ``mean`` and ``sd``.

    A hill climb from a random (or given) start that moves one value at a time by one step of
    the support; used to reproduce published means and SDs of rating items by construction.
    """
    support = np.asarray(sorted(support))
    if start is None:  # start near the target: rounded normal draws clipped to the support
        start = np.clip(np.round(rng.normal(mean, sd, size=n)), support[0], support[-1])
    values = np.asarray(start, dtype=float).copy()
    target = np.array([mean, sd])

    def loss(v: np.ndarray) -> float:
        m, s = v.mean(), v.std(ddof=1)
        return abs(m - mean) + abs(s - sd)

    def ok(v: np.ndarray) -> bool:
        return bool(np.all(np.round([v.mean(), v.std(ddof=1)], decimals) == np.round(target, decimals)))

    current = loss(values)
    for _ in range(max_steps):
        if ok(values):
            return values.astype(int)
        i = rng.integers(n)
        pos = int(np.searchsorted(support, values[i]))
        step = rng.choice([-1, 1])
        if not 0 <= pos + step < len(support):
            continue
        old = values[i]
        values[i] = support[pos + step]
        new = loss(values)
        if new <= current:
            current = new
        else:
            values[i] = old
    raise RuntimeError(f"could not reach mean {mean} and SD {sd} with {n} values")


def truncated_normal(z: np.ndarray, law: dict[str, float]) -> np.ndarray:
    """Standard normal draws ``z`` mapped to a normal (``mean``, ``sd``) truncated to [``low``, ``high``]
    by its quantile function: one draw per value, no mass on the bounds."""
    a = ndtr((law["low"] - law["mean"]) / law["sd"])
    b = ndtr((law["high"] - law["mean"]) / law["sd"])
    return law["mean"] + law["sd"] * ndtri(a + ndtr(np.asarray(z, dtype=float)) * (b - a))


def exact_categorical(rng: np.random.Generator, counts: dict[Any, int]) -> np.ndarray:
    """A random ordering of values with exactly the given counts."""
    values = np.concatenate([np.repeat(np.array([k], dtype=object), v) for k, v in counts.items()])
    return rng.permutation(values)


def _schedule(rng: np.random.Generator, n_groups: int, n_on_site: int) -> pd.DataFrame:
    """Training groups between May 2019 and January 2021; online groups during COVID-19.

    Five weekly meetings: the last meeting is four weeks after the first. On-site groups start
    before mid-March 2020 or in the autumn of 2020; online groups between April 2020 and
    December 2020, finishing by the end of January 2021.
    """
    n_online = n_groups - n_on_site
    on_site_windows = [(dt.date(2019, 5, 6), dt.date(2020, 1, 27)), (dt.date(2020, 8, 31), dt.date(2020, 10, 5))]
    online_window = (dt.date(2020, 4, 20), dt.date(2020, 12, 28))

    def mondays(first: dt.date, last: dt.date, k: int) -> list[dt.date]:
        weeks = (last - first).days // 7
        picks = np.sort(rng.choice(weeks + 1, size=k, replace=k > weeks + 1))
        return [first + dt.timedelta(weeks=int(w)) for w in picks]

    share_first = 0.8
    k_first = int(round(n_on_site * share_first))
    starts = mondays(*on_site_windows[0], k_first) + mondays(*on_site_windows[1], n_on_site - k_first)
    online_starts = mondays(*online_window, n_online)
    modes = ["on_site"] * n_on_site + ["online"] * n_online
    frame = pd.DataFrame({"first_meeting": starts + online_starts, "mode": modes})
    frame = frame.sort_values(["first_meeting", "mode"], kind="stable").reset_index(drop=True)
    # the last of the early on-site groups may not start before the COVID-19 pause allows five meetings
    frame["last_meeting"] = [d + dt.timedelta(days=28) for d in frame["first_meeting"]]
    frame["training_group"] = [f"G{i + 1:02d}" if n_groups < 100 else f"G{i + 1:03d}" for i in range(n_groups)]
    regions = np.resize(np.array(REGIONS, dtype=object), n_groups)
    frame["region"] = rng.permutation(regions)
    frame["site"] = frame["region"].map(SITES)
    frame["meetings_delivered"] = 5
    return frame


def _group_sizes(rng: np.random.Generator, n_groups: int, total: int) -> np.ndarray:
    low, high = GROUP_SIZE
    if not low * n_groups <= total <= high * n_groups:
        raise ValueError("group sizes cannot hold the invited supervisors")
    sizes = np.full(n_groups, low)
    for _ in range(total - low * n_groups):
        open_groups = np.flatnonzero(sizes < high)
        sizes[rng.choice(open_groups)] += 1
    return sizes


def _names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    return list(rng.choice(FIRST_NAMES, size=n)), list(rng.choice(LAST_NAMES, size=n))


def _email(first: str, last: str, domain: str, number: int) -> str:
    clean = (first + "." + last).lower().replace(" ", "").replace("é", "e")
    return f"{clean}{number}@{domain}"


def _postcode(rng: np.random.Generator, region: str) -> str:
    bounds = POSTCODE_AREAS[region]
    pair = rng.integers(len(bounds) // 2)
    number = rng.integers(bounds[2 * pair], bounds[2 * pair + 1] + 1)
    letters = "".join(rng.choice(list("ABCDEGHJKLMNPRSTVWXZ"), size=2))
    return f"{number} {letters}"


def _supervisors(rng: np.random.Generator, groups: pd.DataFrame, n_completed_t0: int) -> pd.DataFrame:
    rows = []
    counters = {site: 0 for site in SITES.values()}
    for group in groups.itertuples(index=False):
        for _ in range(group.n_enrolled):
            counters[group.site] += 1
            rows.append(
                {
                    "castor_id": f"{group.site}{counters[group.site]:04d}",
                    "training_group": group.training_group,
                    "region": group.region,
                    "invited_on": group.first_meeting - dt.timedelta(days=int(rng.integers(14, 43))),
                }
            )
    sup = pd.DataFrame(rows)
    n = len(sup)
    sup["first_name"], sup["last_name"] = _names(rng, n)
    domains = ("werkbedrijf.example.nl", "gemeente.example.nl", "bedrijf.example.nl", "zorg.example.nl")
    sup["email"] = [_email(first, last, domains[i % len(domains)], i)
                    for i, (first, last) in enumerate(zip(sup["first_name"], sup["last_name"]))]
    sup["organisation"] = [ORGANISATIONS[rng.integers(len(ORGANISATIONS))].format(r=r) for r in sup["region"]]
    sup["age"] = np.clip(np.round(rng.normal(46, 9, size=n)), 24, 66).astype(int)
    sup["sex"] = rng.choice([1, 2, 3], size=n, p=[0.55, 0.44, 0.01])
    sup["years_supervisor"] = np.clip(np.round(rng.gamma(2.2, 4.5, size=n)), 0, sup["age"] - 20).astype(int)
    sup["n_employees_guided"] = np.clip(np.round(rng.lognormal(1.8, 0.8, size=n)), 1, 60).astype(int)
    sup["sector"] = rng.choice([1, 2, 3], size=n, p=[0.55, 0.25, 0.20])
    sup["sheltered_workplace"] = (rng.random(n) < 0.3).astype(int)
    sup["org_size"] = np.where(sup["sheltered_workplace"] == 1, rng.choice([2, 3], size=n),
                               rng.choice([1, 2, 3], size=n, p=[0.4, 0.35, 0.25]))
    sup["disability_types"] = [
        tuple(sorted(rng.choice([1, 2, 3, 4, 5], size=rng.integers(1, 4), replace=False).tolist())) for _ in range(n)
    ]
    completed = np.zeros(n, dtype=bool)
    completed[rng.choice(n, size=n_completed_t0, replace=False)] = True
    sup["completed_T0"] = completed
    return sup


def _disabilities(rng: np.random.Generator, n: int, counts: dict[int, int]) -> list[tuple[int, ...]]:
    """Multi-select answers with exact counts per option; 'unknown' (5) is never combined."""
    unknown = counts[5]
    known_people = n - unknown
    known = {k: v for k, v in counts.items() if k != 5}
    if sum(known.values()) < known_people:
        raise ValueError("too few known disability answers for the respondents")
    answers: list[set[int]] = [set() for _ in range(known_people)]
    pool = exact_categorical(rng, known)
    # every respondent gets one type first, the remaining selections go to others as a second type
    for i in range(known_people):
        answers[i].add(int(pool[i]))
    for option in pool[known_people:]:
        while True:  # a random respondent who has not chosen this option and has room for it
            i = int(rng.integers(known_people))
            if int(option) not in answers[i] and len(answers[i]) < 3:
                answers[i].add(int(option))
                break
    result = [tuple(sorted(a)) for a in answers] + [(5,)] * unknown
    order = rng.permutation(n)
    return [result[i] for i in order]


def _employees(
    rng: np.random.Generator,
    supervisors: pd.DataFrame,
    groups: pd.DataFrame,
    counts: dict[str, int],
    scale: float,
) -> pd.DataFrame:
    n = counts["employees_completed"]
    eligible = supervisors[supervisors["completed_T0"]]
    # supervisors recruit one to four employees; about six in ten of them recruit anyone
    recruiting = eligible.sample(n=min(len(eligible), max(1, int(round(0.62 * len(eligible))))), random_state=rng)
    weights = rng.gamma(1.5, 1.0, size=len(recruiting))
    supervisor_of = rng.choice(recruiting["castor_id"].to_numpy(), size=n, p=weights / weights.sum())
    by_id = supervisors.set_index("castor_id")
    emp = pd.DataFrame({"supervisor": supervisor_of})
    emp["training_group"] = by_id.loc[emp["supervisor"], "training_group"].to_numpy()
    region = by_id.loc[emp["supervisor"], "region"].to_numpy()
    numbers = rng.choice(np.arange(1, 100_000), size=n, replace=False)
    emp["study_number"] = [f"MW{k:05d}" for k in numbers]
    emp["first_name"], emp["last_name"] = _names(rng, n)
    emp["sex"] = rng.choice([1, 2], size=n, p=[0.62, 0.38])
    start_meeting = groups.set_index("training_group").loc[emp["training_group"], "first_meeting"].to_numpy()
    ages = truncated_normal(rng.normal(size=n), EMPLOYEE_AGE)
    emp["birth_date"] = [d - dt.timedelta(days=int(a * 365.25)) for d, a in zip(start_meeting, ages)]
    emp["bsn"] = fake_bsns(rng, n)
    emp["postcode"] = [_postcode(rng, r) for r in region]
    emp["email"] = [_email(first, last, "mail.example.nl", i)
                    for i, (first, last) in enumerate(zip(emp["first_name"], emp["last_name"]))]
    emp["occupation"] = exact_categorical(rng, scaled_counts(OCCUPATION_COUNTS, n)).astype(int)
    selections = round(sum(DISABILITY_COUNTS.values()) * n / N_EMPLOYEES)
    emp["disability"] = _disabilities(rng, n, scaled_counts(DISABILITY_COUNTS, selections))
    emp["work_ability"] = exact_categorical(rng, scaled_counts(WORK_ABILITY_COUNTS, n)).astype(int)
    try:
        demands = values_with_mean_sd(rng, n, range(2, 11), *DEMANDS_MEAN_SD,
                                      max_steps=200_000 if scale == 1 else 5_000)
    except RuntimeError:  # a few employees (small scales) may not reach the published rounding
        if scale == 1:
            raise
        demands = np.clip(np.round(rng.normal(*DEMANDS_MEAN_SD, size=n)), 2, 10).astype(int)
    physical = np.clip(np.ceil(demands / 2) + rng.integers(-1, 1, size=n), 1, 5)
    physical = np.clip(physical, demands - 5, demands - 1)
    emp["demands_physical"] = physical.astype(int)
    emp["demands_mental"] = (demands - physical).astype(int)
    satisfied = scaled(SATISFIED, scale)
    satisfaction = np.concatenate([rng.choice([4, 5], size=satisfied, p=[0.6, 0.4]),
                                   rng.choice([1, 2, 3], size=n - satisfied, p=[0.15, 0.3, 0.55])])
    emp["job_satisfaction"] = rng.permutation(satisfaction).astype(int)
    # consent and the planned register role
    status = np.array(["found"] * n, dtype=object)
    order = rng.permutation(n)
    refused = order[: counts["refused_linkage"]]
    status[refused] = "refused"
    rest = order[counts["refused_linkage"] :]
    status[rest[: counts["not_found_rin"]]] = "not_found_rin"
    status[rest[counts["not_found_rin"] : counts["not_found"]]] = "not_found_absent"
    found = rest[counts["not_found"] :]
    emp["register_status"] = status
    emp["consent"] = status != "refused"
    emp["paid_work_at_baseline"] = True
    emp.loc[found[: counts["no_paid_work"]], "paid_work_at_baseline"] = False
    emp["off_support"] = False
    emp.loc[found[counts["no_paid_work"] : counts["no_paid_work"] + counts["off_support"]], "off_support"] = True
    emp = emp.sort_values("study_number", kind="stable").reset_index(drop=True)
    columns = [
        "study_number", "supervisor", "training_group", "bsn", "first_name", "last_name", "birth_date", "sex",
        "postcode", "email", "consent", "occupation", "disability", "work_ability", "demands_physical",
        "demands_mental", "job_satisfaction", "register_status", "paid_work_at_baseline", "off_support",
    ]
    return emp[columns]


def flow_counts(scale: float) -> dict[str, int]:
    """The planned flow of participants at ``scale`` (study.md's numbers at scale 1)."""
    counts = {
        "groups": scaled(N_GROUPS, scale),
        "invited": scaled(N_INVITED, scale),
        **{f"completed_{w}": scaled(v, scale) for w, v in N_COMPLETED.items()},
        "employees_completed": scaled(N_EMPLOYEES, scale),
        "refused_linkage": scaled(N_REFUSED, scale),
        "not_found": scaled(N_NOT_FOUND, scale),
        "not_found_rin": scaled(N_NOT_FOUND_RIN, scale),
        "no_paid_work": scaled(N_NO_PAID_WORK, scale),
        "off_support": scaled(N_OFF_SUPPORT, scale),
    }
    counts["groups_on_site"] = int(round(counts["groups"] * N_ON_SITE / N_GROUPS))
    counts["sent_to_cbs"] = counts["employees_completed"] - counts["refused_linkage"]
    counts["found"] = counts["sent_to_cbs"] - counts["not_found"]
    counts["eligible"] = counts["found"] - counts["no_paid_work"]
    counts["matched"] = counts["eligible"] - counts["off_support"]
    return counts


def study_design(rng: np.random.Generator, *, scale: float = 1.0) -> StudyDesign:
    """Draw the study's groups, supervisors and employees (published flow exact at scale 1)."""
    counts = flow_counts(scale)
    groups = _schedule(rng, counts["groups"], counts["groups_on_site"])
    groups["n_enrolled"] = _group_sizes(rng, len(groups), counts["invited"])
    supervisors = _supervisors(rng, groups, counts["completed_T0"])
    employees = _employees(rng, supervisors, groups, counts, scale)
    columns = ["training_group", "region", "site", "mode", "first_meeting", "last_meeting", "meetings_delivered",
               "n_enrolled"]
    return StudyDesign(scale=scale, groups=groups[columns], supervisors=supervisors, employees=employees, counts=counts)
