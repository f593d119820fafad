"""The environments: lock files, generated conda environments and system checks agree."""

from __future__ import annotations

import os

import importlib.util
import re
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "workflow" / "envs"))
generate = importlib.import_module("generate")


def test_conda_environments_are_generated_from_the_current_locks():
    for name, (lock, purpose) in generate.ENVS.items():
        on_disk = (ROOT / "workflow" / "envs" / name).read_text(encoding="utf-8")
        assert on_disk == generate.render(lock, purpose), f"workflow/envs/{name} is stale: run `make envs`"


def _pins(lock):
    pins = {}
    for requirement in generate.pins(ROOT / lock):
        name, version = re.match(r"([A-Za-z0-9_.\-]+)==([^ ;]+)", requirement).groups()
        marker = requirement.split(";", 1)[1].strip() if ";" in requirement else ""
        pins[(name.lower(), marker)] = version
    return pins


def test_register_lock_is_a_subset_of_the_full_lock_with_the_same_versions():
    full, register = _pins("requirements.lock"), _pins("requirements-register.lock")
    for key, version in register.items():
        assert full.get(key) == version, f"{key[0]} {version} in the register lock differs from the full lock"


def test_register_lock_has_no_report_workflow_plotting_or_test_packages():
    names = {name for name, _ in _pins("requirements-register.lock")}
    assert not names & {"weasyprint", "snakemake", "jinja2", "pandera", "openpyxl", "matplotlib",
                        "lifelines", "pyfixest", "ruff", "pytest"}


def test_the_full_lock_pins_the_test_extra_so_ci_runs_the_field_library_checks_and_the_lint():
    # `make test` (and .ci/run) installs requirements.lock: the checks against lifelines and
    # pyfixest and tests/test_lint.py skip where these are missing, so CI must have them.
    names = {name for name, _ in _pins("requirements.lock")}
    assert {"pytest", "lifelines", "pyfixest", "ruff"} <= names


def test_pandas_is_below_3_as_verified():
    # outputs are verified with pandas 2; lifelines 0.30 (test extra) does not support pandas 3
    versions = [v for (name, _), v in _pins("requirements.lock").items() if name == "pandas"]
    assert versions and all(int(v.split(".")[0]) < 3 for v in versions)


def test_mentorwijs_commands_set_the_numerical_libraries_before_numpy_loads():
    """With two OpenBLAS threads, or another processor's kernels, the propensity scores differ in
    their last bits, and so do the bytes of matched, pairs and survival
    (mentorwijs.system.reproducible_numerics); the command sets one thread and, on x86-64 with
    AVX2, the kernels before numpy loads, as the Snakefile does for its jobs."""
    import subprocess

    from mentorwijs.system import _x86_64_with_avx2_and_fma

    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
             "NPY_DISABLE_CPU_FEATURES")
    code = ("import os, sys\n"
            "from mentorwijs import cli\n"
            "assert 'numpy' not in sys.modules\n"
            "cli.main(['doctor', '--part', 'register'])\n"
            f"print([os.environ.get(n) for n in {names!r}])\n")
    env = {k: v for k, v in os.environ.items() if k not in names and not k.endswith("_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    pinned = ["Haswell", "X86_V4 AVX512_ICL AVX512_SPR"] if _x86_64_with_avx2_and_fma() else [None, None]
    assert result.stdout.strip().splitlines()[-1] == repr(["1", "1", "1", *pinned])


def test_the_kernel_settings_keep_what_the_user_set_and_only_pin_where_avx2_runs(monkeypatch):
    from mentorwijs import system

    monkeypatch.setattr(system, "_x86_64_with_avx2_and_fma", lambda: True)
    environ = {"OPENBLAS_CORETYPE": "Zen", "OMP_NUM_THREADS": "8"}
    system.reproducible_numerics(environ)
    assert environ["OPENBLAS_CORETYPE"] == "Zen" and environ["OMP_NUM_THREADS"] == "1"
    assert environ["NPY_DISABLE_CPU_FEATURES"] == "X86_V4 AVX512_ICL AVX512_SPR"
    monkeypatch.setattr(system, "_x86_64_with_avx2_and_fma", lambda: False)  # ARM, or x86-64 without AVX2
    environ = {}
    system.reproducible_numerics(environ)
    assert "OPENBLAS_CORETYPE" not in environ and "NPY_DISABLE_CPU_FEATURES" not in environ
    assert environ["OPENBLAS_NUM_THREADS"] == "1"


def test_both_openblas_libraries_run_the_pinned_kernels_and_numpy_no_avx512():
    """The variables take effect in the locked builds: numpy's and scipy's OpenBLAS report the
    Haswell kernels, and numpy dispatches to nothing above AVX2 (on an AVX-512 processor it would)."""
    import subprocess

    import pytest

    from mentorwijs.system import _x86_64_with_avx2_and_fma

    if not (sys.platform.startswith("linux") and _x86_64_with_avx2_and_fma()):
        pytest.skip("the kernels are pinned on x86-64 with AVX2 only; the libraries are read here on Linux")
    code = ("import ctypes, glob, os\n"
            "import numpy, scipy, scipy.linalg\n"
            "def core(package, pattern, symbol):\n"
            "    folder = os.path.join(os.path.dirname(package.__file__), os.pardir, package.__name__ + '.libs')\n"
            "    function = getattr(ctypes.CDLL(glob.glob(os.path.join(folder, pattern))[0]), symbol)\n"
            "    function.restype = ctypes.c_char_p\n"
            "    return function().decode()\n"
            "from numpy._core._multiarray_umath import __cpu_features__ as features\n"
            "print(core(numpy, 'libscipy_openblas64_*.so', 'scipy_openblas_get_corename64_'),\n"
            "      core(scipy, 'libscipy_openblas-*.so', 'scipy_openblas_get_corename'),\n"
            "      [name for name in ('X86_V4', 'AVX512_ICL', 'AVX512_SPR') if features[name]])\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")}
    code = "from mentorwijs.system import reproducible_numerics\nreproducible_numerics()\n" + code
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["Haswell", "Haswell", "[]"]
