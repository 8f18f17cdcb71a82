import json

import pytest
import torch
from safetensors.torch import save_file

from kd import checkpoint
from kd.checkpoint import CheckpointError
from kd.models import PRESETS, ConvNet, config_dict


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = ConvNet(PRESETS["student"]).eval()
    metadata = {
        "architecture": "convnet",
        "model_config": config_dict(PRESETS["student"]),
        "seed": 7,
        "command": "python -m kd distill --seed 7",
        "metrics": {"accuracy": 0.5},
    }
    path = checkpoint.save(tmp_path / "student", model, metadata)
    return model, path


def test_round_trip(saved):
    model, path = saved
    assert path.suffix == ".safetensors" and path.with_suffix(".json").is_file()
    loaded = checkpoint.load(path)
    images = torch.rand(4, 1, 28, 28)
    assert not loaded.training
    assert torch.allclose(model(images), loaded(images), atol=1e-6)
    metadata = checkpoint.read_metadata(path)
    assert metadata["seed"] == 7 and metadata["command"].startswith("python -m kd")
    assert metadata["versions"]["torch"] == torch.__version__
    assert json.loads(path.with_suffix(".json").read_text()) == metadata
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_missing(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        checkpoint.load(tmp_path / "nothing.safetensors")


def test_truncated(saved):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        checkpoint.load(path)


def test_corrupted_weights(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # a flipped byte in the tensor data, header still valid
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        checkpoint.load(path)


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path))
    with pytest.raises(CheckpointError, match="not a KD Lab checkpoint"):
        checkpoint.load(path)


def test_pickle_file_is_not_unpickled(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"state": ConvNet(PRESETS["student"]).state_dict()}, path)
    with pytest.raises(CheckpointError):
        checkpoint.load(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.safetensors"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(CheckpointError):
        checkpoint.read_metadata(path)


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "out.json"
    checkpoint.atomic_write_json(path, {"a": 1})

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "replace", broken_replace)
    with pytest.raises(OSError):
        checkpoint.atomic_write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def forge(path, header, tensors=None):
    """A safetensors file whose KD Lab header is `header` (any JSON value), as a hostile upload would be."""
    save_file(tensors or {"weight": torch.zeros(3)}, str(path), metadata={checkpoint.METADATA_KEY: json.dumps(header)})
    return path


def valid_header(model_config, **extra):
    return {"format": checkpoint.FORMAT, "architecture": "convnet", "model_config": model_config,
            "weights_sha256": "0" * 64, **extra}  # fmt: skip


@pytest.mark.parametrize("header", [["a", "list"], "a string", 42, None])
def test_metadata_that_is_not_an_object_is_refused(tmp_path, header):
    path = forge(tmp_path / "odd.safetensors", header)
    with pytest.raises(CheckpointError, match="expected a JSON object"):
        checkpoint.read_metadata(path)
    with pytest.raises(CheckpointError):
        checkpoint.load(path)


@pytest.mark.parametrize(
    "field, value", [("model_config", [1, 2]), ("architecture", 7), ("metrics", "high"), ("weights_sha256", None)]
)
def test_metadata_fields_of_the_wrong_type_are_refused(tmp_path, field, value):
    header = valid_header(config_dict(PRESETS["student"]), metrics={})
    header[field] = value
    with pytest.raises(CheckpointError, match=f"malformed '{field}'"):
        checkpoint.read_metadata(forge(tmp_path / "odd.safetensors", header))


@pytest.mark.parametrize(
    "stages, message",
    [
        ([[4096] * 16] * 4, "parameters"),  # 64 layers of 4096 channels: 9.5 billion parameters, none allocated
        ([[8]] * 65, "widths"),  # too many layers
        ([[3000, 3000]], "parameters"),  # within the per-layer caps, but 81 million parameters
        ([[8.5]], "widths"),
        ("wide", "widths"),
        ([[8, -1]], "widths"),
    ],
)
def test_a_huge_or_odd_config_is_refused_before_anything_is_allocated(tmp_path, monkeypatch, stages, message):
    # global pooling: four stages shrink the map to 1x1, too small for the student's 3x3 head grid
    config = dict(config_dict(PRESETS["student"]), stages=stages, head_grid=1)
    path = forge(tmp_path / "huge.safetensors", valid_header(config))
    assert path.stat().st_size < 10_000

    real_build = checkpoint.build_model

    def build_on_meta_only(*args):
        assert torch.empty(0).device.type == "meta", "a model was built in memory before the config was checked"
        return real_build(*args)

    monkeypatch.setattr(checkpoint, "load_file", lambda *a: pytest.fail("weights read before the config was checked"))
    monkeypatch.setattr(checkpoint, "build_model", build_on_meta_only)
    with pytest.raises(CheckpointError, match=message):
        checkpoint.load(path)


def test_a_config_that_does_not_match_the_stored_tensors_is_refused_before_loading(saved, monkeypatch):
    _, path = saved
    # the student's weights under the teacher's config: the header would make the loader build the teacher
    state = {name: tensor.contiguous() for name, tensor in ConvNet(PRESETS["student"]).state_dict().items()}
    header = valid_header(config_dict(PRESETS["teacher"]))
    forged = forge(path.parent / "mismatch.safetensors", header, state)
    monkeypatch.setattr(checkpoint, "load_file", lambda *a: pytest.fail("weights read before the shapes were checked"))
    with pytest.raises(CheckpointError, match="tensors differ"):
        checkpoint.load(forged)


def test_an_unknown_config_field_is_a_checkpoint_error(tmp_path):
    config = dict(config_dict(PRESETS["student"]), colour="blue")
    with pytest.raises(CheckpointError, match="cannot be built"):
        checkpoint.load(forge(tmp_path / "odd.safetensors", valid_header(config)))
