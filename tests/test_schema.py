"""The project's own schema validator (mentorwijs.schema) gives jsonschema's verdict and messages.

Inside CBS there is no jsonschema, so ``validate_config`` uses :mod:`mentorwijs.schema`. These
tests build a corpus of broken configurations by mutating config.yaml systematically, guided by
the schema (every key: a value of the wrong type, an unknown extra key, a required key removed,
a value outside its enum, numbers on and over their bounds, strings against their pattern, empty
and duplicated lists, both or neither of a oneOf's alternatives, and pairs of such mutations), and
assert that the ConfigError text equals the one built from jsonschema 4.x's errors, sorted the
same way.
"""

from __future__ import annotations

import copy
import datetime
import json
import random

import pytest
import yaml

from conftest import ROOT
from mentorwijs.config import validate_config
from mentorwijs.errors import ConfigError
from mentorwijs.schema import ANNOTATIONS, KEYWORDS, UnknownKeyword, check_schema_keywords, iter_errors

try:
    import jsonschema
except ImportError:  # the CBS package set: only the comparisons need it
    jsonschema = None

SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
CONFIG_FILES = [ROOT / "config.yaml", ROOT / "tests" / "fixtures" / "study" / "config.yaml"]


def _config(path):
    """A configuration the tests use: config.yaml, or the fixture study's sections in its place
    (as tests/support/fixture_study.py builds it)."""
    config = yaml.safe_load(CONFIG_FILES[0].read_text(encoding="utf-8"))
    config.update(yaml.safe_load(path.read_text(encoding="utf-8")))
    return config


REFERENCE = jsonschema.Draft202012Validator(SCHEMA) if jsonschema is not None else None


def _reference_errors(config) -> list[tuple[list, str]]:
    """jsonschema's errors of ``config`` as (path, message), in the order it yields them."""
    return [(list(e.absolute_path), e.message) for e in REFERENCE.iter_errors(config)]


def _reference_message(errors: list[tuple[list, str]]) -> str | None:
    """The ConfigError text validate_config gave when it called jsonschema (kept verbatim), from
    jsonschema's errors (:func:`_reference_errors`)."""
    errors = sorted(errors, key=lambda e: e[0])
    if not errors:
        return None
    path, message = errors[0]
    where = ".".join(str(p) for p in path) or "(top level)"
    more = f" ({len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"key {where}: {message}{more}"


def _own_message(config) -> str | None:
    try:
        validate_config(config, SCHEMA_PATH)
    except ConfigError as exc:
        return exc.problem
    return None


def _resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        target = SCHEMA
        for part in schema["$ref"][2:].split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


# ---------------------------------------------------------------------------------------------
# the corpus


#: Values of every JSON type: at each key, one of them in turn (so every key gets a wrong type).
GENERIC = [None, True, "text", 7, 2.5, [], {}, datetime.date(2024, 1, 1)]  # YAML reads 2024-01-01 as a date


def _wrong_values(schema, value, turn):
    """Values that break ``schema`` (or probe its edges) at one key; ``turn`` picks the generic one."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    out = [GENERIC[turn % len(GENERIC)]]
    if "enum" in schema:
        out += ["not-a-member", str(schema["enum"][0]).upper() + "_"]
    for key, delta in (("minimum", -1), ("exclusiveMinimum", 0), ("maximum", 1), ("exclusiveMaximum", 0)):
        if key in schema:
            bound = schema[key]
            out += [bound + delta, bound - 0.5 if delta <= 0 else bound + 0.5]
    if "integer" in types:
        out += [1.0 * (value if isinstance(value, int) and not isinstance(value, bool) else 1), 1.5, "12"]
    if "string" in types:
        out += ["", ["data\\raw\\x.csv", "../elsewhere.csv", "2024-13", 12][turn % 4]]
        if "pattern" in schema:
            out.append("zz" + str(value))
    if "array" in types and isinstance(value, list):
        out += [[], value + value[:1], value + [None], value + [{"x": 1}]]
    if "object" in types:
        out += [{}, {"unknown_key": 1}]
    return out


def _mutations(node, schema, path=()):
    """(kind, path, value) for every mutation of ``node`` (a config value) under ``schema``."""
    schema = _resolve(schema)
    for value in _wrong_values(schema, node, len(path) + sum(len(str(p)) for p in path)):
        yield ("set", path, value)
    if isinstance(node, dict):
        yield ("add", path, "an_unknown_key")
        for key in node:
            yield ("delete", path + (key,), None)
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, child in node.items():
            child_schema = props.get(key, extra if isinstance(extra, dict) else None)
            if child_schema is not None:
                yield from _mutations(child, child_schema, path + (key,))
        if "propertyNames" in schema:
            yield ("rename", path, "X9")
        if "oneOf" in schema:
            yield ("add", path, "file")
            yield ("add", path, "waves")
    elif isinstance(node, list) and isinstance(schema.get("items"), dict):
        for index in sorted({0, len(node) - 1} & set(range(len(node)))):  # the first and the last item
            yield from _mutations(node[index], schema["items"], path + (index,))


def _apply(config, mutation):
    kind, path, value = mutation
    config = copy.deepcopy(config)
    if kind == "delete":
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        return config
    if not path and kind == "set":
        return value
    target = config
    for key in path[:-1 if kind == "set" else None]:
        target = target[key]
    if kind == "set":
        target[path[-1]] = value
    elif kind == "add":
        target[value] = "data/raw/x.csv" if value in ("file", "waves") and value != "waves" else (
            {"T0": "data/raw/x.csv"} if value == "waves" else 1)
    elif kind == "rename" and target:
        first = next(iter(target))
        target[value] = target.pop(first)
    return config


def _corpus():
    configs = []
    for path in CONFIG_FILES:
        config = _config(path)
        own = set(yaml.safe_load(path.read_text(encoding="utf-8")))  # the fixture: its own sections only
        mutations = [m for m in _mutations(config, SCHEMA) if not m[1] or m[1][0] in own]
        configs += [_apply(config, m) for m in mutations]
        rng = random.Random(20190501)  # pairs and triples: the order and count of several errors
        for _ in range(120):
            broken = config
            for m in rng.sample(mutations, rng.choice([2, 3])):
                try:
                    broken = _apply(broken, m)
                except (KeyError, IndexError, TypeError):
                    break
            configs.append(broken)
    return configs


@pytest.fixture(scope="module")
def corpus():
    """The broken configurations, built when a test asks (not when every worker collects)."""
    return _corpus()


@pytest.fixture(scope="module")
def reference_errors(corpus):
    """jsonschema's errors of every config of the corpus, computed once (the slow part)."""
    if jsonschema is None:
        pytest.skip("jsonschema (the reference) is not installed")
    return [_reference_errors(c) for c in corpus]


