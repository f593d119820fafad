"""The exploration notebooks: committed clean, reading only contract files, and executable.

Executing them needs the outputs of a workflow run. The end-to-end test runs the workflow once
and calls :func:`notebook_runner.run_notebook` on both notebooks there; here they are executed
only when ``MENTORWIJS_NOTEBOOK_ROOT`` names a folder the workflow ran in, e.g.::

    MENTORWIJS_NOTEBOOK_ROOT=$PWD PYTHONPATH=src python -m pytest tests/test_notebooks.py

The runner itself is tested on small notebooks written here (a kernel start each, a few seconds).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT
from mentorwijs.contracts import REGISTER_TABLES, TABLE_NAMES
from support.notebook_runner import NotebookError, clear_outputs, run_notebook

NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_NAMES = ("employment_effects.ipynb", "supervisors.ipynb")

#: design.md's data contracts under data/processed/ (and the trainee hand-over of docs/canonical-names.md).
PROCESSED_TABLES = ("candidates", "pairs", "matched", "panel", "survival", "supervisors_long", "trainees")

#: Files each notebook must read: the inputs it recomputes from and the tables it checks.
REQUIRED_READS = {
    "employment_effects.ipynb": {
        "data/processed/panel.parquet",
        "data/processed/results/did_by_month.csv",
        "reports/tables/did_by_month.csv",
        "data/processed/results/trajectories.csv",
        "reports/tables/trajectories.csv",
    },
    "supervisors.ipynb": {
        "data/processed/supervisors_long.parquet",
        "data/interim/supervisors.parquet",
        "reports/tables/process.csv",
        "reports/tables/supervisor_effects.csv",
    },
}

#: A string constant that names a file: a relative path with a data extension, or under a data folder.
FILE_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)*\.(parquet|csv|json|ya?ml|xlsx|sav|txt|sqlite|pkl|feather)$")
DATA_FOLDER = re.compile(r"^(data|reports|export|logs)/")


def contract_files() -> set[str]:
    """Every file a notebook may read: the contracts of design.md and mentorwijs.contracts."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    files = {"config.yaml", "reports/provenance.json"}
    files |= {f"data/processed/{name}.parquet" for name in PROCESSED_TABLES}
    files |= {f"data/interim/{source}.parquet" for source in config["sources"]}
    files |= {f"data/processed/results/{name}.csv" for name in REGISTER_TABLES}
    files |= {f"export/tables/{name}.csv" for name in REGISTER_TABLES}
    files |= {f"reports/tables/{name}.csv" for name in TABLE_NAMES}
    return files


def code_cells(name: str) -> list[str]:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def string_constants(source: str) -> list[str]:
    return [node.value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_is_committed_without_outputs(name):
    text = (NOTEBOOKS / name).read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert nbformat.reads(text, as_version=nbformat.NO_CONVERT).nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    for number, cell in enumerate(code, start=1):
        assert cell.outputs == [], f"code cell {number} has outputs: clear them before committing"
        assert cell.execution_count is None, f"code cell {number} has an execution count"
    parameters = code[0]
    assert parameters.metadata.get("tags") == ["parameters"], "the first code cell is the tagged parameters cell"
    assert "MENTORWIJS_ROOT" in parameters.source


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_reads_only_contract_files(name):
    allowed = contract_files()
    named = set()
    for source in code_cells(name):
        for value in string_constants(source):
            if FILE_NAME.match(value) or DATA_FOLDER.match(value):
                named.add(value)
        assert not re.search(r"\b(glob|rglob|iterdir|listdir|walk)\(", source), "files are named, never searched for"
        assert not re.search(r"^\s*(import|from)\s+mentorwijs\b", source, re.MULTILINE), (
            "the notebooks are an independent check: written out, not calling mentorwijs"
        )
    assert named <= allowed, f"not a contract file: {sorted(named - allowed)}"
    assert REQUIRED_READS[name] <= named, f"missing: {sorted(REQUIRED_READS[name] - named)}"


def test_contract_check_rejects_other_files():
    """The check above can fail: a path outside the contracts and a search are caught."""
    allowed = contract_files()
    assert "data/processed/panel.parquet" in allowed and "reports/tables/process.csv" in allowed
    for value in ("data/raw/synthetic/cbs/koppeltabel.csv", "data/processed/results/panel.csv",
                  "reports/tables/not_a_table.csv", "data/interim/exclusions/register.csv"):
        assert FILE_NAME.match(value) and value not in allowed


# ---------------------------------------------------------------------------------------------
# the runner


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, str(path))
    return path


def test_runner_uses_this_interpreter_the_root_and_src(tmp_path, monkeypatch):
    # A kernelspec named python3 that cannot start: the runner must not consult it.
    broken = tmp_path / "jupyter" / "kernels" / "python3"
    broken.mkdir(parents=True)
    (broken / "kernel.json").write_text('{"argv": ["/nonexistent/python", "-f", "{connection_file}"], '
                                        '"display_name": "broken", "language": "python"}', encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    root = tmp_path / "run"
    root.mkdir()
    path = write_notebook(
        tmp_path / "probe.ipynb",
        "import os, sys\nfrom pathlib import Path\nimport mentorwijs\nprint(sys.executable)",
        f"assert sys.executable == {sys.executable!r}, sys.executable",
        f"assert Path.cwd().resolve() == Path({str(root)!r}).resolve(), Path.cwd()",
        f"assert os.environ['MENTORWIJS_ROOT'] == {str(root.resolve())!r}",
        f"assert Path(mentorwijs.__file__).resolve().is_relative_to({str(ROOT / 'src')!r}), mentorwijs.__file__",
    )
    before = path.read_bytes()
    executed = run_notebook(path, root, timeout=60)
    assert executed.cells[0].outputs[0].text.strip() == sys.executable
    assert all(cell.outputs == [] for cell in executed.cells[1:]), "every assertion of the probe held"
    assert [cell.execution_count for cell in executed.cells] == [1, 2, 3, 4, 5]
    assert path.read_bytes() == before, "the notebook file is left as it is"

    # --clear brings an executed notebook back to its committed form.
    copy = tmp_path / "executed.ipynb"
    nbformat.write(executed, str(copy))
    assert clear_outputs(copy) and not clear_outputs(copy)
    cleared = nbformat.read(copy, as_version=4)
    assert [cell.execution_count for cell in cleared.cells] == [None] * 5
    assert all(cell.outputs == [] for cell in cleared.cells)
    assert cleared.metadata.get("language_info", {}) in ({}, {"name": "python"})


def test_runner_reports_the_failing_cell(tmp_path):
    path = write_notebook(tmp_path / "failing.ipynb", "x = 1", "assert x == 2, 'x is not 2'", "never = 'run'")
    with pytest.raises(NotebookError) as raised:
        run_notebook(path, tmp_path, timeout=60)
    message = str(raised.value)
    assert "failing.ipynb, code cell 2 failed with AssertionError: x is not 2" in message
    assert "assert x == 2, 'x is not 2'" in message
    assert "\x1b[" not in message, "no terminal colour codes"
