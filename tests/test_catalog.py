"""The model catalogue (kd/lab/catalog.py): typed entries named by key, never by a client's path."""

from __future__ import annotations

import json
import shutil

import pytest

from kd import checkpoint
from kd.lab import catalog
from kd.lab.catalog import SHIPPED, ModelEntry
from kd.lab.settings import ENSEMBLE, ROOT, Settings, shown_command


@pytest.fixture
def folder(tiny_checkpoints, tmp_path):
    """A checkpoints folder with the tiny teacher, student and scratch student, and an empty runs folder."""
    for name, path in tiny_checkpoints.items():
        shutil.copy(path, tmp_path / f"{name}.safetensors")
    (tmp_path / "runs").mkdir()
    return tmp_path


def settings_for(folder) -> Settings:
    return Settings(folder, folder / "runs", folder / "results")


def test_settings_come_from_the_environment_at_call_time(monkeypatch, tmp_path):
    for name in ("KD_CHECKPOINTS_DIR", "KD_RUNS_DIR", "KD_RESULTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    default = Settings.from_env()
    assert (default.checkpoints_dir, default.runs_dir, default.results_dir) == tuple(
        ROOT / name for name in ("checkpoints", "runs", "results")
    )
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path / "r"))
    moved = Settings.from_env()
    assert moved.teacher_paths == {
        "teacher": tmp_path / "c" / "teacher.safetensors",
        "ensemble": tmp_path / "c" / "ensemble.safetensors",
    }
    assert moved.runs_dir == tmp_path / "r"


def test_shipped_entries_are_typed_and_what_is_missing_is_named(folder):
    settings = settings_for(folder)
    teacher = catalog.shipped("teacher", settings)
    assert isinstance(teacher, ModelEntry) and teacher.label == SHIPPED["teacher"] and not teacher.is_run
    assert teacher.sha == checkpoint.read_metadata(folder / "teacher.safetensors")["weights_sha256"]
    assert teacher.info.role == "teacher" and 0 <= teacher.info.metrics.accuracy <= 1
    assert len(teacher.info.metrics.per_class_f1) == 10 and teacher.info.train_images == 1000
    assert catalog.missing_shipped(settings) == []
    (folder / "scratch.safetensors").write_bytes(b"not a checkpoint")
    (folder / "student.safetensors").unlink()
    assert catalog.shipped("scratch", settings) is None
    assert catalog.missing_shipped(settings) == [SHIPPED["student"], SHIPPED["scratch"]]


def test_a_checkpoint_without_what_the_lab_shows_is_unreadable_not_zeros(folder):
    metadata = checkpoint.read_metadata(folder / "student.safetensors")
    del metadata["metrics"]["ece"]
    assert catalog.read_entry("student", "x", folder / "student.safetensors", metadata) is None


def test_runs_are_found_by_key_and_no_client_string_reaches_the_disk(folder, tiny_checkpoints):
    settings = settings_for(folder)
    run = folder / "runs" / "run-20261128-120000-abcd"
    shutil.copy(tiny_checkpoints["scratch"], run.with_suffix(".safetensors"))
    shutil.copy(tiny_checkpoints["scratch"].with_suffix(".json"), run.with_suffix(".json"))
    entry = catalog.entry_for(run.name, settings)
    assert entry.is_run and entry.label.startswith("Run 20261128-120000-abcd · T=4, α=0, 1 ep, 1000 img")
    assert catalog.entry_for("teacher", settings).key == "teacher"
    for forged in (str(tiny_checkpoints["teacher"]), "../teacher", "/etc/passwd", "run-missing", "", None, 7):
        assert catalog.entry_for(forged, settings) is None


def test_load_model_checks_the_listed_checksum(folder):
    entry = catalog.shipped("student", settings_for(folder))
    model = catalog.load_model(entry.path, entry.sha)
    assert not model.training
    with pytest.raises(checkpoint.CheckpointError, match="changed since it was listed"):
        catalog.load_model(entry.path, "0" * 64)


def test_commands_are_shown_without_server_paths(tmp_path):
    command = f"python -m kd distill --teacher {ROOT}/checkpoints/teacher.safetensors --out {tmp_path}/runs/run-1"
    shown = shown_command(command)
    assert shown == "python -m kd distill --teacher checkpoints/teacher.safetensors --out runs/run-1"
    assert str(ROOT) not in shown and str(tmp_path) not in shown
    assert json.dumps(shown_command("python -m kd sweep --alphas 0,0.9")) == '"python -m kd sweep --alphas 0,0.9"'


def test_the_ensemble_of_teachers_is_listed_only_where_its_checkpoint_is(folder, ensemble_checkpoints):
    settings = settings_for(folder)
    assert catalog.shipped(ENSEMBLE, settings) is None and catalog.missing_shipped(settings) == []  # optional
    for suffix in (".safetensors", ".json"):
        shutil.copy(ensemble_checkpoints / f"ensemble{suffix}", folder / f"ensemble{suffix}")
    entry = catalog.entry_for(ENSEMBLE, settings)
    assert entry.label == "Ensemble of 2 teachers" and entry.info.role == "teacher" and not entry.is_run
    shutil.copy(folder / "student.safetensors", folder / "ensemble.safetensors")  # a single model under its name
    assert catalog.shipped(ENSEMBLE, settings) is None
