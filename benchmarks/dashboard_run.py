"""Time the dashboard's default run as the Distill page launches it: `python -m benchmarks.dashboard_run`.

Runs `DASHBOARD_RUN` (kd.lab.records) through a `RunManager` in a temporary runs folder (so the same-budget
scratch baseline is trained too, as on a first visit), then once more (baseline cached).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict

from kd.lab.runs import RunManager
from kd.recipes import DASHBOARD_RUN
from kd.train import Progress, TrainConfig

TEACHER = "checkpoints/teacher.safetensors"


def timed_run(manager: RunManager, settings: TrainConfig) -> dict:
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
    with tempfile.TemporaryDirectory() as folder:
        manager = RunManager(folder, TEACHER)
        report = {"settings": asdict(DASHBOARD_RUN), "first": timed_run(manager, DASHBOARD_RUN)}
        report["again"] = timed_run(manager, DASHBOARD_RUN)
        manager.shutdown()
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
