"""The benchmarks measure what they say: the training benchmark compares like with like (same images, same
loss, same student), the short runs use the command line's defaults, the hold-out runs the shipped recipe."""

import dataclasses
import json
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import DataLoader

from benchmarks.train_speed import torchvision_mnist, tutorial_loss
from kd.losses import distillation_loss
from kd.predict import as_float_images


def test_tutorial_loop_sees_our_images_and_computes_our_loss(mnist, tiny_checkpoints, tmp_path):
    from kd.checkpoint import load

    dataset = torchvision_mnist(mnist, tmp_path, limit=256)
    images, labels = next(iter(DataLoader(dataset, batch_size=128, shuffle=False)))
    assert torch.equal(images, as_float_images(mnist.train_images[:128]))  # ToTensor() == uint8 / 255
    assert torch.equal(labels, mnist.train_labels[:128])
    teacher, student = load(tiny_checkpoints["teacher"]), load(tiny_checkpoints["student"])
    with torch.no_grad():
        teacher_logits, student_logits = teacher(images), student(images)
    for temperature, alpha in ((4.0, 0.9), (1.0, 0.5), (2.0, 0.0)):
        ours = distillation_loss(student_logits, teacher_logits, labels, temperature, alpha)
        theirs = tutorial_loss(student_logits, teacher_logits, labels, temperature, alpha)
        assert theirs.item() == pytest.approx(ours.item(), rel=1e-5)


def test_short_runs_measure_the_command_lines_defaults_and_their_alternatives():
    from benchmarks.short_runs import AUTO, cli_config
    from kd.train import TrainConfig

    config = cli_config(5000, 2, 0.9, 3, AUTO, AUTO)
    assert config == TrainConfig(epochs=2, alpha=0.9, temperature=4.0, augment=False, limit=5000, seed=3)
    assert config.batch_size is None and config.learning_rate is None  # auto, as with no flags
    assert config.resolved().batch_size == 16
    other = cli_config(None, 10, 0.0, 1, "64", "0.1")
    assert (other.limit, other.batch_size, other.learning_rate) == (None, 64, 0.1)


