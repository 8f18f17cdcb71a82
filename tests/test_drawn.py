import json

import numpy as np

from kd.checkpoint import save
from kd.infer.drawn import CANVAS, available_fonts, drawn_digits, main, render_digit
from kd.models import PRESETS, ConvNet, config_dict


def test_several_fonts_are_available():
    assert len(available_fonts()) >= 8


def test_set_is_balanced_mnist_shaped_and_fixed_by_its_seed():
    images, labels = drawn_digits(count=30, seed=3)
    assert images.shape == (30, 28, 28) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert np.bincount(labels, minlength=10).tolist() == [3] * 10
    again, _ = drawn_digits(count=30, seed=3)
    other, _ = drawn_digits(count=30, seed=4)
    assert np.array_equal(images, again)
    assert not np.array_equal(images, other)


def test_render_places_the_digit_where_asked():
    font = available_fonts()[0]
    canvas = render_digit(7, font, height=0.3, stroke=0.0, angle=0.0, slant=0.0, position=np.array([0.0, 1.0]))
    assert canvas.shape == (CANVAS, CANVAS)
    rows, cols = np.nonzero(canvas)
    assert cols.min() == 0 and rows.max() == CANVAS - 1  # bottom-left corner
    assert rows.max() - rows.min() < 0.45 * CANVAS


def test_command_reports_each_checkpoint(tmp_path, capsys):
    model = ConvNet(PRESETS["student"]).eval()
    path = save(tmp_path / "s", model, {"architecture": "convnet", "model_config": config_dict(PRESETS["student"])})
    assert main([str(path), "--count", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][str(path)]
    assert 0.0 <= result["accuracy"] <= 1.0
    assert sum(result["errors_per_digit"]) == result["errors"]


def test_command_fails_in_one_line_on_a_missing_checkpoint(tmp_path, capsys):
    assert main([str(tmp_path / "missing.safetensors"), "--count", "10"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error:") and error.count("\n") == 1
