"""`python -m kd`: each command's JSON and help, --out and --recipe, one error line for bad input, before any work."""

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kd.cli.main import RUNNERS, main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_data_json(capsys):
    code, out, err = run(capsys, "data", "--json")
    result = json.loads(out)
    assert code == 0 and (result["train"], result["validation"], result["test"]) == (50_000, 10_000, 10_000)
    assert result["test_class_counts"][:3] == [980, 1135, 1032] and len(result["sha256"]) == 64


@pytest.mark.parametrize("argv", [["--help"]] + [[command, "--help"] for command in RUNNERS])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0 and "usage: python -m kd" in capsys.readouterr().out


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
        (["distill", "--epochs", "many"], "expected int"),
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


@pytest.fixture
def no_work(monkeypatch):
    """Fail loudly if a command loads data or a checkpoint: the arguments must be refused before that."""
    import kd.cli.ensemble
    import kd.cli.main
    import kd.cli.training

    def work(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for module in (kd.cli.main, kd.cli.training, kd.cli.ensemble):
        monkeypatch.setattr(module, "load_mnist", work)
    monkeypatch.setattr(kd.cli.main.checkpoint, "load", work)


def test_out_never_replaces_an_existing_checkpoint_or_file_without_force(capsys, tmp_path, no_work):
    shipped = tmp_path / "teacher.safetensors"
    shipped.write_bytes(b"the shipped teacher")
    (tmp_path / "results.json").write_text("{}")
    for out, clash in ((tmp_path / "teacher", shipped), (tmp_path / "results", tmp_path / "results.json")):
        for command in (["distill"], ["train-teacher"], ["ensemble", "a.safetensors", "b.safetensors"]):
            code, out_text, err = run(capsys, *command, "--out", str(out))
            assert code == 2 and out_text == "" and err.count("\n") == 1
            assert err.startswith("error: ") and f"{clash} already exists; pass --force" in err
    assert shipped.read_bytes() == b"the shipped teacher" and (tmp_path / "results.json").read_text() == "{}"


def test_force_lets_out_replace_a_file(capsys, tmp_path, monkeypatch):
    import kd.cli.training

    (tmp_path / "old.json").write_text("{}")
    monkeypatch.setattr(kd.cli.training, "run_training", lambda *args: {"trained": True})  # the checks are tested
    code, out, err = run(capsys, "distill", "--teacher", str(tmp_path / "none"), "--out", str(tmp_path / "old"))
    assert code == 2 and "already exists" in err
    code, out, err = run(capsys, "distill", "--out", str(tmp_path / "old"), "--force", "--json")
    assert code == 0 and json.loads(out) == {"trained": True}


def test_an_unwritable_out_is_refused_before_training(capsys, tmp_path, no_work):
    (tmp_path / "a-file").write_text("not a folder")
    code, _, err = run(capsys, "distill", "--alpha", "0", "--out", str(tmp_path / "a-file" / "run"))
    assert code == 2 and err.startswith("error: --out") and "not a folder" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["distill", "--device", "bogus"], "--device must be auto, cpu, cuda, cuda:N or mps"),
        (["distill", "--device", "cuda:99"], "no such CUDA device"),
        (["train-teacher", "--device", "cpu; rm -rf /", "--out", "x"], "--device must be"),
        (["bench", "x.safetensors", "--batch-sizes", "1000000000"], "between 1 and 10,000"),
        (["bench", "x.safetensors", "--batch-sizes", "0"], "between 1 and 10,000"),
        (["bench", "x.safetensors", "--repeats", "10000000"], "--repeats must be at most"),
        (["bench", "x.safetensors", "--threads", "100000"], "--threads must be at most"),
        (["distill", "--alpha", "1.5", "--teacher", "missing.safetensors"], "alpha"),  # settings before the teacher
    ],
)
def test_bad_arguments_are_refused_before_any_work(capsys, no_work, argv, message):
    code, out, err = run(capsys, *argv)
    assert code != 0 and out == "" and err.startswith("error: ") and err.count("\n") == 1
    assert message in err and "Traceback" not in err


def test_devices_this_machine_has_are_accepted():
    import torch

    from kd.cli.checks import UsageError, check_device

    for device in ("auto", "cpu", *(("cuda:0",) if torch.cuda.is_available() else ())):
        assert check_device(device) is None  # accepted: no error, nothing to say
    with pytest.raises(UsageError, match="--device must be"):
        check_device("tpu")


def test_out_with_a_dot_keeps_it_and_only_safetensors_is_an_extension(capsys, tiny_checkpoints, tmp_path, monkeypatch):
    import kd.cli.training

    tiny = ["--teacher", str(tiny_checkpoints["teacher"]), "--epochs", "1", "--limit", "300", "--batch-size", "100"]
    code, out, err = run(capsys, "distill", "--alpha", "0.9", *tiny, "--out", str(tmp_path / "alpha-0.9"), "--json")
    assert code == 0, err
    assert json.loads(out)["checkpoint"] == str(tmp_path / "alpha-0.9.safetensors")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["alpha-0.9.json", "alpha-0.9.safetensors"]
    monkeypatch.setattr(kd.cli.training, "run_training", lambda *args: {"trained": True})  # the checks are tested
    code, out, err = run(capsys, "distill", "--alpha", "0", "--out", str(tmp_path / "alpha-0"), "--json")
    assert code == 0 and json.loads(out) == {"trained": True}, err  # alpha-0 is another run, not alpha-0.9
    for given in ("alpha-0.9", "alpha-0.9.safetensors"):
        code, _, err = run(capsys, "distill", "--out", str(tmp_path / given))
        assert code == 2 and f"{tmp_path / 'alpha-0.9.safetensors'} already exists" in err


