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
