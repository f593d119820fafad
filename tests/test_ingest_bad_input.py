"""Bad input on the questionnaire side: each case is a clear error (exit 1, a message naming
file, row or column, problem and fix, no traceback) or a logged exclusion or warning (exit 0).

Every case copies the fixture study, breaks one thing and runs `mentorwijs check` (the validator
the pipeline shares) or the pipeline itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from support.fixture_study import KEY_HEX, make_study, set_wave
from mentorwijs.cli import main
from mentorwijs.config import load_config
from mentorwijs.errors import InputError
from mentorwijs.ingest import run_questionnaires

T0 = "data/raw/fixture/castor/T0.csv"
T1 = "data/raw/fixture/castor/T1.csv"
QT = "data/raw/fixture/qualtrics/werknemers.csv"
SCHEDULE = "data/raw/fixture/study/trainingen.csv"
INVITATIONS = "data/raw/fixture/study/uitnodigingen.csv"


def _edit(root: Path, rel: str, old: str, new: str, *, count: int = 1, encoding: str = "utf-8") -> None:
    path = root / rel
    text = path.read_bytes().decode(encoding)
    assert old in text, (rel, old)
    path.write_bytes(text.replace(old, new, count).encode(encoding))


def _config(root: Path, change) -> None:
    path = root / "config.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _codebook(root: Path, name: str, change) -> None:
    path = root / "data" / "codebooks" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _drop_column(root: Path, rel: str, column: str, sep: str = ";") -> None:
    path = root / rel
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    index = lines[0].split(sep).index(column)
    lines = [sep.join(c for i, c in enumerate(line.split(sep)) if i != index) for line in lines]
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode("utf-8"))


def _truncate(root: Path, rel: str, cut: int) -> None:
    path = root / rel
    data = path.read_bytes().rstrip(b"\r\n")
    path.write_bytes(data[:-cut])


# (case id, how to break the study, file, source, wave, exit code, words the message must hold)
CASES = [
    ("file-does-not-exist", lambda r: (r / T1).unlink(), T1, "supervisors", "T1", 1, ["does not exist", "fix:"]),
    ("folder-not-file", lambda r: ((r / T1).unlink(), (r / T1).mkdir()), T1, "supervisors", "T1", 1, ["folder"]),
    ("empty-file", lambda r: (r / T1).write_bytes(b""), T1, "supervisors", "T1", 1, ["empty"]),
    ("header-without-data", lambda r: (r / T1).write_bytes((r / T1).read_bytes().splitlines(True)[0]), T1,
     "supervisors", "T1", 1, ["no data rows", "row 2"]),
    ("qualtrics-header-rows-only", lambda r: (r / QT).write_bytes(b"".join((r / QT).read_bytes().splitlines(True)[:3])),
     QT, "employees", "T0", 1, ["no data rows", "row 4"]),
    ("unsniffable-encoding", lambda r: (r / T1).write_bytes((r / T1).read_bytes() + b"A1-0999;\x81\x8d;\n"), T1,
     "supervisors", "T1", 1, ["encoding", "row 12", "UTF-8"]),
    ("utf16-file", lambda r: (r / T0).write_bytes((r / T0).read_text(encoding="utf-8").encode("utf-16")), T0,
     "supervisors", "T0", 1, ["UTF-16"]),
    ("binary-file-as-csv", lambda r: (r / T0).write_bytes(b"PK\x03\x04\x00\x00binary"), T0, "supervisors", "T0", 1,
     ["not text"]),
    ("comma-instead-of-semicolon", lambda r: (r / T0).write_text((r / T0).read_text(encoding="utf-8").replace(";", ","),
                                                                encoding="utf-8"), T0, "supervisors", "T0", 1,
     ["',' (comma)", "';' (semicolon)", "castor_survey", "separator"]),
    ("semicolon-in-qualtrics", lambda r: (r / QT).write_text((r / QT).read_text(encoding="utf-8").replace(",", ";"),
                                                            encoding="utf-8"), QT, "employees", "T0", 1,
     ["';' (semicolon)", "',' (comma)", "qualtrics"]),
    ("missing-declared-column", lambda r: _drop_column(r, T1, "kennis_2"), T1, "supervisors", "T1", 1,
     ["'kennis_2'", "knowledge_2", "missing", "wave T1", "supervisors.yaml"]),
    ("missing-metadata-column", lambda r: _drop_column(r, T1, "Survey Progress"), T1, "supervisors", "T1", 1,
     ["Survey Progress", "missing"]),
    ("truncated-last-row", lambda r: _truncate(r, T1, 12), T1, "supervisors", "T1", 1,
     ["truncated", "row 11", "without a line break"]),
    ("open-quote", lambda r: (r / T0).write_bytes((r / T0).read_bytes() + b'A0-0999;010001;"never closed\n'), T0,
     "supervisors", "T0", 1, ["open quote", "row 16"]),
    ("row-with-extra-field", lambda r: _edit(r, T0, ";Goed - maar kort dag", ";Goed; maar kort dag"), T0,
     "supervisors", "T0", 1, ["row 10", "fields", "header has 22"]),
    ("labels-instead-of-codes",
     lambda r: (r / T1).write_text(_labels_for_codes((r / T1).read_text(encoding="utf-8-sig")), encoding="utf-8"),
     T1, "supervisors", "T1", 1, ["no cell of this column is a number", "kennis_1", "codes"]),
    ("month-first-dates",
     lambda r: _edit(r, SCHEDULE, "02-09-2019;30-09-2019", "09-02-2019;09-30-2019", encoding="cp1252"),
     SCHEDULE, "schedule", None, 1, ["month-first", "datum_laatste_bijeenkomst", "row 2"]),
    ("unknown-wave-option", lambda r: None, T1, "supervisors", "T7", 1, ["unknown wave 'T7'", "config.yaml"]),
    ("unknown-wave-in-config", lambda r: _config(r, lambda c: c["sources"]["employees"]["waves"].update(
        {"T5": "data/raw/fixture/qualtrics/werknemers_vervolg.csv"})),
     "data/raw/fixture/qualtrics/werknemers_vervolg.csv", "employees", "T5", 1, ["wave T5 is unknown to the codebook"]),
    ("wave-file-not-in-file", lambda r: set_wave(r / "config.yaml", "supervisors", "T2", T1), T1, "supervisors", "T2",
     1, ["no survey of wave T2", "Mentorwijs T2", "Mentorwijs T1"]),
    ("duplicate-header", lambda r: _edit(r, T0, ";kennis_2;", ";kennis_1;"), T0, "supervisors", "T0", 1,
     ["twice", "kennis_1"]),
    ("format-mismatch", lambda r: _codebook(r, "supervisors", lambda c: c.update(format="qualtrics")), T0,
     "supervisors", "T0", 1, ["format", "castor_survey", "qualtrics"]),
    ("unknown-source", lambda r: None, T0, "leidinggevenden", None, 1, ["unknown source", "supervisors"]),
    ("file-not-named-in-config", lambda r: (r / "data/raw/fixture/castor/other.csv").write_bytes((r / T0).read_bytes()),
     "data/raw/fixture/castor/other.csv", "supervisors", None, 1, ["not named for any wave", "--wave"]),
    ("conflicting-duplicates-with-error-policy", lambda r: _config(r, lambda c: c["ingest"].update(duplicates="error")),
     T0, "supervisors", "T0", 1, ["conflicting answers", "rows 14 and 9"]),
    ("not-an-spss-file", lambda r: _spss_source(r), T0, "extra", "T0", 1, ["not an SPSS data file"]),
    ("damaged-workbook", lambda r: (r / "data/raw/fixture/castor/study_export.xlsx").write_bytes(b"PK\x03\x04 damaged"),
     "data/raw/fixture/castor/study_export.xlsx", "supervisors_study", "T0", 1, ["workbook cannot be read"]),
    # row-level problems: warnings and logged exclusions, exit 0
    ("conflicting-duplicates-default", lambda r: None, T0, "supervisors", "T0", 0,
     ["excluded 1: duplicate submission with conflicting answers (the latest complete one kept)",
      "duplicate id with conflicting answers"]),
    ("undeclared-column", lambda r: _add_column(r, T1, "kennis_9", "3"), T1, "supervisors", "T1", 0,
     ["warning: column 'kennis_9' is not declared in", "supervisors.yaml for wave T1: it is not read",
      "'raw: kennis_9'", "4 warning(s)"]),
    ("optional-column-absent",
     lambda r: (_codebook(r, "supervisors", _optional("remark")), _drop_column(r, T1, "opmerking")),
     T1, "supervisors", "T1", 0,
     ["warning: optional column 'opmerking' (item remark) is absent", "remark will be missing"]),
    # a file from which no row survives the cleaning rules: an error naming the dominant reason
    ("every-id-fails-the-pattern", lambda r: _every_id(r, "uitnodigingen.csv", lambda i: "ID" + i), INVITATIONS,
     "invitations", None, 1, ["no row survives the cleaning rules", "all 12 rows are excluded",
                              "12 of them as 'id does not match the codebook's pattern'", "id.pattern"]),
    ("every-submission-incomplete", lambda r: _edit(r, T1, ";100;", ";60;", count=-1), T1, "supervisors", "T1", 1,
     ["no row survives", "'incomplete'", "ingest.keep_incomplete"]),
    ("text-in-numeric-item", lambda r: None, T1, "supervisors", "T1", 0,
     ["'extra_uren' (extra_hours): not a number: 'veel'"]),
    ("unknown-missing-code", lambda r: None, T1, "supervisors", "T1", 0,
     ["unknown missing code: '##USER_MISSING_91##'"]),
    ("impossible-date", lambda r: None, QT, "employees", "T0", 0, ["row 18", "impossible date: '2019-02-30'"]),
    ("out-of-range-answer", lambda r: None, T0, "supervisors", "T0", 0, ["row 6", "out of range [1, 5]: '7'"]),
    ("stripped-leading-zeros", lambda r: None, T1, "supervisors", "T1", 0,
     ["row 10", "id repaired (leading zeros restored)"]),
    ("id-not-matching-pattern", lambda r: _edit(r, T0, ";010004;", ";01OOO4;"), T0, "supervisors", "T0", 0,
     ["excluded 1: id does not match the codebook's pattern"]),
    ("qualtrics-preview-test-spam", lambda r: None, QT, "employees", "T0", 0,
     ["(survey preview) not kept", "(survey test) not kept", "(spam) not kept", "not finished"]),
    ("test-site", lambda r: None, T0, "supervisors", "T0", 0, ["excluded 1: test participant (site TES)"]),
    ("unknown-multiselect-option", lambda r: None, QT, "employees", "T0", 0, ["row 17", "unknown option: '9'"]),
    ("separator-override", lambda r: ((r / T0).write_text((r / T0).read_text(encoding="utf-8").replace(";", ","),
                                                          encoding="utf-8"),
                                      _config(r, lambda c: c["sources"]["supervisors"].update(separator=","))),
     T0, "supervisors", "T0", 0, ["9 kept"]),
]


def _add_column(root: Path, rel: str, name: str, value: str, sep: str = ";") -> None:
    path = root / rel
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    lines = [lines[0] + sep + name] + [line + sep + value for line in lines[1:]]
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode("utf-8"))


def _optional(item: str):
    def change(codebook: dict) -> None:
        for entry in codebook["items"]:
            if entry["name"] == item:
                entry["required"] = False
    return change


def _every_id(root: Path, name: str, change) -> None:
    path = root / "data/raw/fixture/study" / name
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    lines = lines[:1] + [change(line.split(";", 1)[0]) + ";" + line.split(";", 1)[1] for line in lines[1:]]
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(lines) + "\n").encode("utf-8"))


def _labels_for_codes(text: str) -> str:
    """Castor exported the labels instead of the codes for kennis_1 (the 10th column)."""
    lines = text.splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(";")
        cells[9] = {"1": "helemaal oneens", "2": "oneens", "3": "neutraal", "4": "eens",
                    "5": "helemaal eens"}.get(cells[9], cells[9])
        out.append(";".join(cells))
    return "\n".join(out) + "\n"


def _spss_source(root: Path) -> None:
    """A source declared as SPSS whose file is a Castor CSV."""
    _config(root, lambda c: c["sources"].update(
        extra={"format": "spss", "codebook": "data/codebooks/extra.yaml", "waves": {"T0": T0}}))
    _codebook_copy(root)


def _codebook_copy(root: Path) -> None:
    data = yaml.safe_load((root / "data/codebooks/supervisors.yaml").read_text(encoding="utf-8"))
    data.update(instrument="extra", format="spss")
    (root / "data/codebooks/extra.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("case, breaker, rel, source, wave, code, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error_or_a_logged_warning(tmp_path, capsys, case, breaker, rel, source, wave, code,
                                                        words):
    root = make_study(tmp_path / "study")
    breaker(root)
    args = ["check", str(root / rel), "--source", source, "--config", str(root / "config.yaml")]
    if wave:
        args += ["--wave", wave]
    exit_code = main(args)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert exit_code == code, text
    assert "Traceback" not in text
    for word in words:
        assert word in text, (word, text)
    if code == 1:
        errors = [line for line in captured.err.splitlines() if line.startswith("ERROR mentorwijs check: ")]
        assert len(errors) == 1 and "; fix: " in errors[0], captured.err
    else:
        assert "OK: no errors" in captured.out


def test_at_least_25_distinct_bad_input_cases():
    assert len({c[0] for c in CASES}) >= 25


def test_an_error_is_one_message_without_traceback_from_the_command_line(tmp_path):
    root = make_study(tmp_path / "study")
    _truncate(root, T1, 12)
    result = subprocess.run([sys.executable, "-m", "mentorwijs", "check", T1, "--source", "supervisors"], cwd=root,
                            capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"ERROR mentorwijs check: file {T1}, row 11:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_pipeline_stops_on_an_erroneous_input_and_writes_nothing(tmp_path):
    root = make_study(tmp_path / "study")
    _drop_column(root, T1, "kennis_2")
    with pytest.raises(InputError, match="kennis_2"):
        run_questionnaires(load_config(root / "config.yaml"), root, key=bytes.fromhex(KEY_HEX), progress=lambda s: None)
    assert (not (root / "data/interim").exists() and not (root / "reports").exists()
            and not (root / "data/processed").exists())


def test_pipeline_logs_a_supervisor_reference_that_resolves_to_nobody(tmp_path):
    root = make_study(tmp_path / "study")
    run_questionnaires(load_config(root / "config.yaml"), root, key=bytes.fromhex(KEY_HEX), progress=lambda s: None)
    excluded = pd.read_csv(root / "data/interim/exclusions/trainees.csv", dtype=str)
    assert (excluded["reason"] == "supervisor reference resolves to nobody").sum() == 1


def test_a_real_study_without_a_key_stops_with_a_clear_error(tmp_path, monkeypatch):
    root = make_study(tmp_path / "study")
    monkeypatch.delenv("MENTORWIJS_KEY", raising=False)
    monkeypatch.delenv("MENTORWIJS_KEY_FILE", raising=False)
    with pytest.raises(InputError, match="needs a secret key"):
        run_questionnaires(load_config(root / "config.yaml"), root, progress=lambda s: None)
    monkeypatch.setenv("MENTORWIJS_KEY", "zz" * 16)
    with pytest.raises(InputError, match="not hexadecimal"):
        run_questionnaires(load_config(root / "config.yaml"), root, progress=lambda s: None)
    assert not (root / "data/interim").exists()


def test_one_text_answer_in_a_sparse_numeric_column_is_a_warning_not_an_error(tmp_path, capsys):
    """extra_uren is answered only after 'yes': a column whose only answer is text is one bad row."""
    root = make_study(tmp_path / "study")
    text = (root / T1).read_text(encoding="utf-8-sig")
    for value in (";4.5\n", ";3\n", ";1.5\n", ";2\n"):
        text = text.replace(value, ";\n")
    (root / T1).write_text(text, encoding="utf-8")
    assert main(["check", str(root / T1), "--source", "supervisors", "--config", str(root / "config.yaml")]) == 0
    assert "not a number: 'veel'" in capsys.readouterr().out


def test_the_exclusion_listing_groups_by_reason_with_details_under_verbose(tmp_path, capsys):
    root = make_study(tmp_path / "study")
    args = ["check", str(root / T0), "--source", "supervisors", "--config", str(root / "config.yaml")]
    assert main(args) == 0
    out = capsys.readouterr().out
    # three incomplete submissions (progress 0, 0 and 40) are one line
    assert "  excluded 3: incomplete (progress 0% to 40%)\n" in out
    assert "(progress 40%)" not in out and "row 14 kept" not in out
    assert main(args + ["--verbose"]) == 0
    out = capsys.readouterr().out
    assert ("  excluded 3: incomplete (progress 0% to 40%)\n      2: incomplete (progress 0%)\n"
            "      1: incomplete (progress 40%)\n" in out)
    assert "      1: duplicate submission with conflicting answers: row 14 kept (latest complete)" in out


def test_a_column_declared_for_another_wave_only_is_a_warning_saying_how_to_read_it(tmp_path, capsys):
    root = make_study(tmp_path / "study")
    _add_column(root, T0, "extra_uren", "")  # declared from T1 on
    assert main(["check", str(root / T0), "--source", "supervisors", "--config", str(root / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert ("column 'extra_uren' is declared in" in out
            and "(item extra_hours) but not for wave T0: it is not read" in out)


def _first_ids_fail_the_pattern(root: Path, n: int) -> None:
    """The first ``n`` of the 12 invitations get an id the codebook's pattern refuses (excluded rows)."""
    seen = []

    def change(identifier: str) -> str:
        seen.append(identifier)
        return "ID" + identifier if len(seen) <= n else identifier
    _every_id(root, "uitnodigingen.csv", change)


