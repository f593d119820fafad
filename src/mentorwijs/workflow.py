"""Glue between workflow scripts and the library: logging and the error contract.

:func:`run_logged` is used by every ``workflow/scripts/*.py`` adapter and by
``mentorwijs run``: it logs to the rule's log file (and stderr), turns an
:class:`~mentorwijs.errors.InputError` into one ``ERROR`` line (file, row, column, problem, fix) with exit code 1, and
never lets a traceback reach the user for a problem they can fix.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Callable, Iterator, Mapping, Sequence

from mentorwijs.errors import InputError


@contextlib.contextmanager
def run_logged(log_file: str | Path, name: str = "mentorwijs", *, echo: bool = True) -> Iterator[logging.Logger]:
    """Log to ``log_file`` and (with ``echo``) stderr; exit 1 with the message on an :class:`InputError`."""
    log_file = Path(log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    formatter = logging.Formatter("%(levelname)s %(message)s")
    handlers = ([logging.FileHandler(log_file, mode="w", encoding="utf-8")]
                + ([logging.StreamHandler(sys.stderr)] if echo else []))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.handlers = logger.handlers
    try:
        yield logger
    except InputError as exc:
        logger.error("%s", exc.line)
        raise SystemExit(1) from None
    finally:
        for handler in logger.handlers:
            handler.flush()


# --------------------------------------------------------------------------------------
# declared steps: one list per part, read by the Snakemake rules and by ``mentorwijs run``

#: A declared file: a path (forward slashes, relative to the repository root; may hold
#: ``{source}``/``{wave}`` wildcards), a tuple of paths, or a function of the configuration
#: giving one path or a list of them (raw files the configuration names). An output's function
#: takes no argument, unless it is wrapped in :class:`FromConfig`.
FileSpec = Any


def _plain_files(value: Any) -> Any:
    return list(value) if isinstance(value, (tuple, list)) else value


@dataclass(frozen=True)
class FromConfig:
    """Outputs that depend on the configuration (the report's formats): a function of it."""

    files: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class StepSpec:
    """One step of a part: the Snakemake rule of the same name and a step of ``mentorwijs run``.

    ``input_files``/``output_files`` map the argument names of ``function`` to files
    (:data:`FileSpec`); ``settings`` gives the step's plain settings from the configuration (the
    rule's ``params:``); ``call`` turns the named files and settings into the function's keyword
    arguments where they differ (default: the same names, so an input and an output of such a
    step never share a name). ``optional`` names inputs read only when their file is there (as
    the rule's input when it exists, relative to the working directory or the plan's root).
    """

    name: str
    function: Callable[..., Any]
    input_files: Mapping[str, FileSpec]
    output_files: Mapping[str, FileSpec]
    settings: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    call: Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]] | None = None
    optional: frozenset[str] = frozenset()

    def inputs(self, config: Mapping[str, Any], *, root: str | PurePath = ".") -> dict[str, Any]:
        """The named inputs (paths relative to the repository root), as the rule's ``input:``; an
        ``optional`` input only when its file is under ``root``."""
        files = {name: _plain_files(value(config) if callable(value) else value)
                 for name, value in self.input_files.items()}
        return {name: value for name, value in files.items()
                if name not in self.optional or os.path.isfile(PurePath(root) / value)}

    def outputs(self, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The named outputs (paths relative to the repository root), as the rule's ``output:``;
        outputs declared :class:`FromConfig` need ``config``."""
        def files(value: Any) -> Any:
            if isinstance(value, FromConfig):
                if config is None:
                    raise ValueError(f"step {self.name}: its outputs depend on the configuration; pass it")
                return value.files(config)
            return value() if callable(value) else value

        return {name: _plain_files(files(value)) for name, value in self.output_files.items()}

    def params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The step's settings from the configuration: plain values, as the rule's ``params:``."""
        return dict(self.settings(config)) if self.settings is not None else {}

    def arguments(self, files: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
        """Keyword arguments of ``function`` from the named files (already placed) and the settings."""
        if self.call is not None:
            return self.call(files, config)
        both = sorted(set(self.input_files) & set(self.output_files))
        if both:
            raise ValueError(f"step {self.name}: {both[0]!r} names an input and an output; give it a `call`")
        return {**files, **self.params(config)}


def output_paths(steps: Sequence[StepSpec], config: Mapping[str, Any] | None = None) -> set[str]:
    """Every output path of ``steps`` (relative, forward slashes); ``config`` for outputs that depend on it."""
    paths: set[str] = set()
    for step in steps:
        for value in step.outputs(config).values():
            paths.update(value if isinstance(value, list) else [value])
    return paths


@dataclass
class PlannedStep:
    """A step of a plan: the function and its keyword arguments (paths placed under a root)."""

    name: str
    function: Callable[..., Any]
    arguments: dict[str, Any]


def _as_path(path: str | PurePath) -> PurePath:
    return path if isinstance(path, PurePath) else Path(path)


def plan_of(steps: Sequence[StepSpec], config: Mapping[str, Any], *, root: str | PurePath,
            out_root: str | PurePath | None = None) -> list[PlannedStep]:
    """The declared ``steps`` in order with their arguments: a file some step of ``steps`` writes
    lies under ``out_root`` (default ``root``), any other input (raw extracts, another part's
    hand-over) under ``root``. Paths are joined with :mod:`pathlib`, so the plan is the same on
    Windows; a :class:`~pathlib.PurePath` root (e.g. ``PurePosixPath``) keeps its flavour."""
    root = _as_path(root)
    out_root = root if out_root is None else _as_path(out_root)
    written = output_paths(steps, config)

    def place(path: str, base: PurePath) -> PurePath:
        return base / PurePath(path)

    def placed(value: Any, output: bool) -> Any:
        if isinstance(value, list):
            return [placed(v, output) for v in value]
        return place(value, out_root if output or value in written else root)

    plan = []
    for step in steps:
        files = {name: placed(value, False) for name, value in step.inputs(config, root=root).items()}
        files.update({name: placed(value, True) for name, value in step.outputs(config).items()})
        plan.append(PlannedStep(step.name, step.function, step.arguments(files, config)))
    return plan


@contextlib.contextmanager
def step_log(log_file: Path, name: str = "mentorwijs", *, mode: str = "w") -> Iterator[None]:
    """The package's log messages at INFO and above into ``log_file`` while one step runs
    (``mentorwijs run``); an :class:`InputError` ends the log with its one ``ERROR`` line.
    ``mode="a"`` adds to the log of a step that runs in two phases (check, then write)."""
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    package_logger = logging.getLogger(name)
    handler = logging.FileHandler(log_file, mode=mode, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    previous_level = package_logger.level
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    try:
        yield
    except InputError as exc:
        package_logger.error("%s", exc.line)  # the step's log ends with the one ERROR line the command prints
        raise
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(previous_level)
        handler.close()


def part_log_folder(part: str, *, root: str | PurePath, out_root: str | PurePath | None = None,
                    log_folder: str | PurePath | None = None) -> Path:
    """Where ``mentorwijs run --part <part>`` logs: ``log_folder``, or ``logs/<part>`` under
    ``out_root`` (default ``root``), as the part's rules log."""
    if log_folder is not None:
        return Path(log_folder)
    return Path(out_root if out_root is not None else root) / "logs" / part


def run_plan(plan: Sequence[PlannedStep], log_folder: Path, *, progress: Callable[[str], None] = lambda m: None,
             skip: Sequence[str] = (), after_step: Callable[[], None] = lambda: None) -> dict[str, float]:
    """Run the planned steps in order, each logging to ``<log_folder>/<step>.log``; returns the
    seconds each took. An :class:`InputError` stops the run. ``skip`` names steps not to run."""
    unknown = sorted(set(skip) - {step.name for step in plan})
    if unknown:
        raise ValueError(f"no step named {unknown[0]!r}")
    log_folder.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    for step in plan:
        if step.name in skip:
            continue
        progress(f"{step.name} ...")
        started = time.perf_counter()
        try:
            with step_log(log_folder / f"{step.name}.log"):
                step.function(**step.arguments)
        finally:
            after_step()
        seconds[step.name] = time.perf_counter() - started
        progress(f"{step.name} done in {seconds[step.name]:.1f} s")
    return seconds
