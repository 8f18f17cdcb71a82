import pytest
import torch

from kd.checkpoint import load, save
from kd.models import PRESETS, ConvNet, ConvNetConfig, build_model, config_dict, count_parameters, fuse_for_inference

# A student config as checkpoints written before the optional fields existed carry it.
OLD_STUDENT_CONFIG = {"stages": [[8], [16, 24], [16, 16]], "dropout": 0.0, "num_classes": 10}


def conv_layers(model):
    return [layer for layer in model.modules() if isinstance(layer, torch.nn.Conv2d)]


@pytest.mark.parametrize("name", ["teacher", "student"])
def test_logits_shape_for_both_input_layouts(name):
    model = ConvNet(PRESETS[name]).eval()
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)
    assert model(torch.rand(3, 28, 28)).shape == (3, 10)


def test_parameter_budgets():
    student, teacher = count_parameters(ConvNet(PRESETS["student"])), count_parameters(ConvNet(PRESETS["teacher"]))
    assert student <= 12_000
    assert teacher >= 10 * student


def test_student_has_fewer_layers_than_the_teacher():
    # at batch 1 each layer's fixed cost, not arithmetic, sets the latency
    student, teacher = ConvNet(PRESETS["student"]), ConvNet(PRESETS["teacher"])
    assert len(conv_layers(student)) < len(conv_layers(teacher))


def test_stem_stride_and_kernels_set_the_feature_map():
    config = ConvNetConfig(stages=((4, 6), (8,)), stem_kernel=5, stem_stride=2, kernels=(3, 5))
    model = ConvNet(config).eval()
    assert [layer.kernel_size for layer in conv_layers(model)] == [(5, 5), (3, 3), (5, 5)]
    assert model.features(torch.rand(2, 1, 28, 28)).shape == (2, 8, 7, 7)  # 28 -> 14 (stride) -> 7 (pool)
    assert model(torch.rand(2, 28, 28)).shape == (2, 10)


def test_old_style_config_builds_the_original_family_and_loads(tmp_path):
    model = build_model("convnet", OLD_STUDENT_CONFIG)
    assert [(layer.kernel_size, layer.stride) for layer in conv_layers(model)] == [((3, 3), (1, 1))] * 5
    assert count_parameters(model) == 10_770  # the student shipped before issue 9
    path = save(tmp_path / "old", model.eval(), {"architecture": "convnet", "model_config": OLD_STUDENT_CONFIG})
    images = torch.rand(3, 1, 28, 28)
    assert torch.allclose(load(path)(images), model(images), atol=1e-6)


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


def test_head_grid_pools_the_last_map_like_adaptive_pooling():
    # the student's classifier sees the 7x7 map pooled to 3x3: where the strokes are, not just how much
    config = ConvNetConfig(stages=((4, 6), (8,)), stem_kernel=5, stem_stride=2, head_grid=3)
    model = ConvNet(config).eval()
    assert config.feature_size == 7 and model.classifier.in_features == 8 * 9
    features = model.features(torch.rand(2, 1, 28, 28))
    expected = model.classifier(torch.nn.functional.adaptive_avg_pool2d(features, 3).flatten(1))
    assert torch.allclose(model.classifier(model.head_pool(features).flatten(1)), expected, atol=1e-6)
    with pytest.raises(ValueError, match="head_grid"):
        ConvNet(ConvNetConfig(stages=((4,), (8,)), head_grid=20))  # larger than the 14x14 map


def test_global_head_is_the_mean_over_the_map():
    model = ConvNet(PRESETS["teacher"]).eval()
    features = model.features(torch.rand(2, 1, 28, 28))
    assert torch.allclose(model.head_pool(features).flatten(1), features.mean(dim=(2, 3)), atol=1e-6)
