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
