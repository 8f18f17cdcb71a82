import threading

import pytest
import torch

from kd.models import PRESETS, ConvNet
from kd.train import Cancelled, TrainConfig, accuracy, train


def student():
    torch.manual_seed(0)
    return ConvNet(PRESETS["student"])


def test_short_training_improves_accuracy(mnist):
    model = student()
    before = accuracy(model, mnist.test_images[:2000], mnist.test_labels[:2000])
    rows = []
    config = TrainConfig(epochs=2, limit=3000, batch_size=64, augment=False, seed=1)
    result = train(model, mnist, config, on_progress=rows.append)
    after = accuracy(model, mnist.test_images[:2000], mnist.test_labels[:2000])
    assert before < 0.3 and after > 0.85
    assert [r["epoch"] for r in result.history] == [1, 2]
    assert rows[-1].step == rows[-1].total_steps == 2 * 47
    assert [r.test_accuracy is not None for r in rows].count(True) == 2
    assert all(b.elapsed >= a.elapsed for a, b in zip(rows, rows[1:], strict=False))


def test_distillation_with_cached_and_per_batch_teacher(mnist, tiny_checkpoints, tmp_path, monkeypatch):
    from kd.checkpoint import load

    teacher = load(tiny_checkpoints["teacher"])
    cached = train(student(), mnist, TrainConfig(epochs=1, limit=512, alpha=0.9, augment=False), teacher=teacher)
    assert cached.teacher_seconds == 0.0  # logits came from the cache, no forward pass per batch
    consistent = train(student(), mnist, TrainConfig(epochs=1, limit=512, alpha=0.9, augment=True), teacher=teacher)
    assert consistent.teacher_seconds > 0.0


def test_same_seed_same_weights(mnist):
    config = TrainConfig(epochs=1, limit=256, seed=3)
    a, b = student(), student()
    train(a, mnist, config)
    train(b, mnist, config)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


def test_cancel_stops_training(mnist):
    cancel = threading.Event()

    def on_progress(progress):
        if progress.step == 3:
            cancel.set()

    with pytest.raises(Cancelled):
        train(student(), mnist, TrainConfig(epochs=1, limit=2000), on_progress=on_progress, cancel=cancel)


def test_bad_settings(mnist):
    with pytest.raises(ValueError, match="teacher"):
        train(student(), mnist, TrainConfig(epochs=1, limit=64, alpha=0.5))
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="temperature"):
        TrainConfig(temperature=0)


def test_seed_fixes_initial_weights_in_any_process_state(mnist, tmp_path):
    """train_and_save twice with one config, RNG disturbed in between: identical weights."""
    from kd.checkpoint import load
    from kd.pipeline import train_and_save

    config = TrainConfig(epochs=1, limit=128, augment=False, seed=5)
    paths = []
    for index in range(2):
        torch.rand(index + 1)  # whatever ran before in the process must not matter
        train_and_save("student", PRESETS["student"], config, mnist, tmp_path / f"run{index}", "test")
        paths.append(tmp_path / f"run{index}.safetensors")
    a, b = load(paths[0]), load(paths[1])
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


def test_training_leaves_the_global_rng_alone(mnist):
    model = student()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(model, mnist, TrainConfig(epochs=1, limit=64, augment=False, seed=9))
    assert torch.equal(torch.rand(3), expected)
