"""The result card's baseline: a scratch student of the same budget and seed, trained once and cached."""

import json

import pytest

import kd.baselines
from kd.baselines import baseline_metrics
from kd.checkpoint import load
from kd.pipeline import Job, train_and_save
from kd.train import TrainConfig


def test_baseline_is_the_scratch_run_of_the_same_budget_and_is_trained_once(
    mnist, tiny_checkpoints, tmp_path, monkeypatch
):
    teacher = load(tiny_checkpoints["teacher"])
    distilled = TrainConfig(epochs=1, limit=300, alpha=0.9, temperature=2.0, augment=False, seed=4)
    metrics = baseline_metrics(Job(distilled), mnist, teacher, tmp_path / "baselines")
    # the same numbers as launching these settings with alpha = 0
    scratch = TrainConfig(epochs=1, limit=300, alpha=0.0, augment=False, seed=4)
    saved = train_and_save(Job(scratch, tmp_path / "scratch"), mnist, teacher)
    assert metrics["accuracy"] == pytest.approx(saved["metrics"]["accuracy"])
    assert metrics["agreement"] == pytest.approx(saved["metrics"]["agreement"])
    [cached] = (tmp_path / "baselines").glob("*.json")
    assert json.loads(cached.read_text())["train_config"]["alpha"] == 0.0

    def no_training(*args, **kwargs):
        raise AssertionError("the baseline was trained again")

    monkeypatch.setattr(kd.baselines, "train_and_evaluate", no_training)
    other_temperature = TrainConfig(epochs=1, limit=300, alpha=0.5, temperature=8.0, augment=False, seed=4)
    assert baseline_metrics(Job(other_temperature), mnist, teacher, tmp_path / "baselines") == metrics
    with pytest.raises(AssertionError, match="trained again"):  # another seed is another baseline
        baseline_metrics(
            Job(TrainConfig(epochs=1, limit=300, alpha=0.9, augment=False, seed=5)),
            mnist,
            teacher,
            tmp_path / "baselines",
        )
