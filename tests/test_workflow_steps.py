"""Each part's steps are declared once (issue 14, item 1).

The declarations (``mentorwijs.register.steps.REGISTER_STEPS``,
``mentorwijs.ingest.steps.QUESTIONNAIRE_STEPS``, ``mentorwijs.report.steps.REPORT_STEPS``) are
what the Snakemake rules and ``mentorwijs run --part`` read. These tests hold the workflow
Snakemake actually builds against them (a dry run of ``all`` on the synthetic study: every job's
rule, inputs and outputs), check that no output path of a part's steps is written out in more
than one place, and that ``mentorwijs run --part report`` writes the Snakemake run's bytes.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml

from conftest import ROOT
from support.synthetic_run import run_snakemake, workflow_copy

from mentorwijs.contracts import REGISTER_TABLES
from mentorwijs.ingest.steps import QUESTIONNAIRE_STEPS, files_of
from mentorwijs.register.steps import PATHS, REGISTER_STEPS, register_plan
from mentorwijs.report.steps import REPORT_STEPS, report_outputs, report_plan
from mentorwijs.workflow import output_paths

CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
DECLARED = {step.name: step for step in (*QUESTIONNAIRE_STEPS, *REGISTER_STEPS, *REPORT_STEPS)}


def _flat(files: dict) -> set[str]:
    return {p for value in files.values() for p in (value if isinstance(value, list) else [value])}


def _dry_run_jobs(text: str) -> list[dict]:
    """rule, wildcards, inputs and outputs of every job in the output of ``snakemake -n``."""
    jobs = []
    for block in re.split(r"\n\[[^\n]*\]\n", text):
        match = re.match(r"(?:local)?rule (\w+):", block.strip())
        if not match:
            continue
        job = {"rule": match.group(1)}
        for key in ("input", "output", "wildcards"):
            found = re.search(rf"^\s+{key}: (.*)$", block, flags=re.M)
            job[key] = found.group(1).split(", ") if found else []
        job["wildcards"] = dict(item.split("=", 1) for item in job["wildcards"])
        jobs.append(job)
    return jobs


@pytest.fixture(scope="module")
def dry_run_root(tmp_path_factory) -> Path:
    """The workflow's copy the dry run plans in (without docs/: no power planner's table)."""
    return workflow_copy(tmp_path_factory.mktemp("dry_run"))


@pytest.fixture(scope="module")
def jobs(dry_run_root) -> list[dict]:
    result = run_snakemake(dry_run_root, "-n", "all", cores=1, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    found = _dry_run_jobs(result.stdout + result.stderr)
    assert len(found) > 20
    return found


def _declared_files(job: dict, root: Path) -> tuple[set[str], set[str]]:
    step = DECLARED[job["rule"]]
    if step in QUESTIONNAIRE_STEPS:
        inputs, outputs = files_of(step.name, CONFIG, **job["wildcards"])
    else:
        inputs, outputs = step.inputs(CONFIG, root=root), step.outputs(CONFIG)
    return _flat(inputs), _flat(outputs)


def test_every_declared_step_is_a_rule_with_exactly_the_declared_inputs_and_outputs(jobs, dry_run_root):
    rules = {job["rule"] for job in jobs}
    assert set(DECLARED) <= rules, set(DECLARED) - rules
    checked = 0
    for job in jobs:
        if job["rule"] not in DECLARED:
            continue
        inputs, outputs = _declared_files(job, dry_run_root)
        assert set(job["output"]) == outputs, job["rule"]
        assert set(job["input"]) == inputs, job["rule"]
        checked += 1
    assert checked == sum(job["rule"] in DECLARED for job in jobs) > len(DECLARED)


def _planned_files(planned, root: PurePosixPath, besides: tuple[str, ...] = ()) -> set[str]:
    """The files a planned step reads and writes, relative to the plan's root (arguments named
    in ``besides`` are folders, not files)."""
    return {p.relative_to(root).as_posix() for name, value in planned.arguments.items() if name not in besides
            for p in (value if isinstance(value, list) else [value]) if isinstance(p, PurePosixPath)}


def test_the_run_plan_runs_the_declared_register_steps_on_the_rules_files(jobs):
    """``mentorwijs run --part register``: the same steps in order, on the same files as the rules."""
    root = PurePosixPath("/study")
    plan = register_plan(CONFIG, root=root)
    assert [step.name for step in plan] == [step.name for step in REGISTER_STEPS]
    by_rule = {job["rule"]: job for job in jobs}
    for planned, declared in zip(plan, REGISTER_STEPS):
        assert planned.function is declared.function
        if declared.call is not None:  # effects, export: folders derived from the declared files
            continue
        paths = _planned_files(planned, root)
        job = by_rule[planned.name]
        assert paths == set(job["input"]) | set(job["output"]), planned.name
        assert {k: v for k, v in planned.arguments.items() if not isinstance(v, (PurePosixPath, list))} \
            == {k: v for k, v in declared.params(CONFIG).items() if not isinstance(v, list)}
    effects = next(step for step in plan if step.name == "effects")
    assert effects.arguments["out_folder"] == root / "data/processed/results"
    export = plan[-1]
    assert export.arguments["out_export"] == root / "export"
    assert sorted(export.arguments["tables"]) == sorted(Path(p).stem for p in by_rule["export"]["input"])


def test_the_report_plan_runs_the_declared_report_steps_on_the_rules_files(jobs):
    """``mentorwijs run --part report``: the same steps in order, on the same files as the rules
    (the dry run's copy has no power planner's table, nor has the plan's root)."""
    root = PurePosixPath("/study")
    plan = report_plan(CONFIG, root=root)
    assert [step.name for step in plan] == [step.name for step in REPORT_STEPS]
    by_rule = {job["rule"]: job for job in jobs}
    for planned, declared in zip(plan, REPORT_STEPS):
        assert planned.function is declared.function
        paths = _planned_files(planned, root, besides=("root",))
        job = by_rule[planned.name]
        assert paths == set(job["input"]) | set(job["output"]), planned.name
        files = set(declared.inputs(CONFIG, root=root)) | set(declared.outputs(CONFIG))
        if declared.call is None:
            assert {k: v for k, v in planned.arguments.items() if k not in files} == declared.params(CONFIG)
    provenance = next(step for step in plan if step.name == "provenance")
    assert provenance.arguments["root"] == root and provenance.arguments["config"] is CONFIG


def test_the_power_table_is_an_input_of_the_report_only_where_it_is_there(tmp_path):
    step = DECLARED["technical_report"]
    assert step.inputs(CONFIG, root=ROOT)["power"] == "docs/validation/power.csv"  # committed
    assert "power" not in step.inputs(CONFIG, root=tmp_path)
    with pytest.raises(ValueError, match="depend on the configuration"):
        step.outputs()
    formats = {**CONFIG, "report": {**CONFIG["report"], "formats": ["pdf"]}}
    assert step.outputs(formats) == {"documents": ["reports/report.pdf"]}


def test_reading_the_report_declaration_loads_none_of_the_reports_libraries():
    """Every Snakemake run reads it (report.smk), also where matplotlib and WeasyPrint are not installed."""
    code = ("import sys, mentorwijs.report.steps; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'weasyprint', 'jinja2'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_exported_tables_are_the_register_tables_of_the_contracts():
    from mentorwijs.contracts import EFFECT_TABLES, REGISTER_TABLES
    from mentorwijs.supervisors import TABLES

    assert sorted(Path(p).stem for p in REGISTER_STEPS[-1].inputs(CONFIG)["tables"]) == sorted(REGISTER_TABLES)
    assert [Path(p).stem for p in DECLARED["effects"].outputs()["tables"]] == list(EFFECT_TABLES)
    assert list(DECLARED["supervisor_analyses"].outputs()) == list(TABLES)


# --------------------------------------------------------------------------------------
# "No path of a part's steps is written in more than one place" (issue 14, Done when)

#: Paths written out elsewhere on purpose, as (path, file), each with its reason here (none today).
KNOWN: set[tuple[str, str]] = set()


def _template(node: ast.AST) -> str | None:
    """A string constant, or an f-string with each placeholder written as ``{...}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                       for v in node.values)
    return None


def _python_literals(text: str) -> list[str]:
    """String literals of Python code, docstrings left out."""
    tree = ast.parse(text)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    inside_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    return [t for node in ast.walk(tree) if id(node) not in docstrings | inside_fstrings
            and (t := _template(node)) is not None]


def _code_part(line: str) -> str:
    """A line up to its comment (a ``#`` outside quotes)."""
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:i]
    return line


def _snakemake_literals(text: str) -> list[str]:
    """Quoted strings of a Snakemake file, its header docstring and comments left out."""
    text = re.sub(r'^"""(.*?)"""', "", text, count=1, flags=re.S)
    code = "\n".join(_code_part(line) for line in text.splitlines())
    return [m.group(1) for m in re.finditer(r'f?"([^"\n]*)"', code)]


def literals() -> list[tuple[str, str]]:
    """(literal, file) for every string literal in src/ and workflow/ (and the Snakefile)."""
    found = []
    for path in sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "workflow").rglob("*.py")):
        found += [(lit, path.relative_to(ROOT).as_posix())
                  for lit in _python_literals(path.read_text(encoding="utf-8"))]
    for path in sorted((ROOT / "workflow").rglob("*.smk")) + [ROOT / "Snakefile"]:
        found += [(lit, path.relative_to(ROOT).as_posix())
                  for lit in _snakemake_literals(path.read_text(encoding="utf-8"))]
    return found


