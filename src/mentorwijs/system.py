"""Checks of the system a part of the workflow runs on (Python version, system libraries), and
the numerical libraries' thread count."""

from __future__ import annotations

import importlib
import os
import sys
from typing import MutableMapping

#: The variables that set the thread count of the numerical libraries (OpenBLAS, OpenMP, MKL, numexpr).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def single_threaded_numerics(environ: MutableMapping[str, str] = os.environ) -> None:
    """Run the numerical libraries on one thread, so that results do not depend on the machine.

    OpenBLAS splits a matrix product over its threads and adds the parts in an order that
    depends on their number. The propensity model's scores then differ in their last bits
    (measured: up to 8.3e-17, pair distances 5.3e-15, in 792 of 1,086 matched units of the
    default study between one and two threads), and so do the bytes of ``matched``, ``pairs``
    and ``survival``. Snakemake runs its script jobs with one thread; ``mentorwijs`` commands,
    the chain validation's workflow and the tests set the same here. It takes effect only
    before numpy is first imported in the process (the variables are read when OpenBLAS loads),
    and in every process started afterwards.
    """
    for name in THREAD_VARIABLES:
        environ[name] = "1"

PART_MODULES = {
    "register": ["numpy", "pandas", "scipy", "statsmodels", "pyreadstat", "pyarrow", "yaml"],
    "questionnaires": ["numpy", "pandas", "openpyxl", "pyreadstat", "pyarrow", "pandera", "yaml"],
    "report": ["matplotlib", "jinja2", "weasyprint"],
}


def check_system(part: str = "all") -> list[str]:
    """Problems that stop ``part`` from running, each with a fix; empty when all is well."""
    problems: list[str] = []
    if sys.version_info < (3, 11):
        problems.append(f"Python {sys.version.split()[0]} is too old: use Python 3.11 or newer")
    parts = list(PART_MODULES) if part == "all" else [part]
    for name in parts:
        for module in PART_MODULES[name]:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                problems.append(f"{name}: Python package {module!r} is missing ({exc}); fix: pip install -r requirements.lock")
            except OSError as exc:
                if module == "weasyprint":
                    problems.append(
                        "report: WeasyPrint cannot load the Pango text-layout library "
                        f"({exc}); fix: install Pango (Debian/Ubuntu: apt-get install libpango-1.0-0 "
                        "libpangoft2-1.0-0; macOS: brew install pango; Windows: install the GTK3 runtime) "
                        "and run again"
                    )
                else:
                    problems.append(f"{name}: {module} failed to load: {exc}")
    return problems
