"""Checks of the system a part of the workflow runs on (Python version, system libraries), and
the settings of the numerical libraries that make results independent of the machine."""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Mapping, MutableMapping

#: The variables that set the thread count of the numerical libraries (OpenBLAS, OpenMP, MKL, numexpr).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")

#: OpenBLAS's kernels for every x86-64 processor with AVX2 and FMA (Intel since 2013, AMD since
#: 2015); without the pin OpenBLAS picks per processor (Haswell, SkylakeX, Cooperlake, Zen, ...).
BLAS_CORE = "Haswell"

#: numpy's (2.4 and later) dispatch targets above AVX2: with them disabled every processor with
#: AVX2 runs numpy's AVX2 loops (exp, log, sorting) instead of its AVX-512 ones.
NUMPY_DISABLED_TARGETS = "X86_V4 AVX512_ICL AVX512_SPR"


def _x86_64_with_avx2_and_fma() -> bool:
    """Whether this is an x86-64 processor with AVX2 and FMA (read without loading numpy)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    if sys.platform.startswith("linux"):
        try:
            lines = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").splitlines()
        except OSError:
            return False
        flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
        return "avx2" in flags and "fma" in flags
    if sys.platform == "win32":
        import ctypes

        # PF_AVX2_INSTRUCTIONS_AVAILABLE (40); every processor with AVX2 also has FMA3
        return bool(ctypes.windll.kernel32.IsProcessorFeaturePresent(40))
    if sys.platform == "darwin":
        def sysctl(name: str) -> str:
            result = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, check=False)
            return result.stdout.strip()

        return sysctl("hw.optional.avx2_0") == "1" and sysctl("hw.optional.fma") == "1"
    return False


def _numpy_version() -> tuple[int, int]:
    try:
        major, minor = metadata.version("numpy").split(".")[:2]
        return int(major), int(minor)
    except (metadata.PackageNotFoundError, ValueError):
        return (0, 0)


def reproducible_numerics(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set the numerical libraries so that results do not depend on the machine they run on.

    - **One thread.** OpenBLAS splits a matrix product over its threads and adds the parts in
      an order that depends on their number. The propensity model's scores then differ in their
      last bits (measured: up to 8.3e-17, pair distances 5.3e-15, in 792 of 1,086 matched units
      of the default study between one and two threads), and so do the bytes of ``matched``,
      ``pairs`` and ``survival``.
    - **One set of kernels.** OpenBLAS and numpy choose their vector code per processor, and kernels
      of another width add in another order. Measured on the default study: an AMD processor with
      AVX2 (OpenBLAS's Haswell kernels) and the machine the earlier digest lists were made on wrote
      other bytes for ``matched``, ``pairs``, ``survival`` and the supervisors' mixed-model tables;
      with OpenBLAS's Prescott or Sandybridge kernels the same AMD processor wrote a third and a
      fourth version. On an x86-64 processor with AVX2 and FMA, OpenBLAS is pinned to
      :data:`BLAS_CORE` and numpy's dispatch to AVX2 (:data:`NUMPY_DISABLED_TARGETS`), so every such
      processor runs the same code. Other processors (ARM, x86-64 without AVX2) keep their own
      kernels: their results agree to rounding, not to the byte (measured with OpenBLAS's
      Sandybridge kernels: propensity scores within 1e-16; the supervisors' mixed models within
      their optimiser's tolerance, estimates within 6e-7 and Satterthwaite df within 0.002). A value
      the user set is kept.

    Snakemake's script jobs and every process started afterwards inherit the settings; the
    Snakefiles, ``mentorwijs`` commands and the tests call this before numpy is first imported
    (the libraries read the variables when they load).
    """
    for name in THREAD_VARIABLES:
        environ[name] = "1"
    if _x86_64_with_avx2_and_fma():
        environ.setdefault("OPENBLAS_CORETYPE", BLAS_CORE)
        if _numpy_version() >= (2, 4):  # the dispatch targets' names since numpy 2.4
            environ.setdefault("NPY_DISABLE_CPU_FEATURES", NUMPY_DISABLED_TARGETS)


def numerics_setting(environ: Mapping[str, str] = os.environ) -> str:
    """The settings :func:`reproducible_numerics` made, as one line (for provenance and the
    committed output digests): machine, OpenBLAS kernels and numpy's disabled dispatch targets."""
    core = environ.get("OPENBLAS_CORETYPE", "per processor")
    disabled = environ.get("NPY_DISABLE_CPU_FEATURES", "")
    machine = platform.machine().lower().replace("amd64", "x86_64")
    return f"{machine}, openblas kernels {core}, numpy without {disabled or 'nothing'}"


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
                problems.append(f"{name}: Python package {module!r} is missing ({exc}); "
                                "fix: pip install -r requirements.lock")
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
