"""The synthetic register extracts: CBS's conventions, the planned flow, realism and a known truth.

The references are independent of the generator's own bookkeeping where possible: the raw files
are read back as a user would (text columns, ``YYYYMMDD`` dates, .sav with user-missing codes
kept), pay statements are netted and apportioned to months by a day-by-day reference in this
file, and the truth's effects are recomputed from the potential pay statements.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from mentorwijs.simulate import writers
from mentorwijs.simulate.design import study_design
from mentorwijs.simulate.payroll import FOUR_WEEKLY_GRID
from mentorwijs.simulate.register import (
    DEFAULT_ANCHORS, DEFAULT_EFFECT, DEFAULT_PAIRS, DEFAULT_TARGETS, REGISTER_FILES, simulate_register,
)
from mentorwijs.simulate.register_files import write_arrow_csv, write_tables

ROOT = Path(__file__).resolve().parents[1]
SEED = 20190501
#: about 1,670 pool members per control region: the realism rates have enough job-months (over
#: 50 exits of sheltered jobs, below) and the whole module runs in well under a minute
POOL_SCALE = 0.45
YEARS = range(2017, 2023)
PAYROLL = [f"cbs/SPOLISBUS{y}V1.csv" for y in YEARS]


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def design():
    return study_design(np.random.default_rng(SEED), scale=1)


@pytest.fixture(scope="module")
def sim(design):
    return simulate_register(design, np.random.default_rng(SEED + 2), pool_scale=POOL_SCALE)


@pytest.fixture(scope="module")
def out(sim, tmp_path_factory):
    folder = tmp_path_factory.mktemp("register")
    write_tables(sim.tables, folder)
    return folder


def read_text_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=",", dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def payroll(out):
    parts = [read_text_csv(out / rel).assign(file=rel, line=lambda d: np.arange(len(d)) + 2) for rel in PAYROLL]
    frame = pd.concat(parts, ignore_index=True)
    frame["hours"] = frame["SBASISUREN"].astype(float)
    frame["wage"] = frame["SLNINGLD"].astype(float)
    frame["start"] = pd.to_datetime(frame["SDATUMAANVANGIKO"], format="%Y%m%d")
    frame["end"] = pd.to_datetime(frame["SDATUMEINDEIKO"], format="%Y%m%d")
    return frame


@pytest.fixture(scope="module")
def key(out):
    return read_text_csv(out / "cbs/koppeltabel.csv")


def net_statements(payroll: pd.DataFrame) -> pd.DataFrame:
    """Corrections netted within person, job and period."""
    cols = ["RINPERSOONS", "RINPERSOON", "IKVID", "SBEID", "start", "end"]
    return payroll.groupby(cols, as_index=False)["hours"].sum()


def apportion_by_day(statements: pd.DataFrame, person: list[str]) -> pd.Series:
    """Reference apportioning: every statement's hours spread evenly over its days, summed per
    person and calendar month (a straightforward day-by-day expansion)."""
    days = (statements["end"] - statements["start"]).dt.days.to_numpy() + 1
    idx = np.repeat(np.arange(len(statements)), days)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(days) - days, days)
    day = statements["start"].to_numpy()[idx] + offset.astype("timedelta64[D]")
    frame = pd.DataFrame({c: statements[c].to_numpy()[idx] for c in person})
    frame["month"] = pd.PeriodIndex(day, freq="M")
    frame["hours"] = statements["hours"].to_numpy()[idx] / days[idx]
    return frame.groupby(person + ["month"])["hours"].sum()


def config() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


# --- defaults and files ------------------------------------------------------------------------
def test_defaults_are_the_config_values():
    cfg = config()
    assert DEFAULT_TARGETS == cfg["synthetic"]["targets"]
    assert DEFAULT_EFFECT == cfg["synthetic"]["effect"]
    assert DEFAULT_PAIRS == cfg["regions"]["pairs"]
    assert DEFAULT_ANCHORS == cfg["anchors"]


def expected_files() -> set[str]:
    cfg = config()
    base = cfg["synthetic"]["out"].rstrip("/") + "/"
    paths = [cfg["register"]["key"]["path"]]
    for value in cfg["register"]["files"].values():
        paths += value if isinstance(value, list) else [value]
    assert all(p.startswith(base) for p in paths)
    return {p[len(base):] for p in paths}


def test_writes_exactly_the_files_config_names(out):
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == expected_files()
    flat = {REGISTER_FILES["key"], *REGISTER_FILES["payroll"].values(),
            *(v for k, v in REGISTER_FILES.items() if k not in ("key", "payroll"))}
    assert flat == expected_files()


# --- conventions -------------------------------------------------------------------------------
DATE_COLUMNS = {
    "cbs/GBAADRESOBJECT2022BUSV1.csv": ["GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING"],
    "cbs/GBAOVERLIJDEN2022TABV1.csv": ["GBADatumOverlijden"],
    "cbs/GBAMIGRATIE2022BUSV1.csv": ["GBADATUMVESTIGING"],
    **{rel: ["SDATUMAANVANGIKO", "SDATUMEINDEIKO", "SDATUMAANVANGIKVORG"] for rel in PAYROLL},
}
COLUMNS = {
    "cbs/koppeltabel.csv": ["studienummer", "RINPERSOONS", "RINPERSOON"],
    "cbs/HOOGSTEOPL2021TABV1.csv": ["RINPERSOONS", "RINPERSOON", "OPLNIVSOI2021AGG4HBMETNIRWO"],
    "cbs/GBAADRESOBJECT2022BUSV1.csv": ["RINPERSOONS", "RINPERSOON", "GBADATUMAANVANGADRESHOUDING",
                                        "GBADATUMEINDEADRESHOUDING", "SOORTOBJECTNUMMER", "RINOBJECTNUMMER"],
    "cbs/VSLGWB2022TAB03V1.csv": ["SOORTOBJECTNUMMER", "RINOBJECTNUMMER", *[f"gem{y}" for y in YEARS]],
    "cbs/gemeente_arbeidsmarktregio.csv": ["jaar", "gemeente", "gemeentenaam", "arbeidsmarktregio"],
    "cbs/GBAOVERLIJDEN2022TABV1.csv": ["RINPERSOONS", "RINPERSOON", "GBADatumOverlijden"],
    "cbs/GBAMIGRATIE2022BUSV1.csv": ["RINPERSOONS", "RINPERSOON", "GBADATUMVESTIGING", "GBAVESTIGINGSTYPE"],
    "cbs/BETAB2022V1.csv": ["SBEID", "JAAR", "SBI2008", "GKSBS"],
    **{rel: ["RINPERSOONS", "RINPERSOON", "IKVID", "SBEID", "SDATUMAANVANGIKO", "SDATUMEINDEIKO", "SDATUMAANVANGIKVORG",
             "SBASISUREN", "SLNINGLD", "SCONTRACTSOORT", "SSOORTBAAN", "SCAOSECTOR", "SIndAvrLkvDgBafSb",
             "STIJDVAKTYPE"] for rel in PAYROLL},
}


def test_csv_files_read_as_text_with_the_documented_columns_and_dates(out):
    for rel, columns in COLUMNS.items():
        raw = (out / rel).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw, rel
        frame = read_text_csv(out / rel)
        assert list(frame.columns) == columns, rel
        assert len(frame) > 0, rel
        for column in DATE_COLUMNS.get(rel, []):
            assert frame[column].str.fullmatch(r"\d{8}").all(), (rel, column)
            assert pd.to_datetime(frame[column], format="%Y%m%d", errors="coerce").notna().all(), (rel, column)
        if "RINPERSOON" in frame:
            assert (frame["RINPERSOON"].str.fullmatch(r"\d{9}").all()
                    and frame["RINPERSOONS"].str.fullmatch(r"[A-Z]").all()), rel
    pay = read_text_csv(out / PAYROLL[2])
    assert pay["SBEID"].str.fullmatch(r"E\d{9}").all()
    assert set(pay["SCONTRACTSOORT"]) <= set("BONbon") and set(pay["STIJDVAKTYPE"]) == {"1", "5"}
    assert set(pay["SSOORTBAAN"]) <= {"3", "4", "5", "9"} and set(pay["SIndAvrLkvDgBafSb"]) == {"0", "1"}
    assert pay["SCAOSECTOR"].isin(["1000", "2000", "3100", "3300", "3400", "3600"]).all()
    assert pay["SBASISUREN"].str.fullmatch(r"-?\d+\.\d\d").all() and pay["SLNINGLD"].str.fullmatch(r"-?\d+\.\d\d").all()
    education = read_text_csv(out / "cbs/HOOGSTEOPL2021TABV1.csv")["OPLNIVSOI2021AGG4HBMETNIRWO"]
    assert education.str.fullmatch(r"\d{4}|----").all() and (education == "----").any()
    assert set(read_text_csv(out / "cbs/GBAMIGRATIE2022BUSV1.csv")["GBAVESTIGINGSTYPE"]) == {"E", "I"}
    betab = read_text_csv(out / "cbs/BETAB2022V1.csv")
    assert betab["SBI2008"].str.fullmatch(r"\d{5}").all() and not betab.duplicated(["SBEID", "JAAR"]).any()


def test_sav_files_keep_text_and_user_missing_codes(out):
    persons, meta = pyreadstat.read_sav(str(out / "cbs/GBAPERSOON2022TABV1.sav"), user_missing=True)
    assert list(persons.columns) == ["RINPERSOONS", "RINPERSOON", "GBAGESLACHT", "GBAGEBOORTEJAAR", "GBAGEBOORTEMAAND",
                                     "GBAHERKOMSTGROEPERING", "GBAGENERATIE"]
    assert all(persons[c].map(type).eq(str).all() for c in persons.columns)
    assert set(persons["RINPERSOONS"]) == {"R"} and persons["RINPERSOON"].is_unique
    assert set(persons["GBAGESLACHT"]) <= {"1", "2", "-"} and set(persons["GBAGENERATIE"]) <= {"0", "1", "2", "-"}
    assert persons["GBAGEBOORTEJAAR"].str.fullmatch(r"19\d\d|20\d\d|----").all()
    assert (persons["GBAGEBOORTEMAAND"].str.fullmatch(r"0[1-9]|1[0-2]|--").all()
            and (persons["GBAGEBOORTEMAAND"] == "--").any())
    assert {"lo": "--", "hi": "--"} in meta.missing_ranges["GBAGEBOORTEMAAND"]
    secm, _ = pyreadstat.read_sav(str(out / "cbs/SECMBUS2022V1.sav"), user_missing=True)
    assert list(secm.columns) == ["RINPERSOONS", "RINPERSOON", "AANVSECM", "EINDSECM", "SECM", "XKOPPELWERKNEMERSECM",
                                  "XKOPPELBIJSTANDSECM", "XKOPPELZIEKTEAOSECM", "XKOPPELWERKLUITKSECM"]
    for column in ("AANVSECM", "EINDSECM"):
        assert secm[column].str.fullmatch(r"\d{8}").all()
    assert (secm["AANVSECM"] <= secm["EINDSECM"]).all()
    assert set(secm["SECM"]) == {"11", "21", "22", "24", "25", "31", "32"}
    for flag in ("XKOPPELWERKNEMERSECM", "XKOPPELBIJSTANDSECM", "XKOPPELZIEKTEAOSECM", "XKOPPELWERKLUITKSECM"):
        assert set(secm[flag]) == {"0", "1"}
    # spells of a person do not overlap
    s = secm.assign(a=secm["AANVSECM"].astype(int), e=secm["EINDSECM"].astype(int)).sort_values(["RINPERSOON", "a"])
    same = s["RINPERSOON"].to_numpy()[1:] == s["RINPERSOON"].to_numpy()[:-1]
    assert (s["a"].to_numpy()[1:][same] > s["e"].to_numpy()[:-1][same]).all()


# --- the flow of trainees ----------------------------------------------------------------------
def reference_month(design, study_numbers) -> pd.Series:
    groups = design.groups.set_index("training_group")
    emp = design.employees.set_index("study_number").loc[study_numbers]
    last = groups.loc[emp["training_group"], "last_meeting"].to_numpy()
    return pd.Series([pd.Period(d, "M") - 3 for d in last], index=study_numbers)


def test_key_holds_found_and_not_found_trainees_as_planned(design, key, out, payroll):
    emp = design.employees.set_index("study_number")
    status = emp["register_status"]
    assert len(key) == 83 and key["studienummer"].is_unique
    keyed = key.set_index("studienummer")
    assert set(keyed.index) == set(status.index[status.isin(["found", "not_found_rin"])])
    assert (keyed.loc[status.index[status == "found"], "RINPERSOONS"] == "R").all()
    non_r = keyed.loc[status.index[status == "not_found_rin"]]
    assert len(non_r) == 5 and non_r["RINPERSOONS"].isin(["S", "A"]).all()
    assert (status == "not_found_absent").sum() == 3
    persons, _ = pyreadstat.read_sav(str(out / "cbs/GBAPERSOON2022TABV1.sav"), user_missing=True)
    persons = persons.set_index("RINPERSOON")
    found = keyed.loc[status.index[status == "found"]]
    assert found["RINPERSOON"].isin(persons.index).all()
    # sex and birth year/month as the trainee answered them
    birth = emp.loc[found.index, "birth_date"]
    assert (persons.loc[found["RINPERSOON"], "GBAGESLACHT"].to_numpy()
            == emp.loc[found.index, "sex"].astype(str).to_numpy()).all()
    assert (persons.loc[found["RINPERSOON"], "GBAGEBOORTEJAAR"].to_numpy() == [f"{d.year}" for d in birth]).all()
    assert (persons.loc[found["RINPERSOON"], "GBAGEBOORTEMAAND"].to_numpy() == [f"{d.month:02d}" for d in birth]).all()
    # people not found under R have payroll only under their own letter
    assert not payroll.merge(non_r.assign(RINPERSOONS="R"), on=["RINPERSOONS", "RINPERSOON"]).shape[0]
    assert payroll.merge(non_r, on=["RINPERSOONS", "RINPERSOON"]).shape[0] > 0


def test_exactly_the_planned_four_have_no_paid_hours_in_their_reference_month(design, key, payroll):
    found = key[key["RINPERSOONS"] == "R"].set_index("RINPERSOON")["studienummer"]
    pay = net_statements(payroll[payroll["RINPERSOON"].isin(found.index) & (payroll["RINPERSOONS"] == "R")])
    monthly = apportion_by_day(pay, ["RINPERSOON"])
    ref = reference_month(design, list(found))
    hours = np.array([monthly.get((rin, ref[sn]), 0.0) for rin, sn in found.items()])
    no_work = set(found.to_numpy()[hours < 1])
    planned = set(design.employees.loc[~design.employees["paid_work_at_baseline"], "study_number"])
    assert len(no_work) == 4 and no_work == planned
    assert (hours[hours >= 1] >= 1).sum() == 74


# --- realism -----------------------------------------------------------------------------------
def test_realism_targets_are_met(sim, design):
    realism = sim.truth["realism"]
    # jobs and job-months counted over the whole pool: binomial standard errors are far below these bounds
    assert abs(realism["four_weekly_share"]["achieved"] - DEFAULT_TARGETS["four_weekly_share"]) < 0.04
    assert abs(realism["jobs_per_person_month"]["achieved"] - DEFAULT_TARGETS["jobs_per_person_month"]) < 0.03
    exits = realism["monthly_job_exit"]
    for kind, tolerance in (("temporary", 0.2), ("permanent", 0.2), ("sheltered", 0.35)):
        target = DEFAULT_TARGETS["monthly_job_exit"][kind]
        events = exits[kind]["rate"] * exits[kind]["job_months"]
        assert events > 50, kind  # enough events for a relative tolerance of 20-35 % (Poisson SE < 14 %)
        assert abs(exits[kind]["rate"] / target - 1) < tolerance, (kind, exits[kind]["rate"])
    assert 1.3 < exits["covid_shock"]["realised_ratio"] < 2.3
    by_month = exits["agriculture_by_calendar_month"]
    assert max(by_month["11"], by_month["1"]) > 1.5 * min(by_month["4"], by_month["5"])  # winter exits, spring hires
    # agriculture and landscaping are the trainees' occupation 1 (41 % of all employees by the design)
    agri = realism["agriculture_share"]
    emp = design.employees
    eligible = emp[(emp["register_status"] == "found") & emp["paid_work_at_baseline"]]
    assert agri["achieved"] == pytest.approx((eligible["occupation"] == 1).mean())
    assert realism["target_group_markers"]["share_with_marker_24m_among_pool_working_2019_12"] > 0.6
    assert 0.3 < realism["education_known_share"] < 0.6


def test_four_weekly_share_and_jobs_per_month_from_the_raw_payroll(payroll):
    r = payroll[payroll["RINPERSOONS"] == "R"]
    jobs = r.drop_duplicates(["RINPERSOON", "SBEID"])
    assert abs((jobs["STIJDVAKTYPE"] == "1").mean() - DEFAULT_TARGETS["four_weekly_share"]) < 0.05
    net = net_statements(r)
    net = net[net["hours"] > 0]
    per_job = apportion_by_day(net, ["RINPERSOON", "SBEID"])
    per_job = per_job[(per_job.index.get_level_values("month") >= pd.Period("2017-01", "M"))
                      & (per_job.index.get_level_values("month") <= pd.Period("2022-12", "M"))]
    total = per_job.groupby(level=["RINPERSOON", "month"]).sum()
    count = per_job[per_job > 0].groupby(level=["RINPERSOON", "month"]).size()
    employed = total[total >= 1].index
    assert abs(count.reindex(employed).mean() - DEFAULT_TARGETS["jobs_per_person_month"]) < 0.04


def test_four_weekly_periods_are_28_days_on_one_grid_and_monthly_periods_stay_in_their_month(payroll):
    grid = pd.Timestamp(FOUR_WEEKLY_GRID)
    four = payroll[payroll["STIJDVAKTYPE"] == "1"]
    first = (four["start"] - grid).dt.days // 28
    last = (four["end"] - grid).dt.days // 28
    assert (first == last).all()
    full = (four["end"] - four["start"]).dt.days + 1
    assert full.max() == 28 and (full == 28).mean() > 0.9
    # a four-weekly job held all of 2019 is paid for 13 periods starting in 2019
    held = four[four["hours"] >= 0].groupby(["RINPERSOON", "IKVID"])
    periods_2019 = four[four["start"].dt.year == 2019].groupby(["RINPERSOON", "IKVID"])["start"].nunique()
    whole_year = held["start"].min().le(pd.Timestamp("2018-12-31")) & held["end"].max().ge(pd.Timestamp("2020-01-01"))
    assert (periods_2019.reindex(whole_year.index[whole_year]) == 13).all()
    monthly = payroll[payroll["STIJDVAKTYPE"] == "5"]
    assert (monthly["start"].dt.to_period("M") == monthly["end"].dt.to_period("M")).all()


# --- defects -----------------------------------------------------------------------------------
def test_corrections_net_to_the_true_statements(sim, payroll):
    cols = ["RINPERSOONS", "RINPERSOON", "IKVID", "start", "end"]
    negative = payroll[payroll["hours"] < 0]
    assert len(negative) > 20
    groups = payroll.merge(negative[cols].drop_duplicates(), on=cols)
    sizes = groups.groupby(cols).size()
    assert (sizes == 3).all()
    net = groups.groupby(cols)["hours"].sum()
    assert (net >= 0).all()
    # the netted hours equal the generator's clean statements
    internal = sim.internals["files"].payroll.columns
    st = sim.internals["statements"]
    clean = pd.DataFrame({"row": st.row, "job": st.job, "start_day": st.start, "clean": st.hours})
    written = pd.DataFrame({"row": internal["row"], "job": internal["job"], "start_day": internal["start"],
                            "RINPERSOON": [f"{v:09d}" for v in internal["rin"]],
                            "IKVID": internal["ikvid"].astype(str), "seq": internal["seq"]})
    written = written[written["seq"] == 0].merge(clean, on=["row", "job", "start_day"])
    written["start"] = pd.to_datetime(written["start_day"], unit="D")
    check = net.reset_index().merge(written, on=["RINPERSOON", "IKVID", "start"])
    assert len(check) == len(net)
    assert np.allclose(check["hours"], check["clean"], atol=1e-9)


def test_planted_defects_are_listed_and_found_where_the_truth_says(sim, out, payroll):
    defects = sim.truth["defects"]
    kinds = {d["kind"] for d in defects}
    assert {"non_r_person", "rin_collision", "correction", "renumbered_job", "out_of_window", "straddles_window",
            "lower_case_contract", "death", "emigration", "unknown_value"} <= kinds
    assert all(set(d) == {"file", "kind", "row", "column", "record", "detail"} for d in defects)
    lines = payroll.set_index(["file", "line"]).sort_index()  # sorted: each lookup below is a search, not a scan
    jobs_of = payroll.groupby(["RINPERSOON", "SBEID"])["IKVID"].nunique()  # job ids per person and employer
    window = (pd.Timestamp("2017-01-01"), pd.Timestamp("2022-12-31"))
    for d in defects:
        if d["file"] not in PAYROLL:
            continue
        row = lines.loc[(d["file"], d["row"])]
        letter, rin = d["record"].split()[:2]
        assert (row["RINPERSOONS"], row["RINPERSOON"]) == (letter, rin), d
        if d["kind"] == "non_r_person":
            assert row["RINPERSOONS"] != "R"
        elif d["kind"] == "correction":
            assert row["hours"] < 0
        elif d["kind"] == "out_of_window":
            assert row["end"] < window[0]
        elif d["kind"] == "straddles_window":
            assert row["start"] < window[0] <= row["end"]
        elif d["kind"] == "lower_case_contract":
            assert row["SCONTRACTSOORT"] in ("b", "o", "n")
        elif d["kind"] == "renumbered_job":
            assert jobs_of[(rin, row["SBEID"])] >= 2 and row["SDATUMAANVANGIKVORG"] == row["SDATUMAANVANGIKO"]
    # the persons file has one unknown-value row per listed defect
    persons, _ = pyreadstat.read_sav(str(out / "cbs/GBAPERSOON2022TABV1.sav"), user_missing=True)
    listed = [d for d in defects if d["kind"] == "unknown_value"]
    assert len(listed) == (persons["GBAGEBOORTEMAAND"] == "--").sum()
    collision = [d for d in defects if d["kind"] == "rin_collision"][0]
    assert collision["record"].split()[1] in set(persons["RINPERSOON"])


def test_no_pay_after_death_or_emigration(out, payroll):
    deaths = read_text_csv(out / "cbs/GBAOVERLIJDEN2022TABV1.csv")
    emigrations = read_text_csv(out / "cbs/GBAMIGRATIE2022BUSV1.csv").query("GBAVESTIGINGSTYPE == 'E'")
    for frame, column in ((deaths, "GBADatumOverlijden"), (emigrations, "GBADATUMVESTIGING")):
        assert len(frame) > 0
        left = frame.assign(day=pd.to_datetime(frame[column], format="%Y%m%d"))[["RINPERSOON", "day"]]
        paid = payroll[payroll["RINPERSOONS"] == "R"].merge(left, on="RINPERSOON")
        assert (paid["end"] <= paid["day"]).all()


def test_off_support_trainee_holds_a_job_no_candidate_can_hold(design, key, payroll):
    emp = design.employees.set_index("study_number")
    off = emp.index[emp["off_support"]][0]
    rin = key.set_index("studienummer").loc[off, "RINPERSOON"]
    ref = reference_month(design, [off])[off]
    in_ref = payroll[(payroll["start"].dt.to_period("M") <= ref) & (payroll["end"].dt.to_period("M") >= ref)
                     & (payroll["hours"] > 0)]
    own = in_ref[in_ref["RINPERSOON"] == rin]
    assert ((own["SSOORTBAAN"] == "3") & (own["SCONTRACTSOORT"].str.upper() == "B")).any()
    others = payroll[payroll["RINPERSOON"] != rin]
    assert not ((others["SSOORTBAAN"] == "3") & (others["SCONTRACTSOORT"].str.upper() == "B")).any()
    hourly = in_ref["wage"] / in_ref["hours"]
    assert hourly[in_ref["RINPERSOON"] == rin].max() < 0.5 * hourly[in_ref["RINPERSOON"] != rin].min()


def test_year_specific_municipality_table_reflects_the_mergers(out):
    regions = read_text_csv(out / "cbs/gemeente_arbeidsmarktregio.csv")
    years = regions.groupby("gemeente")["jaar"].agg(set)
    assert years["1960"] == {"2019", "2020", "2021", "2022"} and years["0236"] == {"2017", "2018"}
    assert years["1982"] == {"2022"} and "2022" not in years["0756"]
    addresses = read_text_csv(out / "cbs/VSLGWB2022TAB03V1.csv")
    for year in YEARS:
        assert addresses[f"gem{year}"].isin(regions.loc[regions["jaar"] == str(year), "gemeente"]).all()
    merged = addresses[addresses["gem2018"] == "0236"]
    assert len(merged) and (merged["gem2019"] == "1960").all()
    config_regions = {r for pair in DEFAULT_PAIRS.items() for r in [pair[0], *pair[1]]}
    assert config_regions <= set(regions["arbeidsmarktregio"])


# --- truth -------------------------------------------------------------------------------------
def test_truth_has_every_part(sim):
    truth = sim.truth
    assert {"parameters", "effects", "survival", "subgroups", "realism", "flow", "defects"} <= set(truth)
    for outcome in ("employed_1h", "employed_12h", "employed_3m"):
        for population, n in (("matched", 73), ("eligible", 74)):
            e = truth["effects"][outcome][population]
            assert (e["n"] == n and e["months"] == list(range(-24, 13)) and len(e["att"]) == 37
                    and len(e["expected_att"]) == 37)
    for kind in ("job", "work"):
        s = truth["survival"][kind]["matched"]
        assert len(s["S1"]) == len(s["S0"]) == 13
        assert s["rmst_difference"] == pytest.approx(sum(s["S1"][:12]) - sum(s["S0"][:12]))
        assert "not constant" in s["note"]
    assert {"temporary_contract", "welfare_benefit", "disability_benefit", "sup_small_caseload", "sup_government",
            "sup_sheltered_workplace", "sup_org_size"} <= set(truth["subgroups"])
    flow = truth["flow"]["register"]["trainees"]
    assert (flow["sent_to_cbs"], flow["found"], flow["paid_work_at_baseline"], flow["eligible"],
            flow["matched_planned"]) == (86, 78, 74, 74, 73)
    steps = truth["flow"]["register"]["candidates"]["units_by_step"]
    counts = [steps[k] for k in ("in_register", "living_in_control_region", "age_18_to_pension",
                                 "paid_work_at_baseline", "target_group_marker")]
    assert all(a > b for a, b in zip(counts, counts[1:]))  # every criterion removes some
    assert json.loads(json.dumps(truth)) == truth  # plain JSON


def potential_outcomes(statements, month0: np.ndarray, months: range) -> dict[str, np.ndarray]:
    """Outcomes per trainee and month from potential statements, by the reference apportioning."""
    frame = pd.DataFrame({"row": statements.row, "hours": statements.hours,
                          "start": pd.to_datetime(statements.start, unit="D"),
                          "end": pd.to_datetime(statements.end, unit="D")})
    monthly = apportion_by_day(frame, ["row"])
    n = len(month0)
    rel = np.arange(months.start - 2, months.stop)
    hours = np.zeros((n, len(rel)))
    for i in range(n):
        for j, m in enumerate(rel):
            hours[i, j] = monthly.get((i, month0[i] + int(m)), 0.0)
    weeks = np.array([[(month0[i] + int(m)).days_in_month / 7 for m in rel] for i in range(n)])
    e1 = hours >= 1
    return {
        "employed_1h": e1[:, 2:].astype(int),
        "employed_12h": (hours / weeks >= 12)[:, 2:].astype(int),
        "employed_3m": (e1[:, 2:] & e1[:, 1:-1] & e1[:, :-2]).astype(int),
    }


def test_realised_att_is_the_mean_difference_of_the_two_potential_outcomes(sim):
    tr = sim.trainees
    month0 = np.array([pd.Period(c, "M") for c in tr["cohort"]])
    months = range(-24, 13)
    y0 = potential_outcomes(sim.potential["statements0"], month0, months)
    y1 = potential_outcomes(sim.potential["statements1"], month0, months)
    for population in ("matched", "eligible"):
        members = np.flatnonzero(tr["matched_set" if population == "matched" else "eligible"].to_numpy())
        for outcome in y0:
            att = (y1[outcome][members] - y0[outcome][members]).mean(axis=0)
            truth = sim.truth["effects"][outcome][population]
            assert np.allclose(att, truth["att"], atol=1e-12), (population, outcome)
            assert np.all(att[:25] == 0)  # common random numbers: identical up to month 0
            assert truth["pooled"] == pytest.approx(att[25:].mean())
    # the effect helps: fewer trainees lose their baseline job under training, never more
    job = sim.truth["survival"]["job"]["eligible"]
    assert all(s1 >= s0 for s1, s0 in zip(job["S1"], job["S0"]))
    expected = sim.truth["effects"]["employed_1h"]["matched"]
    assert expected["expected_pooled"] > 0 and max(expected["expected_att"]) > 0.01


def test_written_payroll_is_the_trained_potential_outcome(sim, key, payroll):
    tr = sim.trainees
    found = tr[tr["register_status"] == "found"].reset_index()
    rins = key.set_index("studienummer").loc[found["study_number"], "RINPERSOON"].to_numpy()
    pay = net_statements(payroll[payroll["RINPERSOON"].isin(rins) & (payroll["RINPERSOONS"] == "R")])
    monthly = apportion_by_day(pay, ["RINPERSOON"])
    hours1 = sim.potential["hours1"]
    first = sim.potential["first_relative_month"]
    for _, trainee in found.iterrows():
        m0 = pd.Period(trainee["cohort"], "M")
        observed = [monthly.get((rins[_], m0 + int(m)), 0.0) for m in range(-24, 13)]
        assert np.allclose(observed, hours1[trainee["index"], -24 - first : 13 - first], atol=1e-6)


# --- determinism and the pool scale ---------------------------------------------------------
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from mentorwijs.simulate.design import study_design
    from mentorwijs.simulate.register import write_register
    study = study_design(np.random.default_rng(1), scale=1)
    truth = write_register(study, sys.argv[1], np.random.default_rng(2), pool_scale=float(sys.argv[2]), targets={}, effect={})
    with open(sys.argv[1] + "/truth.json", "w", encoding="utf-8") as handle:
        json.dump(truth, handle, sort_keys=True)
    """  # noqa: E501 (the script's text is the string's value: wrapping it would change the constant)
)


