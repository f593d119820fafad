"""Readers and cell parsing per export format, on genuine vendor exports (../shared/vendor-samples,
skipped with a reason where absent) and on the hand-made fixtures."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook

from conftest import shared_file
from support.fixture_study import STUDY
from mentorwijs.codebook import load_codebook, parse_codebook
from mentorwijs.errors import InputError
from mentorwijs.ingest.clean import CleaningOptions, parse_wave
from mentorwijs.ingest.columns import castor_option_label, find_column, option_matches
from mentorwijs.ingest.readers import normalise_header, read_castor_excel, read_qualtrics, read_raw, read_spss
from mentorwijs.ingest.values import missing_code, parse_date, parse_number, repair_id

CASTOR_CODES = {-95: "measurement failed", -96: "not applicable", -97: "not asked", -98: "asked but unknown",
                -99: "not done"}


# --- Castor ---------------------------------------------------------------------------------

def test_castor_checkbox_labels_become_the_headers_castor_writes():
    """The genuine export's checkbox headers are the reference for the label rule (40 characters + 0)."""
    path = shared_file("vendor-samples", "castor_crf_export_2018.xlsx")
    book = load_workbook(path, read_only=True)
    header = [c for c in next(book["Serious_Adverse_Event"].iter_rows(values_only=True)) if c]
    options = [r for r in book["Field options"].iter_rows(values_only=True)][1:]
    for field, group in (("sae_classification", "Category_Event_SAE"), ("sae_implications", "implications_SAE")):
        labels = [name for g, name, _ in options if g == group]
        assert len(labels) >= 5, group
        columns = [h for h in header if h.startswith(field + "#")]
        for code, label in enumerate(labels):
            matches = [c for c in columns if option_matches(c.split("#", 1)[1], label, code + 100)]
            assert len(matches) == 1, (label, matches)
    assert (castor_option_label("Suspend investigation/put research on hold")
            == "Suspend_investigationput_research_on_hold")
    assert "sae_classification#Permanent_disability_or_incapacity_for_w0" in header  # cut to 40 + '0'
    assert option_matches("Permanent_disability_or_incapacity_for_w0", "Permanent disability or incapacity for work", 5)
    assert not option_matches("Other", "Others", 4) and not option_matches("Fatal", "Other", 7)


def test_castor_excel_with_old_header_names_a_field_label_header_and_a_test_site():
    path = shared_file("vendor-samples", "castor_crf_export_2018.xlsx")
    table = read_castor_excel(path, "castor_study")
    assert table.sheets == ("Study results",)
    assert table.lines == [2, 3] and table.columns[0] == "Record Id"
    assert not any(c.startswith("(unnamed") for c in table.columns)  # the empty last column is dropped
    assert normalise_header("Record Id") == normalise_header("Participant Id")
    assert find_column(table.columns, "4.4") == "4.4|Copy of signed documents provided to subject"
    codebook = parse_codebook({
        "instrument": "crf", "format": "castor_study",
        "id": {"column": "Participant Id", "name": "participant"},
        "items": [
            {"name": "height", "raw": "pat_height", "type": "number", "range": [100, 215]},
            {"name": "copies_provided", "raw": "4.4", "range": [0, 1]},
            {"name": "birth_date", "raw": "pat_birthdate", "type": "date"},
            {"name": "action", "raw": "ae_action", "type": "checkbox", "required": False,
             "options": {0: "No action taken"}},
        ],
    })
    data = parse_wave(table, codebook, "crf", None, CleaningOptions())
    assert data.values["height"].tolist() == [160.0, 182.0]
    assert data.values["birth_date"].tolist() == [pd.Timestamp("1965-03-22"), pd.Timestamp("1974-03-01")]
    assert data.records["exclusion"].tolist() == ["test participant (site TES)"] * 2  # institute TES


