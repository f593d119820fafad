"""Pseudonyms: keyed, namespaced, stable; keys are checked and never taken from the repository."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mentorwijs.errors import InputError
from mentorwijs.pseudonymise import DEMO_KEY, load_key, pseudonym, pseudonymise


def test_pseudonym_is_hmac_sha256_of_the_namespaced_value():
    key = bytes(range(32))
    expected = hmac.new(key, b"study:MW00017", hashlib.sha256).hexdigest()[:32]
    assert pseudonym("MW00017", key, "study") == expected
    assert pseudonym("MW00017", key, "rin") != expected


def test_another_key_gives_other_pseudonyms_with_the_same_pattern():
    values = ["MW00001", "MW00002", "MW00001", None]
    a = pseudonymise(values, DEMO_KEY, "study")
    b = pseudonymise(values, bytes(32), "study")
    assert a[0] == a[2] and a[0] != a[1] and a.isna()[3]
    assert set(a.dropna()).isdisjoint(set(b.dropna()))
    assert (a.isna() == b.isna()).all() and (a[0] == a[2]) == (b[0] == b[2])


def test_real_study_without_key_is_an_error(monkeypatch):
    monkeypatch.delenv("MENTORWIJS_KEY", raising=False)
    monkeypatch.delenv("MENTORWIJS_KEY_FILE", raising=False)
    with pytest.raises(InputError, match="needs a secret key"):
        load_key(synthetic=False)
    assert load_key(synthetic=True) == DEMO_KEY


def test_short_or_non_hex_keys_are_refused(monkeypatch):
    monkeypatch.setenv("MENTORWIJS_KEY", "abcd")
    with pytest.raises(InputError, match="at least 128"):
        load_key(synthetic=False)
    monkeypatch.setenv("MENTORWIJS_KEY", "not-hex")
    with pytest.raises(InputError, match="not hexadecimal"):
        load_key(synthetic=False)


def test_key_file_inside_the_repository_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("MENTORWIJS_KEY", raising=False)
    keyfile = tmp_path / "repo" / "key.txt"
    keyfile.parent.mkdir()
    keyfile.write_text("00" * 32)
    with pytest.raises(InputError, match="inside the repository"):
        load_key(synthetic=False, key_file=keyfile, repo_root=tmp_path / "repo")
    assert load_key(synthetic=False, key_file=keyfile, repo_root=tmp_path / "elsewhere") == bytes(32)