def run_script(folder: Path, pool_scale: float, tz: str, hashseed: str) -> None:
    env = dict(os.environ, TZ=tz, LC_ALL="C", PYTHONHASHSEED=hashseed, PYTHONPATH=str(ROOT / "src"))
    subprocess.run([sys.executable, "-c", SCRIPT, str(folder), str(pool_scale)], check=True, env=env, cwd=folder.parent)


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_pool_run(tmp_path_factory) -> Path:
    """The script's study at pool scale 0.05 (UTC, hash seed 1), read by the two tests below."""
    folder = tmp_path_factory.mktemp("script") / "one"
    run_script(folder, 0.05, "UTC", "1")
    return folder


def test_same_seed_same_bytes_whatever_the_folder_and_time_zone(small_pool_run, tmp_path):
    a, b = small_pool_run, tmp_path / "deeper" / "two"
    b.parent.mkdir()
    run_script(b, 0.05, "Asia/Tokyo", "99")
    assert digests(a) == digests(b)
    assert len(digests(a)) == len(expected_files()) + 1


def test_pool_scale_changes_only_the_pool(small_pool_run, tmp_path):
    small, large = small_pool_run, tmp_path / "large"
    run_script(large, 0.1, "UTC", "0")
    assert (small / "cbs/koppeltabel.csv").read_bytes() == (large / "cbs/koppeltabel.csv").read_bytes()
    key = read_text_csv(small / "cbs/koppeltabel.csv")

    def trainees_records(folder: Path) -> pd.DataFrame:
        pay = pd.concat([read_text_csv(folder / rel) for rel in PAYROLL])
        return pay.merge(key[["RINPERSOONS", "RINPERSOON"]], on=["RINPERSOONS", "RINPERSOON"]).reset_index(drop=True)

    assert trainees_records(small).equals(trainees_records(large))
    persons = [pyreadstat.read_sav(str(f / "cbs/GBAPERSOON2022TABV1.sav"), user_missing=True)[0]
               for f in (small, large)]
    mine = [p[p["RINPERSOON"].isin(key["RINPERSOON"])].reset_index(drop=True) for p in persons]
    assert mine[0].equals(mine[1]) and len(persons[1]) > 1.5 * len(persons[0])
    truths = [json.loads((f / "truth.json").read_text(encoding="utf-8")) for f in (small, large)]
    assert truths[0]["effects"] == truths[1]["effects"] and truths[0]["survival"] == truths[1]["survival"]
    assert (truths[0]["realism"]["pool"]["pool_per_control_region"]
            != truths[1]["realism"]["pool"]["pool_per_control_region"])


