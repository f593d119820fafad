"""Glue between workflow scripts and the library: logging and the error contract.

:func:`run_logged` is used by every ``workflow/scripts/*.py`` adapter and by
``mentorwijs run``: it logs to the rule's log file (and stderr), turns an
:class:`~mentorwijs.errors.InputError` into one ``ERROR`` line (file, row, column, problem, fix) with exit code 1, and
never lets a traceback reach the user for a problem they can fix.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Iterator

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
    handlers = [logging.FileHandler(log_file, mode="w", encoding="utf-8")] + ([logging.StreamHandler(sys.stderr)] if echo else [])
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
