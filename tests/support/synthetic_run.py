"""The whole workflow on the built-in synthetic study, in a temporary copy of the repository.

`workflow_copy(dest)` lays out what a run needs (Snakefile, workflow/, config.yaml, codebooks);
`run_snakemake(root, ...)` runs Snakemake there as a subprocess with the package from this
checkout, so the run writes only inside `root`. The session fixture `synthetic_run` (in
conftest.py) runs `all` once and is shared by the tests that read its outputs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from support.paths import ROOT

#: What a run needs from the repository (everything else it writes itself).
WORKFLOW_FILES = ("Snakefile", "config.yaml")
WORKFLOW_DIRS = ("workflow", "data/codebooks")


def workflow_copy(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        shutil.copy2(ROOT / name, dest / name)
    for name in WORKFLOW_DIRS:
        shutil.copytree(ROOT / name, dest / name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def run_snakemake(root: Path, *args: str, env: dict[str, str] | None = None, cores: int = 2,
                  timeout: int = 900) -> subprocess.CompletedProcess:
    """Snakemake in `root` with this checkout's package; no pseudonymisation key in the environment
    (the synthetic study uses its documented demo key)."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    for name in ("MENTORWIJS_KEY", "MENTORWIJS_KEY_FILE"):
        environment.pop(name, None)
    environment.update(env or {})
    exe = Path(sys.executable).with_name("snakemake")
    return subprocess.run([str(exe), "--cores", str(cores), "--nocolor", *args], cwd=root, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def files_under(root: Path, *folders: str) -> dict[str, bytes]:
    """Relative path -> bytes of every file under the given folders of `root`."""
    out: dict[str, bytes] = {}
    for folder in folders:
        base = root / folder
        for path in sorted(base.rglob("*")):
            if path.is_file():
                out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out
