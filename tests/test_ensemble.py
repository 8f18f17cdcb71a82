"""Ensembles of teachers as one teacher: averaged logits, one checkpoint, one ONNX graph, the command, distillation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from kd import checkpoint
from kd.cli.main import main
from kd.infer import export, sessions
from kd.metadata import ModelInfo
from kd.models import ConvNet, ConvNetConfig, Ensemble, build_model, fuse_for_inference, model_spec
from kd.pipeline import Job, train_and_save
from kd.predict import cached_logits, logits
from kd.train import TrainConfig, train

TINY = ConvNetConfig(stages=((4,), (8,)))


def tiny_convnet(seed: int) -> ConvNet:
    """A tiny ConvNet whose BatchNorm statistics are not the identity, so folding them matters."""
    torch.manual_seed(seed)
    model = ConvNet(TINY)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.fixture
def ensemble() -> Ensemble:
    return Ensemble([tiny_convnet(1), tiny_convnet(2)]).eval()


@pytest.fixture(scope="module")
def members(tmp_path_factory, small_mnist) -> list[str]:
    """Two tiny single models trained on 300 images each (seeds 1 and 2): checkpoints of the same data."""
    directory = tmp_path_factory.mktemp("members")
    for seed in (1, 2):
        config = TrainConfig(epochs=1, limit=300, augment=False, seed=seed)
        train_and_save(Job(config, directory / f"m{seed}", "student", role="teacher"), small_mnist)
    return [str(directory / f"m{seed}.safetensors") for seed in (1, 2)]


def test_logits_are_the_mean_of_the_members_logits(ensemble):
    images = torch.rand(5, 1, 28, 28)
    expected = (ensemble.members[0](images) + ensemble.members[1](images)) / 2
    assert torch.allclose(ensemble(images), expected, atol=1e-6)
    assert ensemble(images[:, 0]).shape == (5, 10)  # (B, 28, 28) as a single model takes it


def test_fused_ensemble_gives_the_same_logits_without_batchnorm(ensemble):
    fused = fuse_for_inference(ensemble)
    images = torch.rand(4, 1, 28, 28)
    assert isinstance(fused, Ensemble) and not fused.training
    assert not any(isinstance(layer, torch.nn.BatchNorm2d) for layer in fused.modules())
    assert torch.allclose(fused(images), ensemble(images), atol=1e-5)


def test_build_model_rebuilds_an_ensemble_from_its_spec(ensemble):
    spec = model_spec(ensemble)
    assert spec["architecture"] == "ensemble" and [m["architecture"] for m in spec["model_config"]["members"]] == [
        "convnet",
        "convnet",
    ]
    rebuilt = build_model(spec["architecture"], json.loads(json.dumps(spec["model_config"])))  # as JSON stores it
    rebuilt.load_state_dict(ensemble.state_dict())
    images = torch.rand(3, 1, 28, 28)
    assert torch.equal(rebuilt.eval()(images), ensemble(images))


def test_an_ensemble_of_ensembles_is_refused(ensemble):
    spec = model_spec(ensemble)
    with pytest.raises(ValueError, match="single models"):
        build_model("ensemble", {"members": [spec]})


def test_checkpoint_round_trip(ensemble, tmp_path):
    path = checkpoint.save(tmp_path / "ensemble", ensemble, {**model_spec(ensemble), "role": "teacher"})
    loaded = checkpoint.load(path)
    images = torch.rand(4, 1, 28, 28)
    assert isinstance(loaded, Ensemble) and len(loaded.members) == 2 and not loaded.training
    assert torch.allclose(loaded(images), ensemble(images), atol=1e-6)
    assert all(name.startswith(("members.0.", "members.1.")) for name in load_file(str(path)))
    metadata = checkpoint.read_metadata(path)
    assert metadata["architecture"] == "ensemble" and metadata == json.loads(path.with_suffix(".json").read_text())
    assert [member["model_config"]["stages"] for member in metadata["model_config"]["members"]] == [[[4], [8]]] * 2


def tampered(path, model_config):
    """The ensemble at `path`, its tensors kept, under another model_config: as a hostile upload would be."""
    metadata = {**checkpoint.read_metadata(path), "model_config": model_config}
    forged = path.with_name("forged.safetensors")
    save_file(load_file(str(path)), str(forged), metadata={checkpoint.METADATA_KEY: json.dumps(metadata)})
    return forged


def member_config(stages):
    return {"architecture": "convnet", "model_config": {"stages": stages, "dropout": 0.0, "num_classes": 10}}


@pytest.mark.parametrize(
    "model_config, message",
    [
        ({"members": [member_config([[4], [8]]), member_config([[4], [16]])]}, "tensors differ"),
        ({"members": [member_config([[4], [8]])]}, "tensors differ"),  # a member dropped
        ({"members": [member_config([[4], [8]])] * 17}, "ensemble members"),  # more than MAX_MEMBERS
        ({"members": [member_config([[4], [8]]), {"architecture": "convnet"}]}, "ensemble members"),
        ({"members": [member_config([[4], [8]]), member_config([[4096] * 16] * 4)]}, "parameters"),
        ({"members": "two"}, "ensemble members"),
        ({"members": [member_config([[4], [8]])] * 2, "weights": [1, 2]}, "cannot be built"),
    ],
)
def test_a_tampered_ensemble_is_refused_before_its_weights_are_read(
    ensemble, tmp_path, monkeypatch, model_config, message
):
    path = checkpoint.save(tmp_path / "ensemble", ensemble, model_spec(ensemble))
    forged = tampered(path, model_config)
    monkeypatch.setattr(checkpoint, "load_file", lambda *a: pytest.fail("weights read before the config was checked"))
    with pytest.raises(checkpoint.CheckpointError, match=message):
        checkpoint.load(forged)


def test_an_ensemble_checkpoint_exports_to_one_onnx_graph_that_answers_like_pytorch(ensemble, mnist, tmp_path):
    digits = mnist.test_images[:64].numpy().astype(np.float32) / 255.0
    path = checkpoint.save(tmp_path / "ensemble", ensemble, model_spec(ensemble))
    result = export.write(export.prepare(path, digits), tmp_path / "onnx")
    assert result["parity_max_abs_diff"] <= export.PARITY_TOLERANCE
    assert sorted(file.name for file in (tmp_path / "onnx").iterdir()) == ["ensemble.json", "ensemble.onnx"]
    onnx_model = sessions.OnnxModel(result["onnx"])
    expected = ensemble(torch.from_numpy(digits[:, None])).detach().numpy()
    assert np.allclose(onnx_model.logits(sessions.as_batch(digits)), expected, atol=1e-4)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_ensemble_builds_one_teacher_from_its_members(capsys, members, tmp_path):
    out = tmp_path / "ensemble"
    code, stdout, err = run(capsys, "ensemble", *members, "--out", str(out), "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["checkpoint"] == str(out.with_suffix(".safetensors")) and result["members"] == members
    assert 0 <= result["accuracy"] <= 1 and 0 <= result["validation_accuracy"] <= 1
    model = checkpoint.load(result["checkpoint"])
    assert isinstance(model, Ensemble) and len(model.members) == 2
    metadata = checkpoint.read_metadata(result["checkpoint"])
    assert metadata["role"] == "teacher" and metadata["architecture"] == "ensemble"
    assert metadata["command"] == f"python -m kd ensemble {' '.join(members)} --out {out} --json"
    recorded = [(m["path"], m["weights_sha256"], m["seed"], m["command"]) for m in metadata["members"]]
    expected = [(path, *(checkpoint.read_metadata(path)[key] for key in ("weights_sha256", "seed", "command")))
                for path in members]  # fmt: skip
    assert recorded == expected
    assert metadata["metrics"]["validation_accuracy"] == result["validation_accuracy"]
    assert "seed" not in metadata["train_config"] and metadata["train_config"]["limit"] == 300  # what both share
    assert ModelInfo.from_dict(metadata).role == "teacher"  # the lab can list it like any teacher

    code, stdout, err = run(capsys, "ensemble", *members, "--out", str(out))
    assert code == 2 and stdout == "" and "already exists; pass --force" in err and err.count("\n") == 1


def other_data_member(path: str, tmp_path) -> str:
    """`path` again, its metadata saying it was trained on other data."""
    metadata = checkpoint.read_metadata(path)
    metadata["data"] = {**metadata["data"], "sha256": "0" * 64}
    return str(checkpoint.save(tmp_path / "other-data", checkpoint.load(path), metadata))


def ensemble_member(members: list[str], tmp_path) -> str:
    model = Ensemble([checkpoint.load(path) for path in members])
    return str(checkpoint.save(tmp_path / "nested", model, model_spec(model)))


@pytest.mark.parametrize(
    "make_members, message",
    [
        (lambda members, tmp_path: [members[0], other_data_member(members[1], tmp_path)], "trained on other data"),
        (lambda members, tmp_path: [members[0], ensemble_member(members, tmp_path)], "is an ensemble"),
        (lambda members, tmp_path: [members[0], members[0]], "listed twice"),
        (lambda members, tmp_path: [members[0]], "at least two members"),
        (lambda members, tmp_path: [members[0], str(tmp_path / "missing.safetensors")], "no checkpoint"),
    ],
)
def test_cli_ensemble_refuses_members_that_do_not_belong_together(capsys, members, tmp_path, make_members, message):
    out = tmp_path / "out" / "ensemble"
    code, stdout, err = run(capsys, "ensemble", *make_members(members, tmp_path), "--out", str(out))
    assert code != 0 and stdout == "" and err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not out.parent.exists()


@pytest.mark.parametrize("augment", [False, True])  # cached teacher logits, then the (fused) teacher on each batch
def test_a_student_distils_from_an_ensemble(members, small_mnist, augment):
    teacher = Ensemble([checkpoint.load(path) for path in members]).eval()
    student = ConvNet(TINY)
    config = TrainConfig(epochs=1, limit=200, alpha=0.9, augment=augment, batch_size=50)
    result = train(student, small_mnist, config, teacher=teacher)
    assert len(result.history) == 1 and np.isfinite(result.history[0]["loss"])


def test_cached_logits_of_an_ensemble(members, small_mnist):
    teacher = Ensemble([checkpoint.load(path) for path in members]).eval()
    images = small_mnist.test_images[:100]
    first = cached_logits(teacher, images, small_mnist, "ensemble test")
    assert torch.allclose(first, logits(teacher, images), atol=1e-6)
    assert torch.equal(cached_logits(teacher, images, small_mnist, "ensemble test"), first)  # from the file
    member = cached_logits(teacher.members[0], images, small_mnist, "ensemble test")
    assert not torch.equal(member, first)  # the ensemble's own key, not a member's
