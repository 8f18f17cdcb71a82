"""The lab service (kd/lab/): visitors, ownership, the latency board, drawings and the result card."""

from __future__ import annotations

import dataclasses
import io
import shutil
import threading
import time
import typing
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kd import checkpoint
from kd.data import DataError
from kd.lab.card import PLAIN_BASELINE, PLAIN_TWIN, result_card
from kd.lab.limits import Limits
from kd.lab.measure import LatencyBoard
from kd.lab.service import Lab
from kd.lab.settings import Settings
from kd.lab.visitors import client_address, visitor_id
from kd.lab.widgets import MIXING, Choices
from kd.metadata import MetadataError, Metrics, ModelInfo
from kd.recipes import DASHBOARD_RUN
from kd.train import MixSetting


def test_the_address_behind_trusted_proxies_is_the_one_they_saw():
    assert client_address("10.0.0.1", None, 0) == "10.0.0.1"
    assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4", 0) == "10.0.0.1"  # no proxy trusted: the header is forged
    assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4", 1) == "1.2.3.4"  # the entry the proxy appended
    assert client_address("10.0.0.1", "1.2.3.4", 2) == "10.0.0.1"  # fewer entries than proxies: not behind them


def test_a_visitor_is_an_address_where_it_tells_them_apart_else_the_browser_else_the_session():
    remote = visitor_id("1.2.3.4", "browser-a", "session-a")
    assert remote == visitor_id("1.2.3.4", "browser-b", "session-b")  # new tabs, new cookies: the same visitor
    assert remote != visitor_id("1.2.3.5", "browser-a", "session-a")
    local = visitor_id("127.0.0.1", "browser-a", "session-a")
    assert local == visitor_id(None, "browser-a", "session-b")  # on this machine, the browser's cookie decides
    assert local != visitor_id("127.0.0.1", "browser-b", "session-a")
    assert visitor_id(None, None, "s1") != visitor_id(None, None, "s2")
    assert "1.2.3.4" not in remote and len(remote) == 24  # opaque: no address in a log line or a file


def test_a_space_trusts_its_proxy_unless_told_otherwise():
    assert Limits.from_env({}).proxy_hops == 0
    assert Limits.from_env({"SPACE_ID": "someone/kd-lab"}).proxy_hops == 1
    assert Limits.from_env({"SPACE_ID": "someone/kd-lab", "KD_PROXY_HOPS": "0"}).proxy_hops == 0


def test_the_latency_board_measures_once_per_interval_whatever_models_are_asked_for(small_teacher):
    model = checkpoint.load(small_teacher)
    now = [1000.0]
    worker: list[tuple[Future, object]] = []  # the run worker: work runs later, on its own thread

    def submit(task):
        worker.append((Future(), task))
        return worker[-1][0]

    def work() -> None:
        while worker:
            future, task = worker.pop(0)
            future.set_result(task())

    board = LatencyBoard(submit, interval_seconds=60, clock=lambda: now[0])
    assert board.request({"a": lambda: model}, (1,), ("torch",), repeats=3) is None
    work()
    assert board.measurements == 1 and set(board.figures(["a", "b"])) == {"a"}
    refused = board.request({"b": lambda: model}, (1,), ("torch",), repeats=3)  # another list, moments later
    assert "measure again in 60 s" in refused and board.measurements == 1 and not worker
    now[0] += 61
    assert board.request({"b": lambda: model}, (1,), ("torch",), repeats=3) is None
    work()
    figures = board.figures(["a", "b"])
    assert board.measurements == 2 and figures["b"].where.startswith("this server (")
    assert figures["b"].p50_ms("torch", 1) > 0 and figures["b"].p50_ms("onnx", 1) is None


def test_a_pending_measurement_is_not_queued_twice():
    queued = []  # the run worker, busy with a run: nothing it was given has started

    def submit(task):
        queued.append(task)
        return Future()

    board = LatencyBoard(submit, interval_seconds=0)
    assert board.request({"a": lambda: None}, (1,), ("torch",)) is None
    assert board.pending() and board.request({"a": lambda: None}, (1,), ("torch",)) is None  # joins it
    assert "other models" in board.request({"b": lambda: None}, (1,), ("torch",))
    assert len(queued) == 1 and board.measurements == 0


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_drawings_over_the_limit_are_refused_by_every_decoder_in_the_process(lab):
    side = int(np.sqrt(lab.limits.max_drawing_pixels)) + 10
    with pytest.raises(ValueError, match="more than the 1,500,000"):
        lab.digit_from_bytes(png(side, side))
    with pytest.raises(Image.DecompressionBombError):  # what a framework's own decoding meets, before any pixel
        Image.open(io.BytesIO(png(side, side)))
    with pytest.raises(ValueError, match="more than the 1,500,000"):
        lab.digit_from_array(np.zeros((side, side), np.uint8))
    assert lab.digit_from_bytes(png(280, 280)) is None  # blank, within the limit


