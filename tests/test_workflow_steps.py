"""Each part's steps are declared once (issue 14, item 1).

The declarations (``mentorwijs.register.steps.REGISTER_STEPS``,
``mentorwijs.ingest.steps.QUESTIONNAIRE_STEPS``) are what the Snakemake rules and
``mentorwijs run --part`` read. These tests hold the workflow Snakemake actually builds against
them (a dry run of ``all`` on the synthetic study: every job's rule, inputs and outputs), and
check that no output path of a part's steps is written out in more than one place.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path, PurePosixPath

import pytest
import yaml

from conftest import ROOT
from support.synthetic_run import run_snakemake, workflow_copy

from mentorwijs.ingest.steps import QUESTIONNAIRE_STEPS, files_of
from mentorwijs.register.steps import PATHS, REGISTER_STEPS, register_plan
from mentorwijs.workflow import output_paths

CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
DECLARED = {step.name: step for step in (*QUESTIONNAIRE_STEPS, *REGISTER_STEPS)}


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
def jobs(tmp_path_factory) -> list[dict]:
    root = workflow_copy(tmp_path_factory.mktemp("dry_run"))
    result = run_snakemake(root, "-n", "all", cores=1, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    found = _dry_run_jobs(result.stdout + result.stderr)
    assert len(found) > 20
    return found


def _declared_files(job: dict) -> tuple[set[str], set[str]]:
    step = DECLARED[job["rule"]]
    if step in QUESTIONNAIRE_STEPS:
        inputs, outputs = files_of(step.name, CONFIG, **job["wildcards"])
    else:
        inputs, outputs = step.inputs(CONFIG), step.outputs()
    return _flat(inputs), _flat(outputs)


def test_every_declared_step_is_a_rule_with_exactly_the_declared_inputs_and_outputs(jobs):
    rules = {job["rule"] for job in jobs}
    assert set(DECLARED) <= rules, set(DECLARED) - rules
    checked = 0
    for job in jobs:
        if job["rule"] not in DECLARED:
            continue
        inputs, outputs = _declared_files(job)
        assert set(job["output"]) == outputs, job["rule"]
        assert set(job["input"]) == inputs, job["rule"]
        checked += 1
    assert checked == sum(job["rule"] in DECLARED for job in jobs) > len(DECLARED)


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
        paths = {str(p.relative_to(root)) for value in planned.arguments.values()
                 for p in (value if isinstance(value, list) else [value]) if isinstance(p, PurePosixPath)}
        job = by_rule[planned.name]
        assert paths == set(job["input"]) | set(job["output"]), planned.name
        assert {k: v for k, v in planned.arguments.items() if not isinstance(v, (PurePosixPath, list))} \
            == {k: v for k, v in declared.params(CONFIG).items() if not isinstance(v, list)}
    effects = next(step for step in plan if step.name == "effects")
    assert effects.arguments["out_folder"] == root / "data/processed/results"
    export = plan[-1]
    assert export.arguments["out_export"] == root / "export"
    assert sorted(export.arguments["tables"]) == sorted(Path(p).stem for p in by_rule["export"]["input"])


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
        return "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}" for v in node.values)
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
        found += [(lit, path.relative_to(ROOT).as_posix()) for lit in _python_literals(path.read_text(encoding="utf-8"))]
    for path in sorted((ROOT / "workflow").rglob("*.smk")) + [ROOT / "Snakefile"]:
        found += [(lit, path.relative_to(ROOT).as_posix()) for lit in _snakemake_literals(path.read_text(encoding="utf-8"))]
    return found


def _shape(path: str) -> str:
    """A path with every placeholder written ``{}``: ``f"data/interim/{s}.parquet"`` and the
    declared pattern ``data/interim/{source}.parquet`` have the same shape."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_the_scan_finds_a_path_written_twice():
    code = 'A = "data/processed/panel.parquet"\ndef f():\n    """data/processed/panel.parquet"""\n    return f"data/{x}/panel.parquet"\n'
    assert _python_literals(code) == ["data/processed/panel.parquet", "data/{x}/panel.parquet"]
    smk = '"""data/a.csv"""\nrule a:\n    output:\n        "data/b.csv",  # "data/c.csv"\n'
    assert _snakemake_literals(smk) == ["data/b.csv"]
    assert _shape("data/interim/{w.source}/{wave}.parquet") == _shape("data/interim/{source}/{wave}.parquet")


def test_no_output_path_of_a_parts_steps_is_written_in_more_than_one_place():
    """Every output (and output pattern) of the declared steps is written out once: exactly, or as
    an f-string of the same shape. A path joined from a constant (``f"{FOLDER}/x.csv"``) counts
    where the constant is written."""
    outputs = output_paths(REGISTER_STEPS) | output_paths(QUESTIONNAIRE_STEPS) | set(PATHS.values())
    shapes = {_shape(path): path for path in outputs}
    places: dict[str, list[str]] = {path: [] for path in outputs}
    for literal, file in literals():
        path = shapes.get(_shape(literal))
        if path is not None and (path, file) not in KNOWN:
            places[path].append(file)
    twice = {path: where for path, where in places.items() if len(where) > 1}
    assert not twice, twice
    assert sum(len(where) for where in places.values()) > 40  # the declarations themselves are found
