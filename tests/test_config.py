"""The configuration: the shipped config is valid, every key is described, typos are refused."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from mentorwijs.config import apply_overrides, config_hash, load_config, validate_config
from mentorwijs.errors import ConfigError

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.json"


def test_shipped_config_is_valid():
    config = load_config(ROOT / "config.yaml")
    assert config["study"]["synthetic"] is True


def _walk(node, path="$"):
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def test_every_schema_object_is_closed_and_every_key_described():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    for path, node in _walk(schema):
        if "properties" in node:
            assert (node.get("additionalProperties") is False
                    or "$ref" in json.dumps(node.get("additionalProperties"))), path
            for key, prop in node["properties"].items():
                assert prop.get("description"), f"{path}.properties.{key} has no description"


def test_unknown_key_is_refused_with_its_path():
    config = load_config(ROOT / "config.yaml")
    config["anchors"]["reference_mnth"] = -3
    with pytest.raises(ConfigError, match="anchors"):
        validate_config(config, SCHEMA)


def test_override_changes_one_key_and_the_hash():
    config = load_config(ROOT / "config.yaml")
    changed = apply_overrides(config, ["anchors.followup_months=18"])
    assert changed["anchors"]["followup_months"] == 18
    assert config["anchors"]["followup_months"] == 12
    assert config_hash(changed) != config_hash(config)


def test_raw_paths_outside_data_raw_are_refused():
    config = load_config(ROOT / "config.yaml")
    config["sources"]["supervisors"]["waves"]["T1"] = "/home/someone/export.csv"
    with pytest.raises(ConfigError, match="sources.supervisors.waves.T1"):
        validate_config(config, SCHEMA)
