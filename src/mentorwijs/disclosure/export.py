"""Writing an export: check every registered table, then move the tables, the output-check log, the
README and the checksums into place together (:func:`export_tables`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from mentorwijs.disclosure.export_readme import CHECKSUMS, export_readme
from mentorwijs.disclosure.policy import DisclosurePolicy
from mentorwijs.disclosure.specs import REGISTRY
from mentorwijs.disclosure.suppression import LOG_COLUMNS, check_table
from mentorwijs.errors import InputError
from mentorwijs.tables import write_csv_table


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_tables` wrote (paths relative to the export folder, sorted) and its log."""

    files: tuple[str, ...]
    log: pd.DataFrame


def checksums(folder: str | Path, files: Sequence[str]) -> str:
    """``sha256sum`` lines (``<hex>  <path>``, paths relative to ``folder`` with ``/``) of ``files``, sorted."""
    import hashlib

    return "".join(f"{hashlib.sha256((Path(folder) / name).read_bytes()).hexdigest()}  {name}\n"
                   for name in sorted(files))


def read_results_table(path: str | Path) -> pd.DataFrame:
    """Read one raw result table (UTF-8 CSV, comma, decimal point) as the effects part writes it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("result table not found", file=path, hint="run the analyses that write it first")
    try:
        return pd.read_csv(path, encoding="utf-8", keep_default_na=True, na_values=[""])
    except pd.errors.EmptyDataError:
        raise InputError("the result table is empty (no header)", file=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable UTF-8 comma-separated table: {exc}", file=path) from None


def export_tables(
    src_dir: str | Path,
    dst_dir: str | Path,
    policy: DisclosurePolicy,
    kinds: Sequence[str] | None = None,
) -> ExportResult:
    """Check and write the aggregate tables that may leave the secure environment.

    Reads ``<src_dir>/<name>.csv`` for every name in ``kinds`` (default: every ``.csv`` in
    ``src_dir``; each name must be a registered kind) and writes ``<dst_dir>/tables/<name>.csv``,
    ``<dst_dir>/output_check_log.csv``, ``<dst_dir>/README.md`` and ``<dst_dir>/SHA256SUMS`` (the
    SHA-256 of each of the others, in ``sha256sum`` format). Everything is written to a
    staging folder first and moved into place only when every table passed, so an error leaves
    the previous export untouched; the previous ``tables/`` folder is replaced as a whole, so no
    stale table survives.
    """
    src, dst = Path(src_dir), Path(dst_dir)
    if kinds is None:
        if not src.is_dir():
            raise InputError("folder of result tables not found", file=src)
        others = sorted(p.name for p in src.iterdir() if p.is_file() and p.suffix != ".csv")
        if others:
            raise InputError("only registered aggregate tables (.csv) may be exported", file=src / others[0],
                             hint="move other files out of the folder, or name the tables to export")
        kinds = sorted(p.stem for p in src.glob("*.csv"))
    names = sorted(dict.fromkeys(kinds))
    for name in names:
        if name not in REGISTRY:
            raise InputError(
                f"{name!r} is not a registered aggregate table kind and may not be exported",
                file=src / f"{name}.csv",
                hint=f"registered kinds: {', '.join(sorted(REGISTRY))}",
            )
    checked: dict[str, pd.DataFrame] = {}
    logs = []
    for name in names:
        table, log = check_table(read_results_table(src / f"{name}.csv"), name, policy, name=name,
                                 source=src / f"{name}.csv")
        checked[name] = table
        logs.append(log)
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=list(LOG_COLUMNS))

    dst.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=dst))
    try:
        for name, table in checked.items():
            write_csv_table(table, staging / "tables" / f"{name}.csv")
        (staging / "tables").mkdir(exist_ok=True)
        write_csv_table(log.astype(str), staging / "output_check_log.csv")
        (staging / "README.md").write_bytes(export_readme(checked, policy).encode("utf-8"))
        listed = sorted([f"tables/{n}.csv" for n in names] + ["output_check_log.csv", "README.md"])
        (staging / CHECKSUMS).write_bytes(checksums(staging, listed).encode("ascii"))
        if (dst / "tables").exists():
            os.replace(dst / "tables", staging / "previous-tables")
        os.replace(staging / "tables", dst / "tables")
        for name in ("output_check_log.csv", "README.md", CHECKSUMS):
            os.replace(staging / name, dst / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = tuple(sorted(listed + [CHECKSUMS]))
    return ExportResult(files=files, log=log)
