"""Render docs/factsheet-page1.png: page 1 of the Dutch factsheet of the synthetic study.

    PYTHONPATH=src python docs/factsheet_picture.py [TABLES_DIR]

TABLES_DIR defaults to the fixture tables of the default scenario (tests/fixtures/tables/
default); after `make report` pass reports/tables. Needs Ghostscript (`gs`) to turn the PDF
page into a PNG; the documents themselves do not.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mentorwijs.aggregates import read_aggregate_tables
from mentorwijs.figures import draw_figures
from mentorwijs.messages import load_messages
from mentorwijs.report import ReportSettings, write_factsheet

ROOT = Path(__file__).resolve().parents[1]


def main(tables_dir: str | None = None) -> None:
    if shutil.which("gs") is None:
        sys.exit("Ghostscript (gs) is needed to turn the PDF page into a PNG")
    source = Path(tables_dir) if tables_dir else ROOT / "tests" / "fixtures" / "tables" / "default"
    tables = read_aggregate_tables(source)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        draw_figures(tables, out / "figures", load_messages("nl"), synthetic=True, names=["factsheet"])
        write_factsheet(tables, out / "figures", ReportSettings(language="nl", synthetic=True),
                        pdf_path=out / "factsheet.pdf")
        target = ROOT / "docs" / "factsheet-page1.png"
        subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=png16m", "-r80", "-dTextAlphaBits=4",
                        "-dGraphicsAlphaBits=4", "-dFirstPage=1", "-dLastPage=1", f"-sOutputFile={target}",
                        str(out / "factsheet.pdf")], check=True)
    print(f"wrote {target.relative_to(ROOT).as_posix()}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
