import pytest

from kd.infer.bench import benchmark, canvas_latency
from kd.models import PRESETS, ConvNet


def test_rows_for_every_model_and_batch_size():
    models = {"teacher": ConvNet(PRESETS["teacher"]).eval(), "student": ConvNet(PRESETS["student"]).eval()}
    rows = benchmark(models, batch_sizes=(1, 16), repeats=5, warmup=1)
    assert [(r["model"], r["batch_size"]) for r in rows] == [
        ("teacher", 1),
        ("student", 1),
        ("teacher", 16),
        ("student", 16),
    ]
    for row in rows:
        assert 0 < row["p50_ms"] <= row["p95_ms"]
        assert row["throughput"] == pytest.approx(row["batch_size"] / (row["p50_ms"] / 1e3))
    assert models["teacher"].training is False  # benchmarked copies, the models themselves untouched


def test_canvas_latency():
    import numpy as np

    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:220, 130:150] = 255
    result = canvas_latency({"student": ConvNet(PRESETS["student"]).eval()}, canvas, repeats=5)
    assert 0 < result["p50_ms"] <= result["p95_ms"] and result["models"] == ["student"]


def test_threads_setting_is_used_and_restored():
    import torch

    before = torch.get_num_threads()
    rows = benchmark({"student": ConvNet(PRESETS["student"]).eval()}, batch_sizes=(1,), repeats=3, threads=1)
    assert rows[0]["threads"] == 1 and torch.get_num_threads() == before


def test_models_take_turns_call_by_call():
    from kd.infer.bench import time_in_turns

    order = []
    timings = time_in_turns([lambda: order.append("a"), lambda: order.append("b")], repeats=3, warmup=2)
    assert order == ["a", "b"] * 5  # 2 warm-up rounds, then 3 timed, alternating
    assert [len(seconds) for seconds in timings] == [3, 3]


def test_one_onnx_runtime_session_is_alive_at_a_time(monkeypatch):
    import weakref

    from kd.infer import sessions

    alive: weakref.WeakSet = weakref.WeakSet()
    most = [0]

    class Counted(sessions.OnnxModel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            alive.add(self)
            most[0] = max(most[0], len(alive))

    monkeypatch.setattr(sessions, "OnnxModel", Counted)
    models = {name: ConvNet(PRESETS["student"]).eval() for name in ("a", "b", "c")}
    rows = benchmark(models, batch_sizes=(1, 4), repeats=2, warmup=1, runtimes=("onnx",))
    assert len(rows) == 6 and most[0] == 1  # each session freed before the next is made


def test_a_deadline_leaves_out_the_batch_sizes_that_would_end_after_it():
    import time

    models = {"student": ConvNet(PRESETS["student"]).eval()}
    rows = benchmark(models, batch_sizes=(1, 64, 256), repeats=3, warmup=1, deadline=time.monotonic())
    assert [row["batch_size"] for row in rows] == [1]  # the first is always timed; nothing after the deadline
    rows = benchmark(models, batch_sizes=(1, 64), repeats=3, warmup=1, deadline=time.monotonic() + 600)
    assert [row["batch_size"] for row in rows] == [1, 64]