def test_castor_study_export_fixture_checkbox_truncated_label_and_user_missing_forms():
    table = read_raw(STUDY / "raw/castor/study_export.xlsx", "castor_study")
    codebook = load_codebook(STUDY / "codebooks/supervisors_study.yaml")
    data = parse_wave(table, codebook, "supervisors_study", "T0", CleaningOptions())
    assert ([c for c in data.values.columns if c.startswith("disability_types_")]
            == [f"disability_types_{k}" for k in range(1, 6)])
    rows = data.records.set_index("id")
    index = {ident: i for i, ident in enumerate(data.records["id"])}
    assert data.values.at[index["010001"], "disability_types_4"] == 1.0  # the column whose label was cut to 40 + '0'
    assert (data.codes.at[index["020001"], "n_employees_guided"],
            data.reasons.at[index["020001"], "n_employees_guided"]) == (-98, "asked but unknown")
    assert (data.codes.at[index["020003"], "n_employees_guided"],
            data.reasons.at[index["020003"], "n_employees_guided"]) == (-96, "not applicable")
    assert (data.codes.at[index["010003"], "signup_date"],
            data.reasons.at[index["010003"], "signup_date"]) == (-97, "not asked")
    assert data.values.at[index["010002"], "years_supervisor"] == 4.5  # the '3.2|Aantal jaren leidinggevende' column
    assert rows.loc["TES001", "exclusion"] == "test participant (site TES)"


def test_castor_survey_csv_selects_the_wave_by_package_name():
    table = read_raw(STUDY / "raw/castor/T0.csv", "castor_survey")
    assert (table.encoding, table.separator, table.lines[0]) == ("utf-8", ";", 2)
    codebook = load_codebook(STUDY / "codebooks/supervisors.yaml")
    assert codebook.wave_setting("T0", "package") == "Mentorwijs nulmeting"
    data = parse_wave(table, codebook, "supervisors", "T0", CleaningOptions())
    assert len(data.records) == 14
    with pytest.raises(InputError, match="no survey of wave T1"):
        parse_wave(table, codebook, "supervisors", "T1", CleaningOptions())
    t1 = read_raw(STUDY / "raw/castor/T1.csv", "castor_survey")
    assert t1.encoding == "utf-8-sig" and t1.columns[0] == "Survey Instance Id"


# --- Qualtrics ------------------------------------------------------------------------------

def test_qualtrics_three_header_rows():
    path = shared_file("vendor-samples", "qualtrics_sample.csv")
    table = read_qualtrics(path)
    assert table.header_rows == 3 and table.lines == [4]
    assert table.frame.loc[0, "Q1"] == "2" and table.frame.loc[0, "Status"] == "0"
    codebook = parse_codebook({
        "instrument": "sample", "format": "qualtrics", "id": {"column": "ResponseId", "name": "person"},
        "items": [{"name": "choice", "raw": "Q1", "range": [1, 5]}, {"name": "text", "raw": "Q2", "type": "free_text"}],
    })
    data = parse_wave(table, codebook, "sample", "T0", CleaningOptions())
    assert data.values["choice"].tolist() == [2.0]
    assert data.records["complete"].tolist() == [True] and data.records["exclusion"].isna().all()
    assert data.records["completed_at"].tolist() == [pd.Timestamp("2017-07-18 08:28:48")]


