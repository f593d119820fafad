"""Bad register inputs: each is a clear error naming file, row or column, or a logged exclusion."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path, PurePath

import pandas as pd
import pytest

from conftest import ROOT
from mentorwijs.errors import InputError
from mentorwijs.flow import Exclusions
from mentorwijs.register.payroll import combine_statements
from mentorwijs.register.steps import PATHS
from mentorwijs.simulate.writers import write_csv, write_sav
from support.register_fixture import (FILES, HERE, KEY, payroll_rows, read_fixture, run_steps, write_config_file,
                              write_register_fixture)


def test_an_extract_that_does_not_cover_the_window_is_an_error(tmp_path):
    rows = payroll_rows()  # a payroll file cut at a line end: its last months are missing
    config = write_register_fixture(tmp_path,
                                    payroll=rows[(rows["file"] != "2020") | (rows["SDATUMAANVANGIKO"] < "20200301")])
    with pytest.raises(InputError, match=r"do not cover the window 2019-01\.\.2020-06.*2020-03\.\.2020-06"):
        run_steps(config, tmp_path, until="register_payroll")


def test_a_missing_file_named_in_config_is_an_error_naming_it(tmp_path):
    config = write_register_fixture(tmp_path)
    (tmp_path / FILES["deaths"]).unlink()
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_persons")
    assert "GBAOVERLIJDEN2022TABV1.csv" in info.value.message and "not found" in info.value.message


def test_a_key_file_person_missing_from_the_register_is_not_found(tmp_path):
    persons = read_fixture("persons.csv")
    config = write_register_fixture(tmp_path, persons=persons[persons["RINPERSOON"] != "000000101"])
    run_steps(config, tmp_path, until="register_persons")
    flow = pd.read_csv(tmp_path / PATHS["flow_linkage"]).set_index("step")["n"]
    assert (flow["excluded_not_found_in_register"], flow["found_in_register"]) == (4, 2)
    excl = pd.read_csv(tmp_path / PATHS["exclusions_linkage"]).set_index("reason")["n"]
    assert excl["not found in the register: not in the person file"] == 2


def test_negative_hours_that_do_not_net_out_are_excluded_and_counted():
    frame = pd.DataFrame({
        "pid": [0, 0, 0, 0, 0], "start": [100, 100, 130, 130, 160], "end": [129, 129, 159, 159, 189],
        "job_start": -1, "hours": [10.0, -15.0, 10.0, -10.0, 20.0], "wage": [100.0, -150.0, 100.0, -100.0, 200.0],
        "contract": 1, "sheltered": 0, "government": 0, "wage_cost_benefit": 0, "period_type": 1,
        "ikvid": pd.array(["J"] * 5, dtype="string[pyarrow]"), "sbeid": pd.array(["E"] * 5, dtype="string[pyarrow]"),
    })
    exclusions = Exclusions()
    payroll = combine_statements([frame], exclusions=exclusions)
    assert payroll.statements["hours"].tolist() == [20.0]
    assert exclusions.rows == {("payroll", "negative hours that do not net out within job and pay period"): 1,
                               ("payroll", "statement cancelled by its correction"): 1}


def test_a_few_unparseable_dates_are_exclusions_many_are_an_error(tmp_path):
    rows = payroll_rows()
    rows.loc[rows["file"] == "2020", "SDATUMAANVANGIKO"] = "01-02-2020"
    config = write_register_fixture(tmp_path, payroll=rows)
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_payroll")
    assert info.value.column == "SDATUMAANVANGIKO" and info.value.row == 2
    assert "SPOLISBUS2020V1.csv" in info.value.message and "'01-02-2020'" in info.value.message


def test_non_numeric_hours_in_many_rows_are_an_error(tmp_path):
    rows = payroll_rows()
    rows.loc[rows["file"] == "2019", "SBASISUREN"] = "n.v.t."
    config = write_register_fixture(tmp_path, payroll=rows)
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_payroll")
    assert info.value.column == "SBASISUREN"


def test_conflicting_duplicate_persons_are_an_error(tmp_path):
    persons = read_fixture("persons.csv")
    twin = persons[persons["RINPERSOON"] == "000000203"].assign(GBAGEBOORTEJAAR="1996")
    config = write_register_fixture(tmp_path, persons=pd.concat([persons, twin], ignore_index=True))
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_persons")
    assert "more than once with different values" in info.value.message
    assert info.value.column == "RINPERSOON" and info.value.row == 19  # the second row of 203, as a .sav case number


def test_a_missing_column_is_an_error_naming_it(tmp_path):
    config = write_register_fixture(tmp_path)
    path = tmp_path / FILES["payroll"][0]
    text = path.read_text(encoding="utf-8").replace("SBASISUREN", "UREN", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        run_steps(config, tmp_path, until="register_payroll")
    assert info.value.column == "SBASISUREN" and "register.variables" in info.value.hint


def test_a_study_number_with_two_register_persons_is_an_error(tmp_path):
    config = write_register_fixture(tmp_path)
    key = tmp_path / config["register"]["key"]["path"]
    key.write_text(key.read_text(encoding="utf-8") + "MW00001,R,000000201\n", encoding="utf-8")
    with pytest.raises(InputError, match="linked to more than one register person"):
        run_steps(config, tmp_path, until="register_persons")


def test_a_training_region_outside_the_region_pairs_is_an_error(tmp_path):
    config = write_register_fixture(tmp_path)
    config["regions"]["pairs"] = {"Rivierenland": ["Noord-Oost Brabant"]}
    with pytest.raises(InputError, match="'Foodvalley' are not intervention regions"):
        run_steps(config, tmp_path, until="register_candidates")


def test_a_reference_month_after_the_first_meeting_is_an_error(tmp_path):
    config = write_register_fixture(tmp_path)
    config["anchors"]["reference_month"] = -1
    with pytest.raises(InputError, match="not before the first meeting of group.*G01, G02"):
        run_steps(config, tmp_path, until="register_candidates")


def test_cohort_months_outside_the_window_are_an_error(tmp_path):
    config = write_register_fixture(tmp_path)
    config["anchors"]["followup_months"] = 9
    with pytest.raises(InputError, match=r"does not cover the cohorts' months 2019-02\.\.2020-09"):
        run_steps(config, tmp_path, until="register_candidates")


def _cli(*args, cwd):
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "mentorwijs", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_command_line_reports_a_missing_file_without_a_traceback(tmp_path):
    config = write_register_fixture(tmp_path)
    (tmp_path / FILES["persons"]).unlink()
    config_file = write_config_file(tmp_path, config)
    result = _cli("run", "--part", "register", "--config", str(config_file), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "GBAPERSOON2022TABV1.sav" in result.stderr and "fix:" in result.stderr
    assert not (tmp_path / PATHS["persons"]).exists()  # no partial output


# --------------------------------------------------------------------------------------
# the corpus of damaged deliveries: each one through `check-register` and `run --part register`

P2019, P2020 = FILES["payroll"]


def _lines(path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _rewrite(relative: str, edit) -> callable:
    """A damage that rewrites one CSV of the fixture as a data frame (all columns text)."""
    def damage(root):
        path = root / relative
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        write_csv(edit(frame), path)
    return damage


def _cut_mid_row(root):
    path = root / P2019
    data = path.read_bytes()
    cut = data.rindex(b"\n", 0, len(data) // 2) + 25  # 25 bytes into a row: a copy that stopped early
    path.write_bytes(data[:cut])


def _extra_field(root):
    path = root / P2019
    lines = _lines(path)
    lines[6] = lines[6].rstrip(b"\n") + b",x\n"
    path.write_bytes(b"".join(lines))


def _duplicate_column(root):
    frame = pd.read_csv(root / P2019, dtype=str, keep_default_na=False)
    frame.insert(3, "SBASISUREN_copy", frame["SBASISUREN"])
    write_csv(frame, root / P2019)
    path = root / P2019
    path.write_bytes(path.read_bytes().replace(b"SBASISUREN_copy", b"SBASISUREN", 1))


def _key_links_nobody(root):
    key = pd.read_csv(root / KEY, dtype=str, keep_default_na=False)
    key["RINPERSOON"] = "9" + key["RINPERSOON"].str[1:]
    write_csv(key, root / KEY)


def _sav_header_only(root):
    write_sav(read_fixture("persons.csv").iloc[:0], root / FILES["persons"])


def _sav_truncated(root):
    path = root / FILES["persons"]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200])


#: name -> (the damaged file, the damage, what the ERROR line must also say (row, column, problem))
DAMAGED = {
    "payroll-binary": (P2019, lambda r: (r / P2019).write_bytes(bytes(range(256)) * 64), ["not a text (CSV) file"]),
    "payroll-excel-under-csv-name": (P2019, lambda r: (r / P2019).write_bytes(b"PK\x03\x04" + bytes(2000)), ["Excel"]),
    "payroll-empty": (P2019, lambda r: (r / P2019).write_bytes(b""), ["is empty"]),
    "payroll-header-only": (P2019, lambda r: (r / P2019).write_bytes(_lines(r / P2019)[0]), ["no data rows"]),
    "payroll-truncated-mid-row": (P2019, _cut_mid_row, ["truncated", "row "]),
    "payroll-row-with-extra-field": (P2019, _extra_field, ["row 7", "15 field(s) where the header has 14"]),
    "payroll-missing-column": (P2019, _rewrite(P2019, lambda f: f.drop(columns="SLNINGLD")),
                               ["column 'SLNINGLD'", "missing"]),
    "payroll-renamed-column": (P2019, _rewrite(P2019, lambda f: f.rename(columns={"SDATUMEINDEIKO": "EINDDATUM"})),
                               ["column 'SDATUMEINDEIKO'", "missing"]),
    "payroll-duplicate-column": (P2019, _duplicate_column, ["column 'SBASISUREN'", "appears 2 times"]),
    "payroll-iso-dates": (P2019, _rewrite(P2019, lambda f: f.assign(SDATUMAANVANGIKO=pd.to_datetime(
        f["SDATUMAANVANGIKO"], format="%Y%m%d", errors="coerce").dt.strftime("%Y-%m-%d").fillna(""))),
        ["row 2", "column 'SDATUMAANVANGIKO'", "not dates YYYYMMDD"]),
    "payroll-text-in-hours": (P2020, _rewrite(P2020, lambda f: f.assign(SBASISUREN="n.v.t.")),
                              ["row 2", "column 'SBASISUREN'", "not numbers"]),
    "payroll-year-missing": (P2020, lambda r: (r / P2020).unlink(), ["not found"]),
    "payroll-unclosed-quote": (P2019, lambda r: (r / P2019).write_bytes(b"".join(
        line.replace(b",E0", b',"E0', 1) if i == 10 else line for i, line in enumerate(_lines(r / P2019)))),
        ["row 11", "not closed"]),
    "key-two-trainees-one-person": (KEY, lambda r: (r / KEY).write_bytes((r / KEY).read_bytes().replace(
        b"MW00002,R,000000102", b"MW00002,R,000000101")),
        ["column 'studienummer'", "2 trainees are linked to the same register person"]),
    "key-study-numbers-empty": (KEY, _rewrite(KEY, lambda f: f.assign(studienummer="")), ["no study number"]),
    "education-sav-under-csv-name": (FILES["education"],
                                     lambda r: shutil.copyfile(r / FILES["persons"], r / FILES["education"]),
                                     ["looks like an SPSS .sav file"]),
    "payroll-every-row-excluded": (P2019, _rewrite(P2019, lambda f: f.assign(RINPERSOONS="S")),
                                   ["column 'RINPERSOONS'", "none of the 196 rows",
                                    "196 with RINPERSOONS other than R"]),
    "persons-no-register-person": (FILES["persons"],
                                   lambda r: write_sav(read_fixture("persons.csv").assign(RINPERSOONS="S"),
                                                       r / FILES["persons"]),
                                   ["column 'RINPERSOONS'", "none of the 18 rows"]),
    "residence-of-another-delivery": (FILES["residence"],
                                      _rewrite(FILES["residence"],
                                               lambda f: f.assign(RINPERSOON="9" + f["RINPERSOON"].str[1:])),
                                      ["none of the 17 rows", "17 not in the person file"]),
    "businesses-text-in-year": (FILES["businesses"],
                                _rewrite(FILES["businesses"], lambda f: f.assign(JAAR="twintig")),
                                ["row 2", "column 'JAAR'", "not years"]),
    "handover-damaged": ("data/processed/trainees.parquet",
                         lambda r: (r / "data/processed/trainees.parquet").write_bytes(
                             (r / "data/processed/trainees.parquet").read_bytes()[:300]),
                         ["cannot be read as a Parquet table"]),
    "handover-missing": ("data/processed/trainees.parquet",
                         lambda r: (r / "data/processed/trainees.parquet").unlink(), []),
    "payroll-zeros-after-a-crashed-copy": (P2019,
                                           lambda r: (r / P2019).write_bytes((r / P2019).read_bytes() + bytes(5000)),
                                           ["row 198", "NUL bytes"]),
    "payroll-block-of-zeros-inside": (P2019, lambda r: (r / P2019).write_bytes(b"".join(
        bytes(4096) + line if i == 99 else line for i, line in enumerate(_lines(r / P2019)))),
        ["row 100", "column 'RINPERSOONS'", "NUL bytes"]),
    "key-header-only": (KEY, lambda r: (r / KEY).write_bytes(_lines(r / KEY)[0]), ["no data rows"]),
    "key-study-number-twice": (KEY, lambda r: (r / KEY).write_bytes((r / KEY).read_bytes() + b"MW00001,R,000000201\n"),
                               ["column 'studienummer'", "more than one register person"]),
    "key-links-nobody": (KEY, _key_links_nobody, ["links a person"]),
    "persons-sav-truncated": (FILES["persons"], _sav_truncated, ["truncated or damaged"]),
    "persons-sav-empty": (FILES["persons"], lambda r: (r / FILES["persons"]).write_bytes(b""), ["empty"]),
    "persons-sav-is-csv": (FILES["persons"],
                           lambda r: (r / FILES["persons"]).write_bytes((HERE / "persons.csv").read_bytes()),
                           ["not an SPSS .sav file"]),
    "persons-sav-no-cases": (FILES["persons"], _sav_header_only, ["no data rows"]),
    "persons-conflicting-rows": (FILES["persons"],
                                 lambda r: write_sav(
                                     pd.concat([read_fixture("persons.csv"),
                                                read_fixture("persons.csv").iloc[[3]].assign(GBAGEBOORTEJAAR="1950")]),
                                     r / FILES["persons"]),
                                 ["column 'RINPERSOON'", "more than once with different values"]),
    "deaths-impossible-date": (FILES["deaths"],
                               _rewrite(FILES["deaths"], lambda f: f.assign(GBADatumOverlijden="20191345")),
                               ["row 2", "column 'GBADatumOverlijden'", "'20191345'"]),
    "migration-missing-column": (FILES["migration"],
                                 _rewrite(FILES["migration"], lambda f: f.drop(columns="GBAVESTIGINGSTYPE")),
                                 ["column 'GBAVESTIGINGSTYPE'"]),
    "education-binary": (FILES["education"], lambda r: (r / FILES["education"]).write_bytes(b"\x00\x01\x02" * 500),
                         ["binary"]),
    "residence-truncated": (FILES["residence"],
                            lambda r: (r / FILES["residence"]).write_bytes((r / FILES["residence"]).read_bytes()[:-30]),
                            ["truncated"]),
    "regions-text-year": (FILES["municipality_regions"],
                          _rewrite(FILES["municipality_regions"], lambda f: f.assign(jaar="twintig")),
                          ["row 2", "column 'jaar'"]),
    "regions-conflicting": (FILES["municipality_regions"],
                            _rewrite(FILES["municipality_regions"],
                                     lambda f: pd.concat([f, f.iloc[[0]].assign(arbeidsmarktregio="Amersfoort")])),
                            ["column 'gemeente'", "two labour-market regions"]),
    "addresses-no-year-columns": (FILES["addresses"],
                                  _rewrite(FILES["addresses"],
                                           lambda f: f.rename(columns={"gem2019": "g19", "gem2020": "g20"})),
                                  ["municipality column"]),
    "businesses-empty": (FILES["businesses"], lambda r: (r / FILES["businesses"]).write_bytes(b"\n\n"), ["is empty"]),
    "payroll-every-employer-missing": (P2020, _rewrite(P2020, lambda f: f.assign(SBEID="")),
                                       ["no usable row",
                                        "72 rows read, 72 excluded (100.0%); 72 employer (SBEID) missing"]),
    "migration-every-type-unknown": (FILES["migration"],
                                     _rewrite(FILES["migration"], lambda f: f.assign(GBAVESTIGINGSTYPE="X")),
                                     ["no usable row", "1 type neither emigration nor immigration"]),
    "secm-sav-truncated": (FILES["socioeconomic"],
                           lambda r: (r / FILES["socioeconomic"]).write_bytes(
                               (r / FILES["socioeconomic"]).read_bytes()[:-120]),
                           ["truncated or damaged"]),
}


@pytest.fixture(scope="module")
def fixture_template(tmp_path_factory):
    """The fixture study with its config.yaml, written once and copied for each damage."""
    root = tmp_path_factory.mktemp("register_template")
    write_config_file(root, write_register_fixture(root))
    return root


def _start(args, cwd):
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    return subprocess.Popen([sys.executable, "-m", "mentorwijs", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("ERROR")]


#: Cases run as real processes (`python -m mentorwijs`): the exit code and the absence of a
#: traceback as a user sees them. The others call the command's main() in the test's process
#: (the same code after the import; no interpreter start and imports per case).
SUBPROCESS_CASES = {"payroll-binary", "persons-sav-truncated", "key-links-nobody", "payroll-every-employer-missing"}


def _in_process(args, root, capsys, monkeypatch) -> tuple[int, str, str]:
    from mentorwijs.cli import main

    monkeypatch.chdir(root)
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_a_damaged_delivery_is_one_error_line_naming_the_file(name, fixture_template, tmp_path, capsys, monkeypatch):
    damaged, damage, says = DAMAGED[name]
    root = tmp_path / "study"
    shutil.copytree(fixture_template, root)
    damage(root)
    check_args = ["check-register", "--config", "config.yaml"]
    run_args = ["run", "--part", "register", "--config", "config.yaml"]
    if name in SUBPROCESS_CASES:  # both commands at once
        check, run = _start(check_args, root), _start(run_args, root)
        check_out, check_err = check.communicate(timeout=120)
        run_out, run_err = run.communicate(timeout=120)
        check_code, run_code = check.returncode, run.returncode
    else:  # an unexpected exception fails the test with its traceback
        check_code, check_out, check_err = _in_process(check_args, root, capsys, monkeypatch)
        run_code, run_out, run_err = _in_process(run_args, root, capsys, monkeypatch)
    file_name = PurePath(damaged).name

    assert "Traceback" not in check_out + check_err + run_out + run_err
    assert check_code == 1, check_out
    errors = [line for line in _error_lines(check_out) if file_name in line]
    assert len(errors) == 1, check_out
    assert all(s in errors[0] for s in says) and "fix:" in errors[0], errors[0]

    assert run_code == 1, run_err
    errors = _error_lines(run_err)
    assert len(errors) == 1 and file_name in errors[0] and "fix:" in errors[0], run_err
    assert all(s in errors[0] for s in says), errors[0]
    logged = [line for log in (root / "logs" / "register").glob("*.log") for line in _error_lines(log.read_text())]
    assert len(logged) == 1 and file_name in logged[0], logged
    # no partial output: nothing under data/processed/ but the hand-over, no export
    assert {p.name for p in (root / "data" / "processed").rglob("*") if p.is_file()} <= {"trainees.parquet"}
    assert not (root / "export").exists()


def _same_as_delivered(relative: str, columns: list[str], variant: bytes, tmp_path) -> None:
    from mentorwijs.register.extracts import read_extract

    write_register_fixture(tmp_path / "a")
    write_register_fixture(tmp_path / "b")
    (tmp_path / "b" / relative).write_bytes(variant)
    expected = read_extract(tmp_path / "a" / relative, columns, kind="test")
    assert read_extract(tmp_path / "b" / relative, columns, kind="test").equals(expected)


def _payroll_text(tmp_path) -> str:
    write_register_fixture(tmp_path / "plain")
    return (tmp_path / "plain" / P2019).read_text(encoding="utf-8")


#: Legitimate variations of a CSV export: read as the plain file, not refused.
VARIANTS = {
    "utf-8 with BOM": lambda t: ("\ufeff" + t).encode("utf-8"),
    "CRLF line ends": lambda t: t.replace("\n", "\r\n").encode(),
    "BOM and CRLF": lambda t: ("\ufeff" + t.replace("\n", "\r\n")).encode("utf-8"),
    "UTF-16 (Excel 'Unicode text')": lambda t: t.replace(",", "\t").encode("utf-16"),
    "tab separated": lambda t: t.replace(",", "\t").encode(),
    "semicolon separated": lambda t: t.replace(",", ";").encode(),
    "quoted header and values": lambda t: "\n".join(",".join(f'"{v}"' for v in line.split(","))
                                                    for line in t.splitlines()).encode(),
    "blanks and lower case in the header": lambda t: (", ".join(c.lower() for c in t.splitlines()[0].split(",")) + "\n"
                                                      + t.split("\n", 1)[1]).encode(),
    "blank lines at the end": lambda t: (t + "\n\n").encode(),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_legitimate_variation_of_a_csv_export_is_read_as_the_plain_file(variant, tmp_path):
    from support.register_fixture import PAYROLL_COLUMNS

    text = _payroll_text(tmp_path)
    _same_as_delivered(P2019, PAYROLL_COLUMNS, VARIANTS[variant](text), tmp_path)


def test_windows_1252_text_after_the_first_block_is_read(tmp_path):
    from mentorwijs.register.extracts import read_extract

    frame = pd.concat([read_fixture("municipality_regions.csv")] * 3000, ignore_index=True)  # > 64 kB
    frame.loc[len(frame) - 1, "arbeidsmarktregio"] = "Fryslân"
    path = tmp_path / "regions.csv"
    write_csv(frame, path, encoding="cp1252")
    assert path.stat().st_size > 65536
    table = read_extract(path, ["jaar", "arbeidsmarktregio"], kind="test")
    assert table["arbeidsmarktregio"][-1].as_py() == "Fryslân" and table.num_rows == len(frame)


def test_decimal_commas_and_semicolons_give_the_same_person_months(tmp_path):
    plain = write_register_fixture(tmp_path / "plain")
    run_steps(plain, tmp_path / "plain", until="register_payroll")
    dutch = write_register_fixture(tmp_path / "dutch")
    for path in FILES["payroll"]:
        frame = pd.read_csv(tmp_path / "dutch" / path, dtype=str, keep_default_na=False)
        frame["SBASISUREN"] = frame["SBASISUREN"].str.replace(".", ",", regex=False) + ",0"
        frame["SLNINGLD"] = frame["SLNINGLD"] + ",00"
        write_csv(frame, tmp_path / "dutch" / path, sep=";", line_end="\r\n", bom=True)
    run_steps(dutch, tmp_path / "dutch", until="register_payroll")
    for name in ("person_months", "employer_months"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "plain" / PATHS[name]),
                                      pd.read_parquet(tmp_path / "dutch" / PATHS[name]))


def test_a_person_number_stored_as_a_number_in_the_sav_file_still_links(tmp_path):
    persons = read_fixture("persons.csv")
    plain = write_register_fixture(tmp_path / "plain")
    run_steps(plain, tmp_path / "plain", until="register_persons")
    config = write_register_fixture(tmp_path / "numeric")
    write_sav(persons.assign(RINPERSOON=persons["RINPERSOON"].astype(int),
                             GBAGEBOORTEJAAR=persons["GBAGEBOORTEJAAR"].astype(float)),
              tmp_path / "numeric" / FILES["persons"])
    run_steps(config, tmp_path / "numeric", until="register_persons")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "plain" / PATHS["persons"]),
                                  pd.read_parquet(tmp_path / "numeric" / PATHS["persons"]))


def test_an_empty_deaths_extract_is_a_logged_warning_not_an_error(tmp_path, caplog):
    config = write_register_fixture(tmp_path)
    path = tmp_path / FILES["deaths"]
    path.write_bytes(_lines(path)[0])
    with caplog.at_level("WARNING", logger="mentorwijs"):
        run_steps(config, tmp_path, until="register_persons")
    assert "GBAOVERLIJDEN2022TABV1.csv: the deaths extract has no data rows" in caplog.text
    assert pd.read_parquet(tmp_path / PATHS["persons"])["death_month"].isna().all()


def test_a_snakemake_rule_on_a_damaged_key_logs_one_error_line_and_no_traceback(fixture_template, tmp_path):
    snakemake = Path(sys.executable).with_name("snakemake")
    if not snakemake.is_file():
        pytest.skip("snakemake is not installed next to this Python")
    root = tmp_path / "study"
    shutil.copytree(fixture_template, root)
    shutil.copy(ROOT / "Snakefile", root / "Snakefile")
    shutil.copytree(ROOT / "workflow", root / "workflow", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "data" / "codebooks", root / "data" / "codebooks")
    (root / KEY).write_bytes(_lines(root / KEY)[0])
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(tmp_path)}
    result = subprocess.run([str(snakemake), "--cores", "1", "--nocolor", "data/interim/register/persons.parquet"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    logged = _error_lines((root / "logs" / "register" / "register_persons.log").read_text())
    assert len(logged) == 1 and "koppeltabel.csv" in logged[0] and "no data rows" in logged[0] and "fix:" in logged[0]
    assert not (root / PATHS["persons"]).exists()


def test_an_impossible_date_in_a_few_rows_is_a_logged_exclusion(tmp_path):
    rows = payroll_rows()
    rows.loc[rows.index[(rows["file"] == "2019") & (rows["RINPERSOON"] == "000000201")][:2],
             "SDATUMEINDEIKO"] = "20191345"
    config = write_register_fixture(tmp_path, payroll=rows)
    config["register"]["checks"]["max_bad_share"] = 0.05  # 3 of 196 rows (with the fixture's own bad start date)
    run_steps(config, tmp_path, until="register_payroll")
    excluded = pd.read_csv(tmp_path / PATHS["exclusions_payroll"]).set_index("reason")["n"]
    assert excluded["pay period start or end not a date"] == 3


def test_building_the_register_plan_does_not_load_the_effects_code():
    """A run that stops at a damaged extract in its first step exits without importing scipy or statsmodels."""
    code = ("import sys; from mentorwijs.config import load_config; "
            "from mentorwijs.register.steps import register_plan; "
            f"plan = register_plan(load_config({str(ROOT / 'config.yaml')!r})); "
            "print(sorted(m for m in ('scipy', 'statsmodels', 'mentorwijs.effects.tables') if m in sys.modules))")
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------
# check-register: rows read and excluded per extract, a warning above register.checks.warn_excluded_share


def _not_registered(root, n: int) -> None:
    """The first ``n`` of the 72 rows of the 2020 payroll file get RINPERSOONS S (excluded rows)."""
    frame = pd.read_csv(root / P2020, dtype=str, keep_default_na=False)
    frame.loc[frame.index[:n], "RINPERSOONS"] = "S"
    write_csv(frame, root / P2020)


def _check_register(root, capsys, *overrides: str) -> tuple[int, list[str]]:
    from mentorwijs.cli import main

    args = ["check-register", "--config", str(root / "config.yaml")]
    for override in overrides:
        args += ["--set", override]
    code = main(args)
    lines = [line for line in capsys.readouterr().out.splitlines()
             if "exclusions" in line and "SPOLISBUS2020V1.csv" in line]
    return code, lines


def test_check_register_lists_rows_read_and_excluded_by_reason_per_extract(fixture_template, tmp_path, capsys):
    root = tmp_path / "study"
    shutil.copytree(fixture_template, root)
    _not_registered(root, 5)
    code, lines = _check_register(root, capsys)
    assert code == 0
    assert lines == ["OK       exclusions         SPOLISBUS2020V1.csv: 72 rows read, 5 excluded (6.9%); "
                     "5 RINPERSOONS other than R"]


def test_check_register_does_not_warn_at_the_excluded_share(fixture_template, tmp_path, capsys):
    root = tmp_path / "study"
    shutil.copytree(fixture_template, root)
    _not_registered(root, 9)  # 9 of 72 = 12.5%, not more than 12.5%
    code, lines = _check_register(root, capsys, "register.checks.warn_excluded_share=0.125")
    assert code == 0 and len(lines) == 1 and lines[0].startswith("OK ") and "9 excluded (12.5%)" in lines[0]


def test_check_register_warns_when_an_extract_loses_more_than_the_excluded_share(fixture_template, tmp_path, capsys):
    root = tmp_path / "study"
    shutil.copytree(fixture_template, root)
    _not_registered(root, 10)  # 10 of 72 = 13.9% > 12.5%
    code, lines = _check_register(root, capsys, "register.checks.warn_excluded_share=0.125")
    assert code == 0
    assert lines == ["WARNING  exclusions         SPOLISBUS2020V1.csv: 72 rows read, 10 excluded (13.9%); "
                     "10 RINPERSOONS other than R; more than register.checks.warn_excluded_share (0.125): check that "
                     "the extract is complete and belongs to this delivery"]
    # the configured default (10%) applies without the override
    code, lines = _check_register(root, capsys)
    assert code == 0 and lines[0].startswith("WARNING ")


def test_the_cases_run_as_processes_are_cases_of_the_corpus():
    assert SUBPROCESS_CASES <= set(DAMAGED) and len(SUBPROCESS_CASES) < len(DAMAGED)


def test_the_run_logs_the_same_warning_when_an_extract_loses_more_than_the_excluded_share(tmp_path, caplog):
    config = write_register_fixture(tmp_path)
    _not_registered(tmp_path, 10)  # 10 of 72 rows of the 2020 payroll file
    config["register"]["checks"]["warn_excluded_share"] = 0.125
    with caplog.at_level("WARNING", logger="mentorwijs"):
        run_steps(config, tmp_path, until="register_payroll")
    assert ("SPOLISBUS2020V1.csv: 72 rows read, 10 excluded (13.9%); 10 RINPERSOONS other than R; more than "
            "register.checks.warn_excluded_share (0.125)") in caplog.text
    assert "SPOLISBUS2019V1.csv: 196 rows read" not in caplog.text  # 3 of 196 excluded: below the share


def test_a_share_exactly_at_the_limit_is_not_above_it_despite_rounding():
    from mentorwijs.register.check import many_excluded

    # 0.29 * 100 is 28.999999999999996 in floating point: 29 of 100 rows is still at the limit
    assert many_excluded(100, [(29, "RINPERSOONS other than R")], threshold=0.29) is None
    assert many_excluded(100, [(30, "RINPERSOONS other than R")], threshold=0.29).startswith(
        "100 rows read, 30 excluded")
