"""The synthetic study's questionnaires: answers of supervisors and employees, in the real formats.

:func:`write_questionnaires` renders the people of a :class:`~mentorwijs.simulate.design.StudyDesign`
into the study's own files and the survey tools' exports (paths relative to the output folder):

- ``study/trainingen.csv`` and ``study/uitnodigingen.csv``: training schedule and invitation
  list, CSV as Excel writes it on Dutch Windows;
- ``castor/Mentorwijs_export.xlsx``: the Castor study export (supervisors' characteristics);
- ``castor/Mentorwijs_T<k>_export.csv``: one Castor survey export per wave (T0..T3 and every
  added wave);
- ``qualtrics/Mentorwijs_werknemers.csv`` and ``..._vervolg.csv``: the employees' Qualtrics
  questionnaire and its follow-up.

Every raw item name comes from the codebooks (``data/codebooks/*.yaml``): this module names
canonical items only. At ``scale=1`` every published count and percentage of the flow, the
process evaluation and the employees' questionnaire comes out exactly after correct cleaning
(TES participants and test/preview/spam responses removed, only completed surveys kept, of a
duplicate the latest complete submission, out-of-range answers and user-missing codes set
missing); at other scales the counts are proportional.

The supervisors' scales come from a latent-factor model (:class:`LatentModel`): per supervisor,
wave and construct a latent level ``eta = location + change(wave) + u + g + e`` with a
supervisor effect ``u`` (correlated across constructs), a training-group effect ``g`` and an
occasion effect ``e``; item ``j`` answers ``low + #{k: lambda_j * eta + eps > tau_jk}`` with
``eps ~ N(0, 1)``, and a reverse-worded item is written as ``low + high - answer``. Drop-out
after T0 depends on the last observed scores (missing at random).

The returned truth fragment holds the model's parameters, the exact population mean of every
scale score per wave (closed form, :func:`population_scale_mean`), the realised sample values,
the realised process and employee figures, the realised flow and a list of every planted
defect (``defects``: ``file, kind, row, column, record, detail, value``; ``row`` is the 1-based
line in the file, header lines included; for the xlsx file the row of its ``Study results``
sheet).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from mentorwijs.codebook import Codebook, Item, load_codebook, wave_number
from mentorwijs.simulate.design import (
    FIRST_NAMES,
    LAST_NAMES,
    N_COMPLETED,
    StudyDesign,
    exact_categorical,
    fake_bsns,
    scaled_counts,
)
from mentorwijs.simulate.writers import write_csv, write_dutch_excel_csv, write_xlsx

# --- files and codebooks -------------------------------------------------------------------
CODEBOOKS = ("schedule", "invitations", "supervisors_study", "supervisors", "employees")
SCHEDULE_FILE = "study/trainingen.csv"
INVITATIONS_FILE = "study/uitnodigingen.csv"
STUDY_EXPORT_FILE = "castor/Mentorwijs_export.xlsx"
SURVEY_FILE = "castor/Mentorwijs_{wave}_export.csv"
EMPLOYEES_FILE = "qualtrics/Mentorwijs_werknemers.csv"
FOLLOWUP_FILE = "qualtrics/Mentorwijs_werknemers_vervolg.csv"
BASE_WAVES = ("T0", "T1", "T2", "T3")
EMPLOYEE_WAVE, FOLLOWUP_WAVE = "T0", "T2"

# --- published process evaluation (study.md, "Process evaluation") -------------------------
MEETINGS_ATTENDED = {5: 69, 4: 17, 3: 7, 2: 0, 1: 1}  # of 94 answering at T1
MEETINGS_UNANSWERED = 1  # the 95th T1 completer: a user-missing code
EXTRA_TIME_YES = {"T1": 24, "T2": 28, "T3": 23}  # of the completers 95, 91, 87
EXTRA_HOURS = {"T1": (6.6, 8.3), "T2": (5.5, 4.8), "T3": (4.7, 3.9)}  # mean (SD) among those answering yes
SATISFACTION = {
    "satisfaction_general": (4.4, 0.6),
    "satisfaction_meetings": (4.4, 0.5),
    "satisfaction_trainers": (4.7, 0.9),
    "satisfaction_content": (4.4, 0.9),
    "satisfaction_methods": (4.4, 0.9),
    "satisfaction_structure": (4.4, 0.9),
}
# contextual factors are "mostly rated high; feedback and formal endorsement lower": answer
# probabilities for 1..5 (our reconstruction; the realised means go into the truth)
CONTEXT = {
    "context_management_support": (0.02, 0.06, 0.16, 0.46, 0.30),
    "context_colleagues": (0.01, 0.05, 0.15, 0.49, 0.30),
    "context_time": (0.03, 0.10, 0.22, 0.43, 0.22),
    "context_hr_support": (0.03, 0.08, 0.22, 0.42, 0.25),
    "context_feedback": (0.08, 0.25, 0.35, 0.25, 0.07),
    "context_endorsement": (0.12, 0.28, 0.33, 0.20, 0.07),
}
EXTRA_TIME_SHARE_ADDED = 0.25  # added waves (not published): share answering yes
ADDED_WAVE_RETENTION = 0.85  # share of the previous wave's completers completing an added wave
N_FOLLOWUP = 50  # employees answering the follow-up at scale 1 (ASSUMPTION of study.md: "part of them")
FOLLOWUP_ANSWERS = {  # answer probabilities 1 much worse .. 5 much better
    "change_communication": (0.02, 0.05, 0.45, 0.36, 0.12),
    "change_attitude": (0.02, 0.04, 0.50, 0.34, 0.10),
}
PARTIAL_SHARE = 0.3  # of the surveys sent but not completed, the share started (progress between 0 and 100)
N_TEST_PARTICIPANTS = 3  # Castor test participants TES001..

CONSTRUCTS = ("knowledge", "self_efficacy", "intention", "behaviour")


# --- the latent-factor model of the supervisors' scales ------------------------------------
@dataclass(frozen=True)
class LatentModel:
    """Data-generating parameters of the supervisors' construct items (latent units: SD ~ 1).

    ``location`` is the latent mean at T0 per construct; ``change`` its shift at T1, T2, T3
    (later waves keep T3's shift). Knowledge and self-efficacy rise at T1 and largely stay;
    intention and behaviour start high (their items near the ceiling) and barely change.
    Items get a loading drawn from ``loading_range`` and thresholds ``thresholds`` shifted by
    a uniform draw in +-``threshold_shift``.
    """

    location: Mapping[str, float] = field(
        default_factory=lambda: {"knowledge": 0.1, "self_efficacy": 0.3, "intention": 1.5, "behaviour": 1.2}
    )
    change: Mapping[str, tuple[float, float, float]] = field(
        default_factory=lambda: {
            "knowledge": (0.75, 0.65, 0.60),
            "self_efficacy": (0.55, 0.50, 0.45),
            "intention": (0.05, 0.04, 0.03),
            "behaviour": (0.03, 0.06, 0.05),
        }
    )
    sd_supervisor: float = 0.75
    corr_constructs: float = 0.5
    sd_group: float = 0.2
    sd_occasion: float = 0.55
    thresholds: tuple[float, ...] = (-2.0, -1.0, 0.3, 1.6)
    loading_range: tuple[float, float] = (0.8, 1.4)
    threshold_shift: float = 0.4
    # drop-out after T0: logit of completing a wave = continue * (completed the previous wave)
    # + score * (last observed score of `attrition_construct` - 3.5). Depending on one construct's
    # last observed score keeps drop-out missing at random for the model of that construct, which
    # the analysis fits one construct at a time (a mean over constructs would not be).
    attrition_continue: float = 2.0
    attrition_score: float = 0.8
    attrition_construct: str = "knowledge"

    @property
    def latent_variance(self) -> float:
        """Marginal variance of a latent level across supervisors, groups and occasions."""
        return self.sd_supervisor**2 + self.sd_group**2 + self.sd_occasion**2

    def mean(self, construct: str, wave: str) -> float:
        """Population mean of the latent level of ``construct`` at ``wave``."""
        k = wave_number(wave)
        return self.location[construct] + (0.0 if k == 0 else self.change[construct][min(k, 3) - 1])

    def parameters(self) -> dict[str, Any]:
        return {
            "location": dict(self.location),
            "change_T1_T2_T3": {c: list(v) for c, v in self.change.items()},
            "sd_supervisor": self.sd_supervisor,
            "corr_constructs": self.corr_constructs,
            "sd_group": self.sd_group,
            "sd_occasion": self.sd_occasion,
            "base_thresholds": list(self.thresholds),
            "loading_range": list(self.loading_range),
            "threshold_shift": self.threshold_shift,
            "attrition_logit": {
                "completed_previous_wave": self.attrition_continue,
                "last_score_minus_3_5": self.attrition_score,
                "score_of": self.attrition_construct,
            },
        }


MODEL = LatentModel()


@dataclass(frozen=True)
class ItemParameters:
    """One construct item of the latent model (``low``..``high`` is the answer range)."""

    name: str
    loading: float
    thresholds: tuple[float, ...]
    reverse: bool
    low: int
    high: int


def population_scale_mean(model: LatentModel, items: Sequence[ItemParameters], construct: str, wave: str) -> float:
    """Exact population mean of a scale score (mean of its items after reverse coding).

    Marginally over supervisors, groups and occasions the latent level is normal with mean
    ``model.mean(construct, wave)`` and variance ``model.latent_variance``, so an item's
    response ``lambda * eta + eps`` is normal with variance ``lambda^2 V + 1`` and
    ``E[answer] = low + sum_k P(response > tau_k)``. Reverse coding undoes the reversed writing,
    so every item enters in its positive direction.
    """
    m, v = model.mean(construct, wave), model.latent_variance
    means = [
        item.low
        + sum(float(norm.cdf((item.loading * m - tau) / math.sqrt(item.loading**2 * v + 1.0)))
              for tau in item.thresholds)
        for item in items
    ]
    return float(np.mean(means))


def draw_item_parameters(rng: np.random.Generator, book: Codebook,
                         model: LatentModel) -> dict[str, list[ItemParameters]]:
    """Loadings and thresholds of every construct item named in the supervisors' codebook."""
    params: dict[str, list[ItemParameters]] = {}
    for construct in CONSTRUCTS:
        items = book.scale_items(construct, "T0")
        if not items:
            raise ValueError(f"the codebook {book.source} has no items of scale {construct!r}")
        out = []
        for item in items:
            low, high = (int(v) for v in (item.range or (1, 5)))
            if high - low != len(model.thresholds):
                raise ValueError(f"item {item.name}: range {low}..{high} does not fit "
                                 f"{len(model.thresholds)} thresholds")
            loading = float(rng.uniform(*model.loading_range))
            shift = float(rng.uniform(-model.threshold_shift, model.threshold_shift))
            out.append(ItemParameters(item.name, loading, tuple(t + shift for t in model.thresholds), item.reverse, low,
                                      high))
        params[construct] = out
    return params


def item_answers(rng: np.random.Generator, eta: np.ndarray, items: Sequence[ItemParameters]) -> np.ndarray:
    """Answers (positive direction, before reversed writing) of ``len(eta)`` respondents."""
    loadings = np.array([i.loading for i in items])
    taus = np.array([i.thresholds for i in items])
    z = eta[:, None] * loadings[None, :] + rng.standard_normal((len(eta), len(items)))
    lows = np.array([i.low for i in items])
    return lows[None, :] + (z[:, :, None] > taus[None, :, :]).sum(axis=2)


def cronbach_alpha(items: np.ndarray) -> float:
    """Cronbach's alpha of a respondents x items matrix without missing values."""
    k = items.shape[1]
    item_var = items.var(axis=0, ddof=1).sum()
    total_var = items.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - item_var / total_var))


