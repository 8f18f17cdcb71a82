"""The run queue and store behind the dashboard's Distill page (kd/lab/runs.py)."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from kd.data import load_mnist
from kd.lab.limits import Limits
from kd.lab.runs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, RunManager
from kd.recipes import DASHBOARD_RUN, role
from kd.train import TrainConfig

TINY = dataclasses.replace(DASHBOARD_RUN, alpha=0.5, epochs=1, limit=128)


@pytest.fixture(scope="module")
def small_data():
    """MNIST with a 500-image test set: evaluation after each run stays quick."""
    data = load_mnist()
    return dataclasses.replace(data, test_images=data.test_images[:500], test_labels=data.test_labels[:500])


@pytest.fixture(scope="module")
def teacher_path(small_teacher):
    return small_teacher


def manager_for(tmp_path, teacher_path, small_data, load_data=None, limits=None, **caps) -> RunManager:
    """A run queue on the small data; `caps` are single Limits fields (max_queued=1), `limits` a whole Limits."""
    limits = dataclasses.replace(limits or Limits(), **caps)
    return RunManager(tmp_path / "runs", teacher_path, load_data=load_data or (lambda: small_data), limits=limits)


def test_a_run_trains_saves_lists_and_deletes(tmp_path, teacher_path, small_data):
    manager = manager_for(tmp_path, teacher_path, small_data)
    run = manager.launch(TINY)
    manager.wait(run.id, timeout=120)
    assert run.status == DONE, run.error
    assert run.progress and run.progress[-1].step == run.progress[-1].total_steps
    assert run.path.is_file() and run.path.with_suffix(".json").is_file()
    assert run.metadata["role"] == "distilled student"
    assert run.metadata["train_config"]["temperature"] == 8.0 and run.metadata["train_config"]["alpha"] == 0.5
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
    assert failed.status == FAILED and failed.error == "the server could not read or write the run's files"
    assert "disk on fire" not in failed.error  # the raw exception goes to the log, not to the visitor
    ok = manager.launch(TINY)
    manager.wait(ok.id, timeout=120)
    assert ok.status == DONE, ok.error
    manager.shutdown()


@pytest.mark.parametrize(
    "settings, message",
    [
        (dataclasses.replace(TINY, epochs=6), "epochs"),
        (dataclasses.replace(TINY, limit=20_000), "subset"),
        (dataclasses.replace(TINY, limit=None), "subset"),  # no limit: all 60,000 images
    ],
)
def test_caps_are_refused(tmp_path, teacher_path, small_data, settings, message):
    manager = manager_for(tmp_path, teacher_path, small_data)
    with pytest.raises(ValueError, match=message):
        manager.launch(settings)
    assert manager.queued() == [] and manager.running() is None


def test_the_dashboard_run_is_the_short_distilled_run_the_pages_offer():
    assert DASHBOARD_RUN == TrainConfig(epochs=2, limit=5000, alpha=0.5, temperature=8.0, augment=False, seed=0)
    assert (role(DASHBOARD_RUN), role(dataclasses.replace(DASHBOARD_RUN, alpha=0.0))) == (
        "distilled student",
        "scratch student",
    )
    with pytest.raises(ValueError, match="alpha"):  # bad settings never reach a manager: TrainConfig refuses them
        dataclasses.replace(DASHBOARD_RUN, alpha=1.5)


def test_a_missing_teacher_is_refused(tmp_path, small_data):
    manager = RunManager(tmp_path / "runs", tmp_path / "nope.safetensors", load_data=lambda: small_data)
    with pytest.raises(ValueError, match="teacher"):
        manager.launch(TINY)


def test_a_teacher_is_named_by_key_and_an_unknown_key_queues_nothing(tmp_path, teacher_path, small_data):
    teachers = {"teacher": teacher_path, "ensemble": tmp_path / "ensemble.safetensors"}  # as the lab passes them
    manager = RunManager(tmp_path / "runs", teachers, load_data=lambda: small_data)
    assert manager.teacher_path == teacher_path  # the single teacher: every sweep's
    for forged in (str(teacher_path), "student", None):
        with pytest.raises(ValueError, match="unknown teacher .*: a run distils from one of teacher, ensemble"):
            manager.launch(TINY, teacher=forged)
    with pytest.raises(ValueError, match="no teacher checkpoint at ensemble.safetensors"):
        manager.launch(TINY, teacher="ensemble")
    assert manager.queued() == [] and manager.running() is None


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


def test_statuses_are_a_str_enum_with_the_old_values():
    from kd.lab.runs import Status

    assert [str(status) for status in (QUEUED, RUNNING, DONE, FAILED, CANCELLED)] == [
        "queued",
        "running",
        "done",
        "failed",
        "cancelled",
    ]
    assert all(isinstance(status, Status) for status in (QUEUED, DONE)) and DONE == "done"


def hooked_training(monkeypatch, before_last=None, after_last=None):
    """Wrap the pipeline's progress callback so a test acts exactly around a run's last step."""
    import kd.lab.runs

    real = kd.lab.runs.train_and_save

    def wrapped(*args, on_progress, **kwargs):
        def progress(update):
            last = update.step == update.total_steps
            if last and before_last:
                before_last()
            on_progress(update)
            if last and after_last:
                after_last()

        return real(*args, on_progress=progress, **kwargs)

    monkeypatch.setattr(kd.lab.runs, "train_and_save", wrapped)


def test_cancel_right_after_the_last_step_reports_the_truth(tmp_path, teacher_path, small_data, monkeypatch):
    manager = manager_for(tmp_path, teacher_path, small_data)
    answers = []
    hooked_training(monkeypatch, after_last=lambda: answers.append(manager.cancel(run.id)))
    run = manager.launch(TINY)
    manager.wait(run.id, timeout=120)
    assert answers == [False]  # too late: the run is being saved
    assert run.status == DONE and run.path.is_file()
    manager.shutdown()


def test_cancel_during_the_last_step_is_honoured(tmp_path, teacher_path, small_data, monkeypatch):
    manager = manager_for(tmp_path, teacher_path, small_data)
    answers = []
    hooked_training(monkeypatch, before_last=lambda: answers.append(manager.cancel(run.id)))
    run = manager.launch(TINY)
    manager.wait(run.id, timeout=120)
    assert answers == [True]
    assert run.status == CANCELLED and not run.path.exists() and manager.finished() == []
    manager.shutdown()


def held_manager(tmp_path, teacher_path, small_data, **kwargs):
    """A manager whose first run holds in RUNNING until the returned event is set."""
    release = threading.Event()
    manager = manager_for(
        tmp_path, teacher_path, small_data, load_data=lambda: release.wait(30) and small_data, **kwargs
    )
    return manager, release


def test_one_waiting_or_running_run_per_visitor(tmp_path, teacher_path, small_data):
    manager, release = held_manager(tmp_path, teacher_path, small_data)
    theirs = manager.launch(TINY, owner="visitor-b")
    while theirs.status == QUEUED:
        threading.Event().wait(0.02)
    mine = manager.launch(TINY, owner="visitor-a")  # waits behind theirs
    with pytest.raises(ValueError, match="already have a run"):
        manager.launch(TINY, owner="visitor-a")
    with pytest.raises(ValueError, match="already have a run"):
        manager.launch(TINY, owner="visitor-b")  # a training run counts too
    assert manager.cancel(mine.id) and mine.status == CANCELLED
    again = manager.launch(TINY, owner="visitor-a")  # allowed once the first is no longer active
    assert (theirs.owner, again.owner) == ("visitor-b", "visitor-a")
    assert manager.launch(TINY).owner is None  # code without an owner is not limited per visitor
    release.set()
    manager.shutdown()


def test_only_the_owner_deletes_a_run_unless_the_server_allows_any(tmp_path, teacher_path, small_data):
    from kd.lab.limits import Limits
    from kd.lab.runs import NotYours

    manager = manager_for(tmp_path, teacher_path, small_data)
    run = manager.launch(TINY, owner="visitor-a")
    manager.wait(run.id, timeout=120)
    assert not manager.may_delete(run.id, "visitor-b") and manager.may_delete(run.id, "visitor-a")
    with pytest.raises(NotYours):
        manager.delete(run.id, owner="visitor-b")
    with pytest.raises(NotYours):
        manager.delete(run.id)  # code without an owner is not the visitor either
    assert run.path.is_file()
    manager.shutdown()

    open_server = RunManager(manager.runs_dir, teacher_path, limits=Limits(allow_delete_any=True))
    assert open_server.delete(run.id, owner="visitor-b") and not run.path.exists()


def copy_run(source, folder, run_id, age):
    """A saved run's two files under another id, `age` seconds old."""
    import os
    import shutil
    import time

    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".safetensors", ".json"):
        target = folder / f"{run_id}{suffix}"
        shutil.copyfile(source.with_suffix(suffix), target)
        os.utime(target, (time.time() - age, time.time() - age))
    return folder / f"{run_id}.safetensors"


