"""Keyed pseudonyms (HMAC-SHA256) for every person in every analysis table.

``person`` is the HMAC-SHA256 of a namespaced identifier under a secret key of at least 128
bits: ``study:<study number>`` for questionnaire respondents and trainees, ``rin:<RINPERSOONS><RINPERSOON>``
for register persons, ``supervisor:<Castor id>`` for supervisors. The key comes from the
environment variable ``MENTORWIJS_KEY`` (hex) or a key file outside the repository; the
synthetic study uses the documented demo key automatically. The key never appears in a
config, param, log or output: functions take it as bytes and nothing here prints it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Iterable

import pandas as pd

from mentorwijs.errors import InputError

KEY_ENV = "MENTORWIJS_KEY"
KEY_FILE_ENV = "MENTORWIJS_KEY_FILE"
MIN_KEY_BYTES = 16  # 128 bits
PSEUDONYM_HEX = 32  # 128-bit pseudonyms, as 32 hex characters

#: The demo key of the synthetic study. It is public by design: synthetic people need no
#: secrecy, and a fixed key keeps synthetic outputs byte-identical. Never use it for real data.
DEMO_KEY = hashlib.sha256(b"mentorwijs synthetic study demo key").digest()


def load_key(*, synthetic: bool, key_file: str | Path | None = None, repo_root: str | Path | None = None,
             env_var: str = KEY_ENV) -> bytes:
    """The pseudonymisation key.

    Order: the environment variable ``env_var`` (default ``MENTORWIJS_KEY``, hex), then
    ``key_file`` or ``MENTORWIJS_KEY_FILE`` (a file whose content is the hex key), then, for a
    synthetic study only, :data:`DEMO_KEY`. A key file inside the repository is refused, so the
    key cannot be committed by accident.
    """
    text = os.environ.get(env_var) or None
    origin = f"environment variable {env_var}"
    path = key_file or os.environ.get(KEY_FILE_ENV)
    if text is None and path:
        path = Path(path).expanduser()
        if repo_root is not None:
            root = Path(repo_root).resolve()
            if root == path.resolve() or root in path.resolve().parents:
                raise InputError(
                    "the pseudonymisation key file lies inside the repository",
                    file=path.name,
                    hint="keep the key outside the repository (e.g. in your home folder) so it is never committed",
                )
        if not path.is_file():
            raise InputError("the pseudonymisation key file was not found", file=path.name,
                             hint=f"set {KEY_FILE_ENV} to the key file's path, or {env_var} to the hex key")
        text = path.read_text(encoding="ascii", errors="replace").strip()
        origin = "the key file"
    if text is None:
        if synthetic:
            return DEMO_KEY
        raise InputError(
            "no pseudonymisation key: a real study needs a secret key",
            hint=f"generate one with `python -c \"import secrets; print(secrets.token_hex(32))\"` and set {env_var}, "
            f"or store it in a file outside the repository and set {KEY_FILE_ENV}",
        )
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise InputError(f"the key in {origin} is not hexadecimal", hint="write the key as hex digits only") from None
    if len(key) < MIN_KEY_BYTES:
        raise InputError(f"the key in {origin} has {len(key) * 8} bits; at least {MIN_KEY_BYTES * 8} are required",
                         hint="generate a 256-bit key with secrets.token_hex(32)")
    return key


def pseudonym(value: str, key: bytes, namespace: str) -> str:
    """The pseudonym of one identifier: HMAC-SHA256(key, namespace + ':' + value), 128 bits as hex."""
    message = f"{namespace}:{value}".encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def pseudonymise(values: Iterable[str] | pd.Series, key: bytes, namespace: str) -> pd.Series:
    """Pseudonyms of a column of identifiers (missing stays missing)."""
    series = pd.Series(values, dtype="string") if not isinstance(values, pd.Series) else values.astype("string")
    uniques = series.dropna().unique()
    mapping = {value: pseudonym(value, key, namespace) for value in uniques}
    return series.map(mapping).astype("string")


def rin_identifier(rinpersoons: pd.Series, rinpersoon: pd.Series) -> pd.Series:
    """The register identifier to pseudonymise: RINPERSOONS + RINPERSOON (only the pair identifies)."""
    return rinpersoons.astype("string").str.strip() + rinpersoon.astype("string").str.strip().str.zfill(9)
