"""Time, size and peak memory of the synthetic study and of the register part run on it.

    python benchmarks/synthetic_study.py                    # simulate at scale 1 and 10; register part at pool scale 5
    python benchmarks/synthetic_study.py --scales 1 --pool-scales 5 10

For each setting the script writes the synthetic study into a temporary copy of the repository
(`mentorwijs simulate`), prints files, megabytes, seconds and peak memory, and (for the pool
scales) runs the questionnaire part and then the register part exactly as
`python -m mentorwijs run --part register` does, printing the seconds per step and the peak
resident memory of that process. Each step runs in a fresh interpreter so its peak memory is
its own. Wall-clock seconds on a shared machine include waiting: compare ratios within one run.
Budgets (design.md): default raw study at most about 100 MB; register part for 100,000 persons
x 36 months at most 60 s and 4 GB (the synthetic extracts cover 72 months, 2017-2022).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _child(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run a child interpreter; wall seconds, peak resident memory in GB (from its own rusage), stderr."""
    script = (
        "import resource, runpy, sys; sys.argv = sys.argv[1:]; "
        "code = 0\n"
        "try:\n    runpy.run_module('mentorwijs', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code or 0\n"
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)"
    )
    started = time.perf_counter()
    result = subprocess.run([PYTHON, "-c", script, "mentorwijs", *args], cwd=cwd, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"mentorwijs {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    peak = re.search(r"PEAK_KB (\d+)", result.stderr)
    return seconds, (int(peak.group(1)) / 1024**2 if peak else float("nan")), result.stderr


def _layout(dest: Path) -> Path:
    (dest / "workflow").mkdir(parents=True)
    shutil.copy(ROOT / "config.yaml", dest / "config.yaml")
    shutil.copytree(ROOT / "workflow" / "schemas", dest / "workflow" / "schemas")
    shutil.copytree(ROOT / "data" / "codebooks", dest / "data" / "codebooks")
    return dest


def _seed() -> int:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    return int(re.search(r"^study:\n(?:  .*\n)*?  seed: (\d+)", text, flags=re.M).group(1))


def simulate(dest: Path, scale: float, pool_scale: float) -> None:
    seconds, peak, _ = _child(["simulate", "--out", "data/raw/synthetic", "--seed", str(_seed()), "--scale", str(scale),
                               "--pool-scale", str(pool_scale), "--config", "config.yaml"], dest)
    files = [p for p in (dest / "data" / "raw" / "synthetic").rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"simulate scale {scale:g}, pool scale {pool_scale:g}: {len(files)} files, {size:.1f} MB, "
          f"{seconds:.1f} s, peak {peak:.2f} GB", flush=True)


def register_part(dest: Path, pool_scale: float) -> None:
    config = dest / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"^  pool_scale: .*$", f"  pool_scale: {pool_scale:g}", text, flags=re.M),
                      encoding="utf-8")
    _child(["run", "--part", "questionnaires", "--config", "config.yaml"], dest)
    import pyreadstat

    persons = pyreadstat.read_sav(str(dest / "data/raw/synthetic/cbs/GBAPERSOON2022TABV1.sav"),
                                  metadataonly=True)[1].number_rows
    seconds, peak, log = _child(["run", "--part", "register", "--config", "config.yaml"], dest)
    steps = re.findall(r"(\w+) done in ([0-9.]+) s", log)
    detail = ", ".join(f"{name} {float(s):.1f}" for name, s in steps)
    print(f"register part, pool scale {pool_scale:g} ({persons:,} persons x 72 months): {seconds:.1f} s, "
          f"peak {peak:.2f} GB\n  seconds per step: {detail}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="*", default=[1, 10],
                        help="simulate at these scales (pool scale 1)")
    parser.add_argument("--pool-scales", type=float, nargs="*", default=[5],
                        help="simulate and run the register part at these pool scales")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mentorwijs-bench-") as tmp:
        for scale in args.scales:
            dest = _layout(Path(tmp) / f"scale-{scale:g}")
            simulate(dest, scale, 1)
            shutil.rmtree(dest)
        for pool_scale in args.pool_scales:
            dest = _layout(Path(tmp) / f"pool-{pool_scale:g}")
            simulate(dest, 1, pool_scale)
            register_part(dest, pool_scale)
            shutil.rmtree(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
