"""Ray's overhead on a small sweep: the same grid with --backend local and --backend ray, then a resume.

    python benchmarks/sweep_overhead.py [--workers 2] [--out DIR] [recipe flags of `kd sweep`, e.g. --batch-size 32]

Runs `python -m kd sweep` three times (local, ray, local again into the finished folder),
prints the wall time of each, the largest per-cell accuracy difference between the backends,
and how many cells the rerun trained (0 when it resumes as it should). Measures and reports;
it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kd.sweep.results import read_results  # noqa: E402

GRID = ["--temperatures", "2,4", "--alphas", "0,0.9", "--seeds", "0,1", "--limits", "2000", "--epochs", "1"]


def sweep(out: Path, *extra: str) -> tuple[float, dict]:
    """One `python -m kd sweep` of the grid: (wall seconds, its JSON summary)."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "kd", "sweep", *GRID, "--out", str(out), "--json", *extra],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return time.perf_counter() - started, json.loads(completed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="2")
    parser.add_argument("--out", default=None, help="keep the sweep folders here (default: a temporary folder)")
    args, recipe = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.out or scratch)
        local_seconds, local = sweep(folder / "local", *recipe)
        ray_seconds, ray = sweep(folder / "ray", *recipe, "--backend", "ray", "--workers", args.workers)
        resume_seconds, resumed = sweep(folder / "local", *recipe)
        by_cell = {row.key: row.accuracy for row in read_results(folder / "local" / "results.csv")}
        remote = read_results(folder / "ray" / "results.csv")
        differences = [abs(row.accuracy - by_cell[row.key]) for row in remote]
    print(f"grid: {' '.join(GRID + recipe)} -> {local['cells']} cells")
    print(f"local: {local_seconds:.1f} s wall ({local['done']} done, {local['failed']} failed)")
    print(f"ray ({args.workers} workers): {ray_seconds:.1f} s wall ({ray['done']} done, {ray['failed']} failed)")
    print(f"accuracies (local): {', '.join(f'{a:.2%}' for a in by_cell.values())}")
    print(f"largest per-cell accuracy difference, ray vs local: {max(differences) * 100:.2f} points")
    print(f"rerun of the finished local sweep: {resume_seconds:.1f} s, {resumed['done']} cells trained again")


if __name__ == "__main__":
    main()