def test_holdout_trains_with_the_distilled_student_recipe_from_kd_recipes(mnist, monkeypatch, capsys):
    import benchmarks.holdout as holdout
    from kd.recipes import DISTILLED_STUDENT

    trained = []

    def fake_train(student, data, config, **kwargs):  # what would be trained, recorded instead
        trained.append(config)
        return SimpleNamespace(history=[{"validation_accuracy": 0.99}], elapsed=1.0)

    monkeypatch.setattr(holdout, "load_mnist", lambda: mnist)
    monkeypatch.setattr(holdout.checkpoint, "load", lambda path: None)
    monkeypatch.setattr(holdout, "train", fake_train)
    holdout.main(["--stages", "12,20/28", "--seeds", "1,2"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()[:-1]]
    assert trained == [dataclasses.replace(DISTILLED_STUDENT, seed=seed) for seed in (1, 2)]
    as_json = [json.loads(json.dumps(dataclasses.asdict(config))) for config in trained]  # tuples as lists
    assert [row["recipe"] for row in rows] == as_json
    assert holdout.parse_stages("12,20/34") == ((12, 20), (34,))


def test_drawn_recipes_train_the_scratch_recipe_per_arm_and_choose_on_validation_only(mnist, monkeypatch, capsys):
    import argparse

    import numpy as np

    import benchmarks.drawn_recipes as drawn_recipes
    from kd.recipes import SCRATCH_STUDENT

    trained = []

    def fake_train(student, data, config, **kwargs):  # what would be trained, recorded instead
        trained.append(config)
        return SimpleNamespace(history=[{"validation_accuracy": 0.99}], elapsed=1.0)

    def fake_set(name, seed):  # 10 validation digits, 20 held back
        labels = np.arange(10 if name == "validation" else 20) % 10
        return SimpleNamespace(labels=labels, images=labels, parts=labels % 2, kinds=labels % 3)

    def fake_predict(student, images):  # the bold arm reads the validation digits right, the held-back ones wrong
        right = bool(trained[-1].bold) == (len(images) == 10)
        return np.eye(10)[images if right else (images + 1) % 10]

    monkeypatch.setattr(drawn_recipes, "load_mnist", lambda: mnist)
    monkeypatch.setattr(drawn_recipes, "train", fake_train)
    monkeypatch.setattr(drawn_recipes, "drawn_set", fake_set)
    monkeypatch.setattr(drawn_recipes, "predict_proba", fake_predict)
    result = drawn_recipes.main(["--arms", "none", "bold=0.2", "--seeds", "0,1", "--epochs", "3", "--heldback"])
    assert trained == [dataclasses.replace(SCRATCH_STUDENT, epochs=3, seed=s, bold=b) for b in (0, 0.2) for s in (0, 1)]
    assert result["chosen"] == "bold=0.2"  # best on validation, worst on the held-back set
    assert result["summary"]["none"] == {"mnist_validation": 0.99, "drawn_validation": 0.0, "drawn_heldback": 1.0}
    capsys.readouterr()
    drawn_recipes.main(["--arms", "none", "--seeds", "0", "--epochs", "3"])
    assert "drawn_heldback" not in capsys.readouterr().out  # only with --heldback
    with pytest.raises(argparse.ArgumentTypeError, match="bold and coarse"):
        drawn_recipes.parse_arm("thick=0.2")


def test_stroke_width_chooses_the_thinning_on_validation_and_keeps_what_ships_within_a_standard_error(monkeypatch):
    import numpy as np

    import benchmarks.stroke_width as stroke_width

    def result(mean, digits=3000):
        return {"mean": mean, "digits": digits}

    # standard error at 99 % over 3,000 digits: 0.18 points
    assert stroke_width.choose({"none": result(0.985), "0.2": result(0.990)}, shipped="none") == "0.2"
    assert stroke_width.choose({"none": result(0.989), "0.2": result(0.990)}, shipped="none") == "none"
    assert stroke_width.choose({"0.24": result(0.990), "0.2": result(0.990)}, shipped="none") == "0.24"  # first best

    prepared = []

    def fake_set(name, seed, count, prepare):  # 10 digits, read right only when thinned below 0.2
        stroke = prepare.keywords["max_stroke"]
        prepared.append((name, count, stroke))
        labels = np.arange(10)
        return SimpleNamespace(labels=labels, images=labels, parts=labels % 2, kinds=labels % 3, stroke=stroke)

    def fake_predict(model, images):
        thin = prepared[-1][2] is not None and prepared[-1][2] <= 0.2
        return np.eye(10)[images if thin else (images + 1) % 10]

    monkeypatch.setattr(stroke_width, "load", lambda path: path)
    monkeypatch.setattr(stroke_width, "drawn_set", fake_set)
    monkeypatch.setattr(stroke_width, "predict_proba", fake_predict)
    report = stroke_width.main(["--candidates", "none", "0.3", "0.2", "0.1", "--models", "student", "--heldback"])
    assert report["chosen on validation"] == "0.2"  # ties with 0.1, thins less
    assert report["validation means"] == {"none": 0.0, "0.3": 0.0, "0.2": 1.0, "0.1": 1.0}
    assert [stroke for name, _, stroke in prepared if name == "validation"] == [None, 0.3, 0.2, 0.1]
    assert [(name, count, stroke) for name, count, stroke in prepared if name == "heldback"] == [
        ("heldback", None, None),
        ("heldback", None, 0.2),
    ]
    assert report["heldback"]["0.2"]["mean"] == 1.0


def test_teacher_members_train_the_teacher_recipe_and_score_every_ensemble_on_validation(mnist, monkeypatch, tmp_path):
    import numpy as np

    import benchmarks.teacher_members as teacher_members
    from kd.recipes import TEACHER, TEACHER_RECIPES

    labels = mnist.train_labels[-10_000:].numpy()
    right, wrong = np.eye(10)[labels], np.eye(10)[(labels + 1) % 10]
    trained = []

    def fake_train(model, data, config, **kwargs):  # what would be trained, recorded instead
        trained.append((config, model.config.stages))
        return SimpleNamespace(elapsed=1.0)

    def fake_logits(model, images):  # the shipped teachers read every image wrong; the new member's are below
        assert len(images) == 10_000 and torch.equal(images, mnist.train_images[-10_000:])  # validation alone
        return torch.tensor(wrong) if model is None else torch.tensor(0.1 * right)

    monkeypatch.setattr(teacher_members, "load_mnist", lambda: mnist)
    monkeypatch.setattr(teacher_members, "load", lambda path: None)
    monkeypatch.setattr(teacher_members, "train", fake_train)
    monkeypatch.setattr(teacher_members, "logits", fake_logits)
    summary = teacher_members.main(["--member", "8/16,16/32:3:5", "--out", str(tmp_path)])
    assert trained == [(dataclasses.replace(TEACHER, epochs=3, seed=5), ((8,), (16, 16), (32,)))]
    assert (tmp_path / "8_16-16_32-e3-s5.npy").exists() and (tmp_path / "summary.json").exists()
    shipped = {name: 10_000 for name in TEACHER_RECIPES}
    assert summary["members"] == shipped | {"8_16-16_32-e3-s5": 0}
    # the new member's logits are a tenth as large as the shipped ones': it wins only alone
    assert summary["all_members"] == 10_000 and summary["mean_errors_by_ensemble_size"][1] == 7_500
    trained.clear()
    teacher_members.main(["--member", "8/16,16/32:3:5", "--out", str(tmp_path)])
    assert not trained  # a member saved before is not trained again


def test_onnx_startup_times_a_first_use_and_a_cached_one(tiny_checkpoints, capsys, monkeypatch):
    """A smoke run of benchmarks/onnx_startup.py (docs/apps.md quotes it): each model's first use and cached use."""
    import sys

    from benchmarks import onnx_startup

    monkeypatch.setattr(sys, "argv", ["onnx_startup.py", str(tiny_checkpoints["student"])])
    onnx_startup.main()
    line = capsys.readouterr().out.strip()
    assert line.startswith("student: first use ") and " cached " in line and "answers with " in line


def test_hinton2015_choices_train_the_tables_students_and_read_validation_only(monkeypatch, tmp_path):
    """Each candidate trains the table's three CNN-teacher students of seed 0 by the table's own plan, and is judged
    by what its records say of the validation images: a test figure read here would fail."""
    from benchmarks import hinton2015_choices as choices

    class ValidationOnly(dict):
        def __getitem__(self, key):
            assert key != "test" and key != "metrics", f"the choice read {key!r}"
            return super().__getitem__(key)

    def record(job):
        omitted = (
            {"offset": 6.0, "validation": {"after": {"errors": 7, "recall": {"3": 0.9}}}}
            if job.config.omit_digits
            else None
        )
        history = [{"validation_accuracy": 0.99}]
        fields = {"history": history, "train_seconds": 1.0, **({"omitted": ValidationOnly(omitted)} if omitted else {})}
        return ValidationOnly(fields)

    planned = []
    monkeypatch.setattr(choices, "FOLDER", tmp_path)
    monkeypatch.setattr(choices, "run_jobs", lambda jobs, workers, data, log: planned.append(jobs))
    records = {}
    monkeypatch.setattr(choices.checkpoint, "read_metadata", lambda path: records[path.name])
    monkeypatch.setattr(choices.checkpoint, "weights_path", lambda out: out)

    table_plan = choices.plan

    def plan_and_record(schedule, checkpoints, out):
        first, second = table_plan(schedule, checkpoints, out)
        records.update((job.out.name, record(job)) for job in first.values())
        return first, second

    monkeypatch.setattr(choices, "plan", plan_and_record)
    report = choices.choose(["20 epochs, augmented"], workers=1)
    (jobs,) = planned
    assert sorted(jobs) == ["distilled-cnn-s0", "missing-3-s0", "only-7-8-s0"]
    assert all(job.config.epochs == 20 and job.config.augment for job in jobs.values())
    assert report["20 epochs, augmented"]["missing-3-s0"] == {
        "offset": 6.0,
        "errors_after": 7,
        "recall_after": {"3": 0.9},
    }
    assert report["20 epochs, augmented"]["distilled-cnn-s0"] == {"validation_accuracy": 0.99}
