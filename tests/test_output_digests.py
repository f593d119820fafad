"""tools/output_digests.py: the list of the default study's output digests and its comparison."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import output_digests as od  # noqa: E402


def test_a_written_list_reads_back_with_its_pdf_libraries():
    table = {"data/processed/panel.parquet": "a" * 64, "reports/report.pdf": "b" * 64}
    assert od.parse(od.render(table, "pango 1.50.12, fonttools-subset")) == (table, "pango 1.50.12, fonttools-subset")


def test_comparison_names_changed_missing_and_new_files_and_skips_only_pdfs_when_asked():
    expected = {"a.csv": "1", "b.csv": "2", "c.pdf": "3"}
    found = {"a.csv": "1", "b.csv": "x", "c.pdf": "y", "d.csv": "4"}
    assert od.compare(expected, found, skip_pdf=False) == ["differs  b.csv", "differs  c.pdf", "new      d.csv"]
    assert od.compare(expected, found, skip_pdf=True) == ["differs  b.csv", "new      d.csv"]
    assert od.compare(expected, {"a.csv": "1"}, skip_pdf=True) == ["missing  b.csv"]


def test_inputs_logs_and_engine_state_are_not_outputs(tmp_path):
    for name in ("Snakefile", "config.yaml", "workflow/rules/x.smk", "data/codebooks/c.yaml", "logs/a.log",
                 ".snakemake/x", "data/processed/panel.parquet", "reports/report.pdf"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(name.encode())
    assert list(od.digests(tmp_path)) == ["data/processed/panel.parquet", "reports/report.pdf"]


def test_the_committed_list_covers_every_part_of_the_workflow():
    table, libraries = od.parse((ROOT / "tests" / "fixtures" / "default_outputs.sha256").read_text(encoding="utf-8"))
    assert libraries.startswith("pango ")
    for prefix in ("data/raw/synthetic/", "data/processed/results/", "export/tables/", "reports/tables/",
                   "reports/figures/", "reports/report.pdf", "reports/factsheet.pdf"):
        assert any(path.startswith(prefix) for path in table), prefix