# --- formats -------------------------------------------------------------------------------
def castor_date(d: dt.date) -> str:
    return d.strftime("%d-%m-%Y")


def castor_datetime(t: dt.datetime, seconds: bool = True) -> str:
    return t.strftime("%d-%m-%Y %H:%M:%S" if seconds else "%d-%m-%Y %H:%M")


def qualtrics_datetime(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def castor_checkbox_column(variable: str, label: str) -> str:
    """Castor's column of one checkbox option: ``variable#Label`` with spaces to ``_``,
    punctuation dropped and a label longer than 40 characters cut to 40 with ``0`` appended."""
    text = re.sub(r"[^0-9A-Za-z_ ]", "", label).replace(" ", "_")
    if len(text) > 40:
        text = text[:40] + "0"
    return f"{variable}#{text}"


def add_months(d: dt.date, months: int) -> dt.date:
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31,
            30, 31]
    return dt.date(year, month, min(d.day, days[month - 1]))


def _uuid(rng: np.random.Generator) -> str:
    digits = "".join("0123456789ABCDEF"[int(i)] for i in rng.integers(0, 16, size=32))
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _at(d: dt.date, rng: np.random.Generator, first_hour: int = 8, last_hour: int = 21) -> dt.datetime:
    seconds = int(rng.integers(first_hour * 3600, last_hour * 3600))
    return dt.datetime(d.year, d.month, d.day) + dt.timedelta(seconds=seconds)


def _missing_text(code: int) -> str:
    return f"##USER_MISSING_{abs(code)}##"


def _missing_date(code: int) -> str:
    return f"01-01-{2900 + abs(code)}"


