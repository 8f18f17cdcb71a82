"""Compare runs (kd.lab.compare) and the Draw examples (kd.lab.examples): what the lab hands both apps."""

from __future__ import annotations

import pytest

from kd.lab.limits import Limits
from kd.lab.service import Lab
from kd.lab.settings import Settings


@pytest.fixture
def lab(ensemble_checkpoints, small_mnist, tmp_path):
    lab = Lab(Settings(ensemble_checkpoints, tmp_path / "runs", tmp_path / "results"), Limits(), lambda: small_mnist)
    yield lab
    lab.shutdown()


def test_runs_are_compared_by_their_curves_and_settings(lab):
    assert [entry.key for entry in lab.comparable_models()] == ["teacher", "student", "scratch"]  # no ensemble
    comparison = lab.compare_runs(["student", "scratch", "/etc/passwd", "ensemble"])  # unknown and curveless left out
    student, scratch = lab.shipped("student"), lab.shipped("scratch")
    assert list(comparison.histories) == [student.label, scratch.label]
    assert comparison.histories[student.label] == list(student.info.history)
    assert {"epoch", "loss", "validation_accuracy"} <= set(comparison.histories[scratch.label][0])
    distilled, plain = comparison.settings[student.label], comparison.settings[scratch.label]
    assert set(distilled) == set(plain) and distilled["temperature T"] != "—" and plain["temperature T"] == "—"
    assert distilled["alpha"] == "0.9" and plain["teacher"] == "—" and distilled["test accuracy"].endswith("%")


def test_fewer_than_two_models_with_curves_get_a_sentence(lab):
    for keys in ([], ["student"], ["student", "student"], ["student", "ensemble"]):
        with pytest.raises(ValueError, match="Pick two or more trained models"):
            lab.compare_runs(keys)


def test_the_draw_examples_are_validation_digits_then_drawn_ones_read_as_drawings(lab, small_mnist):
    from kd.data import FIT_SIZE
    from kd.lab.examples import VALIDATION_INDICES

    shown = lab.examples()
    assert [example.key for example in shown][:5] == [*(f"validation-{i}" for i in VALIDATION_INDICES), "drawn-4"]
    label = int(small_mnist.train_labels[FIT_SIZE + VALIDATION_INDICES[0]])
    assert shown[0].caption == f"MNIST {label}" and all(e.canvas.shape == (280, 280, 4) for e in shown)
    digit = lab.digit_from_array(lab.example("drawn-7").canvas)
    assert digit.shape == (28, 28) and lab.answers(lab.shipped("teacher"), digit, (1.0,))[1.0].shape == (10,)
    with pytest.raises(ValueError, match="no example"):
        lab.example("../../etc/passwd")
