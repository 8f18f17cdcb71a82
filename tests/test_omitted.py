"""Digits left out of training and the logit offset chosen for them on validation (kd.omitted)."""

import numpy as np
import pytest
import torch

from kd import checkpoint, omitted
from kd.infer import export
from kd.models import PRESETS, build, model_spec
from kd.predict import predict_proba


def logits_favouring_others(labels: torch.Tensor, digit: int, gap: float) -> torch.Tensor:
    """Logits that get every image right, except that `digit` scores `gap` below the runner-up for its own images."""
    scores = torch.zeros(len(labels), 10)
    scores[torch.arange(len(labels)), labels] = 5.0
    mine = labels == digit
    scores[mine, digit] = 5.0 - gap
    scores[mine, (digit + 1) % 10] = 5.0
    return scores


def test_the_offset_is_the_smallest_that_makes_validation_right():
    labels = torch.arange(10).repeat(20)
    offset = omitted.choose_offset(logits_favouring_others(labels, 3, 2.05), labels, (3,))
    assert offset == pytest.approx(2.1)  # the first step of 0.1 past the gap; 2.2 and beyond tie, and lose
    assert omitted.choose_offset(torch.eye(10)[labels] * 5, labels, (3,)) == 0.0  # nothing to correct


def test_the_test_set_plays_no_part_in_the_choice():
    labels = torch.arange(10).repeat(20)
    validation = (logits_favouring_others(labels, 3, 2.0), labels)
    honest = omitted.record((3,), validation, (logits_favouring_others(labels, 3, 2.0), labels))
    other = omitted.record((3,), validation, (logits_favouring_others(labels, 3, 9.0), labels))
    assert honest["offset"] == other["offset"]  # only the test scores differ
    assert honest["test"]["after"]["recall"]["3"] == 1.0 and other["test"]["after"]["recall"]["3"] == 0.0
    assert honest["test"]["before"]["recall"]["3"] == 0.0 and honest["test"]["before"]["errors"] == 20


def test_a_checkpoint_with_an_offset_loads_as_trained_and_exports_with_or_without_it(tmp_path):
    torch.manual_seed(0)
    model = build(PRESETS["student"]).eval()
    record = {"digits": [3], "offset": 2.5}
    path = checkpoint.save(tmp_path / "s", model, {**model_spec(model), "role": "test", "omitted": record})
    loaded = checkpoint.load(path)  # as trained: no offset
    digits = np.random.default_rng(0).random((16, 28, 28), dtype=np.float32)
    plain = predict_proba(loaded, digits)
    fixed = predict_proba(omitted.corrected(loaded, checkpoint.read_metadata(path)), digits)
    expected = torch.softmax(torch.log(torch.from_numpy(plain)) + omitted.offset_vector((3,), 2.5), 1).numpy()
    assert np.allclose(fixed, expected, atol=1e-5) and (fixed[:, 3] > plain[:, 3]).all()
    for corrected, name in ((False, "s"), (True, "s-corrected")):
        result = export.write(export.prepare(path, digits, corrected=corrected), tmp_path / "onnx")
        assert result["onnx"].endswith(f"{name}.onnx") and result["parity_max_abs_diff"] <= export.PARITY_TOLERANCE
