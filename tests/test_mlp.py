"""The MLP family (Hinton et al. 2015's models), added as a registry entry: every path builds, saves, loads and
exports it through kd.models without knowing its name."""

import numpy as np
import pytest
import torch

from kd import checkpoint
from kd.families.mlp import MLP, MLP_STUDENT, MLPConfig
from kd.infer import export
from kd.models import FAMILIES, PRESETS, build, build_model, describe, family_of, fuse_for_inference, model_spec
from kd.predict import predict_proba

SMALL = MLPConfig(hidden=(16, 8), dropout=0.5, input_dropout=0.2)


def test_the_paper_layouts_are_presets_of_the_registry():
    assert family_of(PRESETS["mlp-student"]) is FAMILIES["mlp"] and PRESETS["mlp-student"] == MLP_STUDENT
    student, teacher = build(PRESETS["mlp-student"]), build(PRESETS["mlp-teacher"])
    assert sum(p.numel() for p in student.parameters()) == 784 * 800 + 800 + 800 * 800 + 800 + 800 * 10 + 10
    assert teacher.config.hidden == (1200, 1200) and teacher.config.dropout == 0.5


def test_a_spec_rebuilds_the_same_layout_and_describes_it():
    model = build(SMALL)
    spec = model_spec(model)
    assert spec["architecture"] == "mlp" and spec["model_config"]["hidden"] == (16, 8)
    again = build_model(spec["architecture"], {**spec["model_config"], "hidden": [16, 8]})  # as JSON gives it
    assert isinstance(again, MLP) and again.config == SMALL
    assert describe("mlp", {**spec["model_config"], "hidden": [16, 8]}) == "16-8"


def test_it_takes_images_as_the_cnns_do_and_fusing_changes_nothing():
    model = build(SMALL).eval()
    images = torch.rand(3, 1, 28, 28)
    assert model(images).shape == (3, 10) and torch.equal(model(images), model(images[:, 0]))
    assert torch.equal(fuse_for_inference(model)(images), model(images))


def test_a_checkpoint_saves_loads_and_exports(tmp_path):
    torch.manual_seed(0)
    model = build(SMALL).eval()
    path = checkpoint.save(tmp_path / "mlp", model, {**model_spec(model), "role": "test"})
    loaded = checkpoint.load(path)
    digits = np.random.default_rng(0).random((8, 28, 28), dtype=np.float32)
    assert np.allclose(predict_proba(loaded, digits), predict_proba(model, digits))
    result = export.write(export.prepare(path, digits), tmp_path / "onnx")
    assert result["parity_max_abs_diff"] <= export.PARITY_TOLERANCE


@pytest.mark.parametrize("hidden", [[], [0], [9000], [8] * 17, "800", [1.5]])
def test_a_forged_header_is_refused_before_anything_is_built(tmp_path, hidden):
    model = build(SMALL)
    path = checkpoint.save(tmp_path / "mlp", model, {**model_spec(model), "role": "test"})
    metadata = checkpoint.read_metadata(path)
    metadata["model_config"]["hidden"] = hidden
    with pytest.raises(checkpoint.CheckpointError, match="hidden layers"):
        checkpoint.check_architecture(path, metadata)
