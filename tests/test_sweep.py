"""Sweeps (kd/sweep/cell.py, run.py, results.py, on_ray.py): grid, results file, provenance, resume, failures,
backends."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest
import torch

import kd.sweep.cell
import kd.sweep.run
from kd.checkpoint import read_metadata
from kd.cli.main import main
from kd.models import PRESETS, ConvNet, count_parameters
from kd.status import DONE, FAILED
from kd.sweep.cell import expand
from kd.sweep.results import (
    CellResult,
    SweepGrid,
    SweepSpec,
    cell_key,
    parse_digit_sets,
    parse_seeds_at,
    provenance,
    read_results,
    read_sweep_record,
    record,
    to_csv,
)
from kd.sweep.run import Backend, run_sweep, write_sweep_record
from kd.train import TrainConfig

RECIPE = TrainConfig(augment=False)
TINY = SweepGrid(temperatures=(4.0,), alphas=(0.0, 0.5), seeds=(0, 1), limits=(128,), epochs=(1,))


def sweep(tmp_path, small_teacher, small_mnist, grid=TINY, backend="local", **options):
    spec = SweepSpec(grid, RECIPE, tmp_path / "sweep", small_teacher)
    return run_sweep(spec, Backend(backend), data=small_mnist, **options)


def test_grid_expands_with_one_baseline_per_budget_and_seed():
    grid = SweepGrid(temperatures=(1.0, 2.0), alphas=(0.9, 0.0, 0.5), seeds=(0, 1), limits=(100, 200), epochs=(1, 3))
    cells = expand(grid, RECIPE)
    assert len(cells) == 2 * 2 * 2 * (1 + 2 * 2)  # seeds x limits x epochs x (baseline + T x KD alphas)
    baselines = [cell for cell in cells if cell.alpha == 0]
    assert len(baselines) == 8 and {cell.temperature for cell in baselines} == {RECIPE.temperature}
    assert len(set(cells)) == len(cells)
    assert [cell.seed for cell in cells[: len(cells) // 2]] == [0] * (len(cells) // 2)  # seed by seed
    assert cells[0].alpha == 0 and cells[0].augment is False and cells[0].batch_size == RECIPE.batch_size


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (dataclasses.replace(TINY, limits=(70_000,)), "limits must be a whole number from 1 to"),
        (dataclasses.replace(TINY, temperatures=(0.0,)), "temperature"),
        (dataclasses.replace(TINY, alphas=(1.5,)), "alpha"),
    ],
)
def test_bad_grids_are_refused_before_training(grid, message):
    with pytest.raises(ValueError, match=message):
        expand(grid, RECIPE)


def result(alpha=0.5, seed=0, status=DONE, error="", accuracy=0.9) -> CellResult:
    return CellResult(
        4.0, alpha, seed, 128, 1, False, accuracy, accuracy, 12, 0.05, 0.97, 1.5, status, error, "cmd", "{}"
    )


def test_results_csv_round_trip_and_rows_replaced_by_cell(tmp_path):
    path = tmp_path / "results.csv"
    failed = dataclasses.replace(
        result(status=FAILED, error='RuntimeError: "bad", very, bad'),
        **dict.fromkeys(("accuracy", "errors", "ece", "agreement", "train_seconds")),
    )
    rows = [result(alpha=0.0), failed]
    for row in rows:
        record(path, row)
    assert read_results(path) == rows
    record(path, result())  # the failed cell, trained again, replaces its row
    assert read_results(path) == [rows[0], result()]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a sweep's results.csv"):
        read_results(tmp_path / "other.csv")


def test_an_interrupted_sweep_resumes_without_retraining(tmp_path, small_teacher, small_mnist, monkeypatch):
    def stop_after_two(result, finished, total):
        if finished == 2:
            raise KeyboardInterrupt  # as if the sweep were killed between cells

    threads = torch.get_num_threads()
    with pytest.raises(KeyboardInterrupt):
        sweep(tmp_path, small_teacher, small_mnist, on_result=stop_after_two)
    first = read_results(tmp_path / "sweep" / "results.csv")
    assert [row.status for row in first] == [DONE, DONE]

    assert torch.get_num_threads() == threads  # cells train with one thread, then the setting is restored
    trained = []
    original = kd.sweep.run.run_cell
    monkeypatch.setattr(
        kd.sweep.run, "run_cell", lambda config, *a, **k: trained.append(config) or original(config, *a, **k)
    )
    summary = sweep(tmp_path, small_teacher, small_mnist)
    assert (summary["cells"], summary["skipped"], summary["done"], summary["failed"]) == (4, 2, 2, 0)
    assert [(c.alpha, c.seed) for c in trained] == [(0.0, 1), (0.5, 1)]
    rows = read_results(tmp_path / "sweep" / "results.csv")
    assert rows[:2] == first and len(rows) == 4 and all(row.status == DONE for row in rows)
    assert all(0 <= row.accuracy <= 1 and row.errors == round((1 - row.accuracy) * 500) for row in rows)
    assert (
        rows[1].command.startswith("python -m kd distill --teacher ")
        and "--alpha 0.5" in rows[1].command
        and rows[1].command.endswith("--threads 1")  # the cell's thread count: it changes the float sums
    )
    assert json.loads(rows[0].versions)["torch"]
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == [".lock", "results.csv", "sweep.json"]

    trained.clear()
    assert sweep(tmp_path, small_teacher, small_mnist)["skipped"] == 4 and not trained
    recorded = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert recorded["cells"] == 4 and recorded["recipe"]["batch_size"] == RECIPE.batch_size
    with pytest.raises(ValueError, match="another recipe"):
        spec = SweepSpec(TINY, dataclasses.replace(RECIPE, batch_size=64), tmp_path / "sweep", small_teacher)
        run_sweep(spec, data=small_mnist)


def rewrite_record(folder, change) -> None:
    """Edit a folder's sweep.json as an older version of kd, or another student, would have left it."""
    path = folder / "sweep.json"
    recorded = json.loads(path.read_text())
    change(recorded)
    path.write_text(json.dumps(recorded))


