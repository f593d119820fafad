"""The effects' settings layer (mentorwijs.effects.settings): read once from the configuration,
every optional key's default written once, plain values for Snakemake's params."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from conftest import ROOT
from mentorwijs.effects.settings import CONFIG_KEYS, DEFAULTS, EffectSettings, config_value
from mentorwijs.errors import ConfigError

CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
SCHEMA = json.loads((ROOT / "workflow" / "schemas" / "config.schema.json").read_text(encoding="utf-8"))


def _schema_chain(dotted):
    """(schema of the parent object, key) for every step of a dotted config path."""
    node, chain = SCHEMA, []
    for key in dotted.split("."):
        while "$ref" in node:
            node = SCHEMA[node["$ref"].split("/")[1]][node["$ref"].split("/")[2]]
        chain.append((node, key))
        node = node["properties"][key]
    return chain, node


def test_the_params_are_the_config_values_the_rule_passed_before():
    """The rule's params (Snakemake reruns a job whose params change) hold the same plain values
    as the expression in effects.smk did before the settings layer."""
    effects, anchors = CONFIG["effects"], CONFIG["anchors"]
    before = {
        "outcomes": effects["outcomes"], "primary_outcome": effects["primary_outcome"],
        "survival_outcomes": effects["survival_outcomes"],
        "primary_survival_outcome": effects["primary_survival_outcome"],
        "reference_month": anchors["reference_month"], "followup_months": anchors["followup_months"],
        "placebo_reference_month": anchors["placebo_reference_month"],
        "placebo_post_months": anchors["placebo_post_months"],
        "rmst_horizon": effects["rmst_horizon"], "level": effects["level"], "band_draws": effects["band"]["draws"],
        "band_seed": CONFIG["study"]["seed"] + effects["band"]["seed_offset"],
        "ph_split_month": effects["ph_split_month"],
        "adjusted_covariates": effects["adjusted_covariates"], "primary_method": effects["primary_method"],
        "modifiers": effects["modifiers"], "min_subgroup_trainees": effects["min_subgroup_trainees"],
        "sensitivity": effects["sensitivity"],
        "dominance_units": (CONFIG["disclosure"]["register"].get("dominance") or {}).get("n", 1),
    }
    params = EffectSettings.from_config(CONFIG).as_params()
    assert params == before
    assert list(params) == list(before)  # the same order too
    assert json.loads(json.dumps(params)) == params  # plain values only


def test_params_rebuild_the_same_settings_and_are_deterministic():
    settings = EffectSettings.from_config(CONFIG)
    assert EffectSettings.from_params(settings.as_params()) == settings
    assert repr(EffectSettings.from_config(copy.deepcopy(CONFIG)).as_params()) == repr(settings.as_params())
    with pytest.raises(ConfigError, match="unknown"):
        EffectSettings.from_params({**settings.as_params(), "rmst_horizn": 12})


def test_the_dominance_units_come_from_the_register_rule_and_default_to_one():
    config = copy.deepcopy(CONFIG)
    config["disclosure"]["register"]["dominance"] = {"n": 3, "k": 0.6}
    assert EffectSettings.from_config(config).dominance_units == 3
    config["disclosure"]["register"].pop("dominance")
    assert EffectSettings.from_config(config).dominance_units == 1


def test_a_required_key_has_no_default_and_its_absence_is_named():
    config = copy.deepcopy(CONFIG)
    del config["effects"]["band"]["seed_offset"]
    with pytest.raises(ConfigError, match="key effects.band.seed_offset is required"):
        EffectSettings.from_config(config)
    assert config_value(CONFIG, "effects.level") == CONFIG["effects"]["level"]
    with pytest.raises(ConfigError, match="key effects is required"):
        EffectSettings.from_config({k: v for k, v in CONFIG.items() if k != "effects"})


@pytest.mark.parametrize("dotted", sorted({k for keys in CONFIG_KEYS.values() for k in keys}))
def test_a_key_has_a_default_here_exactly_when_the_schema_lets_it_be_left_out(dotted):
    chain, leaf = _schema_chain(dotted)
    # within its section: the section itself (effects) is needed whole by the rule that reads it
    optional = any(key not in parent.get("required", []) for parent, key in chain[1:])
    assert (dotted in DEFAULTS) == optional, dotted
    if "default" in leaf:  # a default the schema states must be this layer's
        assert DEFAULTS.get(dotted) == leaf["default"]


def test_every_settings_field_is_read_from_the_configuration():
    assert set(CONFIG_KEYS) == set(EffectSettings.__dataclass_fields__)


def test_matching_keys_left_out_take_the_specs_field_defaults():
    """MatchingSpec writes each default once, as its field's default: a configuration without
    the optional matching keys gets exactly those."""
    from dataclasses import fields

    from mentorwijs.matching import MatchingSpec

    section = CONFIG["matching"]
    required = SCHEMA["properties"]["matching"]["required"]
    spec = MatchingSpec.from_config({k: v for k, v in section.items() if k in required})
    given = ("covariates", "k", "caliper_sd", "ties", "common_support", "weights")  # the schema requires these
    assert set(given) == set(required)
    optional = {f.name: f.default for f in fields(MatchingSpec) if f.name not in given}
    assert {name: getattr(spec, name) for name in optional} == optional
    assert spec.exact != MatchingSpec.from_config(section).exact  # config.yaml sets its own cells
