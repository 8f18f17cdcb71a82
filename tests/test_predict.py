import numpy as np
import pytest
import torch

from kd.models import PRESETS, ConvNet
from kd.predict import predict_proba


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return ConvNet(PRESETS["student"]).eval()


def test_shapes_and_normalisation(model):
    images = np.random.default_rng(0).random((5, 28, 28), dtype=np.float32)
    proba = predict_proba(model, images)
    assert proba.shape == (5, 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    single = predict_proba(model, images[0])
    assert single.shape == (1, 10) and np.allclose(single[0], proba[0], atol=1e-6)


def test_temperature_softens(model):
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    sharp, soft = predict_proba(model, image, 1.0)[0], predict_proba(model, image, 10.0)[0]
    assert soft.max() <= sharp.max() and soft.min() >= sharp.min()
    assert sharp.argmax() == soft.argmax()


def test_bad_input(model):
    with pytest.raises(ValueError, match="shape"):
        predict_proba(model, np.zeros((3, 32, 32)))
    with pytest.raises(ValueError, match="temperature"):
        predict_proba(model, np.zeros((28, 28)), temperature=0)


def test_logits_restores_training_mode_even_when_a_batch_fails():
    from kd.predict import logits

    class Breaks(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, images):
            raise RuntimeError("out of memory")

    model = Breaks().train()
    with pytest.raises(RuntimeError):
        logits(model, torch.zeros(2, 28, 28))
    assert model.training


@pytest.fixture
def mnist_in_tmp(mnist, tmp_path):
    """The real MNIST's fingerprint with a temporary cache folder, so damaging the cache harms nothing."""
    import dataclasses

    return dataclasses.replace(mnist, cache_path=tmp_path / "mnist.npz")


@pytest.mark.parametrize(
    "damage",
    [b"", b"\x93NUMPY garbage", None],
    ids=["empty", "garbage", "wrong-shape"],
)
def test_damaged_cached_logits_are_removed_and_computed_again(model, mnist_in_tmp, caplog, damage):
    from kd.predict import cached_logits

    images = mnist_in_tmp.train_images[:64]
    first = cached_logits(model, images, mnist_in_tmp, "train")
    [path] = (mnist_in_tmp.cache_path.parent / "logits").glob("*.npy")
    if damage is None:
        np.save(path, np.zeros((3, 10), np.float32))  # a foreign file under the right name
    else:
        path.write_bytes(damage)
    with caplog.at_level("WARNING", logger="kd.predict"):
        again = cached_logits(model, images, mnist_in_tmp, "train")
    assert torch.equal(first, again)
    assert any("damaged" in record.message for record in caplog.records)
    assert np.load(path).shape == (64, 10)  # healed on disk


def test_an_unwritable_logits_cache_means_working_without_it(model, mnist_in_tmp, tmp_path, caplog):
    import dataclasses

    from kd.predict import cached_logits

    (tmp_path / "blocker").write_text("not a folder")
    data = dataclasses.replace(mnist_in_tmp, cache_path=tmp_path / "blocker" / "mnist.npz")
    with caplog.at_level("WARNING", logger="kd.predict"):
        computed = cached_logits(model, data.train_images[:32], data, "train")
    assert computed.shape == (32, 10)
    assert any("working without it" in record.message for record in caplog.records)