def _shape(path: str) -> str:
    """A path with every placeholder written ``{}``: ``f"data/interim/{s}.parquet"`` and the
    declared pattern ``data/interim/{source}.parquet`` have the same shape."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_the_scan_finds_a_path_written_twice():
    code = ('A = "data/processed/panel.parquet"\ndef f():\n    """data/processed/panel.parquet"""\n'
            '    return f"data/{x}/panel.parquet"\n')
    assert _python_literals(code) == ["data/processed/panel.parquet", "data/{x}/panel.parquet"]
    smk = '"""data/a.csv"""\nrule a:\n    output:\n        "data/b.csv",  # "data/c.csv"\n'
    assert _snakemake_literals(smk) == ["data/b.csv"]
    assert _shape("data/interim/{w.source}/{wave}.parquet") == _shape("data/interim/{source}/{wave}.parquet")


def test_no_output_path_of_a_parts_steps_is_written_in_more_than_one_place():
    """Every output (and output pattern) of the declared steps is written out once: exactly, or as
    an f-string of the same shape. A path joined from a constant (``f"{FOLDER}/x.csv"``) counts
    where the constant is written."""
    outputs = (output_paths(REGISTER_STEPS) | output_paths(QUESTIONNAIRE_STEPS) | set(PATHS.values())
               | output_paths(REPORT_STEPS, CONFIG))
    shapes = {_shape(path): path for path in outputs}
    places: dict[str, list[str]] = {path: [] for path in outputs}
    for literal, file in literals():
        path = shapes.get(_shape(literal))
        if path is not None and (path, file) not in KNOWN:
            places[path].append(file)
    twice = {path: where for path, where in places.items() if len(where) > 1}
    assert not twice, twice
    assert sum(len(where) for where in places.values()) > 40  # the declarations themselves are found


# --------------------------------------------------------------------------------------
# `mentorwijs run --part report` on the session's finished run: the same bytes as Snakemake


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_part_report_writes_every_report_file_with_the_snakemake_runs_bytes(synthetic_run, tmp_path):
    """The report part without Snakemake on what the part reads from the finished run (the export,
    the questionnaire stages' exclusions and the questionnaire tables): every file of its steps,
    the tables it copies included, has the bytes Snakemake wrote, and every step has its log."""
    from mentorwijs.cli import main

    written = output_paths(REPORT_STEPS, CONFIG)
    copy = tmp_path / "run"
    shutil.copytree(synthetic_run, copy, ignore=lambda folder, names: [
        n for n in names if Path(folder, n).relative_to(synthetic_run).as_posix() in written
        or n in {"logs", "data", ".snakemake"} and Path(folder) == synthetic_run])
    shutil.copytree(synthetic_run / "data" / "interim" / "exclusions", copy / "data" / "interim" / "exclusions")
    assert not any((copy / path).exists() for path in written)
    assert main(["run", "--part", "report", "--config", str(copy / "config.yaml")]) == 0
    assert {f"reports/tables/{name}.csv" for name in REGISTER_TABLES} | set(report_outputs(CONFIG)) == written
    assert {"reports/report.pdf", "reports/factsheet.html", "reports/provenance.json",
            "reports/figures/km.svg"} < written
    different = sorted(path for path in written if _sha256(copy / path) != _sha256(synthetic_run / path))
    assert not different, different
    assert sorted(p.name for p in (copy / "logs" / "report").iterdir()) == sorted(
        f"{step.name}.log" for step in REPORT_STEPS)


# --------------------------------------------------------------------------------------
# `mentorwijs run --part questionnaires`: each step logs where its rule logs


def test_run_part_questionnaires_logs_each_step_where_its_rule_logs(tmp_path):
    """On the hand-made fixture study: one log per ingest job, per combined source and per
    gathering step, named as the rules' logs; a damaged wave's ingest log ends with its ERROR
    line while nothing under data/interim is written (every input is checked first)."""
    from support.fixture_study import KEY_HEX, make_study

    from mentorwijs.config import load_config
    from mentorwijs.errors import InputError
    from mentorwijs.ingest.steps import run_questionnaires, wave_sources, waves_of

    root = make_study(tmp_path / "study")
    config = load_config(root / "config.yaml")
    run_questionnaires(config, root, key=bytes.fromhex(KEY_HEX))
    expected = {f"ingest_{s}.log" for s, spec in config["sources"].items() if "file" in spec}
    expected |= {f"ingest_{s}_{w}.log" for s in wave_sources(config) for w in waves_of(config, s)}
    expected |= {f"combine_{s}.log" for s in wave_sources(config)}
    expected |= {"reliability.log", "data_quality.log", "supervisors_long.log", "trainees.log"}
    logs = root / "logs" / "questionnaires"
    assert {p.name for p in logs.iterdir()} == expected
    assert (logs / "ingest_supervisors_T1.log").read_text(encoding="utf-8").startswith(
        "INFO supervisors T1: data/raw/fixture/castor/T1.csv")
    assert re.fullmatch(r"INFO supervisors: \d+ rows from \d wave\(s\)\n",
                        (logs / "combine_supervisors.log").read_text(encoding="utf-8"))

    damaged = make_study(tmp_path / "damaged")
    t1 = damaged / "data/raw/fixture/castor/T1.csv"
    t1.write_bytes(t1.read_bytes().replace(b";kennis_2;", b";kennis_x;", 1))
    with pytest.raises(InputError, match="kennis_2"):
        run_questionnaires(load_config(damaged / "config.yaml"), damaged, key=bytes.fromhex(KEY_HEX))
    last = (damaged / "logs/questionnaires/ingest_supervisors_T1.log").read_text(encoding="utf-8").splitlines()[-1]
    assert last.startswith("ERROR ") and "kennis_2" in last
    assert not (damaged / "data" / "interim").exists()
