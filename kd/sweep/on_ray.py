"""The Ray backend of a sweep: each cell a Ray task, on this machine or on a cluster.

Without an address Ray starts a private local cluster with `workers` CPUs; `auto` joins the
cluster started on this machine with `ray start --head`, `ray://host:10001` a remote one. The
`kd` package travels with the tasks (runtime_env py_modules), so the nodes need the same
Python packages but not this checkout. The teacher and the MNIST arrays are put in the object
store once and each task gets them by reference. Each task trains with one torch thread (as
every cell does, see kd.sweep.cell.CELL_THREADS) on the one CPU Ray gives it; a task that raises is
retried once, then recorded as failed while the other cells go on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import kd
from kd.sweep.cell import CellInputs, failed_cell, run_cell
from kd.sweep.results import CellResult
from kd.train import TrainConfig


def _cell_task(config: TrainConfig, data, teacher, teacher_path, checkpoint_dir) -> CellResult:
    """run_cell with the shared inputs as the task's own arguments: Ray resolves object refs only there."""
    return run_cell(config, CellInputs(data, teacher, teacher_path, checkpoint_dir))


def run_ray(
    cells: list[TrainConfig],
    inputs: CellInputs,
    on_result: Callable[[CellResult], None],
    address: str | None = None,
    workers: int | None = None,
) -> None:
    """Train the cells as Ray tasks; on_result gets each result in the order they finish."""
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        runtime_env = {"py_modules": [str(Path(kd.__file__).parent)]}
        if address:
            ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
        else:
            # "local": a private Ray even if RAY_ADDRESS or a (perhaps stale) `ray start` names another one
            ray.init(
                address="local",
                num_cpus=workers,
                include_dashboard=False,
                runtime_env=runtime_env,
                log_to_driver=False,
            )
    try:
        data_ref, teacher_ref = ray.put(inputs.data), ray.put(inputs.teacher.cpu())
        # one CPU per task, and run_cell trains with one torch thread: one cell per core
        task = ray.remote(num_cpus=1, max_retries=1, retry_exceptions=True)(_cell_task)
        pending = {
            task.remote(config, data_ref, teacher_ref, inputs.teacher_path, inputs.checkpoint_dir): config
            for config in cells
        }
        while pending:
            (ready,), _ = ray.wait(list(pending), num_returns=1)
            config = pending.pop(ready)
            try:
                result = ray.get(ready)
            except ray.exceptions.RayError as exc:  # the task failed twice, or its worker died
                result = failed_cell(config, inputs, getattr(exc, "cause", None) or exc)
            on_result(result)
    finally:
        if started_here:
            ray.shutdown()