def _cell(value: Any) -> str:
    """A cell as the tools write it: integers without decimals, missing as empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


# --- defects -------------------------------------------------------------------------------
@dataclass
class _Row:
    """One data row of an export with the defects planted in it (row numbers come later)."""

    key: tuple
    cells: dict[str, str]
    marks: list[dict[str, Any]] = field(default_factory=list)

    def mark(self, kind: str, column: str, detail: str, record: str | None = None) -> None:
        self.marks.append({"kind": kind, "column": column, "detail": detail, "record": record,
                           "value": self.cells.get(column, "")})


def _finish(rows: list[_Row], columns: Sequence[str], file: str, header_lines: int,
            id_column: str) -> tuple[pd.DataFrame, list[dict]]:
    """Sort rows, number them as lines of the file and return the table and its defect list."""
    rows = sorted(rows, key=lambda r: r.key)
    defects = []
    for i, row in enumerate(rows):
        for mark in row.marks:
            value = row.cells.get(mark["column"], mark["value"])
            defects.append(
                {
                    "file": file,
                    "kind": mark["kind"],
                    "row": header_lines + i + 1,
                    "column": mark["column"],
                    "record": mark["record"] if mark["record"] is not None else row.cells.get(id_column, ""),
                    "detail": mark["detail"],
                    "value": value,
                }
            )
    table = pd.DataFrame([[row.cells.get(c, "") for c in columns] for row in rows], columns=list(columns), dtype=object)
    return table, defects


def _frame(rows: list[list[str]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


# --- the study's own files -----------------------------------------------------------------
def _raw(book: Codebook, name: str, wave: str = "T0") -> str:
    raw = book.item(name).raw_name(wave)
    if raw is None:
        raise ValueError(f"codebook {book.source}: item {name!r} is not asked in wave {wave}")
    return raw


MEETING_HOURS = {"on_site": 2.5, "online": 2.0}  # length of one meeting (synthetic; the schedule's decimal number)


def schedule_table(study: StudyDesign, book: Codebook) -> pd.DataFrame:
    """The training schedule as the study keeps it (raw names and labels from the codebook)."""
    mode_labels = {str(code): str(label) for label, code in book.item("mode").recode.items()}
    g = study.groups
    canonical = {
        "region": g["region"].tolist(),
        "mode": [mode_labels[m] for m in g["mode"]],
        "first_meeting": [castor_date(d) for d in g["first_meeting"]],
        "last_meeting": [castor_date(d) for d in g["last_meeting"]],
        "meetings_delivered": g["meetings_delivered"].astype(int).tolist(),
        "meeting_hours": [MEETING_HOURS[m] for m in g["mode"]],
        "n_enrolled": g["n_enrolled"].astype(int).tolist(),
    }
    table = pd.DataFrame({book.id_column: g["training_group"].tolist()})
    for item in book.items:
        table[_raw(book, item.name)] = canonical[item.name]
    return table


def invitations_table(study: StudyDesign, book: Codebook) -> pd.DataFrame:
    """The invitation list: one row per invited supervisor, identifiers included."""
    s = study.supervisors
    canonical = {
        "training_group": s["training_group"].tolist(),
        "name": (s["first_name"] + " " + s["last_name"]).tolist(),
        "email": s["email"].tolist(),
        "organisation": s["organisation"].tolist(),
        "invited_on": [castor_date(d) for d in s["invited_on"]],
    }
    table = pd.DataFrame({book.id_column: s["castor_id"].tolist()})
    for item in book.items:
        table[_raw(book, item.name)] = canonical[item.name]
    return table.sort_values(book.id_column, kind="stable").reset_index(drop=True)


# --- Castor study export -------------------------------------------------------------------
SITE_ABBREVIATIONS = {"01": "RIV", "02": "HDP", "03": "FOV"}
TEST_SITE = "TES"
PARTICIPANT_STATUS = "Open"
STUDY_PHASE = "Nulmeting"
STUDY_STEPS = (
    ("Deelnemer", ("age", "sex", "years_supervisor", "job_title")),
    ("Organisatie", ("org_size", "sector", "sheltered_workplace", "n_employees_guided", "disability_types")),
    ("Training", ("training_group", "consent_date")),
)
JOB_TITLES = (
    "Teamleider groenvoorziening", "Leidinggevende productie", "Werkbegeleider", "Afdelingshoofd",
    "Teamleider logistiek", "Ploegleider", "Praktijkbegeleider", "Bedrijfsleider", "Coördinator schoonmaak",
    "Manager bedrijfsvoering", "Chef de partie", "Teamcoach",
)
VARIABLE_LIST_COLUMNS = (
    "Phase name", "Step name", "Step number", "Field number", "Field type", "Variable name", "Field label",
    "Optiongroup name", "Field required", "Field min", "Field max", "Field units", "Field info",
    "Calculation/summary template", "Field hidden", "Dependency parent name", "Field dependency operator",
    "Field dependency value",
)
UNNAMED_FIELD = re.compile(r"^(\d+)\.(\d+)\|(.+)$")


def _castor_field_type(item: Item) -> str:
    if item.type == "checkbox":
        return "checkbox"
    if item.type == "date":
        return "date"
    if item.type == "free_text":
        return "textarea"
    if item.type in ("text", "reference", "identifier"):
        return "string"
    if item.labels:
        return "radio" if len(item.labels) <= 3 else "dropdown"
    return "numeric"


def _study_layout(book: Codebook) -> list[tuple[int, int, str, Item]]:
    """(step number, field number, step name, item) of every study field; checks unnamed headers."""
    placed = {name: (s + 1, f + 1, step) for s, (step, names) in enumerate(STUDY_STEPS) for f, name in enumerate(names)}
    last = len(STUDY_STEPS)
    extra = 0
    layout = []
    for item in book.items:
        if item.name in placed:
            step_no, field_no, step = placed[item.name]
        else:
            extra += 1
            step_no, field_no, step = last, len(STUDY_STEPS[-1][1]) + extra, STUDY_STEPS[-1][0]
        match = UNNAMED_FIELD.match(str(item.raw))
        if match and (int(match.group(1)), int(match.group(2))) != (step_no, field_no):
            raise ValueError(
                f"codebook {book.source}: the unnamed field {item.raw!r} must sit at "
                f"{step_no}.{field_no} of the study form"
            )
        layout.append((step_no, field_no, step, item))
    return layout


def _study_columns(book: Codebook) -> list[str]:
    columns = ["Participant Id", "Participant Status", "Site Abbreviation", "Participant Creation Date"]
    for item in book.items:
        if item.type == "checkbox":
            columns += [castor_checkbox_column(str(item.raw), str(label)) for label in item.options.values()]
        else:
            columns.append(str(item.raw))
    return columns + [""]  # Castor's Excel sheets end with an empty unnamed column


def study_export(study: StudyDesign, book: Codebook,
                 rng: np.random.Generator) -> tuple[dict[str, pd.DataFrame], list[dict]]:
    """The Castor study export's sheets (all cells text) and the defects planted in them."""
    sup = study.supervisors
    columns = _study_columns(book)
    raw = {item.name: str(item.raw) for item in book.items}
    disability = book.item("disability_types")
    option_columns = {code: castor_checkbox_column(raw["disability_types"], str(label))
                      for code, label in disability.options.items()}
    rows: list[_Row] = []
    completers = np.flatnonzero(sup["completed_T0"].to_numpy())
    plants = {int(i): kind for i, kind in zip(rng.choice(completers, size=4, replace=False),
                                              ("age", "n_guided", "job", "date"))}
    for i, s in enumerate(sup.itertuples(index=False)):
        created = _at(s.invited_on, rng, 8, 18)
        cells = {
            "Participant Id": s.castor_id,
            "Participant Status": PARTICIPANT_STATUS,
            "Site Abbreviation": SITE_ABBREVIATIONS[s.castor_id[:2]],
            "Participant Creation Date": castor_datetime(created),
            raw["training_group"]: s.training_group,
        }
        row = _Row((s.castor_id,), cells)
        if s.completed_T0:
            cells.update(
                {
                    raw["age"]: _cell(s.age),
                    raw["sex"]: _cell(s.sex),
                    raw["years_supervisor"]: _cell(s.years_supervisor),
                    raw["job_title"]: JOB_TITLES[int(rng.integers(len(JOB_TITLES)))],
                    raw["org_size"]: _cell(s.org_size),
                    raw["sector"]: _cell(s.sector),
                    raw["sheltered_workplace"]: _cell(s.sheltered_workplace),
                    raw["n_employees_guided"]: _cell(s.n_employees_guided),
                    raw["consent_date"]: castor_date(s.invited_on + dt.timedelta(days=int(rng.integers(1, 10)))),
                }
            )
            for code, column in option_columns.items():
                cells[column] = "1" if int(code) in s.disability_types else "0"
            kind = plants.get(i)
            if kind == "age":
                cells[raw["age"]] = "-98"
                row.mark("user_missing_numeric", raw["age"],
                         "user-missing code -98 (asked but unknown) in a numeric field")
            elif kind == "n_guided":
                cells[raw["n_employees_guided"]] = "-99"
                row.mark("user_missing_numeric", raw["n_employees_guided"],
                         "user-missing code -99 (not done) in a numeric field")
            elif kind == "job":
                cells[raw["job_title"]] = _missing_text(-98)
                row.mark("user_missing_text", raw["job_title"], "user-missing code -98 written as text")
            elif kind == "date":
                cells[raw["consent_date"]] = _missing_date(-97)
                row.mark("user_missing_date", raw["consent_date"],
                         "user-missing code -97 (not asked) written as a date")
        rows.append(row)
    first = min(study.groups["first_meeting"])
    for t in range(1, N_TEST_PARTICIPANTS + 1):
        tid = f"{TEST_SITE}{t:03d}"
        cells = {
            "Participant Id": tid,
            "Participant Status": PARTICIPANT_STATUS,
            "Site Abbreviation": TEST_SITE,
            "Participant Creation Date": castor_datetime(_at(first - dt.timedelta(days=30 + t), rng)),
            raw["age"]: _cell(int(rng.integers(20, 70))),
            raw["sex"]: "1",
            raw["job_title"]: "test",
            raw["training_group"]: study.groups["training_group"].iloc[0],
        }
        row = _Row((tid,), cells)
        row.mark("test_participant", "Site Abbreviation", "Castor test participant at site TES: exclude")
        rows.append(row)
    results, defects = _finish(rows, columns, STUDY_EXPORT_FILE, 1, "Participant Id")
    for column in columns:
        if "#" in column and column.endswith("0") and len(column.split("#", 1)[1]) == 41:
            defects.append(_header_defect("checkbox_truncated_header", column,
                                          "checkbox option label cut to 40 characters with '0' appended"))
        elif UNNAMED_FIELD.match(column):
            defects.append(_header_defect("unnamed_field_header", column,
                                          "field without a variable name: header 'step.field|Field label'"))
    defects.append(_header_defect("empty_trailing_column", "", "the sheet ends with an empty unnamed column"))
    return {
        "Study results": results,
        "Study variable list": _variable_list(book),
        "Field options": _field_options(book),
    }, defects


def _header_defect(kind: str, column: str, detail: str) -> dict[str, Any]:
    return {"file": STUDY_EXPORT_FILE, "kind": kind, "row": 1, "column": column, "record": "", "detail": detail,
            "value": column}


def _variable_list(book: Codebook) -> pd.DataFrame:
    rows = []
    for step_no, field_no, step, item in _study_layout(book):
        match = UNNAMED_FIELD.match(str(item.raw))
        variable, label = (None, match.group(3)) if match else (str(item.raw), item.description)
        kind = _castor_field_type(item)
        low, high = item.range if (item.range and kind == "numeric") else (None, None)
        group = str(item.raw) if (item.labels or item.options) else None
        rows.append(
            [STUDY_PHASE, step, str(step_no), str(field_no), kind, variable, label, group, "1",
             _cell(low), _cell(high), None, None, None, "0", None, None, None]
        )
    return _frame(rows, VARIABLE_LIST_COLUMNS)


def _field_options(book: Codebook) -> pd.DataFrame:
    rows = []
    for item in book.items:
        options = item.options or item.labels
        for code, label in options.items():
            rows.append([str(item.raw), str(label), _cell(code)])
    return _frame(rows, ("Option group name", "Option name", "Option value"))


# --- Castor survey exports -----------------------------------------------------------------
SURVEY_META = (
    "Survey Instance Id", "Castor Participant ID", "Survey Creation Date", "Survey Sent Date", "Survey Progress",
    "Survey Completed On", "Survey Parent", "Survey Package Name", "Survey Package Id",
)
REMARKS = (
    "Goede training, veel geleerd.",
    "Fijne trainers; de voorbeelden uit de praktijk hielpen het meest.",
    "Meer tijd voor oefenen zou goed zijn.",
    'De "rollenspellen" vond ik lastig maar nuttig.',
    "Online was minder prettig dan op locatie.",
    "Weinig tijd gehad door drukte op het werk; volgende keer beter.",
    "Ik merk dat ik sneller het gesprek aanga.",
    "Geen opmerkingen",
    "Graag een terugkomdag.",
    "Sommige vragen waren lastig te beantwoorden, omdat het per werknemer verschilt.",
)
REMARK_SHARE = 0.15


def _survey_sent(group: Any, wave: str) -> dt.date:
    """T0 a week before the first meeting, T1 at the last, T2 and T3 3 and 6 months after it
    (study.md's assumption), every added wave another 3 months later."""
    k = wave_number(wave)
    if k == 0:
        return group.first_meeting - dt.timedelta(days=7)
    return add_months(group.last_meeting, 3 * (k - 1))