def test_saved_runs_are_bounded_oldest_first_by_count_and_bytes(tmp_path, teacher_path, small_data):
    from kd.lab.limits import Limits
    from kd.lab.store import RunStore

    folder = tmp_path / "runs"
    for index in range(5):
        copy_run(teacher_path, folder, f"run-{index}", age=1000 - index)  # run-0 is the oldest
    RunManager(folder, teacher_path, limits=Limits(max_saved_runs=3))
    assert sorted(p.stem for p in folder.glob("*.safetensors")) == ["run-2", "run-3", "run-4"]
    assert sorted(p.stem for p in folder.glob("*.json")) == ["run-2", "run-3", "run-4"]

    one_run = sum(folder.joinpath(f"run-4{suffix}").stat().st_size for suffix in (".safetensors", ".json"))
    assert RunStore(folder).prune(max_runs=100, max_bytes=int(2.5 * one_run), keep="run-2") == ["run-3"]
    assert sorted(p.stem for p in folder.glob("*.safetensors")) == ["run-2", "run-4"]


def test_a_finished_run_makes_room_by_deleting_the_oldest(tmp_path, teacher_path, small_data):
    from kd.lab.limits import Limits

    folder = tmp_path / "runs"
    copy_run(teacher_path, folder, "run-old", age=1000)
    copy_run(teacher_path, folder, "run-older", age=2000)
    manager = manager_for(tmp_path, teacher_path, small_data, limits=Limits(max_saved_runs=2))
    run = manager.launch(TINY)
    manager.wait(run.id, timeout=120)
    assert run.status == DONE, run.error
    assert sorted(entry["id"] for entry in manager.finished()) == sorted([run.id, "run-old"])
    manager.shutdown()


