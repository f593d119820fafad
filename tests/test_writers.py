"""The export writers give the same bytes whatever the time zone, locale and moment."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pyreadstat

from mentorwijs.simulate.writers import write_dutch_excel_csv, write_sav

SCRIPT = textwrap.dedent(
    """
    import sys, pandas as pd
    from mentorwijs.simulate.writers import write_sav, write_xlsx
    df = pd.DataFrame({"RINPERSOONS": ["R", "S"], "score": [1.0, -99.0]})
    write_sav(df, sys.argv[1] + "/a.sav", missing_ranges={"score": [{"lo": -99, "hi": -95}]})
    write_xlsx({"Study results": df, "Field options": df}, sys.argv[1] + "/a.xlsx")
    """
)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sav_and_xlsx_are_byte_identical_across_time_zones_and_runs(tmp_path):
    digests = []
    for i, tz in enumerate(["UTC", "Asia/Tokyo"]):
        folder = tmp_path / str(i)
        folder.mkdir()
        env = dict(os.environ, TZ=tz, LC_ALL="C", PYTHONHASHSEED=str(i + 7))
        subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], check=True, env=env)
        digests.append((_digest(folder / "a.sav"), _digest(folder / "a.xlsx")))
    assert digests[0] == digests[1]


def test_sav_keeps_declared_user_missing_range(tmp_path):
    df = pd.DataFrame({"score": [3.0, -97.0]})
    write_sav(df, tmp_path / "m.sav", missing_ranges={"score": [{"lo": -99, "hi": -95}]})
    data, meta = pyreadstat.read_sav(str(tmp_path / "m.sav"), user_missing=True)
    assert data["score"].tolist() == [3.0, -97.0]
    assert meta.missing_ranges["score"] == [{"lo": -99.0, "hi": -95.0}]


def test_dutch_excel_csv_uses_semicolon_decimal_comma_crlf_cp1252(tmp_path):
    df = pd.DataFrame({"regio": ["Helmond-De Peel"], "uren": [6.5], "naam": ["Renée"]})
    write_dutch_excel_csv(df, tmp_path / "x.csv")
    raw = (tmp_path / "x.csv").read_bytes()
    assert raw == "regio;uren;naam\r\nHelmond-De Peel;6,5;Renée\r\n".encode("cp1252")


# ------------------------------------------------------------------------------------ file modes


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_under(mask: int, path, private: bool) -> int:
    from mentorwijs.tables import atomic_write

    before = os.umask(mask)
    try:
        atomic_write(path, b"x\n", private=private)
    finally:
        os.umask(before)
    return path.stat().st_mode & 0o777


def test_atomic_write_gives_the_usual_mode_of_a_new_file_and_0600_to_private_files(tmp_path):
    # what the operating system gives a file a program creates under the same umask
    for mask in (0o022, 0o027, 0o002):
        plain = tmp_path / f"plain-{mask:o}"
        before = os.umask(mask)
        try:
            plain.write_bytes(b"x\n")
        finally:
            os.umask(before)
        assert _write_under(mask, tmp_path / f"table-{mask:o}.csv", private=False) == plain.stat().st_mode & 0o777
        assert _write_under(mask, tmp_path / f"ids-{mask:o}.csv", private=True) == 0o600
    assert _write_under(0o022, tmp_path / "table-022.csv", private=False) == 0o644


def test_replacing_a_private_file_with_a_shared_one_and_back_sets_the_mode_each_time(tmp_path):
    path = tmp_path / "t.csv"
    assert _write_under(0o022, path, private=True) == 0o600
    assert _write_under(0o022, path, private=False) == 0o644
    assert _write_under(0o022, path, private=True) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]  # no temporary file left


def test_export_files_are_readable_by_others_under_the_usual_umask(tmp_path):
    from conftest import FIXTURES
    from mentorwijs.disclosure import export_tables
    from test_disclosure import POLICY

    before = os.umask(0o022)
    try:
        export_tables(FIXTURES / "results", tmp_path / "export", POLICY)
    finally:
        os.umask(before)
    files = [p for p in (tmp_path / "export").rglob("*") if p.is_file()]
    assert len(files) > 10 and {p.stat().st_mode & 0o777 for p in files} == {0o644}
    assert (tmp_path / "export" / "output_check_log.csv") in files