def test_qualtrics_legacy_export_with_bom_and_two_header_rows():
    path = shared_file("vendor-samples", "qualtrics_sample_legacy.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = read_qualtrics(path)
    assert table.header_rows == 2 and table.lines == [3] and table.encoding == "utf-8-sig"
    assert {"ResponseId", "ExternalReference", "Status", "Finished", "StartDate", "Q1", "Q2"} <= set(table.columns)
    assert table.frame.loc[0, "ResponseId"] == "R_2YPOQ602ER1jkf1" and table.frame.loc[0, "Q1"] == "2"


def test_qualtrics_statuses_and_choice_text_finished():
    table = read_raw(STUDY / "raw/qualtrics/werknemers.csv", "qualtrics")
    codebook = load_codebook(STUDY / "codebooks/employees.yaml")
    data = parse_wave(table, codebook, "employees", "T0", CleaningOptions(qualtrics_keep_status=(0, 1, 4, 16)))
    reasons = data.records["exclusion"].dropna().tolist()
    assert "Qualtrics status 1 (survey preview) not kept" not in reasons  # previews kept when configured
    assert "Qualtrics status 8 (spam) not kept" in reasons
    index = {ident: i for i, ident in enumerate(data.records["id"])}
    assert data.values.loc[index["MW00005"], [f"disability_{k}" for k in range(1, 6)]].tolist() == [1, 0, 0, 1, 0]


# --- SPSS -----------------------------------------------------------------------------------

def test_spss_user_missing_values_keep_their_reason():
    path = shared_file("vendor-samples", "spss_sample_missing.sav")
    _, meta = pyreadstat.read_sav(str(path), user_missing=True)
    table = read_spss(path)
    assert table.declared_missing["myord"] == [(-1.0, -1.0), (-2.0, -2.0), (-3.0, -3.0)]
    codebook = parse_codebook({
        "instrument": "sample", "format": "spss", "id": {"column": "mychar", "name": "case"},
        "items": [{"name": "number", "raw": "mynum", "type": "number"}, {"name": "ordinal", "raw": "myord"},
                  {"name": "labelled", "raw": "mylabl"}, {"name": "date", "raw": "mydate", "type": "date"}],
    })
    data = parse_wave(table, codebook, "sample", None, CleaningOptions())
    # myord: -1 is declared missing and labelled 'missing' in the file; -2 and -3 declared without a label
    assert data.reasons.loc[5, "ordinal"] == meta.variable_value_labels["myord"][-1.0] == "missing"
    assert data.reasons.loc[6, "ordinal"] == "declared missing in the SPSS file" and data.codes.loc[6, "ordinal"] == -3
    assert data.values["ordinal"].tolist()[:5] == [1.0, 2.0, 3.0, 1.0, 1.0]
    assert pd.isna(data.values.loc[6, "number"]) and data.codes.loc[6, "number"] == 2500  # in the range 2000..3000
    assert data.reasons.loc[5, "labelled"] == "undetermined"
    assert data.values.loc[0, "date"] == pd.Timestamp("2018-05-06")
    assert data.records["exclusion"].tolist()[-1] == "id missing"  # the last case has no id


def test_spss_discrete_missing_value():
    path = shared_file("vendor-samples", "spss_user_missing.sav")
    table = read_spss(path)
    codebook = parse_codebook({"instrument": "x", "format": "spss", "id": {"column": "var1", "name": "case"},
                               "items": [{"name": "value", "raw": "var1"}]})
    data = parse_wave(table, codebook, "x", None, CleaningOptions())
    assert data.reasons["value"].tolist() == ["missing", pd.NA] and data.values["value"].tolist()[1] == 2.0


# --- Dutch Excel CSV ------------------------------------------------------------------------

def test_dutch_excel_csv_cp1252_decimal_comma_and_thousands():
    table = read_raw(STUDY / "raw/study/trainingen.csv", "dutch_csv")
    assert (table.encoding, table.separator, table.decimal) == ("cp1252", ";", ",")
    codebook = load_codebook(STUDY / "codebooks/schedule.yaml")
    data = parse_wave(table, codebook, "schedule", None, CleaningOptions())
    assert data.values["venue"].tolist()[0] == "Tiel – Café De Waal"
    assert data.values["meeting_hours"].tolist() == [2.5, 2.0, 1234.5]
    assert data.values["mode"].tolist() == ["on_site", "online", "on_site"]
    assert data.values["last_meeting"].tolist()[0] == pd.Timestamp("2019-09-30")
    invitations = read_raw(STUDY / "raw/study/uitnodigingen.csv", "dutch_csv")
    assert invitations.encoding == "utf-8-sig" and invitations.frame.loc[2, "castor_id"] == "10003"


# --- cells ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, decimal, expected", [
    ("3", ".", 3.0), ("4.5", ".", 4.5), (".87", ".", 0.87), ("-1", ".", -1.0), ("2,5", ",", 2.5),
    ("1.234,5", ",", 1234.5), ("1.234", ",", 1234.0), ("6.5", ",", 6.5), ("veel", ".", None), ("", ".", None),
    ("1,5", ".", None),
])
def test_numbers_with_either_decimal_mark(text, decimal, expected):
    assert parse_number(text, decimal) == expected


@pytest.mark.parametrize("text, order, stamp, problem, month_first", [
    ("30-09-2019", "dmy", "2019-09-30", None, False),
    ("02-05-2018 00:35", "dmy", "2018-05-02 00:35", None, False),
    ("09-05-2018 21:10:17", "dmy", "2018-05-09 21:10:17", None, False),
    ("2019-09-10 09:14:41", "ymd", "2019-09-10 09:14:41", None, False),
    ("09-30-2019", "dmy", None, "impossible date", True),
    ("31-02-2019", "dmy", None, "impossible date", False),
    ("2019-02-30", "ymd", None, "impossible date", False),
    ("gisteren", "dmy", None, "not a date", False),
])
def test_dates_day_first_iso_impossible_and_month_first(text, order, stamp, problem, month_first):
    got, why, first = parse_date(text, order)
    assert (got, why, first) == (pd.Timestamp(stamp) if stamp else None, problem, month_first)