def test_sweep_json_records_the_student_teacher_and_data_split_and_refuses_another_student(
    tmp_path, small_teacher, capsys
):
    out = tmp_path / "sweep"
    out.mkdir()
    write_sweep_record(out, TINY, RECIPE, small_teacher, "cmd", 4)
    recorded = read_sweep_record(out)
    assert recorded["student"]["architecture"] == "convnet"
    assert recorded["student"]["model_config"]["stages"] == [list(stage) for stage in PRESETS["student"].stages]
    assert recorded["student"]["parameters"] == count_parameters(ConvNet(PRESETS["student"]))
    assert recorded["teacher_sha256"] == read_metadata(small_teacher)["weights_sha256"]
    assert recorded["data"]["train"].startswith("a class-balanced subset of `limit` of the first 50,000")
    assert recorded["data"]["validation"] == "the last 10,000 MNIST training images"
    assert f"Student: {recorded['student']['parameters']:,}-parameter convnet (stages [[" in provenance(recorded)
    write_sweep_record(out, TINY, RECIPE, small_teacher, "cmd", 4)  # the same student resumes

    rewrite_record(out, lambda sweep: sweep["student"]["model_config"].update(stages=[[8], [16]]))
    with pytest.raises(ValueError, match="another student architecture"):
        write_sweep_record(out, TINY, RECIPE, small_teacher, "cmd", 4)
    argv = ["sweep", "--temperatures", "4", "--alphas", "0,0.5", "--seeds", "0,1", "--limits", "128", "--epochs", "1"]
    assert main([*argv, "--teacher", str(small_teacher), "--out", str(out)]) == 1
    assert (
        capsys.readouterr().err
        == f"error: {out} holds a sweep with another student architecture; choose another --out\n"
    )
    assert read_sweep_record(out)["student"]["model_config"]["stages"] == [[8], [16]]  # left as it was


def test_a_sweep_with_another_teacher_or_data_split_is_refused_on_resume(tmp_path, small_teacher):
    out = tmp_path / "sweep"
    out.mkdir()
    write_sweep_record(out, TINY, RECIPE, small_teacher, "cmd", 4)
    rewrite_record(out, lambda sweep: sweep.update(teacher_sha256="0" * 64))
    with pytest.raises(ValueError, match="another teacher"):
        write_sweep_record(out, TINY, RECIPE, small_teacher, "cmd", 4)
    write_sweep_record(tmp_path / "other", TINY, RECIPE, small_teacher, "cmd", 4)
    # as a sweep made before the validation split left it: the first `limit` images, no validation
    rewrite_record(tmp_path / "other", lambda sweep: sweep["data"].pop("validation"))
    with pytest.raises(ValueError, match="another data split"):
        write_sweep_record(tmp_path / "other", TINY, RECIPE, small_teacher, "cmd", 4)