def test_runs_belong_to_their_visitor_and_settings_from_any_client_are_checked(lab):
    for values, message in (
        ((4, 0.9, 3, 300, 0), "epochs must be between 1 and 2"),
        ((4, 1.5, 1, 300, 0), "alpha"),
        ((4, 0.9, 1.5, 300, 0), "epochs must be a whole number"),
        (("four", 0.9, 1, 300, 0), "must be numbers"),
        ((float("nan"), 0.9, 1, 300, 0), "temperature"),
    ):
        with pytest.raises(ValueError, match=message):
            lab.run_settings(*values)
    run = lab.launch("visitor-a", lab.run_settings(4, 0.9, 1, 200, 0))
    assert lab.run_of("visitor-a") is run and lab.run_of("visitor-b") is None
    with pytest.raises(ValueError, match="you already have a run"):
        lab.launch("visitor-a", lab.run_settings(4, 0.9, 1, 200, 1))
    assert not lab.cancel("visitor-b", run.id)  # not theirs
    lab.runs.wait(run.id, timeout=120)
    card = lab.result_card(run)
    assert card is not None and card.rows[0].name == "this run" and card.gain_points is not None
    assert str(lab.settings.runs_dir) not in card.command
    with pytest.raises(ValueError, match="only the visitor who launched"):
        lab.delete("visitor-b", run.id)
    assert lab.delete("visitor-a", run.id)


def test_models_are_listed_and_found_by_key(lab):
    assert [entry.key for entry in lab.models()] == ["teacher", "student", "scratch"]
    assert lab.entry("student").label == "Distilled student" and lab.entry("/etc/passwd") is None
    answer = lab.answer(np.zeros((28, 28), np.float32))
    assert set(answer) == {"teacher", "student"} and len(answer["student"]["probabilities"]) == 10


def test_the_result_card_says_what_the_teacher_added_over_the_scratch_twin(tiny_checkpoints):
    metadata = checkpoint.read_metadata(tiny_checkpoints["student"])
    scratch = checkpoint.read_metadata(tiny_checkpoints["scratch"])["metrics"]
    info = ModelInfo.from_dict({**metadata, "baseline": scratch})
    teacher = Metrics.from_dict(checkpoint.read_metadata(tiny_checkpoints["teacher"])["metrics"])
    card = result_card("run-x", info, teacher)
    assert [row.name for row in card.rows] == ["this run", "teacher", "scratch, same budget and seed"]
    assert card.gain_points == pytest.approx((metadata["metrics"]["accuracy"] - scratch["accuracy"]) * 100)
    assert len(card.f1_changes) == 10 and "added" in card.headline
    waiting = dataclasses.replace(result_card("run-x", ModelInfo.from_dict(metadata), teacher), twin_pending=True)
    assert [row.name for row in waiting.rows] == ["this run", "teacher"] and waiting.gain_points is None
    assert "finished and was saved" in waiting.headline and "twin" in waiting.headline
    assert "is training now" in waiting.headline
    with pytest.raises(MetadataError, match="metrics"):
        ModelInfo.from_dict({**metadata, "metrics": {"accuracy": 0.5}})


def test_a_mixed_card_tells_the_teachers_gain_from_the_mixings(tiny_checkpoints):
    metadata = checkpoint.read_metadata(tiny_checkpoints["student"])
    plain = checkpoint.read_metadata(tiny_checkpoints["scratch"])["metrics"]
    mixed = {**plain, "accuracy": plain["accuracy"] - 0.02}  # mixing cost the labels-only student 2 points
    config = {**metadata["train_config"], "mix": "cutmix"}
    record = {**metadata, "train_config": config, "baseline": mixed, PLAIN_BASELINE: plain}
    card = result_card("run-x", ModelInfo.from_dict(record), None)
    assert [row.name for row in card.rows] == ["this run", "scratch, same budget, seed and cutmix", PLAIN_TWIN]
    assert card.gain_points == pytest.approx((metadata["metrics"]["accuracy"] - plain["accuracy"]) * 100)
    assert card.teacher_points == pytest.approx(card.gain_points + 2) and card.mixing_points == pytest.approx(-2)
    assert f"cutmix {card.mixing_points:+.2f}" in card.headline and "over the plain scratch" in card.headline
    assert card.gain_against == "plain scratch" and "plain scratch: the same without mixing" in card.twin_note
    older = result_card("run-y", ModelInfo.from_dict({**record, PLAIN_BASELINE: None}), None)  # before plain twins
    assert older.mixing_points is None and "same cutmix images" in older.headline and len(older.rows) == 2


