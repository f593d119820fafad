"""Checks of the system a part of the workflow runs on (Python version, system libraries)."""

from __future__ import annotations

import importlib
import sys

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