def _select_completers(rng: np.random.Generator, eligible: np.ndarray, n: int, logit: np.ndarray) -> np.ndarray:
    """Exactly ``n`` of the eligible, drawn without replacement with odds ``exp(logit)``."""
    keys = np.where(eligible, logit + rng.gumbel(size=len(logit)), -np.inf)
    if n > eligible.sum():
        raise ValueError("more completers requested than eligible supervisors")
    chosen = np.zeros(len(logit), dtype=bool)
    chosen[np.argsort(-keys, kind="stable")[:n]] = True
    return chosen


def ratings_with_mean_sd(
    rng: np.random.Generator, n: int, support: Sequence[int], mean: float, sd: float, *, decimals: int = 1,
    max_steps: int = 100_000
) -> np.ndarray:
    """``n`` values from ``support`` whose mean and SD (n-1) round to ``mean`` and ``sd``.

    Like :func:`~mentorwijs.simulate.design.values_with_mean_sd`, but a value may jump to any
    point of the support, which a skewed rating item near its ceiling needs (mean 4.7 with SD
    0.9 on 1..5 takes a few 1s among many 5s). Starts from rounded normal draws.
    """
    support_arr = np.asarray(sorted(support), dtype=float)
    values = np.clip(np.round(rng.normal(mean, sd, size=n)), support_arr[0], support_arr[-1])
    target = np.round([mean, sd], decimals)

    def loss(v: np.ndarray) -> float:
        return abs(v.mean() - mean) + abs(v.std(ddof=1) - sd)

    def ok(v: np.ndarray) -> bool:
        realised = np.array([v.mean(), v.std(ddof=1)])
        scaled = realised * 10**decimals
        clear = np.all(np.abs(scaled - np.floor(scaled) - 0.5) > 1e-6)  # no value on a rounding boundary
        return bool(clear and np.all(np.round(realised, decimals) == target))

    current = loss(values)
    for _ in range(max_steps):
        if ok(values):
            return values.astype(int)
        i = int(rng.integers(n))
        old = values[i]
        values[i] = support_arr[int(rng.integers(len(support_arr)))]
        new = loss(values)
        if new <= current:
            current = new
        else:
            values[i] = old
    raise RuntimeError(f"could not reach mean {mean} and SD {sd} with {n} values")


def _rating_values(rng: np.random.Generator, n: int, support: Sequence[int], mean: float, sd: float,
                   exact: bool) -> np.ndarray:
    """``n`` ratings whose mean and SD round to the published ones (approximately at other scales,
    where a small ``n`` may make the published rounding unreachable)."""
    if n < 2:
        return np.clip(np.round(np.full(n, mean)), min(support), max(support)).astype(int)
    try:
        return ratings_with_mean_sd(rng, n, support, mean, sd, max_steps=100_000 if exact else 5_000)
    except RuntimeError:
        if exact:
            raise
        return np.clip(np.round(rng.normal(mean, sd, size=n)), min(support), max(support)).astype(int)


def _assign_by_rank(values: np.ndarray, latent: np.ndarray, rng: np.random.Generator, noise: float = 0.8) -> np.ndarray:
    """Hand the values to respondents in the order of a noisy latent trait (keeps mean and SD)."""
    order = np.argsort(latent + rng.normal(0, noise, size=len(latent)), kind="stable")
    out = np.empty(len(values), dtype=float)
    out[order] = np.sort(values)
    return out


@dataclass
class _SurveyState:
    """Answers of every supervisor at one wave, as written (object) and as cleaned (float)."""

    wave: str
    written: pd.DataFrame  # canonical columns, every supervisor (index = position)
    completed: np.ndarray  # bool per supervisor
    clean: pd.DataFrame  # numeric canonical columns of completers after correct cleaning
    marks: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)  # position -> (kind, item, detail)


def _construct_frame(rng: np.random.Generator, eta: np.ndarray,
                     params: dict[str, list[ItemParameters]]) -> pd.DataFrame:
    """Written construct answers (reverse-worded items reversed) for the latent levels ``eta``."""
    columns = {}
    for c, construct in enumerate(CONSTRUCTS):
        answers = item_answers(rng, eta[:, c], params[construct])
        for j, item in enumerate(params[construct]):
            a = answers[:, j]
            columns[item.name] = (item.low + item.high - a) if item.reverse else a
    return pd.DataFrame(columns).astype(float)


def _scale_scores(clean: pd.DataFrame, book: Codebook, wave: str) -> pd.DataFrame:
    """Scale scores as the study defines them: mean of the answered items after reverse coding,
    missing with fewer than ``min_items`` answered."""
    scores = {}
    for name, scale in book.scales.items():
        items = book.scale_items(name, wave)
        block = pd.DataFrame({i.name: (i.range[0] + i.range[1] - clean[i.name]) if i.reverse else clean[i.name]
                              for i in items})
        score = block.mean(axis=1)
        scores[name] = score.where(block.notna().sum(axis=1) >= scale.min_items)
    return pd.DataFrame(scores)


def supervisor_surveys(
    study: StudyDesign,
    book: Codebook,
    rng: np.random.Generator,
    waves: Sequence[str],
    model: LatentModel = MODEL,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any], dict[str, Any], list[dict]]:
    """Every wave's Castor survey export, the truth about the supervisors and the process
    evaluation, and the planted defects."""
    sup = study.supervisors.reset_index(drop=True)
    n = len(sup)
    exact = study.scale == 1
    params = draw_item_parameters(rng, book, model)
    groups = sorted(sup["training_group"].unique())
    group_of = sup["training_group"].map({g: i for i, g in enumerate(groups)}).to_numpy()
    corr = (np.full((len(CONSTRUCTS), len(CONSTRUCTS)), model.corr_constructs)
            + np.eye(len(CONSTRUCTS)) * (1 - model.corr_constructs))
    u = rng.standard_normal((n, len(CONSTRUCTS))) @ np.linalg.cholesky(corr).T * model.sd_supervisor
    g = rng.normal(0, model.sd_group, size=(len(groups), len(CONSTRUCTS)))[group_of]
    by_group = study.groups.set_index("training_group")
    # one random stream per wave (for its answers and for its rows), so that adding a wave
    # leaves the files of the earlier waves byte for byte as they were
    base = [w for w in waves if w in BASE_WAVES]
    streams = dict(zip(base, rng.spawn(len(base))))
    streams.update(zip([w for w in waves if w not in BASE_WAVES], rng.spawn(len(waves) - len(base))))
    answer_rng, row_rng = {}, {}
    for w in waves:
        answer_rng[w], row_rng[w] = streams[w].spawn(2)

    states: dict[str, _SurveyState] = {}
    completed_prev = sup["completed_T0"].to_numpy().astype(bool)
    t0_completers = completed_prev.copy()
    last_score = np.full(n, np.nan)
    for w, wave in enumerate(waves):
        rng = answer_rng[wave]
        means = np.array([model.mean(c, wave) for c in CONSTRUCTS])
        eta = means[None, :] + u + g + rng.normal(0, model.sd_occasion, size=(n, len(CONSTRUCTS)))
        written = _construct_frame(rng, eta, params).astype(object)
        if w == 0:
            completed = t0_completers
        else:
            target = _wave_count(study, wave, states[waves[w - 1]].completed.sum())
            eligible = t0_completers if wave in BASE_WAVES else states[waves[w - 1]].completed
            logit = (model.attrition_continue * completed_prev
                     + model.attrition_score * (np.nan_to_num(last_score, nan=3.5) - 3.5))
            completed = _select_completers(rng, eligible, target, logit)
        marks = _other_items(rng, book, wave, written, completed, exact)
        state = _SurveyState(wave, written, completed, pd.DataFrame(), marks)
        _plant_answer_defects(rng, book, state)
        state.clean = _clean(book, state)
        states[wave] = state
        scores = _scale_scores(state.clean, book, wave)
        observed = scores[model.attrition_construct].reindex(range(n)).to_numpy()
        last_score = np.where(completed, np.where(np.isnan(observed), last_score, observed), last_score)
        completed_prev = completed

    exports: dict[str, pd.DataFrame] = {}
    defects: list[dict] = []
    for wave in waves:
        package_id = _uuid(row_rng[wave])
        table, found = _survey_rows(row_rng[wave], book, states[wave], sup, by_group, package_id, params)
        exports[wave] = table
        defects += found
    truth = _supervisor_truth(book, states, params, model, sup)
    return exports, truth, _process_truth(states, study.groups), defects


def _wave_count(study: StudyDesign, wave: str, previous: int) -> int:
    key = f"completed_{wave}"
    if key in study.counts:
        return int(study.counts[key])
    return int(round(ADDED_WAVE_RETENTION * previous))


