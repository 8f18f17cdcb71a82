"""ONNX export and ONNX Runtime inference: parity with PyTorch, refusals, the cache, the command line."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import onnxruntime
import pytest
import torch

from kd import checkpoint
from kd.cli.main import main
from kd.infer import export, runtime, sessions
from kd.models import ConvNet, ConvNetConfig
from kd.predict import predict_proba


@pytest.fixture(scope="module")
def digits(mnist) -> np.ndarray:
    return mnist.test_images[:64].numpy().astype(np.float32) / 255.0


def test_export_round_trip_and_parity(tiny_checkpoints, tmp_path, digits):
    path = tiny_checkpoints["student"]
    result = export.write(export.prepare(path, digits), tmp_path)
    onnx_path = tmp_path / "student.onnx"
    assert result["onnx"] == str(onnx_path) and result["parity_max_abs_diff"] <= 1e-5
    assert json.loads((tmp_path / "student.json").read_text()) == checkpoint.read_metadata(path)
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (inputs,), (outputs,) = session.get_inputs(), session.get_outputs()
    assert (inputs.name, inputs.shape[1:], outputs.name, outputs.shape[1:]) == ("images", [1, 28, 28], "logits", [10])
    assert isinstance(inputs.shape[0], str)  # a dynamic batch axis
    model = checkpoint.load(path)
    onnx_model = sessions.OnnxModel(onnx_path)
    for batch in (digits[:1], digits):  # one image and a batch through the same file
        for temperature in (1.0, 4.0):
            expected = predict_proba(model, batch, temperature=temperature)
            assert np.abs(onnx_model.predict_proba(batch, temperature=temperature) - expected).max() <= 1e-5
    logits = onnx_model.logits(sessions.as_batch(digits))
    assert np.allclose(logits, torch.cat([model(torch.from_numpy(digits[:, None]))]).detach().numpy(), atol=1e-4)


def test_any_convnet_exports_with_parity(digits):
    model = ConvNet(ConvNetConfig(stages=((4,), (6, 6), (8,)), dropout=0.1)).eval()
    for module in model.modules():  # BatchNorm statistics that are not the identity, so folding matters
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    graph, gap = export.export_model(model, digits)
    assert gap <= export.PARITY_TOLERANCE and len(graph) > 0


def test_a_model_that_does_not_match_is_refused(tiny_checkpoints, tmp_path, digits, monkeypatch):
    other = ConvNet(ConvNetConfig(stages=((4,), (4,)))).eval()
    monkeypatch.setattr(export, "onnx_bytes", lambda model, offset=None, real=export.onnx_bytes: real(other))
    with pytest.raises(export.ExportError, match="differs from PyTorch"):
        export.write(export.prepare(tiny_checkpoints["student"], digits), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_onnx_model_rejects_bad_input(tiny_checkpoints, tmp_path, digits):
    export.write(export.prepare(tiny_checkpoints["student"], digits), tmp_path)
    onnx_model = sessions.OnnxModel(tmp_path / "student.onnx")
    with pytest.raises(ValueError, match="expected images"):
        onnx_model.predict_proba(np.zeros((2, 27, 28), np.float32))
    with pytest.raises(ValueError, match="temperature"):
        onnx_model.predict_proba(digits[0], temperature=0)


def test_export_cached_by_weights(tiny_checkpoints, tmp_path, monkeypatch):
    path = tiny_checkpoints["student"]
    model = checkpoint.load(path)
    first = runtime.cached_onnx(path, model, tmp_path)
    assert len(list(tmp_path.glob("*.onnx"))) == 1
    monkeypatch.setattr(runtime, "export_model", lambda *args, **kwargs: pytest.fail("exported again"))
    assert runtime.cached_onnx(path, model, tmp_path) == first


def test_read_only_cache_keeps_the_export_in_memory(tiny_checkpoints, tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")  # even root cannot create a folder inside a file
    path = tiny_checkpoints["student"]
    with caplog.at_level(logging.WARNING, logger="kd.infer.runtime"):
        predictor = runtime.load_predictor(path, checkpoint.load(path), blocked / "onnx")
    assert "could not cache the ONNX export" in caplog.text
    assert predictor.predict_proba(np.zeros((28, 28), np.float32)).shape == (1, 10)


def test_failed_export_falls_back_to_pytorch(tiny_checkpoints, tmp_path, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise export.ExportError("the ONNX export differs from PyTorch")

    monkeypatch.setattr(runtime, "export_model", refuse)
    path = tiny_checkpoints["student"]
    with caplog.at_level(logging.WARNING, logger="kd.infer.runtime"):
        predictor = runtime.load_predictor(path, checkpoint.load(path), tmp_path)
    assert predictor.runtime == "torch" and "PyTorch answers instead" in caplog.text


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_export_json(capsys, tiny_checkpoints, tmp_path):
    paths = [str(tiny_checkpoints[name]) for name in ("teacher", "student")]
    code, out, err = run(capsys, "export", *paths, "--out", str(tmp_path / "onnx"), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert [model["onnx"] for model in result["models"]] == [
        str(tmp_path / "onnx" / "teacher.onnx"),
        str(tmp_path / "onnx" / "student.onnx"),
    ]
    assert all(model["parity_max_abs_diff"] <= 1e-5 for model in result["models"])


def test_cli_export_refuses_a_damaged_checkpoint(capsys, tiny_checkpoints, tmp_path):
    damaged = tmp_path / "damaged.safetensors"
    shutil.copy(tiny_checkpoints["student"], damaged)
    content = bytearray(damaged.read_bytes())
    content[-100:] = bytes(100)  # weights changed, header intact
    damaged.write_bytes(bytes(content))
    out = tmp_path / "onnx"
    code, stdout, err = run(capsys, "export", str(tiny_checkpoints["teacher"]), str(damaged), "--out", str(out))
    assert code == 1 and stdout == ""
    assert err.startswith("error: ") and "corrupted" in err and err.count("\n") == 1
    assert not out.exists()  # nothing written, not even the good teacher


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "missing.safetensors", "--out", "x"], "no checkpoint at missing.safetensors"),
        (["export", "checkpoints/teacher.safetensors"], "--out"),
        (["bench", "missing.safetensors", "--runtime", "onnx"], "no checkpoint"),
        (["site", "--out", "x", "--checkpoints", "no-such-folder"], "no checkpoint"),
    ],
)
def test_cli_bad_input_is_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code != 0 and out == "" and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_cli_bench_both_runtimes(capsys, tiny_checkpoints):
    path = str(tiny_checkpoints["student"])
    code, out, err = run(
        capsys, "bench", path, "--batch-sizes", "1,8", "--repeats", "3", "--runtime", "torch,onnx", "--json"
    )
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert [(row["runtime"], row["batch_size"]) for row in rows] == [
        ("torch", 1),
        ("onnx", 1),
        ("torch", 8),
        ("onnx", 8),
    ]
    assert all(row["p50_ms"] > 0 for row in rows)
    code, out, err = run(capsys, "bench", path, "--runtime", "tensorflow")
    assert code == 1 and err == "error: unknown runtime(s) tensorflow; choose from torch, onnx\n"