def test_the_listing_reads_a_header_only_when_its_file_changes(tmp_path, teacher_path, small_data, monkeypatch):
    import os

    import kd.lab.store

    folder = tmp_path / "runs"
    for index in range(3):
        copy_run(teacher_path, folder, f"run-{index}", age=100)
    reads = []
    real = kd.lab.store.checkpoint.read_metadata
    monkeypatch.setattr(kd.lab.store.checkpoint, "read_metadata", lambda path: reads.append(path) or real(path))
    manager = manager_for(tmp_path, teacher_path, small_data)
    assert len(manager.finished()) == 3 and len(reads) == 3
    assert len(manager.finished()) == 3 and len(reads) == 3  # a rerun reads nothing again
    os.utime(folder / "run-1.safetensors")  # replaced or touched: read again, alone
    assert len(manager.finished()) == 3 and [path.name for path in reads[3:]] == ["run-1.safetensors"]


def test_orphans_and_leftover_temporary_files_are_swept_at_start_up(tmp_path, teacher_path, small_data):
    import os
    import time

    folder = tmp_path / "runs"
    complete = copy_run(teacher_path, folder, "run-complete", age=5000)
    weights_only = copy_run(teacher_path, folder, "run-crashed", age=5000)
    weights_only.with_suffix(".json").unlink()
    metadata_only = copy_run(teacher_path, folder, "run-halfdeleted", age=5000)
    metadata_only.unlink()
    leftover = folder / ".run-x.safetensors.abc123.tmp"
    leftover.write_bytes(b"half a file")
    young = folder / "run-being-written.safetensors"
    young.write_bytes(b"another process is writing this one right now")
    os.utime(leftover, (time.time() - 5000, time.time() - 5000))

    manager = manager_for(tmp_path, teacher_path, small_data)
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [complete.name, complete.with_suffix(".json").name, young.name]
    )
    assert [entry["id"] for entry in manager.finished()] == ["run-complete"]


