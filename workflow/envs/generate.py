"""Write the conda environment files of the workflow from the pip lock files.

Run ``make envs`` (or ``python workflow/envs/generate.py``) after changing a lock file; a test
checks that the environment files are in sync with the locks. The environments carry the same
exact versions as the locks, installed by pip inside a conda Python.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENVS = {
    "mentorwijs.yaml": ("requirements.lock", "every rule outside the CBS environment"),
    "register.yaml": ("requirements-register.lock", "the register part (CBS Remote Access: approved packages only)"),
}


def pins(lock: Path) -> list[str]:
    lines = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            lines.append(requirement)
    return lines


def render(lock_name: str, purpose: str) -> str:
    body = [
        f"# Generated from {lock_name} by workflow/envs/generate.py: do not edit by hand.",
        f"# Environment of {purpose}.",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
    ]
    body += [f'      - "{pin}"' for pin in pins(ROOT / lock_name)]
    body.append('      - "-e ../.."  # the mentorwijs package itself (paths relative to this file)')
    return "\n".join(body) + "\n"


def main() -> int:
    for name, (lock, purpose) in ENVS.items():
        (ROOT / "workflow" / "envs" / name).write_text(render(lock, purpose), encoding="utf-8", newline="\n")
        print(f"wrote workflow/envs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
