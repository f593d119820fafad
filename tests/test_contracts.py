"""One contract per aggregate table: disclosure and the documents read the same description."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from conftest import ROOT
from mentorwijs.aggregates import TABLE_SPECS
from mentorwijs.contracts import (
    CONTRACTS,
    DOMINANCE_COLUMN,
    EFFECT_TABLES,
    QUESTIONNAIRE_TABLES,
    REGISTER_TABLES,
    TABLE_NAMES,
    Column,
    Contract,
    Figure,
    contract_problems,
)
from mentorwijs.disclosure import REGISTRY


def test_the_contracts_are_sound():
    assert contract_problems() == []
    assert set(REGISTER_TABLES) | set(QUESTIONNAIRE_TABLES) == set(TABLE_NAMES)
    assert set(EFFECT_TABLES) == {"trajectories", "did_by_month", "did_pooled", "placebo", "km", "rmst", "survival",
                                  "ph_test", "modifiers", "sensitivity", "confounding"}


def test_a_broken_contract_is_reported():
    broken = Contract("x", "X", "a table", "register", "rule `x`", ("key",),
                      (Column("n", "count", "units"), Column("n", "count", "twice"), Column("extra", "count", "alone")),
                      figures=(Figure(columns=("estimate",), n=("n",)),))
    problems = contract_problems([broken])
    assert "x: a column is listed twice" in problems
    assert "x: role names 'key', which is not a column" in problems
    assert "x: role names 'estimate', which is not a column" in problems
    assert "x.extra: a count that stands behind no figure" in problems


def test_the_report_reads_exactly_the_contracts():
    assert tuple(TABLE_SPECS) == TABLE_NAMES
    for name, c in CONTRACTS.items():
        spec = TABLE_SPECS[name]
        assert (spec.name, spec.title, spec.description, spec.origin) == (c.name, c.title, c.description, c.origin)
        assert spec.keys == c.keys and spec.columns == c.columns and spec.required == c.report_required
        assert spec.required_columns == c.required_columns


def test_disclosure_registers_exactly_the_register_contracts():
    assert sorted(REGISTRY) == sorted(REGISTER_TABLES)
    for name, spec in REGISTRY.items():
        c = CONTRACTS[name]
        assert (spec.kind, spec.origin, spec.keys, spec.description) == (name, "register", c.keys, c.description)
        assert (spec.figures, spec.lines, spec.row_totals) == (c.figures, c.lines, c.row_totals)
        assert (spec.procedure, spec.groups, spec.events, spec.bins) == (c.procedure, c.groups, c.events, c.bins)
        declared = [col for col in spec.declared() if col != DOMINANCE_COLUMN]
        assert sorted(declared) == sorted(c.column_names), name  # every column has exactly one role
        assert sorted(spec.required()) == sorted(c.required_columns), name
        if c.dominance:  # what the producer writes for the dominance rule is declared
            assert DOMINANCE_COLUMN in spec.declared(), name


def test_no_other_module_keeps_its_own_column_lists():
    """The old copies (disclosure's hand-written registry, the report's table specs) are gone."""
    package = ROOT / "src" / "mentorwijs"
    modules = [p.relative_to(package).as_posix() for p in sorted((package / "disclosure").glob("*.py"))]
    assert "disclosure/specs.py" in modules
    for module in modules + ["aggregates.py"]:
        text = (package / module).read_text(encoding="utf-8")
        assert not re.search(r'_c\("(smd_before|estimate|n_treated)"', text), module
        assert "Figure(columns=" not in text, module


def test_the_export_rule_and_the_report_rules_list_the_contract_tables():
    """The rules read their files from the step declarations (tests/test_workflow_steps.py checks
    the rules against them): the export takes every register table, the supervisors' analyses
    write every questionnaire table but the two the ingest writes."""
    from mentorwijs.ingest.steps import QUESTIONNAIRE_STEPS
    from mentorwijs.register.steps import STEPS

    exported = [PurePosixPath(p).stem for p in STEPS["export"].inputs({})["tables"]]
    assert sorted(exported) == sorted(REGISTER_TABLES)
    analyses = next(step for step in QUESTIONNAIRE_STEPS if step.name == "supervisor_analyses")
    outputs = {name: PurePosixPath(path) for name, path in analyses.outputs().items()}
    assert ({name for name, path in outputs.items()
             if path.parent.as_posix() == "reports/tables" and path.stem == name}
            == set(QUESTIONNAIRE_TABLES) - {"reliability", "data_quality"})
