"""The questionnaire part end to end (in-process) on the hand-made fixture study.

Expected numbers are counted by hand from the raw fixture files (tests/support/fixture_study.py), scale
scores are worked out by hand from the rows named in each test.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT
from support.fixture_study import (EMPLOYEE_FLOW, KEPT_ROWS, KEY_HEX, RAW_ROWS, SENT_TO_CBS, STUDY, SUPERVISOR_FLOW,
                           make_study, set_wave)
from mentorwijs.config import load_config
from mentorwijs.tables import write_parquet
from mentorwijs.ingest import run_questionnaires
from mentorwijs.ingest.pipeline import ingest_wave, load_source_codebook, stage_name, wave_outputs
from mentorwijs.pseudonymise import pseudonym

KEY = bytes.fromhex(KEY_HEX)
OTHER_KEY = bytes.fromhex("a7" * 32)
OUTPUT_DIRS = ("data/interim", "data/processed", "export", "reports")


def _run(root: Path, key: bytes) -> Path:
    make_study(root)
    run_questionnaires(load_config(root / "config.yaml"), root, key=key, progress=lambda line: None)
    return root


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return _run(tmp_path_factory.mktemp("study"), KEY)


@pytest.fixture(scope="module")
def study_other_key(tmp_path_factory) -> Path:
    return _run(tmp_path_factory.mktemp("study_other_key"), OTHER_KEY)


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _output_files(root: Path) -> list[Path]:
    return sorted(p for d in OUTPUT_DIRS if (root / d).exists() for p in (root / d).rglob("*") if p.is_file())


def test_flow_ends_at_the_hand_counted_numbers(study):
    sup = _csv(study / "data/interim/flow/supervisors_long.csv")
    emp = _csv(study / "data/interim/flow/trainees.csv")
    assert list(sup.columns) == ["population", "order", "step", "n"]
    assert [(s, int(n)) for s, n in zip(sup["step"], sup["n"])] == SUPERVISOR_FLOW
    assert [(s, int(n)) for s, n in zip(emp["step"], emp["n"])] == EMPLOYEE_FLOW
    assert set(sup["population"]) == {"supervisors"} and set(emp["population"]) == {"employees"}
    assert list(map(int, sup["order"])) == sorted(map(int, sup["order"]))


def test_rows_in_equal_rows_kept_plus_rows_excluded_at_every_stage(study):
    for (source, wave), rows_in in RAW_ROWS.items():
        out = wave_outputs(source, wave)
        kept = len(pd.read_parquet(study / out.interim))
        excluded = _csv(study / out.exclusions)
        assert list(excluded.columns) == ["source", "wave", "record", "reason", "n"]
        assert kept == KEPT_ROWS[(source, wave)], (source, wave)
        assert kept + excluded["n"].astype(int).sum() == rows_in, (source, wave)
    survey = pd.read_parquet(study / "data/interim/supervisors.parquet")
    long = pd.read_parquet(study / "data/processed/supervisors_long.parquet")
    assert len(long) + len(_csv(study / "data/interim/exclusions/supervisors_long.csv")) == len(survey)
    employees = pd.read_parquet(study / "data/interim/employees/T0.parquet")
    trainees = pd.read_parquet(study / "data/processed/trainees.parquet")
    assert len(trainees) + len(_csv(study / "data/interim/exclusions/trainees.csv")) == len(employees)


def test_every_exclusion_has_a_reason_and_the_record_is_row_and_pseudonym(study):
    excluded = _csv(study / "data/interim/exclusions/ingest_supervisors_T0.csv")
    reasons = sorted(excluded["reason"])
    assert reasons == sorted([
        "duplicate submission with conflicting answers: row 14 kept (latest complete)",
        "incomplete (progress 40%)", "incomplete (progress 0%)", "incomplete (progress 0%)",
        "test participant (site TES)",
    ])
    tes = excluded[excluded["reason"].str.startswith("test")]["record"].item()
    assert tes == f"15:{pseudonym('TES001', KEY, 'supervisor')}"  # TES001 is on line 15 of T0.csv
    qualtrics = _csv(study / "data/interim/exclusions/ingest_employees_T0.csv")
    assert sorted(qualtrics["reason"]) == sorted([
        "Qualtrics status 1 (survey preview) not kept", "Qualtrics status 2 (survey test) not kept",
        "Qualtrics status 8 (spam) not kept", "not finished", "duplicate submission: row 19 kept (latest complete)",
    ])


def _raw_identifiers() -> set[str]:
    """Every direct identifier, id, free text and personal metadata in the raw fixture files,
    read with the csv module and openpyxl (not with the package's readers)."""
    found: set[str] = set()

    def add(values):
        found.update(v.strip() for v in values if v and v.strip())

    raw = STUDY / "raw"
    qualtrics_cols = ["IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ExternalReference",
                      "LocationLatitude", "LocationLongitude", "burgerservicenummer", "voornaam", "achternaam",
                      "geboortedatum", "pc6", "emailadres", "opmerking", "lg_castor_id"]
    rows = list(csv.DictReader(io.StringIO((raw / "qualtrics/werknemers.csv").read_text(encoding="utf-8"))))
    for row in rows[2:]:
        add(row[c] for c in qualtrics_cols)
    legacy = list(csv.reader(io.StringIO((raw / "qualtrics/werknemers_vervolg.csv").read_text(encoding="utf-8-sig"))))
    names = legacy[1]
    for row in legacy[2:]:
        add(row[names.index(c)] for c in ("Name", "ExternalDataReference", "EmailAddress", "IPAddress",
                                          "LocationLatitude", "LocationLongitude"))
    for wave in ("T0", "T1", "T2"):
        text = (raw / f"castor/{wave}.csv").read_text(encoding="utf-8-sig")
        for row in csv.DictReader(io.StringIO(text), delimiter=";"):
            add([row["Castor Participant ID"], row["opmerking"]])
    invitations = (raw / "study/uitnodigingen.csv").read_text(encoding="utf-8-sig")
    for row in csv.DictReader(io.StringIO(invitations), delimiter=";"):
        add([row["castor_id"], row["naam"], row["emailadres"], row["organisatie"]])
    from openpyxl import load_workbook

    sheet = load_workbook(raw / "castor/study_export.xlsx", read_only=True)["Study results"]
    add(str(r[0]) for r in list(sheet.iter_rows(values_only=True))[1:] if r[0])
    found.discard("-1")
    return found


def test_no_identifier_from_the_raw_files_appears_in_any_output(study):
    identifiers = _raw_identifiers()
    assert {"MW00001", "111222333", "Willems", "4001AB", "1988-04-12", "192.0.2.11", "010001", "10003",
            "Anke Jansen", "Goed - maar kort dag en veel te lezen"} <= identifiers
    long_ones = {v for v in identifiers if len(v) >= 8 and re.search(r"[^0-9a-f]", v)}
    files = _output_files(study)
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".csv" for p in files)
    for path in files:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            cells = set(map(str, frame.columns)) | {str(v) for c in frame.columns for v in frame[c].dropna().tolist()}
            text = ""
        else:
            text = path.read_text(encoding="utf-8")
            cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
        assert not (cells & identifiers), (path, sorted(cells & identifiers)[:5])
        for value in long_ones:
            assert value not in text, (path, value)