@pytest.fixture(scope="module")
def reference_messages(reference_errors):
    return [_reference_message(errors) for errors in reference_errors]


def test_the_corpus_is_large_and_almost_all_invalid(corpus, reference_messages):
    invalid = [m for m in reference_messages if m is not None]
    assert len(invalid) >= 1000
    assert len(invalid) >= 0.75 * len(corpus)  # the rest probe values on the valid side of a bound
    several = [m for m in invalid if "more problem" in m]
    assert len(several) >= 200  # the count of further problems is exercised too
    for text in ("is not of type", "is a required property", "is not one of", "is less than the minimum",
                 "does not match", "should be non-empty", "has non-unique elements", "Additional properties",
                 "is valid under each of", "is not valid under any of", "is greater than or equal to the maximum"):
        assert any(text in m for m in invalid), text  # every kind of message occurs


def test_every_broken_config_gets_jsonschemas_first_error_and_count(corpus, reference_messages):
    mismatches = [(expected, got) for expected, got in zip(reference_messages, map(_own_message, corpus))
                  if expected != got]
    assert not mismatches, f"{len(mismatches)} differ, e.g. {mismatches[:3]}"


def test_every_error_in_order_equals_jsonschemas_not_only_the_first(corpus, reference_errors):
    for config, errors in list(zip(corpus, reference_errors))[::7]:
        theirs = sorted(errors, key=lambda pm: [str(p) for p in pm[0]])
        ours = sorted(((list(e.path), e.message) for e in iter_errors(config, SCHEMA)),
                      key=lambda pm: [str(p) for p in pm[0]])
        assert ours == theirs


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_and_fixture_configs_validate_cleanly(path):
    config = _config(path)
    assert list(iter_errors(config, SCHEMA)) == []
    validate_config(config, SCHEMA_PATH)


def test_every_keyword_of_the_schema_is_one_the_validator_knows():
    check_schema_keywords(SCHEMA)  # raises on a keyword it would otherwise ignore
    used = set()

    def walk(node):
        if isinstance(node, dict):
            used.update(node)
            for key, value in node.items():
                if key in ("properties", "definitions", "$defs"):
                    for sub in value.values():
                        walk(sub)
                elif key in ("items", "additionalProperties", "propertyNames"):
                    walk(value)
                elif key == "oneOf":
                    for sub in value:
                        walk(sub)
    walk(SCHEMA)
    assert used <= KEYWORDS | ANNOTATIONS
    assert KEYWORDS - used == set()  # and no keyword is implemented that the schema does not use


@pytest.mark.parametrize("keyword", ["patternProperties", "allOf", "const", "if", "multipleOf", "maxLength"])
def test_a_keyword_it_does_not_implement_is_refused_not_ignored(keyword):
    """Fails loudly rather than letting a constraint pass unchecked."""
    schema = {"type": "object", "properties": {"a": {keyword: {}}}}
    with pytest.raises(UnknownKeyword, match=keyword):
        list(iter_errors({"a": 1}, schema))


def test_without_jsonschema_the_config_is_still_checked(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "jsonschema", None)  # import jsonschema now fails
    config = _config(CONFIG_FILES[0])
    config["anchors"]["followup_months"] = "twelve"
    with pytest.raises(ConfigError, match="key anchors.followup_months: 'twelve' is not of type 'integer'"):
        validate_config(config, SCHEMA_PATH)
