"""The lab service (kd/lab/): visitors, ownership, the latency board, drawings and the result card."""

from __future__ import annotations

import io
import time
import typing
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kd import checkpoint
from kd.lab.card import result_card
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


@pytest.fixture
def lab(tiny_checkpoints, small_mnist, tmp_path):
    folder = tiny_checkpoints["teacher"].parent
    lab = Lab(Settings(folder, tmp_path / "runs", tmp_path / "results"), Limits(max_epochs=2), lambda: small_mnist)
    yield lab
    lab.shutdown()


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
    with pytest.raises(MetadataError, match="metrics"):
        ModelInfo.from_dict({**metadata, "metrics": {"accuracy": 0.5}})


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
    assert [row.name for row in card.rows] == ["this run", "teacher", "scratch, same budget, seed and mixup"]
    assert card.rows[1].metrics == lab.shipped("ensemble").info.metrics  # the teacher it learnt from
    assert "The ensemble of 2 teachers added" in card.headline and "same mixup images" in card.headline
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
