"""The hand-made register fixture: a small raw register study written into a temporary folder.

The files under ``tests/fixtures/register/`` are readable CSV; this module turns them into
the raw extracts config.yaml names (``.sav`` where CBS delivers ``.sav``) and the trainee
hand-over, and returns a configuration pointing at them. ``jobs.csv`` lists regular pay:
a monthly job gives one statement per calendar month from ``first`` to ``last``; a
four-weekly job gives ``last`` periods of 28 days from the date ``first``. The rows of
``payroll_extra.csv`` are added verbatim (corrections, bad rows). See
``tests/fixtures/register/README.md`` for the persons and what is expected of them.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from support.paths import FIXTURES, ROOT
from mentorwijs.config import load_config
from mentorwijs.pseudonymise import DEMO_KEY, pseudonym, pseudonymise
from mentorwijs.simulate.writers import write_csv, write_sav

HERE = FIXTURES / "register"
RAW = "data/raw/fixture/cbs"
PAYROLL_COLUMNS = ["RINPERSOONS", "RINPERSOON", "IKVID", "SBEID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO",
                   "SDATUMAANVANGIKVORG", "SBASISUREN", "SLNINGLD", "SCONTRACTSOORT", "SSOORTBAAN", "SCAOSECTOR",
                   "SIndAvrLkvDgBafSb", "STIJDVAKTYPE"]
FILES = {
    "persons": f"{RAW}/GBAPERSOON2022TABV1.sav",
    "payroll": [f"{RAW}/SPOLISBUS2019V1.csv", f"{RAW}/SPOLISBUS2020V1.csv"],
    "socioeconomic": f"{RAW}/SECMBUS2022V1.sav",
    "education": f"{RAW}/HOOGSTEOPL2021TABV1.csv",
    "residence": f"{RAW}/GBAADRESOBJECT2022BUSV1.csv",
    "addresses": f"{RAW}/VSLGWB2022TAB03V1.csv",
    "municipality_regions": f"{RAW}/gemeente_arbeidsmarktregio.csv",
    "deaths": f"{RAW}/GBAOVERLIJDEN2022TABV1.csv",
    "migration": f"{RAW}/GBAMIGRATIE2022BUSV1.csv",
    "businesses": f"{RAW}/BETAB2022V1.csv",
}
KEY = f"{RAW}/koppeltabel.csv"


def read_fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / name, dtype=str, keep_default_na=False)


def _ymd(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def payroll_rows() -> pd.DataFrame:
    """Every payroll row of the fixture, with the year of the file it belongs to."""
    rows = []
    for job in read_fixture("jobs.csv").to_dict("records"):
        common = {k: job[k] for k in ("RINPERSOONS", "RINPERSOON", "IKVID", "SBEID", "SDATUMAANVANGIKVORG",
                                      "SCONTRACTSOORT", "SSOORTBAAN", "SCAOSECTOR", "SIndAvrLkvDgBafSb")}
        if job["payer"] == "monthly":
            year, month = map(int, job["first"].split("-"))
            last = tuple(map(int, job["last"].split("-")))
            while (year, month) <= last:
                start = dt.date(year, month, 1)
                end = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
                rows.append({**common, "SDATUMAANVANGIKO": _ymd(start), "SDATUMEINDEIKO": _ymd(end),
                             "SBASISUREN": job["hours"], "SLNINGLD": job["wage"], "STIJDVAKTYPE": "5",
                             "file": str(max(year, 2019))})
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        else:  # four-weekly: `last` periods of 28 days from the date `first`
            start = dt.date.fromisoformat(job["first"])
            for _ in range(int(job["last"])):
                end = start + dt.timedelta(days=27)
                rows.append({**common, "SDATUMAANVANGIKO": _ymd(start), "SDATUMEINDEIKO": _ymd(end),
                             "SBASISUREN": job["hours"], "SLNINGLD": job["wage"], "STIJDVAKTYPE": "1",
                             "file": str(max(start.year, 2019))})
                start = end + dt.timedelta(days=1)
    extra = read_fixture("payroll_extra.csv").drop(columns="note")
    return pd.concat([pd.DataFrame(rows), extra], ignore_index=True)


def base_config() -> dict:
    """The shipped configuration with the fixture's files, window and anchors."""
    config = copy.deepcopy(load_config(ROOT / "config.yaml"))
    config["register"]["key"] = {"path": KEY, "study_number": "studienummer"}
    config["register"]["files"] = copy.deepcopy(FILES)
    config["register"]["window"] = {"first": "2019-01", "last": "2020-06"}
    config["anchors"].update(reference_month=-3, covariate_window_months=3, marker_window_months=6,
                             panel_first_month=-6, followup_months=6, job_gap_months=1)
    config["matching"].update(k=3, caliper_sd=100.0, common_support="none")
    return config


