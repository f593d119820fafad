"""Execute a notebook of ``notebooks/`` against the outputs of a workflow run.

:func:`run_notebook` runs every cell in a fresh kernel of *this* interpreter (``sys.executable``
with ipykernel; no installed kernelspec is consulted, so a stale ``python3`` kernelspec elsewhere
cannot pick another Python), with

- the working directory and ``MENTORWIJS_ROOT`` set to ``root`` (the notebooks' parameters cell
  reads it: the folder whose ``data/``, ``export/`` and ``reports/`` are checked),
- ``PYTHONPATH`` starting with this repository's ``src/``,
- the kernel's connection file and IPython profile in a temporary folder.

A failing cell raises :class:`NotebookError` naming the notebook, the cell's number, its source
and the error. The notebook file itself is never modified (the committed notebooks carry no
outputs). From the command line (no Jupyter installation needed)::

    python tests/support/notebook_runner.py notebooks/employment_effects.ipynb --root .
    python tests/support/notebook_runner.py notebooks/supervisors.ipynb --root . --output /tmp/supervisors.ipynb
    python tests/support/notebook_runner.py notebooks/supervisors.ipynb --clear    # before committing an edit
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets import default
from traitlets.config import Config

REPOSITORY = Path(__file__).resolve().parents[2]
#: Terminal colour codes in IPython tracebacks.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class NotebookError(AssertionError):
    """A cell of a notebook failed (an assertion of the notebook, or any other error)."""


class CurrentInterpreterKernelSpecs(KernelSpecManager):
    """Every kernel name is ipykernel on the interpreter running the tests."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} ({sys.executable})",
            language="python",
        )


class CurrentInterpreterKernelManager(AsyncKernelManager):
    """A kernel manager that launches :class:`CurrentInterpreterKernelSpecs` kernels."""

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return CurrentInterpreterKernelSpecs(data_dir=self.data_dir)


def kernel_environment(root: Path, scratch: Path) -> dict[str, str]:
    """The kernel's environment: this one, plus the repository's src/ and the root to check."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPOSITORY / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["MENTORWIJS_ROOT"] = str(root)
    env["IPYTHONDIR"] = str(scratch / "ipython")
    for threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(threads, "1")  # bit-stable sums, and polite on a shared machine
    return env


def failed_cell(nb: nbformat.NotebookNode) -> tuple[int, str, str, str] | None:
    """Number (1-based among code cells), source, error and plain-text traceback of the first
    cell with an error output."""
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                traceback = ANSI_ESCAPE.sub("", "\n".join(output.get("traceback", [])))
                return number, cell.source, f"{output.get('ename')}: {output.get('evalue')}", traceback
    return None


def run_notebook(path: Path, root: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` against the workflow outputs under ``root``.

    ``timeout``: seconds allowed per cell. Returns the executed notebook (with outputs; the file
    is left as it is). Raises :class:`NotebookError` with the failing cell's source and error.
    """
    path, root = Path(path).resolve(), Path(root).resolve()
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="mentorwijs-notebook-") as scratch:
        config = Config()
        config.KernelManager.connection_file = str(Path(scratch) / "kernel.json")
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            kernel_manager_class=CurrentInterpreterKernelManager,
            resources={"metadata": {"path": str(root)}},
            config=config,
        )
        try:
            client.execute(env=kernel_environment(root, Path(scratch)))
        except CellExecutionError as error:
            where = failed_cell(nb)
            if where is None:
                raise NotebookError(f"{path.name} failed:\n{error}") from None
            number, source, message, traceback = where
            raise NotebookError(
                f"{path.name}, code cell {number} failed with {message}\n--- cell source ---\n{source}\n"
                f"--- traceback ---\n{traceback}"
            ) from None
    return nb


def clear_outputs(path: Path) -> bool:
    """Remove outputs, execution counts, execution timings and the kernel's version details from
    the notebook at ``path`` (the form it is committed in). Returns whether the file changed."""
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    nb = nbformat.reads(before, as_version=4)
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    after = nbformat.writes(nb) + "\n"
    if after != before:
        path.write_text(after, encoding="utf-8", newline="\n")
    return after != before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute a notebook against the outputs of a workflow run.")
    parser.add_argument("notebook", type=Path, help="the .ipynb file")
    parser.add_argument("--root", type=Path, default=Path("."), help="the folder the workflow ran in (default: .)")
    parser.add_argument("--output", type=Path, help="also write the executed notebook (with outputs) here")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell (default 300)")
    parser.add_argument("--clear", action="store_true", help="only remove the notebook's outputs (before committing)")
    args = parser.parse_args(argv)
    if args.clear:
        changed = clear_outputs(args.notebook)
        print(f"{args.notebook}: {'outputs cleared' if changed else 'already without outputs'}")
        return 0
    try:
        nb = run_notebook(args.notebook, args.root, timeout=args.timeout)
    except NotebookError as error:
        print(error, file=sys.stderr)
        return 1
    if args.output:
        nbformat.write(nb, str(args.output))
    print(f"{args.notebook}: every cell ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
