"""Shared fixtures: the real MNIST (from the local cache) and tiny checkpoints trained on a few images."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kd.checkpoint import load
from kd.data import load_mnist
from kd.pipeline import Job, train_and_save
from kd.train import TrainConfig


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory, mnist) -> dict[str, Path]:
    """The session's one trained teacher, with a distilled and a scratch student: one epoch on 1,000 images each.

    Every test that needs a teacher (the run queue's, the dashboards', the command line's) uses this one.
    """
    directory = tmp_path_factory.mktemp("checkpoints")
    config = TrainConfig(epochs=1, limit=1000, augment=False)
    train_and_save(Job(config, directory / "teacher", "teacher", role="teacher"), mnist)
    teacher = load(directory / "teacher.safetensors")
    for name, alpha in (("student", 0.9), ("scratch", 0.0)):
        train_and_save(
            Job(TrainConfig(epochs=1, limit=1000, alpha=alpha, augment=False), directory / name), mnist, teacher
        )
    return {name: directory / f"{name}.safetensors" for name in ("teacher", "student", "scratch")}


@pytest.fixture(scope="session")
def small_mnist(mnist):
    """MNIST with a 500-image test set: evaluating a tiny model after training stays quick."""
    import dataclasses

    return dataclasses.replace(mnist, test_images=mnist.test_images[:500], test_labels=mnist.test_labels[:500])


@pytest.fixture(scope="session")
def small_teacher(tiny_checkpoints) -> Path:
    """The session's teacher, for tests that only need some teacher to learn from."""
    return tiny_checkpoints["teacher"]


@pytest.fixture(scope="session")
def ensemble_checkpoints(tiny_checkpoints, tmp_path_factory) -> Path:
    """A checkpoints folder holding the tiny teacher and students and checkpoints/ensemble.safetensors as
    `python -m kd ensemble` makes it, of the tiny teacher and scratch student: nothing more to train."""
    from kd.cli.main import main

    directory = tmp_path_factory.mktemp("checkpoints-with-ensemble")
    for path in tiny_checkpoints.values():
        for file in (path, path.with_suffix(".json")):
            shutil.copy(file, directory / file.name)
    members = [str(tiny_checkpoints[name]) for name in ("teacher", "scratch")]
    assert main(["ensemble", *members, "--out", str(directory / "ensemble")]) == 0
    return directory


@pytest.fixture
def lab(tiny_checkpoints, small_mnist, tmp_path):
    """A lab server over the tiny checkpoints, MNIST with the small test set and at most 2 epochs a run."""
    from kd.lab.limits import Limits  # here, not above: only the tests that ask for a lab load the service
    from kd.lab.service import Lab
    from kd.lab.settings import Settings

    folder = tiny_checkpoints["teacher"].parent
    lab = Lab(Settings(folder, tmp_path / "runs", tmp_path / "results"), Limits(max_epochs=2), lambda: small_mnist)
    yield lab
    lab.shutdown()
