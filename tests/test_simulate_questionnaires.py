"""The synthetic questionnaires: published figures, vendor formats, planted defects, reliability.

Every figure is counted from the raw files with plain pandas and the vendors' documented rules
(formats.md), independently of the project's ingest: Castor test participants (site TES)
out, only completed surveys (progress 100), of a duplicate the latest complete submission;
Qualtrics Status 0/4/16 and Finished 1, of a duplicate the latest; user-missing codes and
out-of-range answers (the codebook's range) missing. The expected numbers are study.md's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, shared_file
from mentorwijs.codebook import load_codebook
from mentorwijs.simulate.design import study_design
from mentorwijs.simulate.questionnaires import write_questionnaires

SEED = 20190501
CODEBOOKS = ROOT / "data" / "codebooks"
WAVES = ("T0", "T1", "T2", "T3")
CONSTRUCTS = ("knowledge", "self_efficacy", "intention", "behaviour")
MISSING_TEXT = re.compile(r"^##USER_MISSING_9[5-9]##$")
RUN = """
import sys
from pathlib import Path
import numpy as np
from mentorwijs.simulate.design import study_design
from mentorwijs.simulate.questionnaires import write_questionnaires
seeds = np.random.SeedSequence(int(sys.argv[2])).spawn(3)
study = study_design(np.random.default_rng(seeds[0]), scale=1)
write_questionnaires(study, Path(sys.argv[1]), np.random.default_rng(seeds[1]), codebooks=Path(sys.argv[3]), add_waves=())
"""  # noqa: E501 (the script's text is the string's value: wrapping it would change the constant)


def generate(out: Path, *, seed: int = SEED, scale: float = 1, add_waves: tuple[str, ...] = ()) -> dict:
    """The questionnaire side exactly as ``simulate`` draws it (same seed streams)."""
    seeds = np.random.SeedSequence(seed).spawn(3)
    study = study_design(np.random.default_rng(seeds[0]), scale=scale)
    truth = write_questionnaires(study, out, np.random.default_rng(seeds[1]), codebooks=CODEBOOKS, add_waves=add_waves)
    return json.loads(json.dumps(truth, default=float))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("questionnaires") / "synthetic"
    return out, generate(out)


@pytest.fixture(scope="module")
def books():
    return {name: load_codebook(CODEBOOKS / f"{name}.yaml")
            for name in ("schedule", "invitations", "supervisors_study", "supervisors", "employees")}


# --- independent readers (plain pandas + the vendors' rules) -------------------------------
def read_castor_survey(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def completed_surveys(out: Path, book, waves=WAVES) -> dict[str, pd.DataFrame]:
    """Per wave the completed (progress 100) surveys of real participants, latest submission."""
    package_to_wave = {book.wave_setting(w, "package"): w for w in waves}
    frames = [read_castor_survey(out / f"castor/Mentorwijs_{w}_export.csv") for w in waves]
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[~rows[book.id_column].str.startswith("TES") & (rows["Survey Progress"] == "100")].copy()
    rows["wave"] = rows["Survey Package Name"].map(package_to_wave)
    rows["done"] = pd.to_datetime(rows["Survey Completed On"], format="%d-%m-%Y %H:%M")
    rows = rows.sort_values("done").drop_duplicates([book.id_column, "wave"], keep="last")
    return {w: rows[rows["wave"] == w].set_index(book.id_column).sort_index() for w in waves}


def numeric(frame: pd.DataFrame, item, wave: str) -> pd.Series:
    """An item as a number; user-missing codes (either form) and out-of-range answers missing."""
    values = pd.to_numeric(frame[item.raw_name(wave)], errors="coerce")
    low, high = item.range
    return values.where(values.between(low, high))


def scale_block(frame: pd.DataFrame, book, construct: str, wave: str, *, recode: bool = True) -> pd.DataFrame:
    items = book.scale_items(construct, wave)
    block = pd.DataFrame({i.name: numeric(frame, i, wave) for i in items})
    if recode:
        for i in items:
            if i.reverse:
                block[i.name] = i.range[0] + i.range[1] - block[i.name]
    return block


def alpha(block: pd.DataFrame) -> float:
    x = block.dropna().to_numpy()
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


def read_qualtrics(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, header=0, skiprows=[1, 2], dtype=str, keep_default_na=False)


def real_responses(path: Path) -> pd.DataFrame:
    rows = read_qualtrics(path)
    rows = rows[rows["Status"].isin(["0", "4", "16"]) & (rows["Finished"] == "1")].copy()
    rows["recorded"] = pd.to_datetime(rows["RecordedDate"], format="%Y-%m-%d %H:%M:%S")
    return rows.sort_values("recorded").drop_duplicates("ExternalReference", keep="last").set_index("ExternalReference")


def read_dutch_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", decimal=",", encoding="cp1252", dtype=str, keep_default_na=False)


def pct(count: int, n: int) -> int:
    return int(np.floor(100 * count / n + 0.5))


# --- determinism ---------------------------------------------------------------------------
def test_same_bytes_in_another_folder_time_zone_and_hash_seed(written, tmp_path):
    out, _ = written
    other = tmp_path / "elsewhere" / "synthetic"
    env = {**os.environ, "TZ": "Pacific/Chatham", "PYTHONHASHSEED": "4711", "LC_ALL": "C",
           "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-c", RUN, str(other), str(SEED), str(CODEBOOKS)], check=True, env=env,
                   cwd=tmp_path)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(other).as_posix() for p in other.rglob("*") if p.is_file())
    assert len(files) == 9
    for name in files:
        assert (out / name).read_bytes() == (other / name).read_bytes(), name


# --- the published flow and figures, counted from the raw files ----------------------------
def test_flow_of_supervisors_from_the_raw_files(written, books):
    out, truth = written
    invitations = read_dutch_csv(out / "study/uitnodigingen.csv")
    assert len(invitations) == 164 and invitations[books["invitations"].id_column].is_unique
    study = pd.read_excel(out / "castor/Mentorwijs_export.xlsx", sheet_name="Study results", dtype=str)
    real = study[study["Site Abbreviation"] != "TES"]
    assert len(real) == 164 and set(real["Participant Id"]) == set(invitations[books["invitations"].id_column])
    done = completed_surveys(out, books["supervisors"])
    assert {w: len(done[w]) for w in WAVES} == {"T0": 127, "T1": 95, "T2": 91, "T3": 87}
    assert {w: len(done[w]) for w in WAVES} == {w: truth["flow"]["questionnaires"][f"completed_{w}"] for w in WAVES}
    # drop-out is not monotone: some skip T1 and come back at T2 (or later)
    skipped = set(done["T2"].index) | set(done["T3"].index)
    assert len(skipped - set(done["T1"].index)) >= 2
    assert set(done["T1"].index) <= set(done["T0"].index)


def test_training_schedule_gives_the_published_dose_delivered(written, books):
    out, truth = written
    book = books["schedule"]
    schedule = read_dutch_csv(out / "study/trainingen.csv")
    modes = schedule[book.item("mode").raw_name("T0")].value_counts().to_dict()
    assert modes == {"op locatie": 14, "online": 5}
    assert pct(14, 19) == 74 and pct(5, 19) == 26
    assert pd.to_numeric(schedule[book.item("n_enrolled").raw_name("T0")]).sum() == 164
    assert truth["process"]["dose_delivered"] == {"on_site": 14, "online": 5}


def test_process_evaluation_figures_from_the_raw_files(written, books):
    out, truth = written
    book = books["supervisors"]
    done = completed_surveys(out, book)
    t1 = done["T1"]
    attended = numeric(t1, book.item("meetings_attended"), "T1").dropna()
    counts = {k: int((attended == k).sum()) for k in (5, 4, 3, 2, 1)}
    assert len(attended) == 94 and counts == {5: 69, 4: 17, 3: 7, 2: 0, 1: 1}
    assert [pct(counts[k], 94) for k in (5, 4, 3, 2, 1)] == [73, 18, 7, 0, 1]
    # the 95th completer's answer is a user-missing code, not an empty cell
    unanswered = t1[book.item("meetings_attended").raw_name("T1")][
        numeric(t1, book.item("meetings_attended"), "T1").isna()]
    assert len(unanswered) == 1 and unanswered.iloc[0] in {"-95", "-96", "-97", "-98", "-99"}
    published = {
        "satisfaction_general": (4.4, 0.6), "satisfaction_meetings": (4.4, 0.5), "satisfaction_trainers": (4.7, 0.9),
        "satisfaction_content": (4.4, 0.9), "satisfaction_methods": (4.4, 0.9), "satisfaction_structure": (4.4, 0.9),
    }
    for name, (mean, sd) in published.items():
        values = numeric(t1, book.item(name), "T1").dropna()
        assert len(values) == 95, name
        assert (round(values.mean(), 1), round(values.std(ddof=1), 1)) == (mean, sd), name
    context = {name: numeric(t1, book.item(name), "T1").mean() for name in truth["process"]["context"]}
    lower = ("context_feedback", "context_endorsement")
    assert max(context[c] for c in lower) < min(v for c, v in context.items() if c not in lower)
    assert min(v for c, v in context.items() if c not in lower) > 3.4
    extra = {"T1": (24, 95, 25, 6.6, 8.3), "T2": (28, 91, 31, 5.5, 4.8), "T3": (23, 87, 26, 4.7, 3.9)}
    for wave, (yes, n, percent, mean, sd) in extra.items():
        frame = done[wave]
        answer = numeric(frame, book.item("extra_time"), wave)
        hours = numeric(frame, book.item("extra_hours"), wave)[answer == 1].dropna()
        assert (int((answer == 1).sum()), int(answer.notna().sum())) == (yes, n), wave
        assert pct(yes, n) == percent
        assert (round(hours.mean(), 1), round(hours.std(ddof=1), 1)) == (mean, sd), wave
        realised = truth["process"]["extra_time"][wave]
        assert realised["yes"] == yes and realised["hours_n"] == len(hours)
        assert realised["hours_mean"] == pytest.approx(hours.mean(), abs=1e-6)


def test_employee_figures_from_the_qualtrics_export(written, books):
    out, truth = written
    book = books["employees"]
    raw = {i.name: i.raw_name("T0") for i in book.items_in_wave("T0")}
    rows = real_responses(out / "qualtrics/Mentorwijs_werknemers.csv")
    assert len(rows) == 118
    assert all(re.fullmatch(book.id_pattern, ref) for ref in rows.index)
    consent = rows[raw["consent"]].astype(int)
    assert (int(consent.sum()), int((consent == 0).sum())) == (86, 32)
    occupation = rows[raw["occupation"]].astype(int).value_counts().to_dict()
    assert occupation == {1: 48, 2: 31, 3: 20, 4: 7, 5: 7, 6: 5}
    assert [pct(occupation[k], 118) for k in range(1, 7)] == [41, 26, 17, 6, 6, 4]
    chosen = rows[raw["disability"]].str.split(",").explode().astype(int).value_counts().to_dict()
    assert chosen == {1: 41, 2: 30, 3: 26, 4: 21, 5: 22}
    assert [pct(chosen[k], 118) for k in range(1, 6)] == [35, 25, 22, 18, 19]
    good = int((rows[raw["work_ability"]].astype(int) >= 4).sum())
    satisfied = int((rows[raw["job_satisfaction"]].astype(int) >= 4).sum())
    assert (good, pct(good, 118), satisfied, pct(satisfied, 118)) == (73, 62, 96, 81)
    demands = rows[raw["demands_physical"]].astype(int) + rows[raw["demands_mental"]].astype(int)
    assert (round(demands.mean(), 1), round(demands.std(ddof=1), 1)) == (6.0, 0.9)
    # identifiers only after consent; a refusal leaves them empty
    assert ((rows.loc[consent == 0, raw["bsn"]] == "").all()
            and (rows.loc[consent == 1, raw["bsn"]].str.len() == 9).all())
    # the supervisor's Castor id: exactly one lost its leading zero
    refs = rows[raw["supervisor_ref"]]
    assert (refs.str.fullmatch(r"[0-9]{5}")).sum() == 1 and (refs.str.fullmatch(r"0[0-9]{5}")).sum() == 117
    assert truth["employees"]["occupation"] == {str(k): v for k, v in occupation.items()}


def test_follow_up_is_answered_by_part_of_the_consenting_employees(written, books):
    out, truth = written
    book = books["employees"]
    main = real_responses(out / "qualtrics/Mentorwijs_werknemers.csv")
    follow = real_responses(out / "qualtrics/Mentorwijs_werknemers_vervolg.csv")
    consenting = set(main.index[main[book.item("consent").raw_name("T0")] == "1"])
    assert len(follow) == 50 and set(follow.index) <= consenting
    for item in book.items_in_wave("T2"):
        values = follow[item.raw_name("T2")].astype(int)
        assert values.between(1, 5).all()
        assert (truth["employees"]["followup"][item.name]["counts"]
                == {str(k): int((values == k).sum()) for k in range(1, 6)})
    assert truth["flow"]["questionnaires"]["employees_followup"] == 50


# --- formats ------------------------------------------------------------------------------
def test_castor_survey_exports_follow_castor_conventions(written, books):
    out, _ = written
    book = books["supervisors"]
    meta = ["Survey Instance Id", "Castor Participant ID", "Survey Creation Date", "Survey Sent Date",
            "Survey Progress", "Survey Completed On", "Survey Parent", "Survey Package Name", "Survey Package Id"]
    for wave in WAVES:
        path = out / f"castor/Mentorwijs_{wave}_export.csv"
        text = path.read_bytes().decode("utf-8")
        frame = read_castor_survey(path)
        assert list(frame.columns) == meta + [i.raw_name(wave) for i in book.items_in_wave(wave)]
        assert set(frame["Survey Package Name"]) == {book.wave_setting(wave, "package")}
        assert text.count(";") == (len(frame.columns) - 1) * (len(frame) + 1)  # no ';' inside a cell
        for column in ("Survey Creation Date", "Survey Sent Date"):
            pd.to_datetime(frame[column], format="%d-%m-%Y %H:%M:%S")  # day first, never month first
        finished = frame["Survey Completed On"] != ""
        pd.to_datetime(frame.loc[finished, "Survey Completed On"], format="%d-%m-%Y %H:%M")
        assert (frame.loc[finished, "Survey Progress"] == "100").all()
        assert ((pd.to_numeric(frame["Survey Progress"]) < 100).sum() > 0
                and frame["Castor Participant ID"].str.startswith("TES").any())
    assert book.wave_setting("T0", "package") != book.wave_setting("T1", "package")


def test_castor_study_export_is_laid_out_like_castors_excel_export(written, books):
    from openpyxl import load_workbook

    out, _ = written
    book = books["supervisors_study"]
    workbook = load_workbook(out / "castor/Mentorwijs_export.xlsx")
    assert workbook.sheetnames == ["Study results", "Study variable list", "Field options"]
    sheet = workbook["Study results"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Participant Id", "Participant Status", "Site Abbreviation", "Participant Creation Date"]
    assert header[-1] in (None, "")
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None)  # all text
    checkbox = book.item("disability_types")
    boxes = [h for h in header if h and h.startswith(f"{checkbox.raw}#")]
    assert len(boxes) == len(checkbox.options)
    assert [h for h in boxes if len(h.split("#", 1)[1]) == 41 and h.endswith("0")]  # a label cut at 40 characters
    assert any(h and re.fullmatch(r"[0-9]+\.[0-9]+\|.+", h) for h in header)  # a field without a variable name
    frame = pd.read_excel(out / "castor/Mentorwijs_export.xlsx", sheet_name="Study results", dtype=str).fillna("")
    tes = frame[frame["Participant Id"].str.startswith("TES")]
    assert len(tes) >= 1 and (tes["Site Abbreviation"] == "TES").all()
    real = frame[frame["Site Abbreviation"] != "TES"]
    assert real["Participant Id"].str.fullmatch(book.id_pattern).all()
    pd.to_datetime(real["Participant Creation Date"], format="%d-%m-%Y %H:%M:%S")
    answered = real[book.item("age").raw] != ""
    assert answered.sum() == 127  # characteristics for those who completed T0, empty for the others
    # the variable-list and field-option sheets carry Castor's own headers
    genuine = load_workbook(shared_file("vendor-samples", "castor_crf_export_2018.xlsx"), read_only=True)
    for name in ("Study variable list", "Field options"):
        assert ([c.value for c in next(workbook[name].iter_rows(max_row=1))]
                == [c.value for c in next(genuine[name].iter_rows(max_row=1))])


def test_qualtrics_exports_have_three_header_rows_and_the_metadata_columns(written, books):
    out, _ = written
    genuine = shared_file("vendor-samples", "qualtrics_sample.csv")
    with genuine.open(encoding="utf-8") as handle:
        genuine_meta = next(csv.reader(handle))[:17]
    for name, wave in (("Mentorwijs_werknemers.csv", "T0"), ("Mentorwijs_werknemers_vervolg.csv", "T2")):
        lines = list(csv.reader(io.StringIO((out / "qualtrics" / name).read_text(encoding="utf-8"))))
        names, texts, imports = lines[:3]
        assert names[:17] == genuine_meta
        assert names[17:] == [i.raw_name(wave) for i in books["employees"].items_in_wave(wave)]
        assert texts[17] != names[17] and all(text for text in texts)
        assert all("ImportId" in json.loads(cell) for cell in imports)
        data = read_qualtrics(out / "qualtrics" / name)
        pd.to_datetime(data["StartDate"], format="%Y-%m-%d %H:%M:%S")
        real = data[data["Status"] == "0"]
        assert ((real["IPAddress"] != "").all() and (real["LocationLatitude"] != "").all()
                and (real["RecipientEmail"] != "").any())
        assert set(data["Finished"]) == {"0", "1"}


def test_study_files_are_csv_as_excel_writes_it_on_dutch_windows(written):
    out, _ = written
    for name in ("study/trainingen.csv", "study/uitnodigingen.csv"):
        data = (out / name).read_bytes()
        assert data.count(b"\r\n") == data.count(b"\n") > 1  # CRLF only
        text = data.decode("cp1252")
        assert text.encode("cp1252") == data
        assert re.search(r";[0-9]{2}-[0-9]{2}-20[0-9]{2}(;|\r)", text)
    schedule = (out / "study/trainingen.csv").read_bytes().decode("cp1252")
    assert ";2,5;" in schedule  # decimal comma
    frame = read_dutch_csv(out / "study/trainingen.csv")
    assert frame.shape == (19, 8)


# --- planted defects -----------------------------------------------------------------------
def _line_cells(path: Path, row: int, sep: str) -> tuple[list[str], list[str]]:
    encoding = "cp1252" if path.parent.name == "study" else "utf-8"
    lines = path.read_bytes().decode(encoding).splitlines()
    return next(csv.reader([lines[0]], delimiter=sep)), next(csv.reader([lines[row - 1]], delimiter=sep))


def test_every_defect_in_truth_is_in_the_files_where_it_says(written, books):
    from openpyxl import load_workbook

    out, truth = written
    defects = truth["defects"]
    kinds = {d["kind"] for d in defects}
    assert {
        "not_started", "partial", "duplicate_superseded", "test_participant", "semicolon_replaced", "out_of_range",
        "user_missing_numeric", "user_missing_text", "user_missing_date", "checkbox_truncated_header",
        "unnamed_field_header", "status_preview", "status_test", "status_spam", "unfinished",
        "id_leading_zero_stripped",
    } <= kinds
    sheet = load_workbook(out / "castor/Mentorwijs_export.xlsx")["Study results"]
    study_header = [c.value or "" for c in sheet[1]]
    ranges = {i.raw_name(w): i.range for b in books.values() for w in WAVES for i in b.items
              if i.raw_name(w) and i.range}
    for d in defects:
        path = out / d["file"]
        if path.suffix == ".xlsx":
            header, cells = study_header, [c.value or "" for c in sheet[d["row"]]]
            ident = "Participant Id"
        else:
            header, cells = _line_cells(path, d["row"], ";" if "castor" in d["file"] else ",")
            ident = "ExternalReference" if "qualtrics" in d["file"] else "Castor Participant ID"
        row = dict(zip(header, cells))
        assert d["column"] in header, d
        value = d["column"] if d["row"] == 1 else row[d["column"]]
        assert value == d["value"], d
        if d["row"] > 1:
            assert row[ident] == d["record"], d
        kind = d["kind"]
        if kind == "out_of_range":
            low, high = ranges[d["column"]]
            assert not low <= float(value) <= high, d
        elif kind == "user_missing_numeric":
            assert int(value) in range(-99, -94), d
        elif kind == "user_missing_text":
            assert MISSING_TEXT.match(value), d
        elif kind == "user_missing_date":
            assert re.fullmatch(r"01-01-299[5-9]", value), d
        elif kind in ("not_started", "partial"):
            progress = int(row["Survey Progress"])
            assert (progress == 0) if kind == "not_started" else (0 < progress < 100), d
            assert row["Survey Completed On"] == ""
        elif kind == "test_participant":
            assert d["record"].startswith("TES"), d
        elif kind == "semicolon_replaced":
            assert "-" in value and ";" not in value
        elif kind.startswith("status_"):
            assert value == {"status_preview": "1", "status_test": "2", "status_spam": "8"}[kind]
        elif kind == "unfinished":
            assert row["Finished"] == "0" and int(row["Progress"]) < 100
        elif kind == "id_leading_zero_stripped":
            assert (re.fullmatch(r"[0-9]{5}", value)
                    and ("0" + value) in set(read_dutch_csv(out / "study/uitnodigingen.csv").iloc[:, 0]))
        elif kind == "checkbox_truncated_header":
            assert len(value.split("#", 1)[1]) == 41 and value.endswith("0")
        elif kind == "unnamed_field_header":
            assert re.fullmatch(r"[0-9]+\.[0-9]+\|.+", value)
        elif kind == "too_few_items":
            block = scale_block(pd.DataFrame([row]), books["supervisors"], "self_efficacy", "T3")
            assert block.notna().sum(axis=1).iloc[0] < books["supervisors"].scales["self_efficacy"].min_items
        elif kind == "duplicate_superseded":
            if "castor" in d["file"]:
                frame = read_castor_survey(path)
                same = frame[(frame["Castor Participant ID"] == d["record"]) & (frame["Survey Progress"] == "100")]
                done = pd.to_datetime(same["Survey Completed On"], format="%d-%m-%Y %H:%M")
                assert len(same) == 2 and done.max() > pd.to_datetime(value, format="%d-%m-%Y %H:%M")
                items = [c for c in frame.columns[9:]]
                assert (same.iloc[0][items] != same.iloc[1][items]).any()  # conflicting answers
            else:
                frame = read_qualtrics(path)
                same = frame[(frame["ExternalReference"] == d["record"]) & (frame["Finished"] == "1")]
                assert len(same) == 2 and same["RecordedDate"].max() > value


# --- the supervisors' scales ---------------------------------------------------------------
def test_cronbach_alpha_is_realistic_and_drops_without_reverse_coding(written, books):
    out, truth = written
    book = books["supervisors"]
    done = completed_surveys(out, book)
    for construct in CONSTRUCTS:
        assert 2 <= sum(i.reverse for i in book.scale_items(construct, "T0")) <= 3
        for wave in WAVES:
            recoded = alpha(scale_block(done[wave], book, construct, wave))
            plain = alpha(scale_block(done[wave], book, construct, wave, recode=False))
            assert 0.75 <= recoded <= 0.92, (construct, wave, recoded)
            assert plain < recoded - 0.25, (construct, wave, plain)
            assert truth["supervisors"]["reliability"][construct][wave]["alpha"] == pytest.approx(recoded, abs=1e-6)


def test_sample_means_in_truth_are_the_scale_scores_of_the_files(written, books):
    out, truth = written
    book = books["supervisors"]
    done = completed_surveys(out, book)
    for construct in CONSTRUCTS:
        for wave in WAVES:
            block = scale_block(done[wave], book, construct, wave)
            score = block.mean(axis=1).where(block.notna().sum(axis=1) >= book.scales[construct].min_items).dropna()
            realised = truth["supervisors"]["sample_means"][construct][wave]
            assert realised["n"] == len(score) and realised["mean"] == pytest.approx(score.mean(), abs=1e-6)


def test_population_means_agree_with_a_large_draw_of_the_model(written):
    _, truth = written
    model = truth["supervisors"]["model"]
    rng = np.random.default_rng(7)
    sd = np.sqrt(model["sd_supervisor"] ** 2 + model["sd_group"] ** 2 + model["sd_occasion"] ** 2)
    draws = 200_000
    for construct in CONSTRUCTS:
        for k, wave in enumerate(WAVES):
            mean = model["location"][construct] + (0 if k == 0 else model["change_T1_T2_T3"][construct][k - 1])
            eta = rng.normal(mean, sd, size=draws)
            score = np.zeros(draws)
            for item in model["items"][construct]:
                response = item["loading"] * eta + rng.standard_normal(draws)
                score += 1 + (response[:, None] > np.array(item["thresholds"])[None, :]).sum(axis=1)
            score /= len(model["items"][construct])
            # 5 standard errors of the Monte Carlo mean
            assert (truth["supervisors"]["population_means"][construct][wave]
                    == pytest.approx(score.mean(), abs=5 * score.std() / np.sqrt(draws)))
    population = truth["supervisors"]["population_change_from_T0"]
    assert population["knowledge"]["T1"] > 0.4 and population["self_efficacy"]["T1"] > 0.3  # improve
    assert abs(population["intention"]["T1"]) < 0.1 and abs(population["behaviour"]["T1"]) < 0.1  # do not
    assert truth["supervisors"]["population_means"]["intention"]["T0"] > 4.0  # ceiling at baseline


def test_drop_out_depends_on_the_previous_score(written):
    _, truth = written
    completed = truth["supervisors"]["completed"]
    assert truth["supervisors"]["model"]["attrition_logit"]["last_score_minus_3_5"] > 0
    assert set(completed["T1"]) <= set(completed["T0"]) and len(completed["T0"]) == 127
    assert any("01" in pattern for pattern in truth["supervisors"]["response_patterns"])


# --- codebooks as the only home of raw names -----------------------------------------------
def test_no_raw_item_name_appears_in_the_source(books):
    """Code reaches raw items only through the codebooks. Exempt: vendor metadata columns (a
    format convention) and raw names equal to a canonical name (the code names the canonical one)."""
    vendor = {"Participant Id", "Castor Participant ID", "ExternalReference"}
    canonical = {i.name for b in books.values() for i in b.items} | {b.id_name for b in books.values()}
    raw: set[str] = set()
    for book in books.values():
        raw.add(book.id_column)
        for item in book.items:
            raw.update(item.raw.values() if isinstance(item.raw, dict) else [item.raw])
    checked = sorted(raw - vendor - canonical)
    assert len(checked) > 60
    sources = {p: p.read_text(encoding="utf-8") for p in sorted((ROOT / "src").rglob("*.py"))}
    found = []
    for name in checked:
        pattern = re.compile(r"(?<![\w])" + re.escape(name) + r"(?![\w])")
        found += [f"{p.relative_to(ROOT).as_posix()}: {name}" for p, text in sources.items() if pattern.search(text)]
    assert not found


# --- scale and added waves -----------------------------------------------------------------
def test_an_added_wave_is_a_subset_of_t3_and_leaves_earlier_files_alone(written, books, tmp_path):
    out, _ = written
    added = tmp_path / "synthetic"
    truth = generate(added, add_waves=("T4",))
    book = books["supervisors"]
    for p in out.rglob("*"):
        if p.is_file():
            assert (added / p.relative_to(out)).read_bytes() == p.read_bytes(), p.name
    frame = read_castor_survey(added / "castor/Mentorwijs_T4_export.csv")
    assert set(frame["Survey Package Name"]) == {"Mentorwijs T4"} == {book.wave_setting("T4", "package")}
    assert list(frame.columns[9:]) == [i.raw_name("T4") for i in book.items_in_wave("T4")]
    assert book.item("meetings_attended").raw_name("T1") not in frame.columns
    done = completed_surveys(added, book, waves=WAVES + ("T4",))
    assert 0 < len(done["T4"]) < len(done["T3"]) and set(done["T4"].index) <= set(done["T3"].index)
    assert truth["flow"]["questionnaires"]["completed_T4"] == len(done["T4"])
    assert set(truth["supervisors"]["population_means"]["knowledge"]) == {"T0", "T1", "T2", "T3", "T4"}
    assert truth["process"]["extra_time"]["T4"]["n"] == len(done["T4"])


def test_other_scales_keep_the_proportions(books, tmp_path):
    truth = generate(tmp_path / "synthetic", scale=2, seed=5)
    flow = truth["flow"]["questionnaires"]
    assert {w: flow[f"completed_{w}"] for w in WAVES} == {"T0": 254, "T1": 190, "T2": 182, "T3": 174}
    assert flow["employees_completed"] == 236 and flow["invited"] == 328
    attended = truth["process"]["meetings_attended"]
    assert attended["n"] == 189 and attended["counts"]["5"] == round(69 * 189 / 94)
    assert truth["process"]["extra_time"]["T1"]["yes"] == 48