@pytest.mark.parametrize(
    "header", [["a", "list"], "a string", {"format": "kd-lab-checkpoint/1", "architecture": "convnet"}]
)
def test_a_malformed_file_in_the_runs_folder_is_skipped_with_a_notice(
    tmp_path, teacher_path, small_data, caplog, header
):
    import json

    import torch
    from safetensors.torch import save_file

    folder = tmp_path / "runs"
    good = copy_run(teacher_path, folder, "run-good", age=100)
    save_file({"w": torch.zeros(2)}, str(folder / "run-bad.safetensors"), metadata={"kd_lab": json.dumps(header)})
    (folder / "run-bad.json").write_text(json.dumps(header))
    with caplog.at_level("WARNING", logger="kd.lab.store"):
        listed = manager_for(tmp_path, teacher_path, small_data).finished()
    assert [entry["id"] for entry in listed] == [good.stem]
    assert any("run-bad" in record.message for record in caplog.records)


def test_other_work_waits_for_the_run_on_the_same_worker(tmp_path, teacher_path, small_data):
    import time

    manager, release = held_manager(tmp_path, teacher_path, small_data)
    run = manager.launch(TINY)
    measured = manager.submit(time.time)
    while run.status == QUEUED:
        threading.Event().wait(0.02)
    assert not measured.done()  # queued behind the training run, not beside it
    release.set()
    assert measured.result(timeout=120) >= manager.wait(run.id, timeout=120).finished
    manager.shutdown()


def test_the_recorded_command_reproduces_a_run_launched_after_others(
    tmp_path, teacher_path, small_data, capsys, monkeypatch
):
    import shlex

    from kd import checkpoint
    from kd.cli.main import main

    manager = manager_for(tmp_path, teacher_path, small_data)
    earlier = manager.launch(dataclasses.replace(TINY, seed=3, alpha=0.0))
    manager.wait(earlier.id, timeout=120)
    run = manager.launch(TINY)
    manager.wait(run.id, timeout=120)
    assert run.status == DONE, run.error
    manager.shutdown()

    argv = shlex.split(run.metadata["command"])[3:]  # after "python -m kd"
    out = tmp_path / "again"
    argv[argv.index("--out") + 1] = str(out)
    monkeypatch.setattr("kd.cli.training.load_mnist", lambda: small_data)  # the same images; a smaller test set
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    again = checkpoint.read_metadata(out.with_suffix(".safetensors"))
    assert again["weights_sha256"] == run.metadata["weights_sha256"]


def test_a_run_is_shown_done_before_its_scratch_twin_trains(tmp_path, teacher_path, small_data, monkeypatch):
    """The card can show as soon as the run is saved: the twin trains after, and its comparison joins the record."""
    import kd.lab.runs as runs

    release, trained = threading.Event(), runs.baseline_metrics

    def slow_twin(*args, **kwargs):
        assert release.wait(60)
        return trained(*args, **kwargs)

    monkeypatch.setattr(runs, "baseline_metrics", slow_twin)
    manager = manager_for(tmp_path, teacher_path, small_data)
    run = manager.launch(TINY)
    while run.status != DONE:
        assert run.status in (QUEUED, RUNNING), run.error
        threading.Event().wait(0.02)
    assert run.twin_pending and run.watched and not run.active and "baseline" not in run.metadata
    assert run.path.is_file() and manager.twin_training()
    with pytest.raises(TimeoutError):
        manager.wait(run.id, timeout=0.1)  # waiting means settled: the twin included
    release.set()
    manager.wait(run.id, timeout=120)
    assert not run.twin_pending and not manager.twin_training() and "accuracy" in run.metadata["baseline"]
    manager.shutdown()


def test_a_failing_twin_leaves_the_run_done_without_it(tmp_path, teacher_path, small_data, monkeypatch):
    import kd.lab.runs as runs

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(runs, "baseline_metrics", broken)
    manager = manager_for(tmp_path, teacher_path, small_data)
    run = manager.wait(manager.launch(TINY).id, timeout=120)
    assert run.status == DONE and run.error is None and not run.twin_pending
    assert run.path.is_file() and "baseline" not in run.metadata
    manager.shutdown()
