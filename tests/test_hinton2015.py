"""The paper's MNIST table (kd.experiments.hinton2015): a tiny run of the whole command, and the page it writes."""

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from kd.experiments import hinton2015
from kd.experiments.hinton2015 import Schedule, markdown_table, page, read_summary, reproduce

ROOT = Path(__file__).resolve().parents[1]
TINY = Schedule(seeds=(0, 1), teacher_epochs=1, student_epochs=1, distilled_epochs=1, limit=300)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_checkpoints, small_mnist):
    """The command on 300 training images, one epoch a model, two seeds; the session's teacher as all three CNNs."""
    checkpoints, out = tmp_path_factory.mktemp("cnn"), tmp_path_factory.mktemp("hinton2015")
    for name in hinton2015.CNN_TEACHERS:
        for suffix in (".safetensors", ".json"):
            shutil.copy(tiny_checkpoints["teacher"].with_suffix(suffix), checkpoints / f"{name}{suffix}")
    return reproduce(TINY, checkpoints, out, workers=1, data=small_mnist, log=lambda line: None), out, checkpoints


def test_every_row_has_the_papers_figure_a_mean_an_interval_and_its_seeds(tiny_run):
    result, out, _ = tiny_run
    rows = read_summary(out)
    assert rows == json.loads(json.dumps(result["rows"])) and len(rows) == 14
    for row in rows:
        assert set(row) >= {"name", "paper", "mean", "ci", "seeds"}
        low, high = row["ci"]
        assert low <= row["mean"] <= high
    assert [row["seeds"] for row in rows] == [2, 3] + [2] * 12  # the CNN row: the three shipped seeds
    by_name = {row["name"]: row for row in rows}
    assert by_name["Student MLP 800-800 from labels"]["paper"] == 146


def test_the_left_out_digits_never_reach_training_and_the_offset_does_not_hurt_validation(tiny_run):
    from kd import checkpoint

    _, out, _ = tiny_run
    metadata = checkpoint.read_metadata(out / "checkpoints" / "missing-3-s0.safetensors")
    assert metadata["train_config"]["omit_digits"] == [3] and "without the digits 3" in metadata["data"]["train"]
    validation = metadata["omitted"]["validation"]
    assert validation["after"]["errors"] <= validation["before"]["errors"]  # offset 0 is among those tried
    assert metadata["model_config"]["hidden"] == [800, 800] and "--omit-digits 3" in metadata["command"]


def test_a_rerun_trains_nothing(tiny_run, small_mnist, monkeypatch):
    _, out, cnn = tiny_run
    monkeypatch.setattr(hinton2015, "train_and_save", lambda *a, **k: pytest.fail("trained again"))
    assert reproduce(TINY, cnn, out, workers=1, data=small_mnist, log=lambda line: None)["rows"]


def test_a_rerun_with_another_schedule_trains_again(tiny_run, small_mnist, monkeypatch):
    _, out, _ = tiny_run
    trained = []
    monkeypatch.setattr(hinton2015, "train_and_save", lambda job, data: trained.append(job.out.name))
    longer = dataclasses.replace(TINY, seeds=(0,), distilled_epochs=2)
    hinton2015.run_jobs(hinton2015.plan(longer, out, out)[0], 1, small_mnist, log=lambda line: None)
    assert sorted(trained) == ["distilled-cnn-s0", "missing-3-s0", "only-7-8-s0"]  # not the teacher nor the scratch


def test_the_page_is_written_by_the_command_from_its_figures(tiny_run):
    result, _, _ = tiny_run
    text = page(result["rows"], result, "python -m kd hinton2015 --limit 300")
    assert markdown_table(result["rows"]) in text and "python -m kd hinton2015 --limit 300" in text


def test_the_shipped_page_is_the_shipped_summary_regenerated():
    """docs/hinton2015.md's table is what `make hinton2015` wrote from results/hinton2015: typed figures fail."""
    summary = ROOT / "results" / "hinton2015"
    if not (summary / "summary.json").is_file():
        pytest.fail("results/hinton2015/summary.json is missing: run make hinton2015")
    shown = (ROOT / "docs" / "hinton2015.md").read_text()
    assert markdown_table(read_summary(summary)) in shown
    assert re.search(r"took \d+ minutes of one core", shown) and "chosen on validation" in shown


def test_transfer_sets_train_about_as_many_steps_as_the_whole_set():
    """A student that sees fewer digits trains for more epochs, ten over the digits kept; switched off, all alike."""

    def epochs(schedule):
        first, second = hinton2015.plan(schedule, Path("checkpoints"), Path("out"))
        return {name: job.config.epochs for name, job in {**first, **second}.items() if "teacher" not in name}

    matched = epochs(Schedule(seeds=(0,), distilled_epochs=30))
    assert matched == {"scratch-s0": 10, "distilled-cnn-s0": 30, "missing-3-s0": 33, "only-7-8-s0": 150,
                       "distilled-mlp-s0": 30}  # fmt: skip
    plain = epochs(Schedule(seeds=(0,), distilled_epochs=30, distilled_steps_matched=False))
    assert plain["missing-3-s0"] == plain["only-7-8-s0"] == 30
