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
