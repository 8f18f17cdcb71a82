"""The run queue and store behind the dashboard's Distill page (kd/runs.py)."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from kd.data import load_mnist
from kd.models import PRESETS
from kd.pipeline import train_and_save
from kd.runs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, RunManager, RunSettings
from kd.train import TrainConfig

TINY = RunSettings(temperature=4.0, alpha=0.5, epochs=1, limit=128, seed=0)


@pytest.fixture(scope="module")
def small_data():
    """MNIST with a 500-image test set: evaluation after each run stays quick."""
    data = load_mnist()
    return dataclasses.replace(data, test_images=data.test_images[:500], test_labels=data.test_labels[:500])


@pytest.fixture(scope="module")
def teacher_path(tmp_path_factory, small_data):
    """A 'teacher' with the student's small architecture: the queue does not care, and it is fast."""
    out = tmp_path_factory.mktemp("teacher") / "teacher"
    config = TrainConfig(epochs=1, limit=256, augment=False)
    train_and_save("teacher", PRESETS["student"], config, small_data, out, "test")
    return out.with_suffix(".safetensors")


def manager_for(tmp_path, teacher_path, small_data, load_data=None, **caps) -> RunManager:
    return RunManager(tmp_path / "runs", teacher_path, load_data=load_data or (lambda: small_data), **caps)


def test_a_run_trains_saves_lists_and_deletes(tmp_path, teacher_path, small_data):
    manager = manager_for(tmp_path, teacher_path, small_data)
    run = manager.launch(TINY)
    manager.wait(run.id, timeout=120)
    assert run.status == DONE, run.error
    assert run.progress and run.progress[-1].step == run.progress[-1].total_steps
    assert run.path.is_file() and run.path.with_suffix(".json").is_file()
    assert run.metadata["role"] == "distilled student"
    assert run.metadata["train_config"]["temperature"] == 4.0 and run.metadata["train_config"]["alpha"] == 0.5
    assert "--alpha 0.5" in run.metadata["command"]
    assert 0.0 <= run.metadata["metrics"]["agreement"] <= 1.0

    listed = manager.finished()
    assert [entry["id"] for entry in listed] == [run.id]
    assert listed[0]["metadata"]["weights_sha256"] == run.metadata["weights_sha256"]

    assert manager.delete(run.id)
    assert not run.path.exists() and not run.path.with_suffix(".json").exists()
    assert manager.finished() == []
    manager.shutdown()


def test_one_run_at_a_time_with_queue_positions_and_cancel(tmp_path, teacher_path, small_data):
    release = threading.Event()

    def slow_data():
        release.wait(30)  # holds the first run in RUNNING until the test lets it go
        return small_data

    manager = manager_for(tmp_path, teacher_path, small_data, load_data=slow_data)
    first = manager.launch(TINY)
    second = manager.launch(dataclasses.replace(TINY, alpha=0.0))
    third = manager.launch(TINY)
    for _ in range(100):
        if first.status == RUNNING:
            break
        threading.Event().wait(0.02)
    assert first.status == RUNNING and manager.running() is first
    assert (second.status, third.status) == (QUEUED, QUEUED)
    assert manager.position(second.id) == 1 and manager.position(third.id) == 2

    assert manager.cancel(third.id) and third.status == CANCELLED
    assert manager.position(third.id) is None and not manager.cancel(third.id)

    release.set()
    manager.wait(second.id, timeout=120)
    assert (first.status, second.status) == (DONE, DONE), (first.error, second.error)
    assert second.metadata["role"] == "scratch student"
    assert first.finished <= second.started  # never two at once
    assert {entry["id"] for entry in manager.finished()} == {first.id, second.id}
    manager.shutdown()


def test_cancelling_a_running_run_saves_nothing(tmp_path, teacher_path, small_data):
    release = threading.Event()
    manager = manager_for(tmp_path, teacher_path, small_data, load_data=lambda: release.wait(30) and small_data)
    run = manager.launch(TINY)
    while run.status == QUEUED:
        threading.Event().wait(0.02)
    assert manager.cancel(run.id)
    release.set()
    manager.wait(run.id, timeout=60)
    assert run.status == CANCELLED and not run.path.exists()
    assert manager.finished() == []
    manager.shutdown()


def test_a_failing_run_is_marked_failed_and_the_worker_goes_on(tmp_path, teacher_path, small_data):
    calls = []

    def flaky_data():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk on fire")
        return small_data

    manager = manager_for(tmp_path, teacher_path, small_data, load_data=flaky_data)
    failed = manager.launch(TINY)
    manager.wait(failed.id, timeout=60)
    assert failed.status == FAILED and "disk on fire" in failed.error
    ok = manager.launch(TINY)
    manager.wait(ok.id, timeout=120)
    assert ok.status == DONE, ok.error
    manager.shutdown()


@pytest.mark.parametrize(
    "settings, message",
    [
        (dataclasses.replace(TINY, epochs=6), "epochs"),
        (dataclasses.replace(TINY, limit=20_000), "subset"),
        (dataclasses.replace(TINY, alpha=1.5), "alpha"),
        (dataclasses.replace(TINY, temperature=0.0), "temperature"),
    ],
)
def test_caps_and_bad_settings_are_refused(tmp_path, teacher_path, small_data, settings, message):
    manager = manager_for(tmp_path, teacher_path, small_data)
    with pytest.raises(ValueError, match=message):
        manager.launch(settings)
    assert manager.queued() == [] and manager.running() is None


def test_a_missing_teacher_is_refused(tmp_path, small_data):
    manager = RunManager(tmp_path / "runs", tmp_path / "nope.safetensors", load_data=lambda: small_data)
    with pytest.raises(ValueError, match="teacher"):
        manager.launch(TINY)


def test_the_queue_has_a_limit(tmp_path, teacher_path, small_data):
    release = threading.Event()
    manager = manager_for(
        tmp_path, teacher_path, small_data, load_data=lambda: release.wait(30) and small_data, max_queued=1
    )
    runs = [manager.launch(TINY)]
    while runs[0].status == QUEUED:
        threading.Event().wait(0.02)
    runs.append(manager.launch(TINY))
    with pytest.raises(ValueError, match="already waiting"):
        manager.launch(TINY)
    for run in runs:
        manager.cancel(run.id)
    release.set()
    manager.shutdown()


def test_store_skips_damaged_files_and_refuses_bad_ids(tmp_path, teacher_path, small_data):
    manager = manager_for(tmp_path, teacher_path, small_data)
    manager.runs_dir.mkdir(parents=True)
    (manager.runs_dir / "broken.safetensors").write_bytes(b"not a checkpoint")
    (manager.runs_dir / "broken.json").write_text("{}")
    (manager.runs_dir / "orphan.json").write_text("{}")
    assert manager.finished() == []
    with pytest.raises(ValueError):
        manager.delete("../teacher")
    assert manager.delete("broken") and not (manager.runs_dir / "broken.json").exists()
    assert not manager.delete("never-existed")