def test_a_file_with_excluded_rows_at_the_configured_share_gets_no_warning(tmp_path, capsys):
    root = make_study(tmp_path / "study")
    _first_ids_fail_the_pattern(root, 3)  # 3 of 12 = 25%, not more than 25%
    _config(root, lambda c: c["ingest"].update(warn_excluded_share=0.25))
    assert main(["check", str(root / INVITATIONS), "--source", "invitations", "--config",
                 str(root / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "12 rows, 9 kept, 3 excluded" in out
    assert "warn_excluded_share" not in out and "OK: no errors, 0 warning(s)" in out


def test_a_file_with_excluded_rows_above_the_configured_share_warns_naming_file_share_count_and_reason(
    tmp_path, capsys
):
    root = make_study(tmp_path / "study")
    _first_ids_fail_the_pattern(root, 4)  # 4 of 12 = 33.3% > 25%
    _config(root, lambda c: c["ingest"].update(warn_excluded_share=0.25))
    assert main(["check", str(root / INVITATIONS), "--source", "invitations", "--config",
                 str(root / "config.yaml")]) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if "warn_excluded_share" in line]
    assert len(warnings) == 1, out
    assert warnings[0].startswith(f"  warning: {(root / INVITATIONS).as_posix()}: 4 of 12 rows excluded (33.3%), "
                                  "more than ingest.warn_excluded_share (0.25); "
                                  "most as 'id does not match the codebook's pattern' (4 rows)"), warnings[0]
    assert "OK: no errors, 1 warning(s)" in out


def test_the_excluded_share_option_overrides_the_configured_share(tmp_path, capsys):
    root = make_study(tmp_path / "study")
    _first_ids_fail_the_pattern(root, 4)
    _config(root, lambda c: c["ingest"].update(warn_excluded_share=0.25))
    args = ["check", str(root / INVITATIONS), "--source", "invitations", "--config", str(root / "config.yaml")]
    assert main(args + ["--warn-excluded-share", "0.4"]) == 0
    assert "warn_excluded_share" not in capsys.readouterr().out
    _config(root, lambda c: c["ingest"].pop("warn_excluded_share"))  # without the key: the default, 50%
    assert main(args) == 0
    assert "warn_excluded_share" not in capsys.readouterr().out
    assert main(args + ["--warn-excluded-share", "0.3"]) == 0
    assert "4 of 12 rows excluded (33.3%), more than ingest.warn_excluded_share (0.3)" in capsys.readouterr().out


def test_an_excluded_share_outside_0_to_1_is_an_error(tmp_path, capsys):
    root = make_study(tmp_path / "study")
    args = ["check", str(root / INVITATIONS), "--source", "invitations", "--config", str(root / "config.yaml")]
    assert main(args + ["--warn-excluded-share", "20"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR mentorwijs check: ") and "between 0 and 1" in err
