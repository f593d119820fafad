"""The ``mentorwijs`` command.

Every subcommand is a thin wrapper around library functions. A problem the user can fix
(:class:`mentorwijs.errors.InputError`) is printed as one message naming file, row, column and
fix, on one line that starts with ``ERROR``, with exit code 1; any other exception is a bug and keeps its traceback (exit code 2 from
Python). Exit codes: 0 success (warnings may be listed), 1 input or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from mentorwijs import __version__
from mentorwijs.errors import InputError

EXIT_OK = 0
EXIT_INPUT_ERROR = 1


def _progress(message: str) -> None:
    print(f"[mentorwijs] {message}", file=sys.stderr, flush=True)


def cmd_simulate(args: argparse.Namespace) -> int:
    from mentorwijs.config import load_config
    from mentorwijs.simulate import simulate

    targets, effect, regions, anchors = {}, {}, None, None
    if args.config is not None:
        config = load_config(args.config)
        section = config.get("synthetic", {})
        targets, effect = section.get("targets", {}), section.get("effect", {})
        regions, anchors = config["regions"]["pairs"], config["anchors"]
    result = simulate(
        args.out,
        seed=args.seed,
        scale=args.scale,
        pool_scale=args.pool_scale,
        add_waves=tuple(args.add_wave),
        codebooks=args.codebooks,
        targets=targets,
        effect=effect,
        regions=regions,
        anchors=anchors,
        register_only=args.register_only,
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


def cmd_check(args: argparse.Namespace) -> int:
    from mentorwijs.config import load_config
    from mentorwijs.ingest import CleaningOptions, check_file
    from mentorwijs.ingest.pipeline import WARN_EXCLUDED_SHARE

    config = load_config(args.config)
    ingest = config.get("ingest") or {}
    share = args.warn_excluded_share if args.warn_excluded_share is not None else ingest.get("warn_excluded_share", WARN_EXCLUDED_SHARE)
    report = check_file(
        args.file,
        source=args.source,
        sources=config["sources"],
        root=Path(args.config).resolve().parent,
        wave=args.wave,
        options=CleaningOptions.from_mapping(ingest),
        verbose=args.verbose,
        warn_excluded_share=float(share),
    )
    print(f"{report.file}: source {report.source} ({report.format}), "
          f"{'encoding ' + report.encoding if report.encoding else 'binary format'}")
    for line in report.lines:
        print(line)
    if report.errors:
        for error in report.errors:
            print(f"ERROR mentorwijs check: {error.line}", file=sys.stderr)
        print(f"{len(report.errors)} error(s), {report.n_warnings} warning(s)")
        return EXIT_INPUT_ERROR
    print(f"OK: no errors, {report.n_warnings} warning(s) (listed above)")
    return EXIT_OK


def cmd_codebook(args: argparse.Namespace) -> int:
    from mentorwijs.ingest.bootstrap import draft_codebook

    text = draft_codebook(args.file, source=args.source, fmt=args.format, options_path=args.options)
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    if args.out.exists() and not args.force:
        raise InputError("the codebook file exists already", file=args.out,
                         hint="choose another --out, or add --force to overwrite it")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    _progress(f"wrote the draft codebook {args.out.as_posix()}: review it before use")
    return EXIT_OK


def _replication_counts(text: str, *, allow_list: bool) -> list[int]:
    """--replications as positive whole numbers (one, or with ``allow_list`` a comma-separated list)."""
    parts = str(text).split(",") if allow_list else [str(text)]
    try:
        counts = [int(p) for p in parts]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise InputError(f"--replications {text!r} is not a positive whole number" + (" or a list of them" if allow_list else ""),
                         hint="e.g. --replications 200, or with --chain one per scale: --replications 200,40 --scale 1,8")
    return counts


def _validation_command(root: Path, settings: Mapping[str, Any], *, cores: str, profile: Path | None,
                        extra: Sequence[str]) -> list[str]:
    """The snakemake command line of the validation workflow (workflow/validation/Snakefile)."""
    snakefile = root / "workflow" / "validation" / "Snakefile"
    if not snakefile.is_file():
        raise InputError("the chain validation workflow was not found", file=snakefile,
                         hint="run from a checkout of the repository, or pass --config <repository>/config.yaml")
    # --forcerun chain_aggregate: Snakemake 9 does not rerun a job whose output is missing when the
    # target downstream (chain.csv) exists and is newer than its present inputs. Without it, asking
    # for more replications after an aggregation (or resuming after one) would run nothing. The
    # aggregation takes seconds and gives the same bytes for the same rows.
    command = [sys.executable, "-m", "snakemake", "-s", snakefile.as_posix(), "--directory", root.as_posix(),
               "--rerun-incomplete", "--forcerun", "chain_aggregate",
               "--config", *(f"{k}={v}" for k, v in settings.items())]
    if profile is not None:
        command += ["--profile", Path(profile).resolve().as_posix()]
    else:
        command += ["--cores", str(cores)]
    return command + list(extra)


def _chain_command(args: argparse.Namespace, root: Path) -> list[str]:
    """The snakemake command line of the chain validation (workflow/validation/Snakefile)."""
    settings = {"study_config": Path(args.config).resolve().as_posix() if args.config is not None else "config.yaml"}
    if args.replications is not None:  # one number, or one per scale (200,40)
        _replication_counts(args.replications, allow_list=True)
        settings["replications"] = args.replications
    if args.seed is not None:
        settings["seed"] = args.seed
    if args.scale is not None:
        settings["scales"] = args.scale
    if args.scenarios is not None:
        settings["scenarios"] = args.scenarios
    if args.out is not None:
        settings["out"] = Path(args.out).resolve().as_posix()
    return _validation_command(root, settings, cores=args.cores, profile=args.profile, extra=args.snakemake_args)


def _run_validation_workflow(command: Sequence[str], root: Path, what: str) -> None:
    import os
    import subprocess

    import mentorwijs

    env = dict(os.environ)
    package_parent = Path(mentorwijs.__file__).resolve().parent.parent.as_posix()
    env["PYTHONPATH"] = os.pathsep.join([package_parent, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    _progress(f"{what}: " + " ".join(command[2:]))
    code = subprocess.call(list(command), cwd=root, env=env)
    if code != 0:
        raise InputError(f"the {what} workflow stopped (exit code {code})",
                         hint="see the messages above and the logs under the work folder; the same command resumes "
                              "and keeps the replications that finished")


def cmd_validate_chain(args: argparse.Namespace) -> int:
    root = _repository_root(args.config) if args.config is not None else Path.cwd()
    _run_validation_workflow(_chain_command(args, root), root, "chain validation")
    _progress("chain validation done")
    return EXIT_OK


def _power_plan(args: argparse.Namespace) -> tuple[Path, dict[str, Any], list[int], list[float], list[int], Path]:
    """What `mentorwijs power` runs: root, settings, trainees, scales, replications, summary file."""
    from mentorwijs import power as pw
    from mentorwijs.config import load_config

    root = _repository_root(args.config) if args.config is not None else Path.cwd()
    config_file = Path(args.config) if args.config is not None else root / "config.yaml"
    config = load_config(config_file)
    settings = pw.power_settings(config)
    trainees = pw.parse_counts(args.trainees, what="trainees", minimum=2) if args.trainees else \
        pw.parse_counts(settings["trainees"], what="trainees", minimum=2)
    scales = [pw.scale_for_trainees(n) for n in trainees]
    if len({pw.scale_text(s) for s in scales}) != len(scales):
        raise InputError(f"the numbers of trainees {trainees} repeat a size", hint="give each number of trainees once")
    counts = pw.replication_counts(args.replications if args.replications is not None else settings["replications"],
                                   len(trainees))
    work = Path(config["effects"]["validate"]["chain"]["work"])
    summary = (root / work / "power_chain.csv") if not work.is_absolute() else work / "power_chain.csv"
    return root, settings | {"config_file": config_file}, trainees, scales, counts, summary


def cmd_power(args: argparse.Namespace) -> int:
    import pandas as pd

    from mentorwijs import power as pw
    from mentorwijs.figures import save_figure
    from mentorwijs.tables import write_csv_table

    root, settings, trainees, scales, counts, summary_file = _power_plan(args)
    workflow = {"study_config": Path(settings["config_file"]).resolve().as_posix(),
                "replications": ",".join(str(c) for c in counts), "scales": ",".join(pw.scale_text(s) for s in scales),
                "scenarios": "effect", "out": summary_file.resolve().as_posix()}
    _progress("power planner: " + ", ".join(f"{n} trainees (scale {pw.scale_text(s)}, {c} replications)"
                                            for n, s, c in zip(trainees, scales, counts)))
    command = _validation_command(root, workflow, cores=args.cores, profile=args.profile, extra=args.snakemake_args)
    _run_validation_workflow(command, root, "power planner")
    summary = pd.read_csv(summary_file, dtype={"scenario": str, "term": str, "method": str, "outcome": str},
                          keep_default_na=False, na_values=[""])  # the scenario "null" is text
    table = pw.power_table(summary, scales=scales, method=settings["method"], outcome=settings["outcome"],
                           survival_outcome=settings["survival_outcome"])
    out = Path(args.out) if args.out is not None else root / settings["out"]
    figure = Path(args.figure) if args.figure is not None else root / settings["figure"]
    write_csv_table(table, out)
    save_figure(pw.power_figure(table, target=settings["target"]), figure.parent, figure.stem, formats=("png",))
    print("\n".join(pw.power_lines(table)))
    for estimator in ("did_pooled", "rmst_difference"):
        needed = pw.trainees_for_power(table, estimator, settings["target"])
        print(f"{estimator}: power {settings['target']:.0%} " + (f"reached at {needed:.0f} trainees" if needed else
                                                                 "not reached at the sizes run"))
    _progress(f"power planner done: {out} and {figure}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from mentorwijs.config import load_config

    if args.chain:
        return cmd_validate_chain(args)
    from mentorwijs.effects.montecarlo import run_validation, write_validation_table

    settings = {}
    if args.config is not None:
        settings = load_config(args.config).get("effects", {}).get("validate", {})
    replications = (_replication_counts(args.replications, allow_list=False)[0] if args.replications is not None
                    else settings.get("replications", 1000))
    seed = args.seed if args.seed is not None else settings.get("seed", 20190501)
    out = args.out if args.out is not None else Path(settings.get("out", "docs/validation/montecarlo.csv"))
    band_draws = settings.get("band_draws", 5000)
    _progress(f"Monte Carlo validation: {replications} replications per scenario, seed {seed}")
    table = run_validation(replications, seed, band_draws=band_draws, progress=_progress)
    write_validation_table(table, out)
    for line in table[table["measure"] != "did_month"].itertuples(index=False):
        _progress(f"{line.scenario} {line.measure}: {line.verdict}")
    months = table[table["measure"] == "did_month"]
    for scenario, part in months.groupby("scenario"):
        inside = int(part["verdict"].str.startswith("coverage within").sum())
        _progress(f"{scenario} did_month: coverage within limits in {inside} of {len(part)} months")
    _progress(f"wrote {Path(out).as_posix()}")
    return EXIT_OK


def _repository_root(config_path: Path) -> Path:
    """Paths in config.yaml are relative to the folder holding it (the repository root)."""
    return Path(config_path).resolve().parent


def cmd_run(args: argparse.Namespace) -> int:
    from mentorwijs.config import load_config

    config = load_config(args.config, overrides=args.set)
    root = _repository_root(args.config)
    if args.part == "questionnaires":
        import time

        from mentorwijs.ingest.steps import run_questionnaires, run_supervisor_analyses

        started = time.perf_counter()
        run_questionnaires(config, root, progress=_progress)
        _progress("supervisor analyses ...")
        run_supervisor_analyses(config, root)
        _progress(f"questionnaire part done in {time.perf_counter() - started:.1f} s")
    elif args.part == "register":
        from mentorwijs.register.steps import run_register

        seconds = run_register(config, root=root, progress=_progress)
        _progress(f"register part done in {sum(seconds.values()):.1f} s")
    elif args.part == "report":
        from mentorwijs.report.steps import run_report

        seconds = run_report(config, root=root, progress=_progress)
        _progress(f"report part done in {sum(seconds.values()):.1f} s")
    return EXIT_OK


def cmd_check_register(args: argparse.Namespace) -> int:
    from mentorwijs.config import load_config
    from mentorwijs.register import spec
    from mentorwijs.handover import TRAINEES
    from mentorwijs.pseudonymise import load_key
    from mentorwijs.register.check import check_register
    from mentorwijs.register.steps import RegisterChecks, window_of

    config = load_config(args.config, overrides=args.set)
    root = _repository_root(args.config)
    reg = config["register"]
    files = {kind: ([root / p for p in value] if isinstance(value, list) else root / value) for kind, value in reg["files"].items()}
    checks = RegisterChecks.from_config(config)
    findings = check_register(
        files=files,
        key_file=root / reg["key"]["path"],
        study_number=reg["key"]["study_number"],
        window=window_of(reg["window"]),
        variables=spec.variables(reg.get("variables")),
        codes=spec.codes(reg.get("codes")),
        max_bad_share=checks.max_bad_share,
        min_month_share=checks.min_month_share,
        warn_excluded_share=checks.warn_excluded_share,
        trainees_file=root / TRAINEES,
        pseudonym_key=lambda: load_key(synthetic=bool(config["study"]["synthetic"])),
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
    _add_simulate_command(sub)
    _add_check_command(sub)
    _add_codebook_command(sub)
    _add_validate_command(sub)
    _add_power_command(sub)
    _add_run_command(sub)
    _add_check_register_command(sub)
    _add_doctor_command(sub)
    return parser


def _add_simulate_command(sub: Any) -> None:
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
                     help="take the realism targets, the true effect, the region pairs and the time anchors from this config.yaml (default: built-in values, equal to the shipped config.yaml)")
    sim.add_argument("--register-only", action="store_true",
                     help="write only what the register part reads: linkage key, register extracts and the questionnaire files the trainee hand-over is made from (schedule, invitations, Castor study export, employees' main questionnaire); used by `validate --chain`")
    sim.set_defaults(func=cmd_simulate)


def _add_check_command(sub: Any) -> None:
    chk = sub.add_parser(
        "check",
        help="check a raw questionnaire export against its format and codebook (writes nothing)",
        description=(
            "Check one raw export as the pipeline would read it: encoding, separator, header rows, every "
            "column the codebook declares for the source and wave, column types and date order, the last row. "
            "Errors (exit 1) name file, row, column, problem and fix; a file from which no row survives the "
            "cleaning rules is an error too. Row-level problems that a cleaning rule handles (test participants, "
            "previews, duplicates, out-of-range answers, user-missing codes), columns the codebook does not declare "
            "(not read), absent optional columns and a share of excluded rows above ingest.warn_excluded_share are "
            "listed as warnings (exit 0)."
        ),
    )
    chk.add_argument("file", type=Path, metavar="FILE", help="the raw export to check")
    chk.add_argument("--source", required=True, metavar="NAME", help="the source in config.yaml (e.g. supervisors)")
    chk.add_argument("--wave", default=None, metavar="W",
                     help="the wave the file holds (T0, T1, ...); default: the waves config.yaml names this file for")
    chk.add_argument("--config", type=Path, default=Path("config.yaml"), metavar="FILE",
                     help="the study configuration (default config.yaml); paths in it are relative to its folder")
    chk.add_argument("--warn-excluded-share", type=float, default=None, metavar="F",
                     help="warn when more than this share of the rows is excluded (default: ingest.warn_excluded_share "
                          "of --config, else 0.5)")
    chk.add_argument("--verbose", action="store_true",
                     help="list under each kind of exclusion its detailed reasons (progress values, kept rows)")
    chk.set_defaults(func=cmd_check)


def _add_codebook_command(sub: Any) -> None:
    cb = sub.add_parser(
        "codebook",
        help="draft a codebook from a Castor variable list or a Qualtrics export",
        description=(
            "Write a draft codebook (docs/codebooks.md) from a Castor Excel export with its variable-list and "
            "'Field options' sheets, a Castor variable list exported as CSV (with --options for its Field options "
            "CSV), or a Qualtrics CSV export. Review the draft: canonical names, identifiers, ranges, reverse "
            "items and scales."
        ),
    )
    cb.add_argument("file", type=Path, metavar="FILE", help="the Castor .xlsx / variable-list CSV, or the Qualtrics CSV")
    cb.add_argument("--source", required=True, metavar="NAME", help="the source name the codebook is for")
    cb.add_argument("--format", required=True, choices=["castor_study", "castor_survey", "qualtrics"],
                    help="the export format of the source")
    cb.add_argument("--options", type=Path, default=None, metavar="FILE",
                    help="Castor 'Field options' as CSV (only with a variable list given as CSV)")
    cb.add_argument("--out", type=Path, default=None, metavar="FILE", help="write here (default: print the draft)")
    cb.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    cb.set_defaults(func=cmd_codebook)


def _add_validate_command(sub: Any) -> None:
    val = sub.add_parser(
        "validate",
        help="Monte Carlo validation of the effect estimators (bias, coverage, power; minutes)",
        description=(
            "Simulate matched studies with a known effect at the study's size (73 trainees, about 1,526 "
            "control persons), estimate them as the analysis does and report bias, coverage of the pooled "
            "effect, the monthly effects, the simultaneous band and the RMST difference, and power. "
            "The same seed gives the same table."
        ),
    )
    val.add_argument("--replications", default=None, metavar="N",
                     help="simulated studies per scenario (default: effects.validate.replications of --config, else 1000); "
                          "with --chain one number per scale may be given, e.g. 200,40 with --scale 1,8")
    val.add_argument("--seed", type=int, default=None, metavar="S",
                     help="random seed (default: effects.validate.seed of --config, else 20190501)")
    val.add_argument("--out", type=Path, default=None, metavar="FILE",
                     help="CSV to write (default: effects.validate.out of --config, else docs/validation/montecarlo.csv)")
    val.add_argument("--config", type=Path, default=None, metavar="FILE",
                     help="take replications, seed, band draws and output file from this config.yaml "
                          "(with --chain: effects.validate.chain of it; default config.yaml in the current folder)")
    chain = val.add_argument_group(
        "whole-chain validation (--chain)",
        "Simulate whole synthetic studies (register files and the trainee hand-over), run the register part and "
        "the effects exactly as the analysis does, and compare every estimate with truth.json: bias, coverage, "
        "power per estimator (workflow/validation/Snakefile; docs/validation/README.md). Runs through Snakemake "
        "with one replication per job; a killed run resumes and keeps the finished replications.")
    chain.add_argument("--chain", action="store_true", help="validate the whole chain instead of the estimators alone")
    chain.add_argument("--scale", default=None, metavar="S[,S...]",
                       help="study sizes (synthetic.scale), e.g. 1 or 1,8 (default: effects.validate.chain.scales)")
    chain.add_argument("--scenarios", default=None, metavar="LIST",
                       help="effect, null or effect,null (default: effects.validate.chain.scenarios)")
    chain.add_argument("--cores", default="all", metavar="C",
                       help="cores to use, one replication per core (default all)")
    chain.add_argument("--profile", type=Path, default=None, metavar="DIR",
                       help="a Snakemake profile instead of --cores, e.g. workflow/profiles/slurm for a SLURM cluster")
    chain.add_argument("snakemake_args", nargs="*", metavar="-- SNAKEMAKE_ARGS",
                       help="further Snakemake options after --, e.g. -- --default-resources slurm_account=abc123")
    val.set_defaults(func=cmd_validate)


def _add_power_command(sub: Any) -> None:
    pwr = sub.add_parser(
        "power",
        help="power against the number of trainees at the configured effect (whole-chain Monte Carlo; hours)",
        description=(
            "Plan the next evaluation's size: for each number of trainees, simulate whole synthetic studies with "
            "the configured effect (synthetic.effect) at scale trainees / 73, run the register part and the effects "
            "exactly as the analysis does, and report the power (the share of 95% intervals excluding 0, with its "
            "Clopper-Pearson interval) of the primary effect (pooled DiD of effects.primary_outcome) and of the RMST "
            "difference (effects.primary_survival_outcome), both of effects.primary_method. Runs the chain "
            "validation's workflow (scenario effect) and reuses its replications; a killed run resumes. Writes "
            "docs/validation/power.csv and power.png (effects.validate.power) and prints the table."
        ),
    )
    pwr.add_argument("--trainees", default=None, metavar="N[,N...]",
                     help="numbers of matched trainees (default effects.validate.power.trainees: 73,146,292,584)")
    pwr.add_argument("--replications", default=None, metavar="N[,N...]",
                     help="replications per number of trainees: one number or one each (default "
                          "effects.validate.power.replications); e.g. 20 for a quick look")
    pwr.add_argument("--config", type=Path, default=None, metavar="FILE",
                     help="the study configuration (default config.yaml in the current folder)")
    pwr.add_argument("--out", type=Path, default=None, metavar="FILE",
                     help="the power table (default effects.validate.power.out: docs/validation/power.csv)")
    pwr.add_argument("--figure", type=Path, default=None, metavar="FILE",
                     help="the power curve, PNG (default effects.validate.power.figure: docs/validation/power.png)")
    pwr.add_argument("--cores", default="all", metavar="C", help="cores to use, one replication per core (default all)")
    pwr.add_argument("--profile", type=Path, default=None, metavar="DIR",
                     help="a Snakemake profile instead of --cores, e.g. workflow/profiles/slurm for a SLURM cluster")
    pwr.add_argument("snakemake_args", nargs="*", metavar="-- SNAKEMAKE_ARGS",
                     help="further Snakemake options after --, e.g. -- --default-resources slurm_account=abc123")
    pwr.set_defaults(func=cmd_power)


def _add_run_command(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run a part's steps in order without Snakemake (for environments without it)",
        description=(
            "Run the steps of one part of the workflow in order, calling the same library functions as the "
            "Snakemake rules, with every step logging where its rule logs (logs/<part>/<step>.log). Meant for "
            "environments where Snakemake may not be available, such as the CBS Remote Access environment. The "
            "questionnaire part (outside CBS) runs the target questionnaires: ingest, de-identification, the "
            "hand-over to CBS and the supervisors' tables. The register "
            "part runs the steps of the target register_export: register extracts to the matched panel, the effect "
            "tables (data/processed/results/) and the disclosure-checked export (export/). The report part (outside "
            "CBS again) runs the steps of the target report: the exported tables into reports/tables/, figures, "
            "provenance, report and factsheet."
        ),
    )
    run.add_argument("--part", required=True, choices=["questionnaires", "register", "report"],
                     help="the part to run")
    run.add_argument("--config", type=Path, default=Path("config.yaml"), metavar="FILE",
                     help="the study configuration (default config.yaml); paths in it are relative to its folder")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value, e.g. --set matching.k=20; repeatable")
    run.set_defaults(func=cmd_run)


def _add_check_register_command(sub: Any) -> None:
    chr_ = sub.add_parser(
        "check-register",
        help="check the CBS register extracts: columns, window coverage, key match rate, RINPERSOONS mix",
        description=(
            "Read every register extract config.yaml names and report whether it has the columns the pipeline "
            "reads, its mix of RINPERSOONS codes, unusable dates and duplicate persons, whether the payroll "
            "extracts cover every month of register.window, and how many linkage-key entries are found in the "
            "register. Exit code 1 when any check fails."
        ),
    )
    chr_.add_argument("--config", type=Path, default=Path("config.yaml"), metavar="FILE",
                     help="the study configuration (default config.yaml)")
    chr_.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value; repeatable")
    chr_.set_defaults(func=cmd_check_register)


def _add_doctor_command(sub: Any) -> None:
    doc = sub.add_parser("doctor", help="check that the system libraries a part needs are present")
    doc.add_argument("--part", choices=["questionnaires", "register", "report", "all"], default="all",
                     help="which part of the workflow to check for (default all)")
    doc.set_defaults(func=cmd_doctor)


def main(argv: Sequence[str] | None = None) -> int:
    from mentorwijs.system import reproducible_numerics

    reproducible_numerics()  # before numpy loads: the same bytes as the Snakemake rules
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except InputError as exc:
        print(f"ERROR mentorwijs {args.command}: {exc.line}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130