def test_sweeps_are_named_by_role_never_by_server_path(lab):
    from kd.sweep.results import RESULTS_FILE, SWEEP_FILE

    for folder in (lab.settings.results_dir / "sweep", lab.settings.runs_dir / "sweep-1"):
        folder.mkdir(parents=True)
        (folder / RESULTS_FILE).write_text("")
        (folder / SWEEP_FILE).write_text("{}")
    assert list(lab.sweep_folders()) == ["results/sweep", "runs/sweep-1"]  # what a page shows


def test_warming_up_prepares_the_shipped_models_before_anyone_asks(tiny_checkpoints, small_mnist, tmp_path):
    folder = tiny_checkpoints["teacher"].parent
    lab = Lab(Settings(folder, tmp_path / "runs", tmp_path / "results"), Limits(), lambda: small_mnist)
    lab.warm_up()
    deadline = time.monotonic() + 120
    while lab._disagreements.cache_info().currsize == 0:  # the last thing it computes
        assert time.monotonic() < deadline, "the warm-up did not finish"
        time.sleep(0.2)
    assert lab._predictor.cache_info().currsize == 3 and lab.runs.queued() == []  # the run queue was left alone


def test_without_mnist_the_warm_up_ends_quietly_and_a_run_says_training_is_unavailable(
    tiny_checkpoints, tmp_path, monkeypatch
):
    attempts = []

    def no_mnist():
        attempts.append(1)
        raise DataError("MNIST is not available on this machine, so nothing can be trained or scored here")

    crashes = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)  # a traceback on the warm-up thread lands here
    folder = tiny_checkpoints["teacher"].parent
    lab = Lab(Settings(folder, tmp_path / "runs", tmp_path / "results"), Limits(max_epochs=2), no_mnist)
    try:
        lab.warm_up()
        assert lab.warmed.wait(120) and crashes == []
        assert lab._predictor.cache_info().currsize == 3  # drawing was prepared all the same
        assert [example.key for example in lab.examples()] == ["drawn-4", "drawn-7", "drawn-9", "drawn-2"]
        assert len(attempts) == 1  # the pages asked again, and were told at once: no second download, no log line
        run = lab.launch("visitor", lab.run_settings(4, 0.9, 1, 200, 0))
        lab.runs.wait(run.id, timeout=60)
        status = lab.run_status(run)
        assert (
            status.startswith("Training is unavailable on this server: MNIST is not available") and "pip" not in status
        )
    finally:
        lab.shutdown()


def test_mcnemar_comes_from_the_checkpoints_records_without_mnist_or_a_forward_pass(lab, mnist):
    from kd.significance import compare_on_test_set

    student, scratch = lab.shipped("student"), lab.shipped("scratch")
    stored = lab.mcnemar(student, scratch)
    assert lab._mcnemar.cache_info().currsize == 0  # nothing was computed
    assert stored == compare_on_test_set(lab.model(student), lab.model(scratch), mnist)  # the full test set's


@pytest.fixture
def lab_with_ensemble(ensemble_checkpoints, small_mnist, tmp_path):
    settings = Settings(ensemble_checkpoints, tmp_path / "runs", tmp_path / "results")
    lab = Lab(settings, Limits(max_epochs=2), lambda: small_mnist)
    yield lab
    lab.shutdown()


def test_the_ensemble_is_a_teacher_and_a_model_only_where_it_was_made(lab, lab_with_ensemble):
    assert lab.teacher_choices() == Choices({"teacher": "Teacher (one CNN)"}, "teacher")
    assert [entry.key for entry in lab.models()] == ["teacher", "student", "scratch"]
    choices = lab_with_ensemble.teacher_choices()
    assert choices.labels == {"teacher": "Teacher (one CNN)", "ensemble": "Ensemble of 2 teachers"}
    assert choices.default == "teacher"  # the Distill pages start from DASHBOARD_RUN's teacher
    assert [entry.key for entry in lab_with_ensemble.models()] == ["teacher", "student", "scratch", "ensemble"]
    assert [entry.key for entry in lab_with_ensemble.models(teacher=False)] == ["student", "scratch", "ensemble"]
    assert lab_with_ensemble.missing_notice() is None and lab.missing_notice() is None


