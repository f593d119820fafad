"""The built-in synthetic study laid out as a repository in a temporary folder, and its parts run there.

`make_repository(dest, **settings)` writes the shipped config.yaml (with the given synthetic
settings changed: scale, pool scale, the effect), copies the schema and the codebooks;
`simulate_study(root)` writes the raw study where the config says (`synthetic.out`) with the
config's own settings, as the rule `simulate` does; `run_questionnaire_part(root)` and
`run_register_part(root)` run the two parts in-process with the functions the workflow calls.
Pseudonyms use the synthetic study's documented demo key, as a run without a key does.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import yaml

from support.paths import ROOT
from mentorwijs.config import load_config
from mentorwijs.pseudonymise import DEMO_KEY


def make_repository(dest: Path, *, scale: float | None = None, pool_scale: float | None = None,
                    log_hr_peak: float | None = None, effects: dict[str, Any] | None = None) -> Path:
    """A repository layout in `dest`: config.yaml (shipped, with the given settings), schema, codebooks.

    ``effects`` replaces keys of the config's ``effects`` section (e.g. fewer analyses for a study
    whose tests read only the primary estimates)."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["effects"].update(effects or {})
    if scale is not None:
        config["synthetic"]["scale"] = scale
    if pool_scale is not None:
        config["synthetic"]["pool_scale"] = pool_scale
    if log_hr_peak is not None:
        config["synthetic"]["effect"]["log_hr_peak"] = log_hr_peak
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    shutil.copytree(ROOT / "workflow" / "schemas", dest / "workflow" / "schemas", dirs_exist_ok=True)
    shutil.copytree(ROOT / "data" / "codebooks", dest / "data" / "codebooks", dirs_exist_ok=True)
    return dest


def config_of(root: Path) -> dict[str, Any]:
    return load_config(root / "config.yaml")


def raw_folder(root: Path) -> Path:
    return root / config_of(root)["synthetic"]["out"]


def truth_of(root: Path) -> dict[str, Any]:
    return json.loads((raw_folder(root) / "truth.json").read_text(encoding="utf-8"))


def simulate_study(root: Path) -> dict[str, Any]:
    """Write the raw synthetic study with the config's settings (as the rule `simulate`); returns truth.json."""
    from mentorwijs.simulate import simulate

    config = config_of(root)
    synthetic = config["synthetic"]
    simulate(root / synthetic["out"], seed=config["study"]["seed"], scale=synthetic["scale"],
             pool_scale=synthetic["pool_scale"], codebooks=root / "data" / "codebooks", targets=synthetic["targets"],
             effect=synthetic["effect"], regions=config["regions"]["pairs"], anchors=config["anchors"])
    return truth_of(root)


@contextmanager
def demo_key() -> Iterator[None]:
    """No key in the environment: the synthetic study's demo key is used, as in a run without one."""
    saved = {name: os.environ.pop(name) for name in ("MENTORWIJS_KEY", "MENTORWIJS_KEY_FILE") if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def run_questionnaire_part(root: Path) -> None:
    from mentorwijs.ingest import run_questionnaires

    run_questionnaires(config_of(root), root, key=DEMO_KEY, progress=lambda line: None)


def run_register_part(root: Path) -> None:
    from mentorwijs.register.steps import run_register

    with demo_key():
        run_register(config_of(root), root=root)