def test_seeds_at_gives_some_limits_more_seeds():
    grid = SweepGrid((4.0,), (0.0, 0.9), (0, 1), (100, 200), (1,), seeds_at=((100, (0, 1, 2, 3)),))
    cells = expand(grid, RECIPE)
    assert sorted({(c.limit, c.seed) for c in cells}) == [(100, 0), (100, 1), (100, 2), (100, 3), (200, 0), (200, 1)]
    assert len(cells) == 12  # a scratch baseline and a KD cell for each (limit, seed)
    assert parse_seeds_at("500:0,1,2") == (500, (0, 1, 2))
    with pytest.raises(ValueError, match="LIMIT:SEEDS"):
        parse_seeds_at("500")


def test_a_failed_cell_is_recorded_and_the_sweep_goes_on(tmp_path, small_teacher, small_mnist, monkeypatch):
    original = kd.sweep.cell.train_and_save

    def failing(job, *args, **kwargs):
        if job.config.alpha == 0.5 and job.config.seed == 0:
            raise RuntimeError("out of memory, say")
        return original(job, *args, **kwargs)

    monkeypatch.setattr(kd.sweep.cell, "train_and_save", failing)
    summary = sweep(tmp_path, small_teacher, small_mnist, keep_checkpoints=True)
    assert (summary["done"], summary["failed"]) == (3, 1)
    rows = {(row.alpha, row.seed): row for row in read_results(tmp_path / "sweep" / "results.csv")}
    assert rows[0.5, 0].status == FAILED and rows[0.5, 0].error == "RuntimeError: out of memory, say"
    assert rows[0.5, 0].accuracy is None and rows[0.0, 0].status == DONE
    assert len(list((tmp_path / "sweep" / "checkpoints").glob("*.safetensors"))) == 3

    monkeypatch.setattr(kd.sweep.cell, "train_and_save", original)
    assert sweep(tmp_path, small_teacher, small_mnist)["done"] == 1  # a rerun trains only the failed cell
    assert all(row.status == DONE for row in read_results(tmp_path / "sweep" / "results.csv"))


