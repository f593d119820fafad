"""Codebooks: waves resolve without code changes; malformed codebooks give clear errors."""

from __future__ import annotations

import pytest

from mentorwijs.codebook import parse_codebook
from mentorwijs.errors import InputError

BASE = {
    "instrument": "supervisors",
    "format": "castor_survey",
    "id": {"column": "Castor Participant ID", "name": "supervisor", "pattern": "^[0-9]{6}$"},
    "waves": {"default": {"package": "Study {wave}"}, "T0": {"package": "Study baseline"}},
    "items": [
        {"name": "knowledge_1", "raw": "k1", "range": [1, 5], "scale": "knowledge"},
        {"name": "knowledge_2", "raw": "k2", "range": [1, 5], "scale": "knowledge", "reverse": True},
        {"name": "extra_time", "raw": "xt", "waves": "T1+"},
        {"name": "attended", "raw": {"T1": "att"}},
    ],
    "scales": {"knowledge": {"min_items": 1}},
}


def test_items_resolve_for_a_wave_the_codebook_never_named():
    codebook = parse_codebook(BASE)
    assert [i.name for i in codebook.items_in_wave("T4")] == ["knowledge_1", "knowledge_2", "extra_time"]
    assert [i.name for i in codebook.items_in_wave("T0")] == ["knowledge_1", "knowledge_2"]
    assert codebook.item("attended").raw_name("T1") == "att"
    assert codebook.item("attended").raw_name("T2") is None


def test_wave_settings_fill_in_the_wave_and_specific_settings_win():
    codebook = parse_codebook(BASE)
    assert codebook.wave_setting("T4", "package") == "Study T4"
    assert codebook.wave_setting("T0", "package") == "Study baseline"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c["items"].append({"name": "knowledge_1", "raw": "x"}), "defined twice"),
        (lambda c: c["items"].append({"name": "x", "raw": "x", "type": "likert"}), "unknown type"),
        (lambda c: c["items"].append({"name": "x", "raw": "x", "waves": ["wave2"]}), "wave names"),
        (lambda c: c["items"].append({"name": "x", "raw": "x", "scale": "attitude"}), "undeclared scales"),
        (lambda c: c["items"].append({"name": "x", "raw": "x", "range": [5, 1]}), "range"),
        (lambda c: c.pop("id"), "missing top-level key 'id'"),
    ],
)
def test_malformed_codebook_is_a_clear_error(change, message):
    import copy

    broken = copy.deepcopy(BASE)
    change(broken)
    with pytest.raises(InputError, match=message):
        parse_codebook(broken, "data/codebooks/supervisors.yaml")
