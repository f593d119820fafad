"""SHA-256 of every file a run of the workflow wrote (issue 14: "outputs byte-identical").

    python tools/output_digests.py RUN_FOLDER                      # print the list
    python tools/output_digests.py RUN_FOLDER --write tests/fixtures/default_outputs.sha256
    python tools/output_digests.py RUN_FOLDER --check tests/fixtures/default_outputs.sha256

RUN_FOLDER is a folder where ``snakemake all`` ran on the default (synthetic) study, e.g. a
copy made as tests/support/synthetic_run.py makes one. Every file under it counts as an output except
what the run reads (Snakefile, config.yaml, workflow/, data/codebooks/) and what is not a
result (logs/, .snakemake/, __pycache__). The list is one line per file, ``<sha256>  <path>``
(the format of ``sha256sum``), sorted by path, after a header of ``#`` lines naming the
versions of the text layout libraries the PDFs depend on and the numerical libraries' setting
the run used (from its ``reports/provenance.json``).

``--check`` compares with a committed list and prints the files that differ, are missing or
are new; it exits with 1 when any does. The test ``tests/test_end_to_end.py`` makes the same
comparison on its run.

The PDFs' bytes depend on system libraries (Pango's glyph positions, HarfBuzz's font subsetter
when present); the header names those the list was made with, and a machine with others
compares the other files only. Every other result depends on the numerical libraries' kernels:
:func:`mentorwijs.system.reproducible_numerics` sets the same ones on every x86-64 processor
with AVX2; a run with another setting (an ARM processor, say) is compared by its list of files
only. Standard library only (the libraries are read through WeasyPrint when it is installed).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

#: What a run reads or writes besides results (relative to the run folder).
NOT_OUTPUTS = ("Snakefile", "config.yaml", "workflow/", "data/codebooks/", "logs/", ".snakemake/")


def is_output(relative: str) -> bool:
    """True for a path (posix, relative to the run folder) that is a result of the run."""
    if "__pycache__/" in relative or relative.endswith(".pyc"):
        return False
    return not any(relative == prefix or relative.startswith(prefix) for prefix in NOT_OUTPUTS)


def digests(run: Path) -> dict[str, str]:
    """Relative path -> SHA-256 hex of every output file of the run, sorted by path."""
    out = {}
    for path in sorted(run.rglob("*")):
        relative = path.relative_to(run).as_posix()
        if path.is_file() and is_output(relative):
            out[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def pdf_libraries() -> str:
    """The system libraries the PDFs' bytes depend on, as WeasyPrint loads them: Pango's version
    (glyph positions) and whether HarfBuzz's subsetter is present (else fonttools subsets the
    fonts); ``unknown`` without WeasyPrint."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from weasyprint.text import ffi
    except Exception:  # noqa: BLE001 - any failure to load means: not known here
        return "unknown"
    number = int(ffi.pango.pango_version())
    subset = "harfbuzz-subset" if getattr(ffi, "harfbuzz_subset", None) is not None else "fonttools-subset"
    return f"pango {number // 10000}.{number // 100 % 100}.{number % 100}, {subset}"


def run_numerics(run: Path) -> str:
    """The numerical libraries' setting a run used, as its ``reports/provenance.json`` records
    it (:func:`mentorwijs.system.numerics_setting`); ``unknown`` when it is not there."""
    try:
        return str(json.loads((run / "reports" / "provenance.json").read_text(encoding="utf-8"))["numerics"])
    except (OSError, ValueError, KeyError):
        return "unknown"


@dataclass(frozen=True)
class Environment:
    """What the bytes depend on beyond the code: the PDFs' text libraries and the numerics."""

    pdf: str
    numerics: str


def render(table: dict[str, str], environment: Environment) -> str:
    lines = ["# SHA-256 of the default study's workflow outputs (tools/output_digests.py)",
             f"# pdf: {environment.pdf}", f"# numerics: {environment.numerics}"]
    lines += [f"{digest}  {path}" for path, digest in table.items()]
    return "\n".join(lines) + "\n"


def parse(text: str) -> tuple[dict[str, str], Environment]:
    """(path -> digest, the environment of the header) of a list written by :func:`render`."""
    table, header = {}, {"pdf": "unknown", "numerics": "unknown"}
    for line in text.splitlines():
        if line.startswith("# ") and line[2:].split(":", 1)[0] in header:
            name, value = line[2:].split(":", 1)
            header[name] = value.strip()
        elif line and not line.startswith("#"):
            digest, path = line.split("  ", 1)
            table[path] = digest
    return table, Environment(**header)


def compare(expected: dict[str, str], found: dict[str, str], *, skip_pdf: bool, names_only: bool = False) -> list[str]:
    """One line per file that differs, is missing or is new ([] when the runs agree).

    ``skip_pdf`` leaves the PDFs out; ``names_only`` compares which files there are, not their bytes.
    """
    problems = []
    for path in sorted(set(expected) | set(found)):
        if skip_pdf and path.endswith(".pdf"):
            continue
        if path not in found:
            problems.append(f"missing  {path}")
        elif path not in expected:
            problems.append(f"new      {path}")
        elif expected[path] != found[path] and not names_only:
            problems.append(f"differs  {path}")
    return problems


def check(expected: dict[str, str], made_with: Environment, run: Path,
          found: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """(problems, notes): :func:`compare` of the run (its :func:`digests`, ``found`` when already
    computed) with the list, leaving out what this machine cannot reproduce (the notes say what
    and why)."""
    here = Environment(pdf_libraries(), run_numerics(run))
    notes = []
    names_only = here.numerics != made_with.numerics
    skip_pdf = names_only or here.pdf != made_with.pdf
    if names_only:
        notes.append(f"only the list of files compared: the list was made with numerics {made_with.numerics!r}, "
                     f"this run used {here.numerics!r}")
    elif skip_pdf:
        notes.append(f"PDFs not compared: the list was made with {made_with.pdf}, this machine has {here.pdf}")
    found = digests(run) if found is None else found
    return compare(expected, found, skip_pdf=skip_pdf, names_only=names_only), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="folder where `snakemake all` ran")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, help="write the list to this file")
    action.add_argument("--check", type=Path, help="compare with the list in this file")
    args = parser.parse_args(argv)
    found = digests(args.run)
    if not found:
        parser.error(f"no output files under {args.run}")
    if args.check:
        expected, made_with = parse(args.check.read_text(encoding="utf-8"))
        problems, notes = check(expected, made_with, args.run, found)
        print("\n".join(notes + problems) if problems or notes else f"{len(found)} outputs identical")
        return 1 if problems else 0
    text = render(found, Environment(pdf_libraries(), run_numerics(args.run)))
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"{len(found)} outputs -> {args.write}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