def test_the_command_line_sweeps_and_reports(tmp_path, small_teacher, small_mnist, monkeypatch, capsys):
    monkeypatch.setattr(kd.sweep.run, "load_mnist", lambda: small_mnist)
    out, readme = tmp_path / "cli-sweep", tmp_path / "README.md"
    argv = ["sweep", "--temperatures", "2", "--alphas", "0,0.9", "--seeds", "3", "--limits", "128", "--epochs", "1"]
    assert main([*argv, "--teacher", str(small_teacher), "--out", str(out), "--batch-size", "64", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["done"] == 2
    assert "cell 2/2 T=2 alpha=0.9 limit=128 epochs=1 seed=3: accuracy" in captured.err
    assert "--batch-size 64" in read_results(out / "results.csv")[1].command

    readme.write_text("# Title\n<!-- sweep:begin -->\nold\n<!-- sweep:end -->\nrest\n")
    assert main(["sweep-report", str(out), "--readme", str(readme), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(row["temperature"], row["alpha"], row["n"]) for row in report["rows"]] == [(2.0, 0.9, 1)]
    text = readme.read_text()
    assert "\nold\n" not in text and "| 128 | 1 | no | 2 | 0.9 | 1 |" in text
    assert text.endswith("<!-- sweep:end -->\nrest\n")


def test_the_command_line_sweeps_left_out_digits_as_an_axis(tmp_path, small_teacher, small_mnist, monkeypatch, capsys):
    """--omit-digits none 3: each set a budget of its own, its KD cells paired with its own scratch baselines, the
    left-out digits' recall after the offset recorded and reported."""
    monkeypatch.setattr(kd.sweep.run, "load_mnist", lambda: small_mnist)
    out = tmp_path / "omit-sweep"
    argv = ["sweep", "--temperatures", "20", "--alphas", "0,1", "--seeds", "0,1", "--limits", "300", "--epochs", "1",
            "--omit-digits", "none", "3", "--teacher", str(small_teacher), "--out", str(out), "--json"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["done"] == 8  # 2 seeds x 2 sets x (scratch + KD)
    rows = read_results(out / "results.csv")
    assert sorted({row.omit_digits for row in rows}) == ["", "3"]
    left_out = [row for row in rows if row.omit_digits == "3"]
    assert all(row.omitted_recall_after is not None and "--omit-digits 3" in row.command for row in left_out)
    assert all(row.omitted_recall_after is None for row in rows if row.omit_digits == "")
    record = read_sweep_record(out)
    assert record["grid"]["omitted"] == [[], [3]] and "omit_digits" not in record["recipe"]

    assert main(["sweep-report", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(row["omit_digits"] for row in report["rows"]) == ["", "3"]  # one KD cell per set, each paired
    without_three = next(row for row in report["rows"] if row["omit_digits"] == "3")
    assert without_three["baseline_omitted_recall"] < without_three["omitted_recall"]  # the teacher taught the 3
    assert "without 3" in report["markdown"] and "| 3 |" in report["markdown"]


def test_digit_sets_parse_and_a_results_file_from_before_the_axis_reads():
    assert parse_digit_sets(["none", "3", "8,7", "3"]) == ((), (3,), (7, 8))
    for bad in ("x", "10", "0,1,2,3,4,5,6,7,8,9"):
        with pytest.raises(ValueError):
            parse_digit_sets([bad])
    older = result()
    text = to_csv([older]).replace(",omit_digits,omitted_recall_before,omitted_recall_after", "").replace(",,,\n", "\n")
    assert "omit_digits" not in text
    assert CellResult.from_row(next(csv.DictReader(io.StringIO(text)))) == older  # its cells left no digit out


def test_a_grid_of_left_out_digits_has_its_own_baselines():
    grid = dataclasses.replace(TINY, omitted=((), (3,), (7, 8)))
    cells = expand(grid, RECIPE)
    assert len(cells) == 2 * 3 * 2  # seeds x sets x (baseline + KD)
    assert {cell.omit_digits for cell in cells if cell.alpha == 0} == {(), (3,), (7, 8)}
    assert len({cell_key(cell) for cell in cells}) == len(cells)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "--alphas", "0,x", "--out", "d"], "expected comma-separated floats"),
        (["sweep", "--limits", "0", "--out", "d"], "at least 1"),
        (["sweep", "--temperatures", "-1", "--out", "d", "--teacher", "nowhere.safetensors"], "temperature"),
        (["sweep", "--out", "d", "--teacher", "nowhere.safetensors"], "no checkpoint at nowhere.safetensors"),
        (["sweep-report", "nowhere"], "not a sweep folder"),
        (["sweep", "--omit-digits", "none", "10", "--out", "d"], "expected none or comma-separated digits"),
        (["sweep", "--omit-digits", "0,1,2,3,4,5,6,7,8,9", "--out", "d"], "cannot leave out all ten digits"),
    ],
)
def test_bad_input_is_one_error_line(argv, message, capsys):
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.slow
def test_the_ray_backend_gives_the_local_numbers_and_records_a_failed_task(tmp_path, small_teacher, small_mnist):
    ray = pytest.importorskip("ray")
    from kd.checkpoint import load
    from kd.sweep.cell import CellInputs
    from kd.sweep.on_ray import run_ray

    local = sweep(tmp_path / "local", small_teacher, small_mnist)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = sweep(tmp_path / "ray", small_teacher, small_mnist, backend="ray")
        results = []
        bad = dataclasses.replace(RECIPE, epochs=1, limit=128, device="no-such-device")
        run_ray([bad], CellInputs(small_mnist, load(small_teacher), small_teacher), results.append)
    finally:
        ray.shutdown()
    assert local["done"] == remote["done"] == 4
    by_cell = {row.key: row.accuracy for row in read_results(tmp_path / "local" / "sweep" / "results.csv")}
    for row in read_results(tmp_path / "ray" / "sweep" / "results.csv"):
        # same seed and one thread on both: the same weights, data order and float sums
        assert row.accuracy == pytest.approx(by_cell[row.key], abs=0.002)
    (failed,) = results
    assert failed.status == FAILED and "no-such-device" in failed.error


def test_a_damaged_sweep_record_is_one_error_line(tmp_path, capsys):
    record(tmp_path / "results.csv", result())
    (tmp_path / "sweep.json").write_text('{"command": "c"}')
    assert main(["sweep-report", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'sweep.json'} lacks cells, recipe\n"
