"""The hand-made fixture study (tests/fixtures/study) laid out as a repository in a temporary folder.

`make_study(dest)` writes the fixture config (see `fixture_config`), copies the codebooks and raw
exports (to data/raw/fixture/) and, with `workflow=True`, the Snakefile and workflow/ so Snakemake
can run there. The expected numbers below are read off the hand-written raw files (see the
comments), not off the code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from support.paths import FIXTURES, ROOT

STUDY = FIXTURES / "study"
KEY_HEX = "5e" * 32  # a test key (not the demo key)

# Counted by hand from tests/fixtures/study/raw (one line per data row of each wave):
RAW_ROWS = {
    ("schedule", None): 3,
    ("invitations", None): 12,
    ("supervisors_study", "T0"): 12,  # 11 participants + TES001
    ("supervisors", "T0"): 14,  # 12 sent + a second submission of 020004 + TES001
    ("supervisors", "T1"): 10,
    ("supervisors", "T2"): 9,
    ("employees", "T0"): 16,  # 15 responses + a second submission of MW00013
    ("employees", "T2"): 4,
}
KEPT_ROWS = {
    ("schedule", None): 3,
    ("invitations", None): 12,
    ("supervisors_study", "T0"): 11,
    ("supervisors", "T0"): 9,  # minus TES001, 020002 (40%), 030003 and 030004 (0%), the earlier 020004
    ("supervisors", "T1"): 8,  # minus TES001, 010004 (60%)
    ("supervisors", "T2"): 7,  # minus TES001, 030001 (20%)
    ("employees", "T0"): 11,  # minus preview, test, spam, unfinished MW00012, the earlier MW00013
    ("employees", "T2"): 3,  # minus a preview
}
SUPERVISOR_FLOW = [("invited", 12), ("completed_T0", 9), ("completed_T1", 8), ("completed_T2", 7)]
# 11 completed; MW00003 and MW00006 refused; MW00007 names supervisor 090009, who does not exist
EMPLOYEE_FLOW = [("completed_questionnaire", 11), ("excluded_refused_linkage", 2),
                 ("excluded_not_linked_to_training", 1), ("sent_to_cbs", 8)]
SENT_TO_CBS = ["MW00001", "MW00002", "MW00004", "MW00005", "MW00008", "MW00013", "MW00014", "MW00015"]


def fixture_config() -> dict:
    """The fixture study's configuration: the repository's config.yaml with the fixture's own
    sections (tests/fixtures/study/config.yaml) in place of the repository's, so a section a
    later part adds to config.yaml reaches the fixture without editing it."""
    import yaml

    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config.update(yaml.safe_load((STUDY / "config.yaml").read_text(encoding="utf-8")))
    return config


def make_study(dest: Path, *, workflow: bool = False) -> Path:
    import yaml

    dest.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(fixture_config(), sort_keys=False, allow_unicode=True)
    (dest / "config.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "workflow" / "schemas", dest / "workflow" / "schemas", dirs_exist_ok=True)
    shutil.copytree(STUDY / "codebooks", dest / "data" / "codebooks", dirs_exist_ok=True)
    shutil.copytree(STUDY / "raw", dest / "data" / "raw" / "fixture", dirs_exist_ok=True)
    if workflow:
        shutil.copy(ROOT / "Snakefile", dest / "Snakefile")
        for part in ("rules", "scripts", "envs"):
            shutil.copytree(ROOT / "workflow" / part, dest / "workflow" / part, dirs_exist_ok=True)
    return dest


def snakemake(root: Path, *args: str, key_hex: str = KEY_HEX) -> subprocess.CompletedProcess:
    """Run Snakemake in `root` (a subprocess, one core) with the package from this worktree."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), MENTORWIJS_KEY=key_hex)
    env.pop("MENTORWIJS_KEY_FILE", None)
    exe = Path(sys.executable).with_name("snakemake")
    return subprocess.run([str(exe), "--cores", "1", "--nocolor", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def set_wave(config: Path, source: str, wave: str, path: str | None) -> None:
    """Add, change (path) or remove (None) one wave of a source in a fixture config."""
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    waves = data["sources"][source]["waves"]
    if path is None:
        waves.pop(wave)
    else:
        waves[wave] = path
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
