"""Latency measured on a shared server: one worker, at most once per interval for the whole server.

A measurement takes seconds of every core, so it is queued on the run worker (it never shares
the CPUs with a run), times at most `max_models` models for at most MEASURE_SECONDS (larger batch
sizes left out once it would run over), and is spaced out by one server-wide
`RateLimit` whose interval counts from the end of the last measurement, whatever models a visitor
asks for: three visitors with three different lists cost one measurement per interval, not
three. Everyone sees the latest figures of each model with when and where they were taken.
"""

from __future__ import annotations

import calendar
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import torch

from kd.infer.bench import benchmark, host
from kd.lab.limits import Limits, RateLimit

KEEP_MODELS = 64  # models whose latest figures are remembered; the oldest are forgotten first
# timed and untimed passes per batch size (kd.infer.bench: fewer at large batches): a page's figures, not a report's;
# the large batches of the largest models take most of a measurement, so these keep one of 6 models near 30 s
REPEATS, WARMUP = 20, 3
# the worker's time for one measurement: larger batch sizes that would end later are left out (kd.infer.bench), so
# a busy machine shows fewer batch sizes rather than holding every run behind it
MEASURE_SECONDS = 25


@dataclass(frozen=True)
class Measurement:
    """One model's figures: kd.infer.bench rows (every runtime and batch size), and when and where they were taken."""

    rows: tuple[dict, ...]
    measured_at: float  # time.time()
    where: str  # the host, in words

    @property
    def when(self) -> str:
        moment = time.gmtime(self.measured_at)
        return time.strftime("%Y-%m-%d" if moment.tm_hour == moment.tm_min == 0 else "%Y-%m-%d %H:%M UTC", moment)

    def p50_ms(self, runtime: str = "torch", batch_size: int = 1) -> float | None:
        found = [r["p50_ms"] for r in self.rows if r["runtime"] == runtime and r["batch_size"] == batch_size]
        return found[0] if found else None


def cut_short(rows: list[dict], batch_sizes: tuple[int, ...]) -> str | None:
    """A sentence for figures that stop before the largest batch size asked for (the measurement's time ran out)."""
    largest = max((row["batch_size"] for row in rows), default=None)
    if largest is None or largest >= max(batch_sizes):
        return None
    return (
        f"Timed up to batch {largest}: one measurement may hold the server's worker {MEASURE_SECONDS} s, and the "
        "larger batches would have run over (the server was busy)."
    )


def reference_figures(results: Path) -> dict[str, Measurement]:
    """The shipped models' figures that `python -m kd report` measured (checkpoints/results.json), by model key.

    Only the rows measured with all cores, as this server measures; {} if the file is missing or unreadable.
    """
    try:
        report = json.loads(results.read_text())
        rows, stamp = report["latency"], report["measured"]
        measured_at = calendar.timegm(time.strptime(stamp["date"], "%Y-%m-%d"))
        where = f"{stamp['host']}, by `python -m kd report`"
        threads = max(row["threads"] for row in rows)
        by_model: dict[str, list[dict]] = {}
        for row in rows:
            if row["threads"] == threads:
                by_model.setdefault(row["model"], []).append(row)
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {key: Measurement(tuple(found), measured_at, where) for key, found in by_model.items()}


def this_host() -> str:
    return f"this server ({host()})"


class LatencyBoard:
    """The latest latency figures of each model, and the one queue that measures them again."""

    def __init__(
        self,
        submit: Callable[[Callable[[], list[dict]]], Future],
        interval_seconds: float,
        max_models: int = Limits.max_measured_models,
        clock=None,
    ):
        self._submit = submit  # puts work on the run worker, behind any run
        self.max_models = max_models
        self._gate = RateLimit(interval_seconds, **({"clock": clock} if clock else {}))
        self._latest: dict[str, Measurement] = {}  # model key -> its latest figures
        self._pending: Future | None = None
        self._pending_keys: set[str] = set()  # the models the pending measurement times
        self._lock = threading.Lock()
        self.measurements = 0  # how many measurements this server has run (for tests and the log)

    def seed(self, figures: dict[str, Measurement]) -> None:
        """Figures to show until this server measures its own (the shipped models' from `kd report`)."""
        with self._lock:
            for key, measurement in figures.items():
                self._latest.setdefault(key, measurement)

    def figures(self, keys: list[str]) -> dict[str, Measurement]:
        """The latest figures of each of these models that has been measured."""
        with self._lock:
            return {key: self._latest[key] for key in keys if key in self._latest}

    def pending(self) -> bool:
        with self._lock:
            return self._pending is not None and not self._pending.done()

    def request(
        self,
        models: dict[str, Callable[[], torch.nn.Module]],
        batch_sizes: tuple[int, ...],
        runtimes: tuple[str, ...],
        repeats: int = REPEATS,
    ) -> str | None:
        """Queue a measurement of these models; None if queued (or one already is), else why not, in words.

        `models` maps each model's key to a loader, called on the worker: nothing heavy runs on the caller's thread.
        """
        if not models:
            return "Pick at least one model to time."
        if len(models) > self.max_models:
            return f"One measurement times at most {self.max_models} models on this server; pick fewer."
        with self._lock:
            if self._pending is not None and not self._pending.done():
                if set(models) <= self._pending_keys:
                    return None  # on its way: its figures will show for everyone
                return "A measurement of other models is on its way on this server; measure these after it."
            wait = self._gate.acquire()
            if wait > 0:
                return f"Latency was measured on this server moments ago; measure again in {wait:.0f} s."
            self._pending = self._submit(lambda: self._measure(models, batch_sizes, runtimes, repeats))
            self._pending_keys = set(models)
        return None

    def _measure(self, models, batch_sizes, runtimes, repeats) -> list[dict]:
        deadline = time.monotonic() + MEASURE_SECONDS
        try:
            loaded = {key: load() for key, load in models.items()}
            rows = benchmark(
                loaded, batch_sizes=batch_sizes, repeats=repeats, warmup=WARMUP, runtimes=runtimes, deadline=deadline
            )
        finally:
            self._gate.restart()  # the interval counts from the end: a long measurement is followed by a rest
        measured_at, where = time.time(), this_host()
        with self._lock:
            self.measurements += 1
            for key in loaded:
                self._latest.pop(key, None)  # re-inserted last: the dict's order is the age
                self._latest[key] = Measurement(tuple(row for row in rows if row["model"] == key), measured_at, where)
            while len(self._latest) > KEEP_MODELS:
                del self._latest[next(iter(self._latest))]
        return rows