@pytest.mark.parametrize("text, kind, expected", [
    ("-95", "integer", (-95.0, "measurement failed")),
    ("-99.0", "number", (-99.0, "not done")),
    ("##USER_MISSING_96##", "integer", (-96.0, "not applicable")),
    ("##USER_MISSING_97##", "free_text", (-97.0, "not asked")),
    ("01-01-2998", "date", (-98.0, "asked but unknown")),
    ("##USER_MISSING_91##", "text", (-91.0, "unknown missing code")),
    ("01-01-2991", "date", (-91.0, "unknown missing code")),
    ("-5", "integer", None),
    ("3", "integer", None),
])
def test_castor_user_missing_codes_in_every_form(text, kind, expected):
    assert missing_code(text, item_type=kind, codes=CASTOR_CODES, date_order="dmy") == expected


@pytest.mark.parametrize("text, pattern, expected", [
    ("10003", r"^[0-9]{6}$", ("010003", True)), ("010003", r"^[0-9]{6}$", ("010003", False)),
    ("1234567", r"^[0-9]{6}$", ("1234567", False)), ("TES001", r"^[0-9]{6}$", ("TES001", False)),
    ("17", r"^MW[0-9]{5}$", ("17", False)),
])
def test_stripped_leading_zeros_are_restored_to_the_pattern(text, pattern, expected):
    assert repair_id(text, pattern) == expected


def test_castor_survey_excel_export_gives_the_same_table_as_the_csv(tmp_path):
    """The same survey as an Excel export (a survey sheet plus a variable list): identical result."""
    import csv
    import io

    from openpyxl import Workbook

    from mentorwijs.ingest.pipeline import ingest_wave

    rows = list(csv.reader(io.StringIO((STUDY / "raw/castor/T1.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    book = Workbook()
    book.active.title = "Mentorwijs T1"
    for row in rows:
        book.active.append([cell if cell != "" else None for cell in row] + [None])
    book.create_sheet("Survey variable list").append(["Field type", "Variable name", "Field label"])
    book.save(tmp_path / "T1.xlsx")
    codebook = load_codebook(STUDY / "codebooks/supervisors.yaml")
    key = bytes(32)
    from_csv = ingest_wave(STUDY / "raw/castor/T1.csv", source="supervisors", fmt="castor_survey", codebook=codebook,
                           wave="T1", key=key)
    from_xlsx = ingest_wave(tmp_path / "T1.xlsx", source="supervisors", fmt="castor_survey", codebook=codebook,
                            wave="T1", key=key)
    pd.testing.assert_frame_equal(from_csv.interim, from_xlsx.interim)
    pd.testing.assert_frame_equal(from_csv.exclusions, from_xlsx.exclusions)


def test_older_castor_header_names_in_csv_exports(tmp_path):
    """Older exports say Castor Record Id / Record Id / Institute Abbreviation: matched to the new names."""
    survey = ((STUDY / "raw/castor/T1.csv").read_text(encoding="utf-8-sig")
              .replace("Castor Participant ID", "CASTOR RECORD ID", 1))
    (tmp_path / "T1.csv").write_text(survey, encoding="utf-8")
    codebook = load_codebook(STUDY / "codebooks/supervisors.yaml")
    data = parse_wave(read_raw(tmp_path / "T1.csv", "castor_survey"), codebook, "supervisors", "T1", CleaningOptions())
    assert data.records["exclusion"].isna().sum() == 8
    study = ("Record Id;Institute Abbreviation;Record Creation Date;leeftijd\n"
             "010001;RIV;20-08-2019 10:01:02;52\nTES001;TES;01-08-2019 12:00:00;99\n")
    (tmp_path / "study.csv").write_text(study, encoding="cp1252")
    small = parse_codebook({"instrument": "s", "format": "castor_study",
                            "id": {"column": "Participant Id", "name": "supervisor", "pattern": "^[0-9]{6}$"},
                            "items": [{"name": "age", "raw": "leeftijd", "range": [18, 75]}]})
    data = parse_wave(read_raw(tmp_path / "study.csv", "castor_study"), small, "s", None, CleaningOptions())
    assert data.records["exclusion"].tolist() == [pd.NA, "test participant (site TES)"]
    assert data.values["age"].tolist()[0] == 52.0