def test_the_identifier_file_for_cbs_holds_exactly_the_employees_handed_over(study):
    ids = _csv(study / "data/linkage/cbs_identifiers.csv")
    assert list(ids.columns) == ["study_number", "bsn", "first_name", "last_name", "birth_date", "postcode"]
    assert ids["study_number"].tolist() == SENT_TO_CBS
    assert ids.set_index("study_number").loc["MW00001", "bsn"] == "111222333"
    trainees = pd.read_parquet(study / "data/processed/trainees.parquet")
    assert sorted(trainees["person"]) == sorted(pseudonym(s, KEY, "study") for s in SENT_TO_CBS)


def test_the_key_appears_in_no_output(study):
    for path in _output_files(study) + sorted((study / "data/linkage").rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            assert KEY_HEX.encode() not in data and KEY not in data, path


def test_identifier_files_are_owner_only_and_every_other_output_has_the_usual_mode(study):
    mask = os.umask(0o022)
    os.umask(mask)
    usual = 0o666 & ~mask
    linkage = sorted(p for p in (study / "data/linkage").rglob("*") if p.is_file())
    assert "cbs_identifiers.csv" in {p.name for p in linkage} and len(linkage) >= 5
    assert {p.relative_to(study).as_posix(): oct(p.stat().st_mode & 0o777) for p in linkage
            if p.stat().st_mode & 0o777 != 0o600} == {}
    others = _output_files(study)
    assert any(p.parts[-2] == "processed" for p in others) and any(p.parts[-2] == "tables" for p in others)
    assert {p.relative_to(study).as_posix(): oct(p.stat().st_mode & 0o777) for p in others
            if p.stat().st_mode & 0o777 != usual} == {}


def _without_pseudonyms(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("supervisor", "person", "supervisor_ref") if c in frame.columns]
    rest = frame.drop(columns=keys)
    return rest.sort_values(list(rest.columns), kind="mergesort", na_position="last").reset_index(drop=True)


def test_no_estimate_changes_when_the_key_changes(study, study_other_key):
    for name in ("reports/tables/reliability.csv", "reports/tables/data_quality.csv",
                 "data/interim/flow/supervisors_long.csv", "data/interim/flow/trainees.csv"):
        assert (study / name).read_bytes() == (study_other_key / name).read_bytes(), name
    for name in ("data/processed/supervisors_long.parquet", "data/processed/trainees.parquet",
                 "data/interim/supervisors.parquet", "data/interim/employees.parquet"):
        a, b = pd.read_parquet(study / name), pd.read_parquet(study_other_key / name)
        assert list(a.columns) == list(b.columns)
        pd.testing.assert_frame_equal(_without_pseudonyms(a), _without_pseudonyms(b))
    a = pd.read_parquet(study / "data/processed/supervisors_long.parquet")
    b = pd.read_parquet(study_other_key / "data/processed/supervisors_long.parquet")
    assert set(a["supervisor"]).isdisjoint(set(b["supervisor"]))  # the pseudonyms did change


def test_outputs_are_byte_identical_across_runs(study, tmp_path):
    again = _run(tmp_path / "again", KEY)
    first = {p.relative_to(study): p.read_bytes() for p in _output_files(study)}
    second = {p.relative_to(again): p.read_bytes() for p in _output_files(again)}
    assert first.keys() == second.keys() and len(first) > 20
    assert [k for k in first if first[k] != second[k]] == []


def test_scale_scores_are_means_of_reverse_coded_items(study):
    long = pd.read_parquet(study / "data/processed/supervisors_long.parquet").set_index(["supervisor", "wave"])
    s = lambda castor_id: pseudonym(castor_id, KEY, "supervisor")  # noqa: E731
    # T0.csv, 010001: kennis 3, 2, 4 (the third reverse-worded: 1 + 5 - 4 = 2) -> (3 + 2 + 2) / 3
    assert long.loc[(s("010001"), "T0"), "knowledge"] == pytest.approx(7 / 3, abs=1e-12)
    # 020001: kennis_2 = 7 is out of range -> missing; 2 and (6 - 4) answered, min_items 2 -> 2.0
    assert long.loc[(s("020001"), "T0"), "knowledge"] == pytest.approx(2.0, abs=1e-12)
    # 020003: zelfeff_1 = -98 (user-missing); 3 and (6 - 3) -> 3.0
    assert long.loc[(s("020003"), "T0"), "self_efficacy"] == pytest.approx(3.0, abs=1e-12)
    # 020004: the later submission (05-01-2020) is kept: intentie 5, 4, 1 -> (5 + 4 + 5) / 3
    assert long.loc[(s("020004"), "T0"), "intention"] == pytest.approx(14 / 3, abs=1e-12)
    row = long.loc[(s("010003"), "T1")]  # T1.csv: extra_uren 4.5, attended 5; G01 on site, last meeting 30-09-2019
    assert ((row["extra_hours"], row["meetings_attended"], row["mode"], row["cohort"])
            == (4.5, 5.0, "on_site", "2019-09"))


def test_supervisors_long_and_trainees_follow_the_data_contract(study):
    long = pd.read_parquet(study / "data/processed/supervisors_long.parquet")
    # design.md: supervisor, training_group, wave, knowledge, self_efficacy, intention, behaviour (codebook order)
    assert list(long.columns[:8]) == ["supervisor", "training_group", "wave", "completed_on", "knowledge",
                                      "self_efficacy", "intention", "behaviour"]
    assert {"mode", "region", "cohort", "age", "sex", "n_employees_guided", "sector", "org_size",
            "sheltered_workplace", "disability_types_4"} <= set(long.columns)
    assert len(long) == 9 + 8 + 7 and not long.duplicated(["supervisor", "wave"]).any()
    trainees = pd.read_parquet(study / "data/processed/trainees.parquet")
    assert list(trainees.columns) == ["person", "training_group", "region", "cohort", "first_meeting", "last_meeting",
                                      "mode", "supervisor", "sup_n_employees_guided", "sup_sector", "sup_org_size",
                                      "sup_sheltered_workplace"]
    row = trainees.set_index("person").loc[pseudonym("MW00001", KEY, "study")]
    # MW00001 names supervisor 010001 (G01, Rivierenland, on site, 02-09..30-09-2019;
    # 3 employees, sector 1, size 1, no SW)
    assert ((row["training_group"], row["region"], row["mode"], row["cohort"])
            == ("G01", "Rivierenland", "on_site", "2019-09"))
    assert (row["first_meeting"], row["last_meeting"]) == (pd.Timestamp("2019-09-02"), pd.Timestamp("2019-09-30"))
    assert (row[["sup_n_employees_guided", "sup_sector", "sup_org_size", "sup_sheltered_workplace"]].tolist()
            == [3, 1, 1, 0])
    # MW00002 gave supervisor id 10002 (leading zero stripped): repaired, so linked to 010002
    assert (trainees.set_index("person").loc[pseudonym("MW00002", KEY, "study"), "supervisor"]
            == pseudonym("010002", KEY, "supervisor"))
    refused = _csv(study / "data/interim/exclusions/trainees.csv")
    assert (refused.set_index("record").loc[pseudonym("MW00007", KEY, "study"), "reason"]
            == "supervisor reference resolves to nobody")


def test_user_missing_codes_are_kept_as_reasons_never_as_values(study):
    missing = pd.read_parquet(study / "data/interim/missing/supervisors_study.parquet")
    assert list(missing.columns) == ["source", "wave", "record", "item", "code", "reason"]
    table = missing.set_index(["record", "item"])
    s = lambda castor_id: pseudonym(castor_id, KEY, "supervisor")  # noqa: E731
    assert tuple(table.loc[(s("020001"), "n_employees_guided"), ["code", "reason"]]) == (-98, "asked but unknown")
    assert tuple(table.loc[(s("020003"), "n_employees_guided"), ["code", "reason"]]) == (-96, "not applicable")
    assert tuple(table.loc[(s("010003"), "signup_date"), ["code", "reason"]]) == (-97, "not asked")  # 01-01-2997
    assert table.loc[(s("020003"), "age"), "reason"] == "out of range"
    study_table = pd.read_parquet(study / "data/interim/supervisors_study.parquet")
    numbers = study_table.select_dtypes("number")
    assert not ((numbers <= -90) & (numbers >= -99)).any().any()


def test_every_missing_value_has_exactly_one_reason(study):
    for (source, wave) in RAW_ROWS:
        out = wave_outputs(source, wave)
        table = pd.read_parquet(study / out.interim)
        missing = pd.read_parquet(study / out.missing)
        codebook = load_source_codebook(
            study / f"data/codebooks/{source}.yaml", source=source,
            fmt=yaml.safe_load((study / "config.yaml").read_text())["sources"][source]["format"])
        id_name = codebook.id_name
        items = [c for c in table.columns if c not in (id_name, "wave", "completed_on") and c not in codebook.scales]
        cells = table.melt(id_vars=[id_name], value_vars=items, var_name="item", value_name="value")
        expected = cells[cells["value"].isna()][[id_name, "item"]].rename(columns={id_name: "record"})
        got = missing[["record", "item"]]
        assert not got.duplicated().any()
        pd.testing.assert_frame_equal(
            expected.astype(str).sort_values(["record", "item"]).reset_index(drop=True),
            got.astype(str).sort_values(["record", "item"]).reset_index(drop=True),
        )


def test_reliability_table_has_alpha_per_scale_and_wave(study):
    table = _csv(study / "reports/tables/reliability.csv")
    assert list(table.columns) == ["scale", "wave", "alpha", "n", "n_items"]
    assert len(table) == 4 * 3 and set(table["n_items"]) == {"3"}
    # cross-check one cell against the covariance-matrix form of alpha on the reverse-coded items
    survey = pd.read_parquet(study / "data/interim/supervisors/T0.parquet")
    items = survey[["knowledge_1", "knowledge_2", "knowledge_3"]].copy()
    items["knowledge_3"] = 6 - items["knowledge_3"]
    complete = items.dropna().to_numpy()
    cov = np.cov(complete, rowvar=False)
    expected = 3 / 2 * (1 - np.trace(cov) / cov.sum())
    row = table[(table["scale"] == "knowledge") & (table["wave"] == "T0")].iloc[0]
    assert float(row["alpha"]) == pytest.approx(expected, rel=1e-7)  # written to 8 significant digits
    assert int(row["n"]) == len(complete)


def test_renamed_and_reordered_items_give_identical_tables(study, tmp_path):
    """Rename raw items and reorder columns and codebook entries: the cleaned tables do not change."""
    source_path = STUDY / "raw/castor/T1.csv"
    rows = list(csv.reader(io.StringIO(source_path.read_text(encoding="utf-8-sig")), delimiter=";"))
    renames = {"kennis_1": "KEN1_nieuw", "gedrag_3": "gedrag_omgekeerd", "aantal_bijeenk": "n_bijeenkomsten"}
    header = [renames.get(h, h) for h in rows[0]]
    order = list(reversed(range(len(header))))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in [header] + rows[1:]:
        writer.writerow([row[i] for i in order])
    shutil.copytree(STUDY / "codebooks", tmp_path / "codebooks")
    (tmp_path / "T1.csv").write_text(out.getvalue(), encoding="utf-8")
    data = yaml.safe_load((STUDY / "codebooks/supervisors.yaml").read_text(encoding="utf-8"))
    for item in data["items"]:
        raw = item["raw"]
        item["raw"] = {w: renames.get(r, r) for w, r in raw.items()} if isinstance(raw, dict) else renames.get(raw, raw)
    data["items"].reverse()
    (tmp_path / "codebooks/supervisors.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    renamed = load_source_codebook(tmp_path / "codebooks/supervisors.yaml", source="supervisors", fmt="castor_survey")
    tables = ingest_wave(tmp_path / "T1.csv", source="supervisors", fmt="castor_survey", codebook=renamed, wave="T1",
                         key=KEY)
    expected = pd.read_parquet(study / "data/interim/supervisors/T1.parquet")
    pd.testing.assert_frame_equal(tables.interim, expected)
    pd.testing.assert_frame_equal(tables.missing,
                                  pd.read_parquet(study / "data/interim/missing/supervisors/T1.parquet"))
    rewritten = write_parquet(tables.interim, tmp_path / "renamed_T1.parquet")
    assert rewritten.read_bytes() == (study / "data/interim/supervisors/T1.parquet").read_bytes()


def test_no_raw_item_name_appears_in_the_package_source():
    raw_names: set[str] = set()
    canonical: set[str] = set()
    books = sorted((STUDY / "codebooks").glob("*.yaml")) + sorted((ROOT / "data/codebooks").glob("*.yaml"))
    for path in books:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data["items"]:
            raw = item["raw"]
            raw_names.update(raw.values() if isinstance(raw, dict) else [raw])
            canonical.add(item["name"])
    raw_names -= canonical  # a raw name that is also a canonical name may appear as the canonical one
    assert "kennis_1" in raw_names and "burgerservicenummer" in raw_names
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "src").rglob("*.py")))
    found = sorted(n for n in raw_names if re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", source))
    assert found == []


def test_stage_names_are_the_exclusion_file_names(study):
    names = sorted(p.stem for p in (study / "data/interim/exclusions").glob("*.csv"))
    expected = sorted([stage_name(s, w) for s, w in RAW_ROWS] + ["supervisors_long", "trainees"])
    assert names == expected


def test_the_run_writes_exactly_the_files_the_declared_steps_name(study):
    """run_questionnaires (``mentorwijs run --part questionnaires``) writes the outputs that
    QUESTIONNAIRE_STEPS declares for the study's sources and waves, and nothing else (the check
    reports under logs/ and the supervisors' tables are the rules' own)."""
    from mentorwijs.ingest.steps import files_of, wave_sources, waves_of

    config = load_config(study / "config.yaml")
    declared = set()
    for source, spec in config["sources"].items():
        jobs = [("ingest_questionnaire_file", None)] if "file" in spec else \
            [("ingest_questionnaire_wave", w) for w in waves_of(config, source)]
        for step, wave in jobs:
            declared |= set(files_of(step, config, source=source, wave=wave)[1].values())
    for source in wave_sources(config):
        declared |= set(files_of("combine_questionnaire_waves", config, source=source)[1].values())
    for step in ("questionnaire_reliability", "questionnaire_data_quality", "supervisors_long", "trainees"):
        declared |= set(files_of(step, config)[1].values())
    written = {p.relative_to(study).as_posix()
               for folder in ("data/interim", "data/processed", "data/linkage", "reports")
               if (study / folder).exists() for p in (study / folder).rglob("*") if p.is_file()}
    assert written == declared


def test_a_new_wave_is_a_file_and_one_config_entry(tmp_path):
    """Adding T3 needs no code and no codebook change (its items are declared for all waves / T1+)."""
    root = make_study(tmp_path / "study")
    shutil.copy(STUDY / "extra/T3.csv", root / "data/raw/fixture/castor/T3.csv")
    set_wave(root / "config.yaml", "supervisors", "T3", "data/raw/fixture/castor/T3.csv")
    run_questionnaires(load_config(root / "config.yaml"), root, key=KEY, progress=lambda line: None)
    flow = _csv(root / "data/interim/flow/supervisors_long.csv").set_index("step")
    # T3.csv by hand: 5 complete (010001, 010002, 020001, 020004, 030002); 010003 never started
    assert int(flow.loc["completed_T3", "n"]) == 5 and int(flow.loc["completed_T3", "order"]) == 13
    t3 = pd.read_parquet(root / "data/interim/supervisors/T3.parquet")
    assert len(t3) == 5 and {"extra_time", "extra_hours", "knowledge"} <= set(t3.columns)
    assert "meetings_attended" not in t3.columns  # a T1-only item
    reliability = _csv(root / "reports/tables/reliability.csv")
    assert set(reliability["wave"]) == {"T0", "T1", "T2", "T3"}


def test_a_wave_nobody_completed_stays_in_the_flow_and_reliability_with_zero(tmp_path):
    root = make_study(tmp_path / "study")
    t2 = root / "data/raw/fixture/castor/T2.csv"
    t2.write_text(t2.read_text(encoding="utf-8").replace(";100;", ";50;"), encoding="utf-8")
    run_questionnaires(load_config(root / "config.yaml"), root, key=KEY, progress=lambda line: None)
    flow = _csv(root / "data/interim/flow/supervisors_long.csv").set_index("step")
    assert int(flow.loc["completed_T2", "n"]) == 0
    excluded = _csv(root / "data/interim/exclusions/ingest_supervisors_T2.csv")
    assert len(excluded) == RAW_ROWS[("supervisors", "T2")]
    reliability = _csv(root / "reports/tables/reliability.csv")
    t2_rows = reliability[reliability["wave"] == "T2"]
    assert len(t2_rows) == 4 and set(t2_rows["n"]) == {"0"} and set(t2_rows["alpha"]) == {""}
