"""The model catalogue shared by the Streamlit lab and the Gradio app (kd/lab/catalog.py)."""

from __future__ import annotations

import shutil

import pytest

from kd import checkpoint
from kd.lab import catalog
from kd.lab.catalog import SHIPPED, ModelEntry, Settings
from kd.lab.limits import Limits


@pytest.fixture
def folder(tiny_checkpoints, tmp_path):
    """A checkpoints folder with the tiny teacher, student and scratch student."""
    for name, path in tiny_checkpoints.items():
        shutil.copy(path, tmp_path / f"{name}.safetensors")
    return tmp_path


def test_settings_come_from_the_environment_at_call_time(monkeypatch, tmp_path):
    monkeypatch.delenv("KD_CHECKPOINTS_DIR", raising=False)
    monkeypatch.delenv("KD_RUNS_DIR", raising=False)
    default = Settings.from_env()
    assert default.checkpoints_dir == catalog.ROOT / "checkpoints" and default.runs_dir == catalog.ROOT / "runs"
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path / "r"))
    moved = Settings.from_env()
    assert moved.teacher_path == tmp_path / "c" / "teacher.safetensors" and moved.runs_dir == tmp_path / "r"


def test_shipped_entries_and_what_is_missing(folder):
    settings = Settings(folder, folder / "runs")
    teacher = catalog.shipped("teacher", settings)
    assert isinstance(teacher, ModelEntry) and teacher.label == SHIPPED["teacher"] and not teacher.is_run
    assert teacher.sha == checkpoint.read_metadata(folder / "teacher.safetensors")["weights_sha256"]
    assert teacher.size_bytes == (folder / "teacher.safetensors").stat().st_size
    assert catalog.missing_shipped(settings) == []
    (folder / "scratch.safetensors").write_bytes(b"not a checkpoint")
    (folder / "student.safetensors").unlink()
    assert catalog.shipped("scratch", settings) is None
    assert catalog.missing_shipped(settings) == [SHIPPED["student"], SHIPPED["scratch"]]
    with pytest.raises(checkpoint.CheckpointError):
        ModelEntry.from_checkpoint("scratch", "x", folder / "scratch.safetensors")


def test_entries_list_shipped_models_then_runs(folder, tiny_checkpoints):
    settings = Settings(folder, folder / "runs")
    manager = catalog.new_run_manager(settings, Limits(max_epochs=2, max_images=500))
    assert (manager.max_epochs, manager.max_limit, manager.teacher_path) == (2, 500, settings.teacher_path)
    (folder / "runs").mkdir()
    run = folder / "runs" / "run-20261128-120000-abcd"
    shutil.copy(tiny_checkpoints["scratch"], run.with_suffix(".safetensors"))
    shutil.copy(tiny_checkpoints["scratch"].with_suffix(".json"), run.with_suffix(".json"))
    entries = catalog.model_entries(settings, manager)
    assert [entry.key for entry in entries] == ["teacher", "student", "scratch", run.name]
    assert entries[-1].is_run and entries[-1].label.startswith("Run 20261128-120000-abcd · T=4, α=0, 1 ep, 1000 img")
    assert [entry.key for entry in catalog.model_entries(settings, manager, teacher=False)][0] == "student"
    assert [catalog.entry_for(entry.path, settings) for entry in entries] == entries
    for elsewhere in (tiny_checkpoints["teacher"], folder / "runs" / "missing.safetensors", "/etc/passwd"):
        assert catalog.entry_for(elsewhere, settings) is None  # never opens a file outside the two folders


def test_load_model_checks_the_listed_checksum(folder):
    entry = catalog.shipped("student", Settings(folder, folder / "runs"))
    model = catalog.load_model(entry.path, entry.sha)
    assert not model.training
    with pytest.raises(checkpoint.CheckpointError, match="changed since it was listed"):
        catalog.load_model(entry.path, "0" * 64)
