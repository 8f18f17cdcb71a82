import pytest
import torch

from kd.models import PRESETS, ConvNet, build_model, config_dict, count_parameters, fuse_for_inference


@pytest.mark.parametrize("name", ["teacher", "student"])
def test_logits_shape_for_both_input_layouts(name):
    model = ConvNet(PRESETS[name]).eval()
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert model(torch.rand(3, 28, 28)).shape == (3, 10)


def test_parameter_budgets():
    student, teacher = count_parameters(ConvNet(PRESETS["student"])), count_parameters(ConvNet(PRESETS["teacher"]))
    assert student <= 12_000
    assert teacher >= 10 * student


def test_build_from_config_dict_round_trip():
    model = ConvNet(PRESETS["student"])
    rebuilt = build_model("convnet", config_dict(PRESETS["student"]))
    rebuilt.load_state_dict(model.state_dict())
    images = torch.rand(4, 1, 28, 28)
    assert torch.equal(model.eval()(images), rebuilt.eval()(images))


def test_unknown_architecture():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("resnet", {})


def test_fused_model_gives_the_same_logits_with_fewer_layers():
    torch.manual_seed(0)
    model = ConvNet(PRESETS["student"])
    model.train()
    model(torch.rand(64, 1, 28, 28))  # move BatchNorm's running statistics away from the defaults
    model.eval()
    fused = fuse_for_inference(model)
    images = torch.rand(8, 1, 28, 28)
    assert torch.allclose(model(images), fused(images), atol=1e-5)
    assert not any(isinstance(layer, torch.nn.BatchNorm2d) for layer in fused.modules())
    assert any(isinstance(layer, torch.nn.BatchNorm2d) for layer in model.modules())  # original untouched