def write_register_fixture(root: Path, *, key: bytes = DEMO_KEY, payroll: pd.DataFrame | None = None,
                           persons: pd.DataFrame | None = None) -> dict:
    """Write the raw fixture study and the trainee hand-over under ``root``; return its config."""
    root = Path(root)
    cbs = root / RAW
    cbs.mkdir(parents=True, exist_ok=True)
    payroll = payroll_rows() if payroll is None else payroll
    for year in ("2019", "2020"):
        part = payroll[payroll["file"] == year][PAYROLL_COLUMNS]
        write_csv(part, root / f"{RAW}/SPOLISBUS{year}V1.csv")
    persons = read_fixture("persons.csv") if persons is None else persons
    write_sav(persons, root / FILES["persons"])
    secm = read_fixture("secm.csv")
    for column in ("SECM", "XKOPPELWERKNEMERSECM", "XKOPPELBIJSTANDSECM", "XKOPPELZIEKTEAOSECM",
                   "XKOPPELWERKLUITKSECM"):
        secm[column] = secm[column].astype(float)
    write_sav(secm, root / FILES["socioeconomic"], missing_ranges={"SECM": [99]})
    for name, target in (("education.csv", "education"), ("residence.csv", "residence"), ("addresses.csv", "addresses"),
                         ("municipality_regions.csv", "municipality_regions"), ("deaths.csv", "deaths"),
                         ("migration.csv", "migration"), ("businesses.csv", "businesses")):
        write_csv(read_fixture(name), root / FILES[target])
    write_csv(read_fixture("key.csv"), root / KEY)
    trainees = read_fixture("trainees.csv")
    trainees.insert(0, "person", pseudonymise(trainees.pop("study_number"), key, "study").astype(str))
    for column in ("first_meeting", "last_meeting"):
        trainees[column] = pd.to_datetime(trainees[column]).dt.date
    for column in ("sup_n_employees_guided", "sup_sector", "sup_org_size", "sup_sheltered_workplace"):
        trainees[column] = trainees[column].astype(int)
    (root / "data" / "processed").mkdir(parents=True, exist_ok=True)
    trainees.to_parquet(root / "data" / "processed" / "trainees.parquet", index=False)
    return base_config()


# --------------------------------------------------------------------------------------
# shared pytest fixtures and helpers


def person_of(number: str, key: bytes = DEMO_KEY) -> str:
    """``person`` of register person ``R<number>`` (nine digits)."""
    return pseudonym(f"R{int(number):09d}", key, "rin")


def trainee_of(study_number: str, key: bytes = DEMO_KEY) -> str:
    return pseudonym(study_number, key, "study")


def unit_of(person: str, cohort: str) -> str:
    return f"{person}:{cohort}"


@pytest.fixture(scope="session")
def register_run(tmp_path_factory):
    """The whole register part run once on the fixture: (root folder, config)."""
    from mentorwijs.register.steps import run_register

    root = tmp_path_factory.mktemp("register_fixture")
    config = write_register_fixture(root)
    run_register(config, root=root)
    return root, config


@pytest.fixture(scope="session")
def all_units_panel(register_run):
    """Panel and survival of every candidate unit (weight 1), to check outcomes person by person."""
    from mentorwijs.register.candidates import Anchors, EligibilityRule
    from mentorwijs.register.panel import matched_panel_and_survival
    from mentorwijs.register.steps import PATHS, window_of

    root, config = register_run
    read = lambda name: pd.read_parquet(root / PATHS[name])  # noqa: E731
    units = read("candidates").assign(weight=1.0, pscore=0.5)
    panel, survival = matched_panel_and_survival(
        units, pd.read_parquet(root / "data/processed/trainees.parquet"), read("persons"), read("person_months"),
        read("employer_months"), read("migrations"), window=window_of(config["register"]["window"]),
        anchors=Anchors.from_config(config["anchors"]), rule=EligibilityRule.from_config(config["candidates"]))
    return panel, survival


def write_config_file(root: Path, config: dict) -> Path:
    """``config.yaml`` (and its schema beside it) under ``root``, for the command line."""
    schema = root / "workflow" / "schemas" / "config.schema.json"
    schema.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "workflow" / "schemas" / "config.schema.json", schema)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def run_steps(config: dict, root: Path, *, until: str) -> None:
    """Run the register steps in order up to and including ``until``."""
    from mentorwijs.register.steps import register_plan

    for step in register_plan(config, root=root):
        step.function(**step.arguments)
        if step.name == until:
            return
    raise ValueError(until)
