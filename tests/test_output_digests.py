"""tools/output_digests.py: the list of the default study's output digests and its comparison."""

from __future__ import annotations

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import output_digests as od  # noqa: E402


def test_a_written_list_reads_back_with_its_pdf_libraries_and_numerics():
    table = {"data/processed/panel.parquet": "a" * 64, "reports/report.pdf": "b" * 64}
    made_with = od.Environment("pango 1.50.12, fonttools-subset", "x86_64, openblas kernels Haswell, numpy without X")
    assert od.parse(od.render(table, made_with)) == (table, made_with)


def _run(folder, files, numerics):
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "reports").mkdir(exist_ok=True)
    (folder / "reports" / "provenance.json").write_text(json.dumps({"numerics": numerics}))
    return folder


def test_a_run_with_other_numerical_kernels_is_compared_by_its_files_only(tmp_path):
    run = _run(tmp_path, {"data/processed/pairs.parquet": "other bits"}, "aarch64, openblas kernels per processor")
    expected = od.digests(run) | {"data/processed/pairs.parquet": "0" * 64}
    made_with = od.Environment(od.pdf_libraries(), "x86_64, openblas kernels Haswell")
    problems, notes = od.check(expected, made_with, run)
    assert problems == [] and "only the list of files" in notes[0]
    problems, _ = od.check(expected | {"reports/extra.csv": "1" * 64}, made_with, run)
    assert problems == ["missing  reports/extra.csv"]
    same = od.Environment(od.pdf_libraries(), "aarch64, openblas kernels per processor")
    assert od.check(expected, same, run) == (["differs  data/processed/pairs.parquet"], [])


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
    table, made_with = od.parse((ROOT / "tests" / "fixtures" / "default_outputs.sha256").read_text(encoding="utf-8"))
    assert made_with.pdf.startswith("pango ") and made_with.numerics.startswith("x86_64, openblas kernels Haswell")
    for prefix in ("data/raw/synthetic/", "data/processed/results/", "export/tables/", "reports/tables/",
                   "reports/figures/", "reports/report.pdf", "reports/factsheet.pdf"):
        assert any(path.startswith(prefix) for path in table), prefix
