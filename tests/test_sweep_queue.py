"""Sweeps launched from the dashboard (kd/lab/sweeps.py): the form's grid, the caps, cells taking turns with runs."""

from __future__ import annotations

import dataclasses
import shlex
import threading
import time

import pytest

import kd.lab.sweeps
from kd.cli.main import main
from kd.lab.limits import Limits
from kd.lab.runs import RunManager
from kd.lab.sweeps import SweepQueue, grid_from_form, plan
from kd.recipes import DASHBOARD_RUN
from kd.status import CANCELLED, DONE, QUEUED, RUNNING
from kd.sweep.results import SweepGrid, read_results, read_sweep_record

RECIPE = DASHBOARD_RUN
TINY = SweepGrid(temperatures=(4.0,), alphas=(0.0, 0.9), seeds=(0,), limits=(128,), epochs=(1,))  # two cells


def queue_for(tmp_path, small_teacher, small_mnist, load_data=None, **limits) -> SweepQueue:
    manager = RunManager(
        tmp_path / "runs", small_teacher, load_data=load_data or (lambda: small_mnist), limits=Limits(**limits)
    )
    return SweepQueue(manager, RECIPE)


def held_queue(tmp_path, small_teacher, small_mnist, **limits) -> tuple[SweepQueue, threading.Event]:
    """A queue whose first task holds on the worker (loading the data) until the returned event is set."""
    release = threading.Event()
    queue = queue_for(
        tmp_path, small_teacher, small_mnist, load_data=lambda: release.wait(30) and small_mnist, **limits
    )
    return queue, release


def until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_form_becomes_a_grid_of_one_budget_and_bad_text_says_which_field():
    grid = grid_from_form("2, 4", "0,0.9", "0, 1, 1", 200, 1)
    assert grid == SweepGrid((2.0, 4.0), (0.0, 0.9), (0, 1), (200,), (1,))
    with pytest.raises(ValueError, match="temperatures: expected comma-separated floats"):
        grid_from_form("2, four", "0", "0", 200, 1)
    with pytest.raises(ValueError, match="seeds: values must be at least 0"):
        grid_from_form("2", "0", "-1", 200, 1)


def test_the_cell_cap_is_enforced_without_building_a_huge_grid(tmp_path, small_teacher, small_mnist):
    manager = queue_for(tmp_path, small_teacher, small_mnist, max_sweep_cells=3).manager
    assert [(cell.alpha, cell.seed) for cell in plan(TINY, RECIPE, manager)] == [(0.0, 0), (0.9, 0)]
    two_seeds = dataclasses.replace(TINY, seeds=(0, 1))  # 4 cells
    with pytest.raises(ValueError, match="more than 3 cells"):
        plan(two_seeds, RECIPE, manager)
    huge = grid_from_form(",".join(str(t) for t in range(1, 100_001)), "0, 0.5, 0.9", "0, 1, 2", 128, 1)
    started = time.perf_counter()
    with pytest.raises(ValueError, match="more than 3 cells"):
        plan(huge, RECIPE, manager)
    assert time.perf_counter() - started < 2.0  # 900,000 cells described, four built


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (dataclasses.replace(TINY, alphas=(0.5, 0.9)), "add alpha 0"),
        (dataclasses.replace(TINY, alphas=(0.0,)), "add an alpha above 0"),
        (dataclasses.replace(TINY, limits=(20_000,)), "10,000 images on this server"),
        (dataclasses.replace(TINY, epochs=(6,)), "epochs must be between 1 and 5"),
        (dataclasses.replace(TINY, temperatures=(0.0,)), "temperature"),
        (dataclasses.replace(TINY, alphas=(0.0, 1.5)), "alpha"),
    ],
)
def test_a_sweep_the_server_may_not_train_is_refused_before_anything_is_written(
    tmp_path, small_teacher, small_mnist, grid, message
):
    queue = queue_for(tmp_path, small_teacher, small_mnist)
    with pytest.raises(ValueError, match=message):
        queue.launch(grid, owner="visitor-a")
    assert queue.mine("visitor-a") is None and not (tmp_path / "runs").exists()


