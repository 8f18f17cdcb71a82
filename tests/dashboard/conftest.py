"""Tiny checkpoints for the dashboard tests, so they never depend on the shipped ones."""

from __future__ import annotations

import dataclasses
import os

import pytest

from kd.checkpoint import load
from kd.data import load_mnist
from kd.models import PRESETS
from kd.pipeline import train_and_save
from kd.train import TrainConfig


@pytest.fixture(scope="session")
def dashboard_checkpoints(tmp_path_factory):
    """teacher / student / scratch trained on 300 images for one epoch, in a temporary folder.

    KD_CHECKPOINTS_DIR and KD_RUNS_DIR point the dashboard at it for the whole session.
    """
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
    saved = {key: os.environ.get(key) for key in ("KD_CHECKPOINTS_DIR", "KD_RUNS_DIR")}
    os.environ["KD_CHECKPOINTS_DIR"] = str(folder)
    os.environ["KD_RUNS_DIR"] = str(tmp_path_factory.mktemp("runs"))
    yield folder
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
