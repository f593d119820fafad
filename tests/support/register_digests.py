"""SHA-256 of every file the register part writes, on the built-in synthetic study at a scale.

    PYTHONPATH=<src> python tests/support/register_digests.py --scale 1 --out digests.json

Lays out the shipped config in a temporary folder, simulates the study, runs the questionnaire
part (for the trainee hand-over) and the register part with the package on PYTHONPATH, and
prints (or writes) ``{file: sha256}`` of the register outputs: the interim and processed tables
(``register.steps.PATHS``), the result tables and the export. Used once with the code before
the streamed payroll step to record ``tests/fixtures/register/stream_digests.json``; the test
``tests/test_register_stream.py`` recomputes them with the present code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def register_digests(folder: Path, *, scale: float) -> dict[str, str]:
    from mentorwijs.config import load_config
    from mentorwijs.ingest import run_questionnaires
    from mentorwijs.pseudonymise import DEMO_KEY
    from mentorwijs.register.steps import run_register
    from mentorwijs.simulate import simulate

    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["synthetic"]["scale"] = scale
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    shutil.copytree(ROOT / "workflow" / "schemas", folder / "workflow" / "schemas", dirs_exist_ok=True)
    shutil.copytree(ROOT / "data" / "codebooks", folder / "data" / "codebooks", dirs_exist_ok=True)
    config = load_config(folder / "config.yaml")
    synthetic = config["synthetic"]
    simulate(folder / synthetic["out"], seed=config["study"]["seed"], scale=synthetic["scale"],
             pool_scale=synthetic["pool_scale"], codebooks=folder / "data" / "codebooks", targets=synthetic["targets"],
             effect=synthetic["effect"], regions=config["regions"]["pairs"], anchors=config["anchors"])
    saved = {name: os.environ.pop(name) for name in ("MENTORWIJS_KEY", "MENTORWIJS_KEY_FILE") if name in os.environ}
    try:
        run_questionnaires(config, folder, key=DEMO_KEY, progress=lambda line: None)
        run_register(config, root=folder)
    finally:
        os.environ.update(saved)
    return digests_of(folder)


def digests_of(folder: Path) -> dict[str, str]:
    """SHA-256 of the register part's outputs in `folder` (its steps' files, results and export)."""
    from mentorwijs.register.steps import PATHS

    files = {path: folder / path for path in PATHS.values()}
    for sub in ("data/processed/results", "export"):
        files.update({p.relative_to(folder).as_posix(): p for p in sorted((folder / sub).rglob("*")) if p.is_file()})
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in sorted(files.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mentorwijs-digests-") as folder:
        digests = register_digests(Path(folder), scale=args.scale)
    text = json.dumps(digests, indent=1, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)


if __name__ == "__main__":
    main()