def _other_items(
    rng: np.random.Generator, book: Codebook, wave: str, written: pd.DataFrame, completed: np.ndarray, exact: bool
) -> dict[int, list[tuple[str, str, str]]]:
    """Dose received, satisfaction, context, extra time and remarks; published values for the completers.

    Returns the defects planted on the way (position -> (kind, item, detail)): the T1 completer
    without an answer on meetings attended, and one spoiled extra-hours answer at T2 and T3.
    """
    n = len(written)
    marks: dict[int, list[tuple[str, str, str]]] = {}
    names = {item.name for item in book.items_in_wave(wave)}
    done = np.flatnonzero(completed)
    rest = np.flatnonzero(~completed)
    if "meetings_attended" in names:
        answered = len(done) - MEETINGS_UNANSWERED
        values = exact_categorical(rng, scaled_counts(MEETINGS_ATTENDED, answered)).astype(float)
        column = np.full(n, np.nan)
        order = rng.permutation(done)
        column[order[:answered]] = values
        column[order[answered:]] = -98.0
        for position in order[answered:]:
            marks.setdefault(int(position), []).append(
                ("user_missing_numeric", "meetings_attended",
                 "user-missing code -98 (asked but unknown): no answer on meetings attended")
            )
        column[rest] = rng.choice([3, 4, 5], size=len(rest), p=[0.2, 0.3, 0.5])
        written["meetings_attended"] = column
    satisfaction = [name for name in SATISFACTION if name in names]
    if satisfaction:
        latent = rng.normal(size=len(done))
        for name in satisfaction:
            mean, sd = SATISFACTION[name]
            column = np.full(n, np.nan)
            column[done] = _assign_by_rank(_rating_values(rng, len(done), range(1, 6), mean, sd, exact), latent, rng)
            column[rest] = rng.choice([3, 4, 5], size=len(rest), p=[0.2, 0.4, 0.4])
            written[name] = column
    for name, probabilities in CONTEXT.items():
        if name in names:
            written[name] = rng.choice([1, 2, 3, 4, 5], size=n, p=probabilities).astype(float)
    if "extra_time" in names:
        if wave in EXTRA_TIME_YES:
            yes = int(round(EXTRA_TIME_YES[wave] * len(done) / N_COMPLETED[wave]))  # exact at scale 1
        else:
            yes = int(rng.binomial(len(done), EXTRA_TIME_SHARE_ADDED))
        answer = np.zeros(n)
        chosen = rng.permutation(done)[:yes]
        answer[chosen] = 1
        answer[rest] = rng.random(len(rest)) < 0.3
        hours = np.full(n, np.nan)
        # one yes answer per published wave after T1 carries a defect: its hours do not count
        spoiled = {"T2": "user_missing", "T3": "out_of_range"}.get(wave)
        valid = chosen[1:] if (spoiled and yes > 1) else chosen
        if wave in EXTRA_HOURS:
            hours[valid] = _rating_values(rng, len(valid), range(1, 41), *EXTRA_HOURS[wave], exact)
        else:
            hours[valid] = np.clip(np.round(rng.gamma(1.6, 3.0, size=len(valid))), 1, 40)
        if spoiled and yes > 1:
            hours[chosen[0]] = -98.0 if spoiled == "user_missing" else 99.0
            mark = (
                ("user_missing_numeric", "extra_hours", "user-missing code -98 for the extra hours")
                if spoiled == "user_missing"
                else ("out_of_range", "extra_hours", "99 hours a week: outside the valid range")
            )
            marks.setdefault(int(chosen[0]), []).append(mark)
        started = rest[answer[rest] == 1]
        hours[started] = np.clip(np.round(rng.gamma(1.6, 3.0, size=len(started))), 1, 40)
        written["extra_time"] = answer
        written["extra_hours"] = hours
    if "remark" in names:
        texts = np.array([REMARKS[int(i)] for i in rng.integers(len(REMARKS), size=n)], dtype=object)
        texts[rng.random(n) >= REMARK_SHARE] = None
        written["remark"] = texts
    return marks


def _construct_columns(book: Codebook, wave: str) -> list[str]:
    return [i.name for construct in CONSTRUCTS for i in book.scale_items(construct, wave)]


def _plant_answer_defects(rng: np.random.Generator, book: Codebook, state: _SurveyState) -> None:
    """Out-of-range answers and user-missing codes in completed surveys (the cleaning sets them missing)."""
    written, wave = state.written, state.wave
    done = [int(i) for i in np.flatnonzero(state.completed)]
    taken = set(state.marks)
    columns = _construct_columns(book, wave)
    items = [columns[k % len(columns)] for k in range(32)]  # the same positions whatever the scale lengths

    def pick() -> int | None:
        free = [i for i in done if i not in taken]
        if not free:
            return None
        position = int(free[int(rng.integers(len(free)))])
        taken.add(position)
        return position

    k = wave_number(wave)
    plans: list[tuple[str, str, Any]] = {
        0: [("out_of_range", items[3], 6), ("out_of_range", items[12], 0), ("user_missing_numeric", items[20], -99)],
        1: [("user_missing_text", items[1], -98), ("out_of_range", "context_time", 0)],
        2: [("out_of_range", items[18], 6), ("user_missing_text", items[27], -95)],
        3: [("user_missing_text", "remark", -98), ("too_few_items", "self_efficacy", 3)],
    }.get(k, [("out_of_range", items[0], 6)])
    for kind, name, value in plans:
        position = pick()
        if position is None:
            continue
        if kind == "too_few_items":
            block = [i.name for i in book.scale_items(name, wave)]
            scale = book.scales[name]
            drop = len(block) - scale.min_items + 1
            for item in block[:drop]:
                written.at[position, item] = np.nan
            state.marks.setdefault(position, []).append(
                (kind, block[0],
                 f"{drop} of the {len(block)} {name} items unanswered: fewer than min_items "
                 f"{scale.min_items}, no score")
            )
            continue
        if kind == "user_missing_text":
            written.at[position, name] = _missing_text(value)
            detail = f"user-missing code {value} written as text"
        elif kind == "user_missing_numeric":
            written.at[position, name] = float(value)
            detail = f"user-missing code {value}"
        else:
            written.at[position, name] = float(value)
            detail = f"answer {value} outside the valid range"
        state.marks.setdefault(position, []).append((kind, name, detail))


