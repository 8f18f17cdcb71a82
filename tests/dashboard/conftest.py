"""Tiny checkpoints for the dashboard tests, so they never depend on the shipped ones."""

from __future__ import annotations

import dataclasses

import pytest

from kd.checkpoint import load
from kd.data import load_mnist
from kd.models import PRESETS
from kd.pipeline import train_and_save
from kd.train import TrainConfig


@pytest.fixture(scope="session")
def dashboard_checkpoints(tmp_path_factory):
    """teacher / student / scratch trained on 300 images for one epoch, in a temporary folder."""
    folder = tmp_path_factory.mktemp("checkpoints")
    full = load_mnist()
    # metrics on 1,000 test digits keep the fixture quick; the pages themselves use the full test set
    data = dataclasses.replace(full, test_images=full.test_images[:1000], test_labels=full.test_labels[:1000])
    config = TrainConfig(epochs=1, limit=300, augment=False)
    train_and_save("teacher", PRESETS["teacher"], config, data, folder / "teacher", "test fixture")
    teacher = load(folder / "teacher.safetensors")
    for name, alpha in (("student", 0.9), ("scratch", 0.0)):
        train_and_save(
            "distilled student" if alpha else "scratch student",
            PRESETS["student"],
            dataclasses.replace(config, alpha=alpha),
            data,
            folder / name,
            "test fixture",
            teacher=teacher,
            teacher_path=folder / "teacher.safetensors",
        )
    return folder


@pytest.fixture(autouse=True)
def dashboard_env(dashboard_checkpoints, tmp_path_factory, monkeypatch):
    """Point the dashboard at the tiny checkpoints and a runs folder, for each dashboard test only."""
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(dashboard_checkpoints))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
