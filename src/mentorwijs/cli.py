"""The ``mentorwijs`` command.

Every subcommand is a thin wrapper around library functions. A problem the user can fix
(:class:`mentorwijs.errors.InputError`) is printed as one message naming file, row, column and
fix, with exit code 1; any other exception is a bug and keeps its traceback (exit code 2 from
Python). Exit codes: 0 success (warnings may be listed), 1 input or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from mentorwijs import __version__
from mentorwijs.errors import InputError

EXIT_OK = 0
EXIT_INPUT_ERROR = 1


def _progress(message: str) -> None:
    print(f"[mentorwijs] {message}", file=sys.stderr, flush=True)


def cmd_simulate(args: argparse.Namespace) -> int:
    from mentorwijs.config import load_config
    from mentorwijs.simulate import simulate

    targets, effect = {}, {}
    if args.config is not None:
        section = load_config(args.config).get("synthetic", {})
        targets, effect = section.get("targets", {}), section.get("effect", {})
    result = simulate(
        args.out,
        seed=args.seed,
        scale=args.scale,
        pool_scale=args.pool_scale,
        add_waves=tuple(args.add_wave),
        codebooks=args.codebooks,
        targets=targets,
        effect=effect,
        progress=_progress,
    )
    size = sum((result.out / f).stat().st_size for f in result.files)
    _progress(f"wrote {len(result.files)} files, {size / 1e6:.1f} MB, into {result.out.as_posix()} in {result.seconds:.1f} s")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from mentorwijs.system import check_system

    problems = check_system(part=args.part)
    for line in problems:
        print(line, file=sys.stderr)
    return EXIT_INPUT_ERROR if problems else EXIT_OK


def _repository_root(config_path: Path) -> Path:
    """Paths in config.yaml are relative to the folder holding it (the repository root)."""
    return Path(config_path).resolve().parent


def cmd_run(args: argparse.Namespace) -> int:
    from mentorwijs.config import load_config

    config = load_config(args.config, overrides=args.set)
    if args.part == "register":
        from mentorwijs.register.steps import run_register

        seconds = run_register(config, root=_repository_root(args.config), progress=_progress)
        _progress(f"register part done in {sum(seconds.values()):.1f} s")
    return EXIT_OK


def cmd_check_register(args: argparse.Namespace) -> int:
    from mentorwijs.config import load_config
    from mentorwijs.register import spec
    from mentorwijs.register.check import check_register
    from mentorwijs.register.steps import window_of

    config = load_config(args.config, overrides=args.set)
    root = _repository_root(args.config)
    reg = config["register"]
    files = {kind: ([root / p for p in value] if isinstance(value, list) else root / value) for kind, value in reg["files"].items()}
    checks = reg.get("checks", {})
    findings = check_register(
        files=files,
        key_file=root / reg["key"]["path"],
        study_number=reg["key"]["study_number"],
        window=window_of(reg["window"]),
        variables=spec.variables(reg.get("variables")),
        codes=spec.codes(reg.get("codes")),
        max_bad_share=float(checks.get("max_bad_share", 0.01)),
        min_month_share=float(checks.get("min_month_share", 0.5)),
    )
    for row in findings.itertuples(index=False):
        where = f"{Path(row.file).name}: " if row.file else ""
        print(f"{row.status.upper():8s} {row.check:18s} {where}{row.message}")
    errors = int((findings["status"] == "error").sum())
    warnings_ = int((findings["status"] == "warning").sum())
    print(f"{len(findings)} checks: {errors} error(s), {warnings_} warning(s)")
    return EXIT_INPUT_ERROR if errors else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentorwijs",
        description="Reproducible effect evaluation of the Mentorwijs training (questionnaires, CBS register, report).",
    )
    parser.add_argument("--version", action="version", version=f"mentorwijs {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser(
        "simulate",
        help="write the built-in synthetic study (raw exports + truth.json)",
        description=(
            "Write a complete synthetic raw study in the real export formats (training schedule, "
            "invitation list, Castor study and survey exports, Qualtrics questionnaires, CBS linkage key "
            "and register extracts) plus truth.json with the data-generating truth. The same seed gives "
            "the same bytes. At --scale 1 the published flow of participants is reproduced exactly."
        ),
    )
    sim.add_argument("--out", required=True, type=Path, metavar="DIR",
                     help="folder to write into: new, empty, or an earlier synthetic study (never a folder with real data)")
    sim.add_argument("--seed", required=True, type=int, metavar="N", help="random seed; the same seed gives byte-identical files")
    sim.add_argument("--scale", type=float, default=1.0, metavar="F",
                     help="multiply the numbers of training groups, supervisors and employees (default 1: the published study)")
    sim.add_argument("--pool-scale", type=float, default=1.0, metavar="F",
                     help="multiply the register candidate pool in the control regions, independently of --scale (default 1)")
    sim.add_argument("--add-wave", action="append", default=[], metavar="NAME",
                     help="also write supervisor survey wave NAME (T4, T5, ...) to demonstrate adding a wave; repeatable")
    sim.add_argument("--codebooks", type=Path, default=Path("data/codebooks"), metavar="DIR",
                     help="folder with the codebooks that name the raw items (default data/codebooks)")
    sim.add_argument("--config", type=Path, default=None, metavar="FILE",
                     help="take the realism targets and the true effect from this config.yaml (default: built-in values)")
    sim.set_defaults(func=cmd_simulate)

    run = sub.add_parser(
        "run",
        help="run a part's steps in order without Snakemake (for environments without it)",
        description=(
            "Run the steps of one part of the workflow in order, calling the same library functions as the "
            "Snakemake rules, with every step logging to logs/<part>/<step>.log. Meant for the CBS Remote Access "
            "environment, where Snakemake may not be available."
        ),
    )
    run.add_argument("--part", required=True, choices=["register"], help="the part to run")
    run.add_argument("--config", type=Path, default=Path("config.yaml"), metavar="FILE",
                     help="the study configuration (default config.yaml); paths in it are relative to its folder")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value, e.g. --set matching.k=20; repeatable")
    run.set_defaults(func=cmd_run)

    chk = sub.add_parser(
        "check-register",
        help="check the CBS register extracts: columns, window coverage, key match rate, RINPERSOONS mix",
        description=(
            "Read every register extract config.yaml names and report whether it has the columns the pipeline "
            "reads, its mix of RINPERSOONS codes, unusable dates and duplicate persons, whether the payroll "
            "extracts cover every month of register.window, and how many linkage-key entries are found in the "
            "register. Exit code 1 when any check fails."
        ),
    )
    chk.add_argument("--config", type=Path, default=Path("config.yaml"), metavar="FILE",
                     help="the study configuration (default config.yaml)")
    chk.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value; repeatable")
    chk.set_defaults(func=cmd_check_register)

    doc = sub.add_parser("doctor", help="check that the system libraries a part needs are present")
    doc.add_argument("--part", choices=["questionnaires", "register", "report", "all"], default="all",
                     help="which part of the workflow to check for (default all)")
    doc.set_defaults(func=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except InputError as exc:
        print(f"mentorwijs {args.command}: error: {exc.message}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130
