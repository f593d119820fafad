"""Codebook drafts: a draft made from an export's own variable list reads that export."""

from __future__ import annotations

import yaml

from conftest import shared_file
from support.fixture_study import STUDY
from mentorwijs.cli import main
from mentorwijs.codebook import parse_codebook
from mentorwijs.ingest.bootstrap import draft_codebook
from mentorwijs.ingest.clean import CleaningOptions, parse_wave
from mentorwijs.ingest.readers import read_raw


def _draft(path, **kwargs):
    text = draft_codebook(path, **kwargs)
    assert text.startswith("# DRAFT codebook")
    return yaml.safe_load(text)


def test_castor_draft_from_the_variable_list_and_field_options_reads_the_export():
    path = STUDY / "raw/castor/study_export.xlsx"
    draft = _draft(path, source="supervisors_study", fmt="castor_study")
    items = {i["raw"]: i for i in draft["items"]}
    assert items["geslacht"]["labels"] == {1: "Man", 2: "Vrouw", 3: "Anders"} and items["geslacht"]["range"] == [1, 3]
    assert items["leeftijd"]["range"] == [18, 75] and items["groep"]["type"] == "free_text"
    assert items["beperking"]["type"] == "checkbox" and len(items["beperking"]["options"]) == 5
    assert "3.2|Aantal jaren leidinggevende" in items  # the field without a variable name
    codebook = parse_codebook(draft)
    data = parse_wave(read_raw(path, "castor_study"), codebook, "supervisors_study", None, CleaningOptions())
    assert len(data.records) == 12 and data.values["beperking_4"].tolist()[0] == 1.0


def test_castor_draft_from_a_genuine_export():
    path = shared_file("vendor-samples", "castor_crf_export_2018.xlsx")
    draft = _draft(path, source="crf", fmt="castor_study")
    items = {i["raw"]: i for i in draft["items"]}
    assert items["pat_gender"]["type"] == "integer" and items["pat_height"]["range"] == [100, 215]
    assert items["pat_birthdate"]["type"] == "date" and items["ic_datetime"]["type"] == "datetime"
    assert "ae_description" not in items  # report fields are not study fields


def test_qualtrics_draft_takes_question_texts_and_leaves_out_metadata():
    draft = _draft(STUDY / "raw/qualtrics/werknemers.csv", source="employees", fmt="qualtrics")
    items = {i["raw"]: i for i in draft["items"]}
    assert "IPAddress" not in items and "RecipientEmail" not in items and "ExternalReference" not in items
    assert items["wv_score"]["type"] == "integer" and items["wv_score"]["description"] == "Hoe goed kunt u nu werken?"
    assert items["beperking"]["type"] == "multiselect" and sorted(items["beperking"]["options"]) == [1, 2, 3, 4, 5, 9]
    assert items["opmerking"]["type"] == "free_text"


def test_codebook_command_writes_a_draft_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "draft.yaml"
    args = ["codebook", str(STUDY / "raw/qualtrics/werknemers.csv"), "--source", "employees", "--format", "qualtrics",
            "--out", str(out)]
    assert main(args) == 0 and out.read_text(encoding="utf-8").startswith("# DRAFT")
    assert main(args) == 1 and "exists already" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