def test_a_run_from_the_ensemble_on_mixed_images_records_both_and_shows_no_server_path(lab_with_ensemble, tmp_path):
    lab = lab_with_ensemble
    run = lab.launch("visitor", lab.run_settings(4, 0.9, 1, 200, 0, "mixup"), "ensemble")
    lab.runs.wait(run.id, timeout=300)
    assert run.status == "done", run.error
    saved = checkpoint.read_metadata(run.path)
    assert saved["train_config"]["mix"] == "mixup" and Path(saved["teacher"]).name == "ensemble.safetensors"
    card = lab.result_card(run)
    assert "--mix mixup" in card.command and "ensemble.safetensors --" in card.command
    assert not any(part.startswith("/") for part in card.command.split()) and str(tmp_path) not in card.command
    assert [row.name for row in card.rows] == [
        "this run",
        "teacher",
        "scratch, same budget, seed and mixup",
        PLAIN_TWIN,
    ]
    assert card.rows[1].metrics == lab.shipped("ensemble").info.metrics  # the teacher it learnt from
    assert "the ensemble of 2 teachers added" in card.headline and "same mixup images" in card.headline
    assert card.mixing_points is not None and "plain scratch" in card.headline  # the twin without mixing, too
    assert lab.entry(run.id).label.endswith(", mixup, from the ensemble")


def test_the_mixing_choices_are_the_mixings_a_run_takes_and_the_default_run_mixes_nothing():
    assert tuple(MIXING.labels) == typing.get_args(MixSetting) and MIXING.default == DASHBOARD_RUN.mix == "none"


def test_unknown_teachers_and_mixings_are_refused_in_words(lab):
    settings = lab.run_settings(4, 0.9, 1, 200, 0)
    for forged in ("/etc/passwd", "../teacher", None):
        with pytest.raises(ValueError, match="unknown teacher"):
            lab.launch("visitor", settings, forged)
    assert "unknown teacher" in lab.check_teacher("student") and lab.check_teacher() is None
    with pytest.raises(ValueError, match="no teacher checkpoint at ensemble.safetensors"):
        lab.launch("visitor", settings, "ensemble")  # a teacher this server could have, but does not
    with pytest.raises(ValueError, match="mix must be one of none, mixup, cutmix"):
        lab.run_settings(4, 0.9, 1, 200, 0, "blend")
    assert lab.runs.queued() == [] and lab.run_of("visitor") is None


def test_the_answers_at_several_temperatures_are_one_forward_pass_and_what_predict_proba_gives(lab, mnist):
    from kd.predict import predict_proba

    digit = mnist.test_images[0].numpy().astype(np.float32) / 255.0
    for entry in (lab.shipped("teacher"), lab.shipped("student")):
        answers = lab.answers(entry, digit, (1.0, 4, 12.5))
        assert list(answers) == [1.0, 4.0, 12.5]
        for temperature, p in answers.items():
            assert p.shape == (10,) and p.sum() == pytest.approx(1.0, abs=1e-5)
            expected = predict_proba(lab.model(entry), digit, temperature)[0]  # ONNX Runtime or PyTorch: the same
            assert np.abs(p - expected).max() < 1e-5
        assert answers[12.5].max() < answers[1.0].max()  # softer at a higher T
        assert lab.runtime(entry) in ("ONNX Runtime", "PyTorch")
    with pytest.raises(ValueError, match="temperature must be > 0"):
        lab.answers(lab.shipped("teacher"), digit, (1.0, 0.0))


