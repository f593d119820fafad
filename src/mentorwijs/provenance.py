"""Provenance of the outputs, and the run summary for batch users.

``reports/provenance.json`` (:func:`provenance_record`) records what produced the documents:
package versions, the effective configuration (after ``--config`` overrides) and its hash,
SHA-256 hashes of the input tables, the git commit and the seed. It carries no time and no
absolute path, so two clean runs of the same commit on the same inputs write the same bytes.

The run summary (:func:`run_summary`) is the one file that must carry a time: it lives under
``logs/`` with the rule logs it summarises. Exit codes of a run (documented in README.md):

- ``0``: every scheduled rule succeeded (warnings may be listed in the summary);
- ``1``: a rule failed, or the configuration was refused. A problem the user can fix is
  logged as one message naming file, row, column and fix (``ERROR`` line in the rule's log);
  a traceback in a log is a bug.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Mapping

from mentorwijs.config import config_hash
from mentorwijs.system import numerics_setting

#: Packages whose versions the provenance records (those that shape an output's bytes).
PACKAGES = (
    "mentorwijs", "numpy", "pandas", "scipy", "statsmodels", "lifelines", "pyreadstat", "pyarrow",
    "matplotlib", "jinja2", "weasyprint", "pydyf", "fonttools", "pyyaml", "snakemake",
)
EXIT_CODES = {0: "success: every scheduled rule succeeded",
              1: "failure: a rule failed or the configuration was refused (see its log)"}


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Python's version and each package's installed version (``not installed`` when absent)."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _relative(path: str | Path, root: str | Path | None) -> str:
    path = Path(path)
    if path.is_absolute():
        base = Path(root) if root is not None else Path.cwd()
        try:
            path = path.resolve().relative_to(base.resolve())
        except ValueError:
            path = Path(path.name)
    return path.as_posix()


def file_hashes(paths: Iterable[str | Path], root: str | Path | None = None) -> dict[str, str]:
    """Relative path (forward slashes) -> SHA-256 of each file; absolute paths are made relative to ``root``."""
    return {_relative(p, root): sha256_file(p) for p in sorted(paths, key=lambda p: Path(p).as_posix())}


def git_state(directory: str | Path = ".") -> tuple[str | None, bool]:
    """The commit checked out in ``directory`` and whether tracked files differ from it.

    ``(None, False)`` outside a git repository or without git.
    """
    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, check=False,
                                    timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None, False
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, bool(status)


def provenance_record(config: Mapping[str, Any], inputs: Mapping[str, str], *, seed: int | None,
                      commit: str | None, dirty: bool = False, versions: Mapping[str, str] | None = None,
                      numerics: str | None = None) -> dict[str, Any]:
    """The provenance of a run as a JSON-ready mapping (no time, no absolute path).

    ``numerics`` is the numerical libraries' setting (default: this process's,
    :func:`mentorwijs.system.numerics_setting`): machine, OpenBLAS kernels, numpy's dispatch.
    """
    return {
        "config": json.loads(json.dumps(config, sort_keys=True)),
        "config_hash": config_hash(config),
        "commit": commit,
        "dirty": bool(dirty),
        "seed": seed,
        "inputs": dict(sorted(inputs.items())),
        "versions": dict(versions if versions is not None else package_versions()),
        "numerics": numerics if numerics is not None else numerics_setting(),
    }


def dumps(record: Mapping[str, Any]) -> str:
    """Canonical JSON text: sorted keys, two-space indent, UTF-8 characters kept, final newline."""
    return json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_json(path: str | Path, record: Mapping[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps(record), encoding="utf-8")
    tmp.replace(path)


def read_provenance(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def log_status(text: str) -> tuple[str, list[str]]:
    """Status of one rule log (``ok``, ``error``) and its warning lines.

    ``error`` when the log holds an ``ERROR`` line (an input problem, as
    :func:`mentorwijs.workflow.run_logged` writes it) or a traceback (a bug).
    """
    lines = text.splitlines()
    warnings = [line[len("WARNING "):].strip() for line in lines if line.startswith("WARNING")]
    failed = any(line.startswith("ERROR") or line.startswith("Traceback (most recent call last)") for line in lines)
    return ("error" if failed else "ok"), warnings


def run_summary(log_dir: str | Path, *, status: str, started: float | None = None, now: _dt.datetime | None = None,
                exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A machine-readable summary of a run: overall status and exit code, per rule log its status and warnings.

    ``log_dir`` holds one log per rule (``logs/<stage>/<rule>.log`` or ``logs/<rule>.log``);
    a log older than ``started`` (seconds since the epoch) is from an earlier run and marked
    ``this_run: false``. ``status`` is ``success`` or ``error`` (from the workflow's handler).
    """
    log_dir = Path(log_dir)
    skip = set(exclude)
    rules = []
    for path in sorted(log_dir.rglob("*.log")):
        name = path.relative_to(log_dir).with_suffix("").as_posix()
        if name in skip:
            continue
        rule_status, warnings = log_status(path.read_text(encoding="utf-8", errors="replace"))
        mtime = path.stat().st_mtime
        rules.append({
            "rule": name,
            "log": (log_dir / path.relative_to(log_dir)).as_posix(),
            "status": rule_status,
            "warnings": warnings,
            "this_run": started is None or mtime >= started,
            "written": _dt.datetime.fromtimestamp(mtime, _dt.timezone.utc).isoformat(timespec="seconds"),
        })
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return {
        "status": status,
        "exit_code": 0 if status == "success" else 1,
        "exit_codes": {str(k): v for k, v in EXIT_CODES.items()},
        "finished": now.isoformat(timespec="seconds"),
        "started": (_dt.datetime.fromtimestamp(started, _dt.timezone.utc).isoformat(timespec="seconds") if started
                    else None),
        "rules": rules,
        "warnings": sum(len(r["warnings"]) for r in rules),
        "versions": package_versions(),
    }


def write_run_summary(log_dir: str | Path, path: str | Path, *, status: str,
                      started: float | None = None) -> dict[str, Any]:
    """Write :func:`run_summary` as JSON to ``path`` (under ``logs/``); returns it."""
    summary = run_summary(log_dir, status=status, started=started)
    write_json(path, summary)
    return summary