def test_a_sweep_writes_the_folder_the_command_line_writes_and_its_command_resumes_it(
    tmp_path, small_teacher, small_mnist, monkeypatch, capsys
):
    queue = queue_for(tmp_path, small_teacher, small_mnist)
    sweep = queue.launch(TINY, owner="visitor-a")
    assert sweep.folder.parent == tmp_path / "runs" and sweep.folder.name.startswith("sweep-")
    assert queue.wait(sweep, timeout=120).status == DONE, sweep.error
    assert queue.mine("visitor-a") is None  # ended: the visitor may launch another
    rows = read_results(sweep.folder / "results.csv")
    assert [(row.alpha, row.status) for row in rows] == [(0.0, DONE), (0.9, DONE)]
    assert rows[1].command.startswith("python -m kd distill ") and "--limit 128" in rows[1].command
    record = read_sweep_record(sweep.folder)
    assert record["cells"] == 2 and record["recipe"]["augment"] is False
    assert record["command"].startswith("python -m kd sweep --temperatures 4.0 --alphas 0.0,0.9 --seeds 0 ")

    monkeypatch.setattr("kd.sweep.run.load_mnist", lambda: small_mnist)
    assert main([*shlex.split(record["command"])[3:], "--json"]) == 0, capsys.readouterr().err
    assert '"skipped": 2' in capsys.readouterr().out  # same recipe and teacher: every cell is done already
    queue.manager.shutdown()


def test_cells_take_turns_with_runs_and_each_visitor_has_one_sweep(tmp_path, small_teacher, small_mnist, monkeypatch):
    starts = []
    real = kd.lab.sweeps.run_cell
    monkeypatch.setattr(kd.lab.sweeps, "run_cell", lambda *a, **k: starts.append(time.time()) or real(*a, **k))
    queue, release = held_queue(tmp_path, small_teacher, small_mnist, max_queued=1)
    sweep = queue.launch(TINY, owner="visitor-a")
    until(lambda: sweep.status == RUNNING)  # its first cell holds the worker
    assert queue.training()
    run = queue.manager.launch(dataclasses.replace(RECIPE, epochs=1, limit=128), owner="visitor-b")
    with pytest.raises(ValueError, match="already have a sweep in flight"):
        queue.launch(TINY, owner="visitor-a")
    with pytest.raises(ValueError, match="as many sweeps as it takes at once"):
        queue.launch(TINY, owner="visitor-c")  # the server's cap on queued work

    release.set()
    assert queue.wait(sweep, timeout=120).status == DONE, sweep.error
    assert queue.manager.wait(run.id, timeout=120).status == DONE, run.error
    assert starts[0] < run.started and run.finished <= starts[1]  # the run went between the two cells
    assert not queue.training()
    queue.manager.shutdown()


def test_stopping_a_sweep_keeps_the_rows_recorded_so_far(tmp_path, small_teacher, small_mnist):
    queue, release = held_queue(tmp_path, small_teacher, small_mnist)
    run = queue.manager.launch(dataclasses.replace(RECIPE, epochs=1, limit=128))  # holds the worker
    waiting = queue.launch(TINY, owner="visitor-a")
    assert waiting.status == QUEUED
    assert not queue.cancel(waiting.id, owner="visitor-b")  # not theirs
    assert queue.cancel(waiting.id, owner="visitor-a") and waiting.status == CANCELLED  # at once: it never started
    assert queue.mine("visitor-a") is None

    training = queue.launch(dataclasses.replace(TINY, seeds=(0, 1)), owner="visitor-a")
    release.set()
    until(lambda: training.recorded >= 1)
    assert queue.cancel(training.id, owner="visitor-a")
    assert queue.wait(training, timeout=120).status == CANCELLED
    assert 1 <= len(read_results(training.folder / "results.csv")) < 4  # what was recorded stays
    assert queue.manager.wait(run.id, timeout=120).status == DONE
    queue.manager.shutdown()


def test_only_the_newest_dashboard_sweep_folders_are_kept(tmp_path, small_teacher, small_mnist, monkeypatch):
    monkeypatch.setattr(kd.lab.sweeps, "KEEP_SWEEP_FOLDERS", 2)
    queue, release = held_queue(tmp_path, small_teacher, small_mnist)
    runs = queue.manager.runs_dir
    old = [runs / f"sweep-2026010{day}-120000-abcdef" for day in (1, 2, 3)]
    for folder in [*old, runs / "my-sweep"]:  # three older dashboard sweeps, one named by hand
        folder.mkdir(parents=True)
    sweep = queue.launch(TINY, owner="visitor-a")
    assert sorted(path.name for path in runs.iterdir() if path.is_dir()) == sorted(
        [old[2].name, sweep.folder.name, "my-sweep"]
    )  # the newest two written by the dashboard, the one in flight among them; the hand-named one stays
    release.set()
    queue.wait(sweep, timeout=120)
    queue.manager.shutdown()
