"""The package's layout (issue 14, item 3): no import cycles, no overlong functions outside the
simulators, and disclosure control that loads nothing beyond numpy and pandas.

The measures are tools/import_graph.py and tools/function_lengths.py (run them for the lists).
"""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import function_lengths  # noqa: E402
import import_graph  # noqa: E402

#: The longest a function outside simulate/ may be (issue 14: "no function outside simulate/
#: exceeds 100 lines"); register/ included.
MAX_FUNCTION_LINES = 100
NOT_MEASURED = ("simulate",)


def test_the_cycle_finder_finds_a_cycle_and_only_the_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_graph.cycles(graph) == [["a", "b", "c"]]


def test_the_import_graph_sees_absolute_relative_and_submodule_imports(tmp_path):
    package = tmp_path / "mentorwijs"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from mentorwijs.sub import b\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "b.py").write_text("from . import c\n")
    (package / "sub" / "c.py").write_text("def f():\n    import mentorwijs.a\n")
    assert import_graph.cycles(import_graph.import_graph(tmp_path)) == []
    assert import_graph.cycles(import_graph.import_graph(tmp_path, lazy=True)) == [
        ["mentorwijs.a", "mentorwijs.sub.b", "mentorwijs.sub.c"]]


def test_no_module_of_the_package_takes_part_in_an_import_cycle():
    assert import_graph.cycles(import_graph.import_graph()) == []


def test_imports_inside_functions_tie_no_modules_into_a_cycle_simulators_included():
    # the simulator and the truth it writes share their calibration through simulate.calibration
    assert import_graph.cycles(import_graph.import_graph(lazy=True)) == []


def test_no_function_outside_the_simulators_is_longer_than_100_lines():
    long = [f"{f.module}:{f.lineno} {f.name} ({f.length} lines)"
            for f in function_lengths.all_functions(exclude=NOT_MEASURED) if f.length > MAX_FUNCTION_LINES]
    assert not long, "split these into named steps: " + "; ".join(long)


def test_disclosure_control_loads_only_numpy_and_pandas():
    """It runs inside the CBS environment with the register part: no plotting, report or model
    libraries at import."""
    code = ("import sys, mentorwijs.disclosure; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'weasyprint', 'jinja2', 'scipy', "
            "'statsmodels', 'snakemake', 'pandera', 'openpyxl'}))")
    result = subprocess.run([sys.executable, "-c", code],
                            env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
