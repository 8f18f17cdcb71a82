"""The lab's limits at every door (issue 27): measurements, events, visitors, runs, uploads. Fast, no HTTP."""

from __future__ import annotations

from concurrent.futures import Future

from kd.lab.measure import LatencyBoard
from kd.models import PRESETS, ConvNet


def test_a_measurement_times_a_bounded_number_of_models_and_its_interval_counts_from_its_end():
    now = [1000.0]
    worker: list[tuple[Future, object]] = []

    def submit(task):
        worker.append((Future(), task))
        return worker[-1][0]

    def slow_model():
        now[0] += 500  # the measurement takes long: the interval must count from its end
        return ConvNet(PRESETS["student"]).eval()

    board = LatencyBoard(submit, interval_seconds=60, max_models=2, clock=lambda: now[0])
    too_many = {key: slow_model for key in ("a", "b", "c")}
    assert "at most 2 models" in board.request(too_many, (1,), ("torch",)) and not worker
    assert board.request({"a": slow_model}, (1,), ("torch",), repeats=2) is None
    future, task = worker.pop()
    future.set_result(task())
    refused = board.request({"b": slow_model}, (1,), ("torch",), repeats=2)  # 500 s after the request, 0 after the end
    assert refused is not None and "measure again in 60 s" in refused