def test_the_latency_view_has_one_summary_shape_and_says_what_is_not_measured(lab):
    from kd.lab.latency_views import BATCH_SIZES, LatencyView, human_bytes
    from kd.lab.measure import Measurement

    def rows(model: str, p50: float) -> tuple[dict, ...]:
        return tuple(
            {"model": model, "runtime": runtime, "batch_size": size, "p50_ms": p50 * size / speed,
             "p95_ms": 2 * p50 * size / speed, "throughput": 1000 * speed / p50, "threads": 2, "parameters": 7}
            for runtime, speed in (("torch", 1), ("onnx", 4)) for size in BATCH_SIZES
        )  # fmt: skip

    teacher, student, scratch = (lab.shipped(name) for name in ("teacher", "student", "scratch"))
    together = {
        "teacher": Measurement(rows("teacher", 1.0), 1e9, "here"),
        "student": Measurement(rows("student", 0.25), 1e9, "here"),
    }
    view = LatencyView((teacher, student, scratch), together, measuring=False)
    assert view.unmeasured == [scratch.label] and view.threads == 2
    summary = view.summary()
    assert [(row["model"], row["runtime"]) for row in summary] == [
        (teacher.label, "PyTorch"),
        (teacher.label, "ONNX Runtime"),
        (student.label, "PyTorch"),
        (student.label, "ONNX Runtime"),
    ]
    assert len({tuple(row) for row in summary}) == 1  # every row has the same columns, both apps show this table
    assert summary[0]["p50, 1 image (ms)"] == 1.0 and summary[0]["images/s at 1024"] == 1000
    assert view.speedup().startswith("In PyTorch, the distilled student answers **4.0×** as fast as the teacher")
    apart = {**together, "student": Measurement(rows("student", 0.25), 2e9, "here")}
    assert LatencyView((teacher, student), apart, measuring=True).speedup() is None  # not timed side by side
    assert lab.latency_view([teacher]).entries == (teacher,)
    quiet = {"teacher": Measurement(rows("teacher", 1.0), 1e9, "laptop, by `python -m kd report`")}
    noisy_rows = tuple({**row, "p95_ms": 90.0} if row["batch_size"] == 1 else row for row in rows("teacher", 1.0))
    busy = {"teacher": Measurement(noisy_rows, 2e9, "here")}  # p95 90 ms at batch 1, p50 1 ms (torch)
    view = LatencyView((teacher,), busy, measuring=False, reference=quiet, load=(3.5, 2))
    assert [row["measured"].split(",")[0] for row in view.summary()] == ["this server"] * 2 + ["kd report"] * 2
    assert "p95 up to 90.0× p50" in view.noisy() and "load 3.5 on 2 cores" in view.noisy()
    assert any("laptop" in line for line in view.notes()) and view.noisy() in view.notes()
    calm = LatencyView((teacher,), quiet, measuring=False, reference=quiet, load=(0.2, 2))
    assert calm.noisy() is None and len(calm.summary()) == 2  # the reference once, not twice
    assert human_bytes(2048) == "2.0 KiB" and human_bytes(3 * 1024**2) == "3.0 MiB"


def test_the_queue_state_names_no_visitor_and_tells_others_what_trains(lab):
    state = lab.queue_state()
    assert (state.training, state.waiting, state.busy, state.measuring) == (None, 0, False, False)
    assert state.others_note(None) is None
    assert set(state.counts()) == {"latency_measurements", "measuring", "runs_waiting", "training"}
    busy = dataclasses.replace(state, training="run-1", waiting=2)
    assert busy.others_note("run-1") is None  # the visitor's own run
    assert busy.others_note(None) == "The server is training another run now; 2 more waiting."


def test_a_sweep_view_is_the_shipped_sweeps_statistics_and_refuses_what_it_cannot_read(lab):
    from kd.paths import ROOT
    from kd.sweep.results import SWEEP_FILE, read_results
    from kd.sweep.stats import gains

    shutil.copytree(ROOT / "results" / "sweep", lab.settings.results_dir / "sweep")
    assert lab.sweep_names() == ["results/sweep"]
    view = lab.sweep_view("results/sweep")
    assert list(view.stats) == gains(read_results(lab.settings.results_dir / "sweep" / "results.csv"))
    assert not view.unfinished and f"**{view.done} of {view.record['cells']} cells done**" in view.progress()
    budget = view.budgets()[0]
    assert len(view.heatmap_cells(budget)) == len(view.of_budget(budget)) > 0 and len(view.table()) == len(view.stats)
    assert view.default_cell(budget) in view.of_budget(budget)
    with pytest.raises(ValueError, match="There is no sweep 'results/other'"):
        lab.sweep_view("results/other")
    (lab.settings.results_dir / "sweep" / SWEEP_FILE).write_text("not json")
    with pytest.raises(ValueError, match="The sweep results/sweep could not be read"):
        lab.sweep_view("results/sweep")
