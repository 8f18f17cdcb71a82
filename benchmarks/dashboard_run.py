"""Time the dashboard's default run as the Distill page launches it: `python -m benchmarks.dashboard_run`.

Runs `RunSettings()` through a `RunManager` in a temporary runs folder (so the same-budget
scratch baseline is trained too, as on a first visit), then once more (baseline cached).
"""

from __future__ import annotations

import json
import tempfile
import time

from kd.runs import RunManager, RunSettings
from kd.train import Progress

TEACHER = "checkpoints/teacher.safetensors"


def timed_run(manager: RunManager, settings: RunSettings) -> dict:
    start = time.perf_counter()
    run = manager.wait(manager.launch(settings).id)
    if run.metadata is None:
        raise RuntimeError(f"the run ended {run.status}: {run.error}")
    last: Progress = run.progress[-1]
    return {
        "seconds": time.perf_counter() - start,  # queue to done: training, evaluation, saving, baseline
        "train_seconds": last.elapsed,
        "accuracy": run.metadata["metrics"]["accuracy"],
        "baseline_accuracy": run.metadata["baseline"]["accuracy"],
        "batch_size": run.metadata["train_config"]["batch_size"],
        "learning_rate": run.metadata["train_config"]["learning_rate"],
    }


def main() -> dict:
    settings = RunSettings()
    with tempfile.TemporaryDirectory() as folder:
        manager = RunManager(folder, TEACHER)
        report = {"settings": settings.__dict__, "first": timed_run(manager, settings)}
        report["again"] = timed_run(manager, settings)
        manager.shutdown()
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
