"""The message catalogue: both languages say the same things, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from mentorwijs.messages import Messages, catalogue_keys, load_messages

CATALOGUES = ROOT / "src" / "mentorwijs" / "messages"
SOURCES = ([ROOT / "src" / "mentorwijs" / name for name in ("figures.py", "findings.py")]
           + sorted((ROOT / "src" / "mentorwijs" / "report").glob("*.py")))
TEMPLATES = sorted((ROOT / "src" / "mentorwijs" / "templates").glob("*.j2"))


class _UniqueKeys(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        duplicates = sorted({str(k) for k in keys if keys.count(k) > 1})
        if duplicates:
            raise AssertionError(f"duplicate key(s) {duplicates} at line {node.start_mark.line + 1}")
        return super().construct_mapping(node, deep=deep)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_catalogue_has_no_duplicate_keys_and_only_text_keys(language):
    data = yaml.load((CATALOGUES / f"{language}.yaml").read_text(encoding="utf-8"), Loader=_UniqueKeys)

    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                assert isinstance(key, str), f"{path}.{key!r}: unquoted yes/no/number keys become non-text"
                walk(value, f"{path}.{key}")

    walk(data)


def test_both_languages_have_the_same_keys():
    assert catalogue_keys("nl") == catalogue_keys("en")


def _used_keys() -> set[str]:
    pattern = re.compile(r"""m\.t\(\s*f?["']([a-z_.]+)["']""")
    keys = set()
    for path in SOURCES + TEMPLATES:
        keys |= set(pattern.findall(Path(path).read_text(encoding="utf-8")))
    return keys


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_literal_key_the_code_uses_exists(language):
    m = load_messages(language)
    used = _used_keys()
    assert len(used) > 50
    missing = sorted(k for k in used if not k.endswith(".") and not m.has(k))
    assert missing == []


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_figure_and_verdict_has_its_texts(language):
    from mentorwijs.figures import FIGURE_NAMES
    from mentorwijs.findings import VERDICTS

    m = load_messages(language)
    for name in FIGURE_NAMES:
        for part in ("title", "caption", "alt"):
            assert m.has(f"figures.{name}.{part}"), (name, part)
    for verdict in VERDICTS:
        assert m.has(f"findings.employment.{verdict}") and m.has(f"findings.retention.{verdict}")
        assert m.has(f"factsheet.means_{verdict}") and m.has(f"findings.supervisors.headline_{verdict}")
        for relation in ("agrees", "differs"):
            assert m.has(f"findings.support.{relation}_{verdict}")


def test_labels_fall_back_readably_and_dutch_speaks_of_leidinggevenden():
    nl = load_messages("nl")
    assert nl.label("outcome", "employed_1h").startswith("Betaald werk")
    assert nl.label("flow_step", "completed_T4") == "Vragenlijst T4 ingevuld"
    assert nl.label("flow_step", "excluded_not_found_in_register") == "Niet gevonden in de registers"
    assert nl.label("covariate", "sex=woman") == "Geslacht: vrouw"
    assert nl.label("modifier", "brand_new_modifier") == "brand new modifier"
    assert "leidinggevenden" in nl.t("document.factsheet_title")
    with pytest.raises(KeyError):
        nl.t("no.such.key")


def test_injected_catalogue_for_unit_use():
    m = Messages("en", {"a": {"b": "x {n}"}, "labels": {}})
    assert m.t("a.b", n=3) == "x 3"


def test_the_supervisor_models_warnings_read_in_dutch_in_a_dutch_report():
    """The mixed model's notes (supervisors/models.py, satterthwaite.py, statsmodels) are joined
    with "; " in supervisor_effects.csv; each part has Dutch words, not the software's English."""
    from mentorwijs.messages import load_messages

    notes = ["Random effects covariance is singular",
             "boundary: training_group slope perfectly correlated with training_group (singular covariance)",
             "Satterthwaite df treat a variance at the boundary as known (as lmerTest)"]
    nl = load_messages("nl")
    for note in notes:
        words = nl.diagnostic(note)
        assert words != note and "training_group" not in words, words