def _clean(book: Codebook, state: _SurveyState) -> pd.DataFrame:
    """The completers' answers after correct cleaning (defect cells missing), numeric."""
    numeric = [i.name for i in book.items_in_wave(state.wave)
               if i.type in ("integer", "number") and i.name in state.written]
    clean = state.written.loc[state.completed, numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    for item in book.items_in_wave(state.wave):
        if item.name in clean and item.range is not None:
            low, high = item.range
            clean[item.name] = clean[item.name].where(clean[item.name].between(low, high))
    return clean


def _survey_rows(
    rng: np.random.Generator,
    book: Codebook,
    state: _SurveyState,
    sup: pd.DataFrame,
    by_group: pd.DataFrame,
    package_id: str,
    params: dict[str, list[ItemParameters]],
) -> tuple[pd.DataFrame, list[dict]]:
    wave = state.wave
    file = SURVEY_FILE.format(wave=wave)
    items = book.items_in_wave(wave)
    raw = {i.name: i.raw_name(wave) for i in items}
    package = book.wave_setting(wave, "package")
    if not package:
        raise ValueError(f"codebook {book.source}: no Survey Package Name for wave {wave} (waves.default.package)")
    columns = list(SURVEY_META) + [raw[i.name] for i in items]
    id_col = book.id_column
    sent_to = np.ones(len(sup), dtype=bool) if wave == "T0" else sup["completed_T0"].to_numpy().astype(bool)
    free = [int(i) for i in np.flatnonzero(state.completed) if int(i) not in state.marks]  # keep defects apart
    duplicated = None
    if wave in ("T1", "T2") and free:
        duplicated = free.pop(int(rng.integers(len(free))))
    semicolon = None
    if wave in ("T0", "T1") and free:
        semicolon = free.pop(int(rng.integers(len(free))))
        state.written.at[semicolon, "remark"] = "Leerzaam; wel veel informatie in korte tijd."
    rows: list[_Row] = []

    def meta(castor_id: str, sent: dt.datetime, progress: int, completed_on: dt.datetime | None) -> dict[str, str]:
        return {
            "Survey Instance Id": _uuid(rng),
            id_col: castor_id,
            "Survey Creation Date": castor_datetime(sent - dt.timedelta(minutes=int(rng.integers(1, 600)))),
            "Survey Sent Date": castor_datetime(sent),
            "Survey Progress": str(progress),
            "Survey Completed On": castor_datetime(completed_on, seconds=False) if completed_on else "",
            "Survey Parent": _uuid(rng),
            "Survey Package Name": package,
            "Survey Package Id": package_id,
        }

    def answers(values: pd.Series, upto: int | None = None) -> dict[str, str]:
        cells = {}
        for k, item in enumerate(items):
            if upto is not None and k >= upto:
                break
            value = values.get(item.name)
            if item.type == "free_text" and isinstance(value, str):
                value = value.replace(";", "-")  # Castor replaces the separator inside text
            cells[raw[item.name]] = _cell(value)
        return cells

    for position in np.flatnonzero(sent_to):
        position = int(position)
        s = sup.iloc[position]
        sent = _at(_survey_sent(by_group.loc[s["training_group"]], wave), rng, 8, 10)
        values = state.written.iloc[position]
        if state.completed[position]:
            completed_on = sent + dt.timedelta(days=int(rng.integers(0, 12)), minutes=int(rng.integers(30, 600)))
            if position == duplicated:
                earlier = completed_on - dt.timedelta(days=int(rng.integers(2, 6)))
                first_sent = sent - dt.timedelta(days=7)
                conflicting = _conflicting_answers(rng, values, params)
                cells = {**meta(s["castor_id"], first_sent, 100, earlier), **answers(conflicting)}
                row = _Row((s["castor_id"], first_sent), cells)
                row.mark("duplicate_superseded", "Survey Completed On",
                         "an earlier complete submission with conflicting answers: keep the latest complete one")
                rows.append(row)
            cells = {**meta(s["castor_id"], sent, 100, completed_on), **answers(values)}
            row = _Row((s["castor_id"], sent), cells)
            for kind, name, detail in state.marks.get(position, []):
                row.mark(kind, raw[name], detail)
            if position == semicolon:
                row.mark("semicolon_replaced", raw["remark"], "a ';' in free text was written as '-' by Castor")
            rows.append(row)
        else:
            started = rng.random() < PARTIAL_SHARE
            upto = int(rng.integers(1, len(items))) if started else 0
            progress = int(100 * upto / len(items))
            cells = {**meta(s["castor_id"], sent, progress, None), **(answers(values, upto) if started else {})}
            row = _Row((s["castor_id"], sent), cells)
            row.mark("partial" if started else "not_started", "Survey Progress",
                     f"survey not completed (progress {progress}): not a completed wave")
            rows.append(row)
    first_group = by_group.iloc[0]
    for t in range(1, N_TEST_PARTICIPANTS + 1):
        tid = f"{TEST_SITE}{t:03d}"
        sent = _at(_survey_sent(first_group, wave) - dt.timedelta(days=30), rng)
        values = pd.Series({i.name: float(rng.integers(int(i.range[0]), int(i.range[1]) + 1))
                            for i in items if i.range is not None})
        progress = 100 if t < N_TEST_PARTICIPANTS else 50
        cells = {**meta(tid, sent, progress, sent + dt.timedelta(minutes=5) if progress == 100 else None),
                 **answers(values)}
        row = _Row((tid, sent), cells)
        row.mark("test_participant", id_col, "Castor test participant (TES): exclude")
        rows.append(row)
    return _finish(rows, columns, file, 1, id_col)


def _conflicting_answers(rng: np.random.Generator, values: pd.Series,
                         params: dict[str, list[ItemParameters]]) -> pd.Series:
    """An earlier submission of the same survey: different construct answers, the yes/no flipped."""
    out = values.copy()
    for construct in CONSTRUCTS:
        for item in params[construct]:
            if item.name in out:
                out[item.name] = float(rng.integers(item.low, item.high + 1))
    for name in ("meetings_attended", *SATISFACTION):
        if name in out:
            out[name] = float(rng.integers(1, 4))
    if "extra_time" in out:
        flipped = 0.0 if out["extra_time"] == 1 else 1.0
        out["extra_time"] = flipped
        out["extra_hours"] = float(rng.integers(20, 41)) if flipped == 1 else np.nan
    return out


def _supervisor_truth(
    book: Codebook, states: dict[str, _SurveyState], params: dict[str, list[ItemParameters]], model: LatentModel,
    sup: pd.DataFrame
) -> dict[str, Any]:
    waves = list(states)
    population = {c: {w: population_scale_mean(model, params[c], c, w) for w in waves} for c in CONSTRUCTS}
    change = {c: {w: population[c][w] - population[c][waves[0]] for w in waves[1:]} for c in CONSTRUCTS}
    sample: dict[str, dict[str, Any]] = {c: {} for c in CONSTRUCTS}
    reliability: dict[str, dict[str, Any]] = {c: {} for c in CONSTRUCTS}
    for wave, state in states.items():
        scores = _scale_scores(state.clean, book, wave)
        for c in CONSTRUCTS:
            s = scores[c].dropna()
            sample[c][wave] = {"mean": float(s.mean()), "sd": float(s.std(ddof=1)), "n": int(len(s))}
            items = book.scale_items(c, wave)
            block = state.clean[[i.name for i in items]].dropna()
            recoded = block.copy()
            for i in items:
                if i.reverse:
                    recoded[i.name] = i.range[0] + i.range[1] - recoded[i.name]
            reliability[c][wave] = {
                "alpha": cronbach_alpha(recoded.to_numpy()),
                "alpha_without_reverse_coding": cronbach_alpha(block.to_numpy()),
                "n": int(len(block)),
            }
    completed = {w: sorted(sup.loc[s.completed, "castor_id"].tolist()) for w, s in states.items()}
    patterns: dict[str, int] = {}
    for position in np.flatnonzero(states[waves[0]].completed):
        key = "".join("1" if states[w].completed[position] else "0" for w in waves)
        patterns[key] = patterns.get(key, 0) + 1
    items = {
        c: [{"name": i.name, "loading": i.loading, "thresholds": list(i.thresholds), "reverse": i.reverse}
            for i in params[c]]
        for c in CONSTRUCTS
    }
    return {
        "model": {**model.parameters(), "items": items},
        "population_means": population,
        "population_change_from_T0": change,
        "population_method": (
            "exact: the mean over items of low + sum_k Phi((loading * m - tau_k) / sqrt(loading^2 * V + 1)), "
            "m the latent mean of the construct at the wave, V the latent variance (supervisor, group, occasion)"
        ),
        "sample_means": sample,
        "reliability": reliability,
        "completed": completed,
        "response_patterns": dict(sorted(patterns.items())),
    }


def _process_truth(states: dict[str, _SurveyState], groups: pd.DataFrame) -> dict[str, Any]:
    """The process evaluation's figures as realised after correct cleaning."""
    out: dict[str, Any] = {
        "dose_delivered": {
            "on_site": int((groups["mode"] == "on_site").sum()),
            "online": int((groups["mode"] == "online").sum()),
        }
    }
    t1 = states["T1"].clean
    attended = t1["meetings_attended"].dropna()
    out["meetings_attended"] = {"n": int(len(attended)),
                                "counts": {str(k): int((attended == k).sum()) for k in (5, 4, 3, 2, 1)}}
    out["satisfaction"] = {
        name: {"mean": float(t1[name].mean()), "sd": float(t1[name].std(ddof=1)), "n": int(t1[name].notna().sum())}
        for name in SATISFACTION
    }
    out["context"] = {name: {"mean": float(t1[name].mean()), "n": int(t1[name].notna().sum())} for name in CONTEXT}
    out["extra_time"] = {}
    for wave, state in states.items():
        if "extra_time" not in state.clean:
            continue
        c = state.clean
        hours = c.loc[c["extra_time"] == 1, "extra_hours"].dropna()
        out["extra_time"][wave] = {
            "yes": int((c["extra_time"] == 1).sum()),
            "n": int(c["extra_time"].notna().sum()),
            "hours_mean": float(hours.mean()) if len(hours) else None,
            "hours_sd": float(hours.std(ddof=1)) if len(hours) > 1 else None,
            "hours_n": int(len(hours)),
        }
    return out


# --- Qualtrics -----------------------------------------------------------------------------
QUALTRICS_META = (  # (name, question text in the survey's language, import id)
    ("StartDate", "Begindatum", "startDate"),
    ("EndDate", "Einddatum", "endDate"),
    ("Status", "Type antwoord", "status"),
    ("IPAddress", "IP-adres", "ipAddress"),
    ("Progress", "Voortgang", "progress"),
    ("Duration (in seconds)", "Duur (in seconden)", "duration"),
    ("Finished", "Voltooid", "finished"),
    ("RecordedDate", "Opgenomen datum", "recordedDate"),
    ("ResponseId", "Antwoord-ID", "_recordId"),
    ("RecipientLastName", "Achternaam ontvanger", "recipientLastName"),
    ("RecipientFirstName", "Voornaam ontvanger", "recipientFirstName"),
    ("RecipientEmail", "E-mailadres ontvanger", "recipientEmail"),
    ("ExternalReference", "Externe gegevensreferentie", "externalDataReference"),
    ("LocationLatitude", "Breedtegraad locatie", "locationLatitude"),
    ("LocationLongitude", "Lengtegraad locatie", "locationLongitude"),
    ("DistributionChannel", "Distributiekanaal", "distributionChannel"),
    ("UserLanguage", "Gebruikerstaal", "userLanguage"),
)
REGION_LOCATION = {"Rivierenland": (51.88, 5.43), "Helmond-De Peel": (51.48, 5.66), "Foodvalley": (52.03, 5.60)}
IP_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")  # documentation address ranges: never real
EMPLOYEE_REMARKS = (
    "Ik werk hier graag.",
    "Mijn leidinggevende neemt de tijd voor me.",
    "Soms is het werk te zwaar, vooral in de zomer.",
    "Fijne collega's, maar het rooster verandert vaak.",
    'Ik wil graag "meer" verantwoordelijkheid.',
    "Geen",
)


def _response_id(rng: np.random.Generator) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "R_" + "".join(alphabet[int(i)] for i in rng.integers(len(alphabet), size=15))


def _qualtrics_headers(book: Codebook, wave: str) -> tuple[list[str], list[list[str]], list[Item]]:
    items = book.items_in_wave(wave)
    names = [m[0] for m in QUALTRICS_META]
    if book.id_column not in names:
        raise ValueError(f"codebook {book.source}: a Qualtrics id column must be a metadata column, "
                         f"got {book.id_column!r}")
    texts = [m[1] for m in QUALTRICS_META]
    imports = [f'{{"ImportId":"{m[2]}"}}' for m in QUALTRICS_META]
    for k, item in enumerate(items, start=1):
        names.append(item.raw_name(wave))
        texts.append(item.description or item.name)
        suffix = "_TEXT" if item.type in ("free_text", "identifier", "reference") else ""
        imports.append(f'{{"ImportId":"QID{k}{suffix}"}}')
    return names, [names, texts, imports], items


def _qualtrics_meta(
    rng: np.random.Generator, start: dt.datetime, *, status: int, finished: bool, progress: int,
    person: Mapping[str, str] | None, region: str,
) -> dict[str, str]:
    duration = int(rng.integers(240, 1500)) if finished else int(rng.integers(20, 400))
    end = start + dt.timedelta(seconds=duration)
    recorded = end if finished else end + dt.timedelta(days=7)  # unfinished responses are closed after a week
    lat, lon = REGION_LOCATION[region]
    person = person or {}
    return {
        "StartDate": qualtrics_datetime(start),
        "EndDate": qualtrics_datetime(end if finished else recorded),
        "Status": str(status),
        "IPAddress": IP_PREFIXES[int(rng.integers(len(IP_PREFIXES)))] + str(int(rng.integers(1, 255))),
        "Progress": str(progress),
        "Duration (in seconds)": str(duration if finished else int((recorded - start).total_seconds())),
        "Finished": "1" if finished else "0",
        "RecordedDate": qualtrics_datetime(recorded),
        "ResponseId": _response_id(rng),
        "RecipientLastName": person.get("last", ""),
        "RecipientFirstName": person.get("first", ""),
        "RecipientEmail": person.get("email", ""),
        "ExternalReference": person.get("ref", ""),
        "LocationLatitude": f"{lat + rng.normal(0, 0.05):.10f}",
        "LocationLongitude": f"{lon + rng.normal(0, 0.05):.10f}",
        "DistributionChannel": person.get("channel", "email"),
        "UserLanguage": "NL",
    }


def employee_questionnaires(
    study: StudyDesign, book: Codebook, rng: np.random.Generator
) -> tuple[pd.DataFrame, list[list[str]], pd.DataFrame, list[list[str]], dict[str, Any], list[dict]]:
    """The employees' main questionnaire and follow-up (Qualtrics), their truth and defects."""
    emp = study.employees.reset_index(drop=True)
    sup = study.supervisors.set_index("castor_id")
    groups = study.groups.set_index("training_group")
    columns, headers, items = _qualtrics_headers(book, EMPLOYEE_WAVE)
    raw = {i.name: i.raw_name(EMPLOYEE_WAVE) for i in items}
    order = [i.name for i in items]
    n = len(emp)
    remarks = [EMPLOYEE_REMARKS[int(i)] if rng.random() < 0.2 else None
               for i in rng.integers(len(EMPLOYEE_REMARKS), size=n)]
    consenting = np.flatnonzero(emp["consent"].to_numpy())
    stripped = int(rng.choice(consenting))
    others = [i for i in range(n) if i != stripped]
    duplicate, resumed = (int(i) for i in rng.choice(others, size=2, replace=False))
    rows: list[_Row] = []

    def answers(e: Any, remark: str | None, *, supervisor_ref: str | None = None, upto: int | None = None,
                **override: Any) -> dict[str, str]:
        consent = bool(override.get("consent", e.consent))
        values = {
            "consent": int(consent),
            "bsn": e.bsn if consent else None,
            "first_name": e.first_name if consent else None,
            "last_name": e.last_name if consent else None,
            "birth_date": castor_date(e.birth_date) if consent else None,
            "postcode": e.postcode if consent else None,
            "email": e.email if consent else None,
            "supervisor_ref": supervisor_ref or e.supervisor,
            "occupation": override.get("occupation", e.occupation),
            "disability": ",".join(str(d) for d in override.get("disability", e.disability)),
            "work_ability": override.get("work_ability", e.work_ability),
            "demands_physical": e.demands_physical,
            "demands_mental": e.demands_mental,
            "job_satisfaction": override.get("job_satisfaction", e.job_satisfaction),
            "remark": remark,
        }
        cells = {}
        for k, name in enumerate(order):
            if upto is not None and k >= upto:
                break
            cells[raw[name]] = _cell(values[name])
        return cells

    def start_between(e: Any) -> dt.datetime:
        g = groups.loc[e.training_group]
        span = max(1, (g["last_meeting"] - g["first_meeting"]).days - 4)
        return _at(g["first_meeting"] + dt.timedelta(days=2 + int(rng.integers(span))), rng)

    def person(e: Any) -> dict[str, str]:
        return {"first": e.first_name, "last": e.last_name, "email": e.email, "ref": e.study_number}

    for i, e in enumerate(emp.itertuples(index=False)):
        region = sup.loc[e.supervisor, "region"]
        start = start_between(e)
        ref = e.supervisor[1:] if i == stripped else None
        cells = {**_qualtrics_meta(rng, start, status=0, finished=True, progress=100, person=person(e), region=region),
                 **answers(e, remarks[i], supervisor_ref=ref)}
        row = _Row((cells["RecordedDate"], cells["ResponseId"]), cells)
        if i == stripped:
            row.mark("id_leading_zero_stripped", raw["supervisor_ref"],
                     f"the supervisor's Castor id {e.supervisor} lost its leading zero")
        rows.append(row)
        if i == duplicate:  # an earlier finished response with other answers: the latest one counts
            earlier = start - dt.timedelta(days=int(rng.integers(2, 5)))
            other = {
                "occupation": 1 + (int(e.occupation) % 6),
                "work_ability": 1 + (int(e.work_ability) % 5),
                "job_satisfaction": 1 + (int(e.job_satisfaction) % 5),
                "disability": (5,) if 5 not in e.disability else (1,),
            }
            cells = {**_qualtrics_meta(rng, earlier, status=0, finished=True, progress=100, person=person(e),
                                       region=region),
                     **answers(e, None, **other)}
            row = _Row((cells["RecordedDate"], cells["ResponseId"]), cells)
            row.mark("duplicate_superseded", "RecordedDate",
                     "an earlier finished response of the same person with other answers: keep the latest")
            rows.append(row)
        if i == resumed:  # started once, abandoned, answered completely later
            earlier = start - dt.timedelta(days=int(rng.integers(8, 12)))
            upto = int(rng.integers(2, len(order) // 2))
            cells = {**_qualtrics_meta(rng, earlier, status=0, finished=False, progress=int(100 * upto / len(order)),
                                       person=person(e), region=region),
                     **answers(e, None, upto=upto)}
            row = _Row((cells["RecordedDate"], cells["ResponseId"]), cells)
            row.mark("unfinished", "Finished",
                     "an unfinished response (Finished 0) of a person who answered completely later")
            rows.append(row)
    # unfinished responses of people who never completed, with new study numbers
    taken = set(emp["study_number"])
    t0_supervisors = study.supervisors.loc[study.supervisors["completed_T0"], "castor_id"].to_numpy()
    new_bsns = [b for b in fake_bsns(rng, 3 + n) if b not in set(emp["bsn"])][:3]
    for k in range(3):
        number = f"MW{int(rng.integers(1, 100_000)):05d}"
        while number in taken:
            number = f"MW{int(rng.integers(1, 100_000)):05d}"
        taken.add(number)
        fake = emp.iloc[int(rng.integers(n))].copy()  # answers like a real respondent, identity of its own
        fake["study_number"] = number
        fake["first_name"] = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        fake["last_name"] = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        fake["email"] = f"{fake['first_name'].lower()}.{number.lower()}@mail.example.nl"
        fake["bsn"] = new_bsns[k]
        fake["supervisor"] = str(rng.choice(t0_supervisors))
        fake["training_group"] = sup.loc[fake["supervisor"], "training_group"]
        e = next(pd.DataFrame([fake]).itertuples(index=False))
        upto = int(rng.integers(1, len(order) - 2))
        region = sup.loc[e.supervisor, "region"]
        cells = {**_qualtrics_meta(rng, start_between(e), status=0, finished=False,
                                   progress=int(100 * upto / len(order)), person={"ref": number}, region=region),
                 **answers(e, None, upto=upto)}
        row = _Row((cells["RecordedDate"], cells["ResponseId"]), cells)
        row.mark("unfinished", "Finished", "an unfinished response (Finished 0) of someone who never completed")
        rows.append(row)
    # preview, test and spam responses
    first = study.groups.sort_values("first_meeting").iloc[0]
    template = next(emp.head(1).itertuples(index=False))
    test_ref = next(f"MW{k:05d}" for k in range(99_999, 0, -1) if f"MW{k:05d}" not in taken)  # looks real, is not
    for status, channel, ref, kind in ((1, "preview", "", "status_preview"), (2, "test", test_ref, "status_test"),
                                       (8, "spam", "", "status_spam")):
        start = _at(first["first_meeting"] - dt.timedelta(days=int(rng.integers(3, 20))), rng)
        cells = {**_qualtrics_meta(rng, start, status=status, finished=True, progress=100,
                                   person={"ref": ref, "channel": "anonymous" if status == 8 else channel},
                                   region=first["region"]),
                 **answers(template, "test" if status != 8 else "http://example.invalid/win", consent=False,
                           supervisor_ref="000000", occupation=1, work_ability=5, job_satisfaction=5)}
        row = _Row((cells["RecordedDate"], cells["ResponseId"]), cells)
        row.mark(kind, "Status", f"Status {status} ({channel}): not a real response")
        rows.append(row)
    main, defects = _finish(rows, columns, EMPLOYEES_FILE, 3, "ExternalReference")

    # follow-up at T2: perceived change, for part of the consenting employees
    f_columns, f_headers, f_items = _qualtrics_headers(book, FOLLOWUP_WAVE)
    n_follow = min(len(consenting), int(round(N_FOLLOWUP * study.scale)) if study.scale != 1 else N_FOLLOWUP)
    answering = np.sort(rng.choice(consenting, size=n_follow, replace=False))
    f_rows: list[_Row] = []
    f_values: dict[str, list[int]] = {i.name: [] for i in f_items}
    for i in answering:
        e = emp.iloc[int(i)]
        g = groups.loc[e["training_group"]]
        start = _at(add_months(g["last_meeting"], 3) + dt.timedelta(days=int(rng.integers(0, 21))), rng)
        cells = _qualtrics_meta(rng, start, status=0, finished=True, progress=100,
                                person={"first": e["first_name"], "last": e["last_name"], "email": e["email"],
                                        "ref": e["study_number"]},
                                region=sup.loc[e["supervisor"], "region"])
        for item in f_items:
            value = int(rng.choice([1, 2, 3, 4, 5], p=FOLLOWUP_ANSWERS[item.name]))
            f_values[item.name].append(value)
            cells[item.raw_name(FOLLOWUP_WAVE)] = str(value)
        f_rows.append(_Row((cells["RecordedDate"], cells["ResponseId"]), cells))
    rest = [int(i) for i in consenting if int(i) not in set(answering.tolist())]
    if rest:
        e = emp.iloc[rest[int(rng.integers(len(rest)))]]
        g = groups.loc[e["training_group"]]
        cells = _qualtrics_meta(rng, _at(add_months(g["last_meeting"], 3), rng), status=0, finished=False, progress=50,
                                person={"ref": e["study_number"]}, region=sup.loc[e["supervisor"], "region"])
        cells[f_items[0].raw_name(FOLLOWUP_WAVE)] = "3"
        row = _Row((cells["RecordedDate"], cells["ResponseId"]), cells)
        row.mark("unfinished", "Finished", "an unfinished follow-up response (Finished 0)")
        f_rows.append(row)
    start = _at(add_months(first["last_meeting"], 3) - dt.timedelta(days=10), rng)
    cells = _qualtrics_meta(rng, start, status=1, finished=True, progress=100, person={"channel": "preview"},
                            region=first["region"])
    for item in f_items:
        cells[item.raw_name(FOLLOWUP_WAVE)] = "5"
    row = _Row((cells["RecordedDate"], cells["ResponseId"]), cells)
    row.mark("status_preview", "Status", "Status 1 (preview): not a real response")
    f_rows.append(row)
    followup, f_defects = _finish(f_rows, f_columns, FOLLOWUP_FILE, 3, "ExternalReference")

    truth = _employee_truth(emp, f_values)
    return main, headers, followup, f_headers, truth, defects + f_defects


def _employee_truth(emp: pd.DataFrame, followup: Mapping[str, list[int]]) -> dict[str, Any]:
    n = len(emp)
    demands = emp["demands_physical"] + emp["demands_mental"]
    selections = [d for answer in emp["disability"] for d in answer]
    out = {
        "n": n,
        "occupation": {str(k): int((emp["occupation"] == k).sum()) for k in range(1, 7)},
        "disability": {str(k): int(selections.count(k)) for k in range(1, 6)},
        "work_ability_good_or_excellent": int((emp["work_ability"] >= 4).sum()),
        "work_ability_vs_demands": {"mean": float(demands.mean()), "sd": float(demands.std(ddof=1)), "n": n},
        "satisfied_or_very_satisfied": int((emp["job_satisfaction"] >= 4).sum()),
        "consent": int(emp["consent"].sum()),
        "refused_linkage": int((~emp["consent"].astype(bool)).sum()),
        "followup": {
            name: {"n": len(values), "mean": float(np.mean(values)) if values else None,
                   "counts": {str(k): values.count(k) for k in range(1, 6)}}
            for name, values in followup.items()
        },
    }
    return out


# --- the whole questionnaire side -----------------------------------------------------------
def write_questionnaires(
    study: StudyDesign,
    out: Path,
    rng: np.random.Generator,
    *,
    codebooks: Path,
    add_waves: tuple[str, ...],
    handover_only: bool = False,
) -> dict[str, Any]:
    """Write the questionnaire side of the synthetic study under ``out`` and return its truth.

    ``codebooks`` is the folder holding ``schedule.yaml, invitations.yaml,
    supervisors_study.yaml, supervisors.yaml, employees.yaml``; ``add_waves`` adds supervisor
    survey waves after T3 (``T4``, ...), each completed by a subset of the previous wave's
    completers. Returns the truth fragment with keys ``supervisors, process, employees, flow,
    defects`` (see the module docstring).

    ``handover_only`` writes only the files the trainee hand-over to the register part is made
    from (schedule, invitations, the Castor study export, the employees' main questionnaire),
    the same bytes as a full run (every file has its own random stream); the truth fragment
    then has only ``employees`` and ``defects``.
    """
    out = Path(out)
    books = {name: load_codebook(Path(codebooks) / f"{name}.yaml") for name in CODEBOOKS}
    waves = tuple(BASE_WAVES) + tuple(add_waves)
    rng_study, rng_survey, rng_employees = rng.spawn(3)

    write_dutch_excel_csv(schedule_table(study, books["schedule"]), out / SCHEDULE_FILE)
    write_dutch_excel_csv(invitations_table(study, books["invitations"]), out / INVITATIONS_FILE)

    sheets, defects = study_export(study, books["supervisors_study"], rng_study)
    write_xlsx(sheets, out / STUDY_EXPORT_FILE)

    if handover_only:
        main, headers, _, _, emp_truth, emp_defects = employee_questionnaires(study, books["employees"], rng_employees)
        write_csv(main, out / EMPLOYEES_FILE, header_rows=headers)
        written = {STUDY_EXPORT_FILE, EMPLOYEES_FILE}
        return {"employees": emp_truth, "defects": defects + [d for d in emp_defects if d.get("file") in written]}

    exports, sup_truth, process_truth, survey_defects = supervisor_surveys(
        study, books["supervisors"], rng_survey, waves)
    for wave, table in exports.items():
        write_csv(table, out / SURVEY_FILE.format(wave=wave), sep=";", encoding="utf-8")
    defects += survey_defects

    main, headers, followup, f_headers, emp_truth, emp_defects = employee_questionnaires(
        study, books["employees"], rng_employees)
    write_csv(main, out / EMPLOYEES_FILE, header_rows=headers)
    write_csv(followup, out / FOLLOWUP_FILE, header_rows=f_headers)
    defects += emp_defects

    completed = {w: len(ids) for w, ids in sup_truth["completed"].items()}
    flow = {
        "invited": int(len(study.supervisors)),
        **{f"completed_{w}": n for w, n in completed.items()},
        "employees_completed": emp_truth["n"],
        "employees_consent": emp_truth["consent"],
        "employees_refused_linkage": emp_truth["refused_linkage"],
        "employees_followup": (emp_truth["followup"][next(iter(emp_truth["followup"]))]["n"] if emp_truth["followup"]
                               else 0),
        # completed a wave after missing an earlier one (e.g. missing T1 but back at T2)
        "supervisors_non_monotone": sum(v for k, v in sup_truth["response_patterns"].items() if "01" in k),
    }
    return {
        "supervisors": sup_truth,
        "process": process_truth,
        "employees": emp_truth,
        "flow": {"questionnaires": flow},
        "defects": defects,
    }