def test_recipe_sets_the_defaults_and_flags_given_override_it(capsys, monkeypatch):
    import kd.cli.main
    import kd.cli.training
    from kd.flags import from_args
    from kd.recipes import DISTILLED_STUDENT, SCRATCH_STUDENT, TEACHER
    from kd.train import TrainConfig

    def config(*argv):
        return from_args(TrainConfig, kd.cli.main.parse_args(list(argv)))

    assert config("train-teacher", "--recipe", "teacher") == TEACHER == config("train-teacher")
    assert config("distill", "--recipe", "distilled-student") == DISTILLED_STUDENT
    assert config("distill", "--recipe", "scratch-student") == SCRATCH_STUDENT
    assert config("distill", "--epochs", "3", "--recipe", "distilled-student", "--no-augment", "--seed", "4") == (
        dataclasses.replace(DISTILLED_STUDENT, epochs=3, augment=False, seed=4)
    )
    # without a recipe, distill's own defaults: a quicker run than the shipped students'
    assert config("distill") == TrainConfig(epochs=12, augment=False, alpha=0.9)
    recorded = []
    monkeypatch.setattr(kd.cli.training, "run_training", lambda args, *rest: recorded.append(args.argv) or {})
    argv = ["distill", "--recipe", "distilled-student", "--epochs", "2", "--json"]
    assert run(capsys, *argv)[0] == 0 and recorded == [argv]  # the command as typed, recipe and all


@pytest.mark.parametrize(
    "argv, message",
    [
        (["distill", "--recipe", "teacher"], "invalid choice: 'teacher'"),
        (["train-teacher", "--recipe", "distilled-student"], "invalid choice: 'distilled-student'"),
        (["distill", "--recipe"], "expected one argument"),
        (["distill", "--recipe", "distilled-student", "--alpha", "2"], "alpha"),
    ],
)
def test_a_bad_recipe_gives_one_error_line(capsys, no_work, argv, message):
    code, out, err = run(capsys, *argv, "--json")
    assert code != 0 and out == "" and err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_evaluate_without_json_prints_a_short_table(capsys, tiny_checkpoints):
    student, teacher = str(tiny_checkpoints["student"]), str(tiny_checkpoints["teacher"])
    code, out, _ = run(capsys, "evaluate", student, teacher, "--reference", teacher)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4 and max(map(len, lines)) <= 160  # header, two models, a note
    assert lines[0].split() == [
        "checkpoint",
        "accuracy",
        "errors",
        "macro",
        "F1",
        "ECE",
        "agreement",
        "parameters",
        "size",
    ]
    full = json.loads(run(capsys, "evaluate", student, "--reference", teacher, "--json")[1])["models"][student]
    row = lines[1].split()
    assert row[0] == student and row[1:3] == [f"{100 * full['accuracy']:.2f}", "%"] and row[3] == f"{full['errors']:,}"
    assert row[4] == f"{full['macro']['f1']:.4f}" and row[5] == f"{full['ece']:.4f}"
    assert lines[2].split()[6:8] == ["100.00", "%"]  # the reference agrees with itself
    assert full["correct"] not in out and "bins" not in out  # the record stays in --json


def test_distill_without_json_prints_its_figures_rounded(capsys, tiny_checkpoints, tmp_path):
    teacher = str(tiny_checkpoints["teacher"])
    argv = ["distill", "--teacher", teacher, "--epochs", "1", "--limit", "200", "--batch-size", "100"]
    code, out, err = run(capsys, *argv, "--out", str(tmp_path / "run"))
    assert code == 0, err
    rows = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines())  # name, two spaces or more, value
    assert rows["role"] == "distilled student" and rows["checkpoint"].endswith("run.safetensors")
    assert re.fullmatch(r"\d\.\d{4}", rows["ECE"]) and re.fullmatch(r"\d+\.\d", rows["training seconds"])
    assert re.fullmatch(r"\d+\.\d\d %", rows["test accuracy"]) and "T 4.0, alpha 0.9, images 200" in rows["settings"]
    assert "history" not in out and len(out.splitlines()) <= 12


def test_the_docs_call_the_program_and_its_commands_as_its_help_does(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    program = re.search(r"usage: (.+?) \[", capsys.readouterr().out)[1]
    docs = (Path(__file__).resolve().parents[1] / "docs" / "command-line.md").read_text()
    commands = set(re.findall(rf"{re.escape(program)} ([a-z][a-z0-9-]*)", docs))
    assert {"distill", "evaluate", "train-teacher"} <= commands <= set(RUNNERS)