def test_arrow_csv_writer_gives_the_project_writer_bytes(sim, tmp_path):
    table = sim.tables.payroll.table(2019).slice(0, 5000)
    write_arrow_csv(table, tmp_path / "fast.csv")
    writers.write_csv(table.to_pandas(), tmp_path / "reference.csv")
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "reference.csv").read_bytes()
    import pyarrow as pa

    with pytest.raises(pa.ArrowInvalid):
        write_arrow_csv(pa.table({"a": ["x,y"]}), tmp_path / "bad.csv")


def test_off_support_trainee_works_for_an_employer_unlike_any_other(design, key, payroll, out):
    emp = design.employees.set_index("study_number")
    rin = key.set_index("studienummer").loc[emp.index[emp["off_support"]][0], "RINPERSOON"]
    betab = read_text_csv(out / "cbs/BETAB2022V1.csv")
    own = set(payroll.loc[(payroll["RINPERSOON"] == rin) & (payroll["SSOORTBAAN"] == "3"), "SBEID"])
    unit = betab[betab["SBEID"].isin(own)]
    assert len(own) == 1 and set(unit["SBI2008"]) == {"35110"} and set(unit["GKSBS"]) == {"00"}
    others = betab[~betab["SBEID"].isin(own)]
    assert not others["SBI2008"].str[:2].isin(["35"]).any() and not (others["GKSBS"] == "00").any()
