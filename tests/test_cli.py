import json
import subprocess
import sys

import pytest

from kd.cli import main

COMMANDS = ["data", "train-teacher", "distill", "evaluate", "bench", "report"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_data_json(capsys):
    code, out, err = run(capsys, "data", "--json")
    result = json.loads(out)
    assert code == 0 and result["train"] == 60_000 and result["test"] == 10_000
    assert result["test_class_counts"][:3] == [980, 1135, 1032] and len(result["sha256"]) == 64


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0


def test_distill_tiny_run_json(capsys, tiny_checkpoints, tmp_path):
    out_path = tmp_path / "run"
    code, out, err = run(
        capsys,
        "distill",
        "--teacher",
        str(tiny_checkpoints["teacher"]),
        "--epochs",
        "1",
        "--limit",
        "300",
        "--batch-size",
        "100",
        "--seed",
        "5",
        "--out",
        str(out_path),
        "--json",
    )
    result = json.loads(out)
    assert code == 0, err
    assert result["config"]["batch_size"] == 100 and result["config"]["alpha"] == 0.9
    assert 0 <= result["accuracy"] <= 1 and result["train_seconds"] > 0
    metadata = json.loads(out_path.with_suffix(".json").read_text())
    assert metadata["command"] == (
        f"python -m kd distill --teacher {tiny_checkpoints['teacher']} --epochs 1 "
        f"--limit 300 --batch-size 100 --seed 5 --out {out_path} --json"
    )
    assert metadata["seed"] == 5 and metadata["role"] == "distilled student"


def test_evaluate_and_bench_json(capsys, tiny_checkpoints):
    student, teacher = str(tiny_checkpoints["student"]), str(tiny_checkpoints["teacher"])
    code, out, _ = run(capsys, "evaluate", student, "--reference", teacher, "--json")
    assert code == 0 and 0 <= json.loads(out)["models"][student]["agreement"] <= 1
    code, out, _ = run(capsys, "bench", student, "--batch-sizes", "1,8", "--repeats", "3", "--json")
    assert code == 0 and [row["batch_size"] for row in json.loads(out)["rows"]] == [1, 8]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["distill", "--alpha", "1.5"], "alpha"),
        (["distill", "--temperature", "0"], "temperature"),
        (["distill", "--temperature", "nan"], "temperature"),
        (["distill", "--epochs", "0"], "at least 1"),
        (["distill", "--epochs", "many"], "invalid positive_int"),
        (["distill", "--teacher", "missing.safetensors"], "no checkpoint"),
        (["evaluate", "missing.safetensors"], "no checkpoint"),
        (["bench", "missing.safetensors", "--batch-sizes", "1,x"], "batch-sizes"),
        (["report", "--checkpoints", "/nonexistent"], "missing checkpoints"),
        (["fly"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_input_gives_one_error_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code != 0 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_corrupted_checkpoint_through_the_real_entry_point(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 100)
    done = subprocess.run([sys.executable, "-m", "kd", "evaluate", str(bad), "--json"], capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
