"""Limits that keep a shared server usable when anyone can open it, read once from KD_* variables.

Every front end (the Streamlit dashboard, a Gradio app) takes its limits from here, so one
environment variable changes them everywhere. Each field `name` is set by `KD_<NAME>`; the
defaults fit a free 2-vCPU Hugging Face Space that every visitor shares. A bad value falls back
to the default with a logged warning, and values are clamped to a sane range: a typo in the
environment must never take the server down or lift a limit altogether.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from kd.preprocess import MAX_DRAWING_PIXELS

log = logging.getLogger(__name__)

TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _bounded(default: int, lowest: int, highest: int) -> int:
    return field(default=default, metadata={"range": (lowest, highest)})


@dataclass(frozen=True)
class Limits:
    # runs: a minimal run takes seconds of both cores, so each is capped and queued
    max_epochs: int = _bounded(5, 2, 100)  # epochs per run (the Distill slider needs at least 2 to slide)
    max_images: int = _bounded(10_000, 200, 50_000)  # training images per run (at most the 50,000 that train)
    max_queued: int = _bounded(8, 1, 100)  # runs waiting behind the one that trains, all visitors together
    runs_per_visitor: int = _bounded(1, 1, 100)  # waiting or training runs one visitor session may have
    # a run's cost in worker seconds (kd.lab.cost: epochs x images x teacher members x mixing): the largest plain
    # run takes ~61 s, with CutMix and the three-teacher ensemble ~170 s, and everyone queued waits behind it
    max_run_seconds: int = _bounded(120, 10, 86_400)  # estimated worker seconds one run may take
    # sweeps from the Sweeps page: one per visitor, their cells taking turns with runs on the one worker
    max_sweep_cells: int = _bounded(12, 1, 1000)  # cells in one sweep (at most max_queued sweeps at once)
    # saved runs: each is ~60 KB, but a visitor can make thousands an hour; the oldest go first
    max_saved_runs: int = _bounded(100, 1, 100_000)  # finished runs kept in the runs folder
    max_saved_megabytes: int = _bounded(100, 1, 1_000_000)  # total size of the runs folder's run files
    # drawings: a forged data URL can declare any size; anything larger is refused before decoding
    max_drawing_pixels: int = _bounded(MAX_DRAWING_PIXELS, 10_000, 50_000_000)  # width x height, refused undecoded
    # latency: a measurement takes seconds of every core, so it is queued like a run and spaced out
    measure_interval_seconds: int = _bounded(60, 0, 86_400)  # least time from the end of one measurement to the next
    # each model costs a few seconds of every core and ~100 MB while it is timed: 6 keep one measurement under ~30 s
    max_measured_models: int = _bounded(6, 1, 64)  # models timed by one measurement
    # deleting: visitors delete only the runs they launched; the owner of a private instance may unlock it
    allow_delete_any: bool = False
    # visitors: behind this many trusted proxies the address they saw tells visitors apart (kd.lab.visitors);
    # 0 trusts no X-Forwarded-For. On a Hugging Face Space (SPACE_ID set) it defaults to 1, its own proxy.
    proxy_hops: int = _bounded(0, 0, 5)
    # uploads: the Gradio app refuses larger files before they reach the disk, and more bytes per window
    # (kd.lab.uploads: 40 minutes, as long as it keeps a file) than these from one address or from everyone
    max_upload_megabytes: int = _bounded(5, 1, 100)
    upload_megabytes_per_visitor: int = _bounded(25, 1, 100_000)
    upload_megabytes_total: int = _bounded(250, 1, 1_000_000)
    # events that skip the Gradio queue (comparisons, the board, the run poll; kd.lab.gate): at most this many
    # handled at once for the whole server, and this many per second from one address; more are refused at once
    event_concurrency: int = _bounded(4, 1, 64)
    events_per_second: int = _bounded(5, 1, 1000)
    # sessions: a Gradio server forgets the oldest sessions' state beyond this many
    max_sessions: int = _bounded(500, 10, 10_000)
    # start-up: load MNIST and the shipped models before the first visitor asks (tests that start many labs don't)
    warm_up: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        """Limits from KD_<FIELD> variables; a bad value means the default, with a warning."""
        values = {}
        if "SPACE_ID" in environ:  # behind the Space's proxy unless told otherwise
            values["proxy_hops"] = 1
        for spec in fields(cls):
            name = f"KD_{spec.name.upper()}"
            text = environ.get(name)
            if text is not None:
                values[spec.name] = _parse(name, text.strip(), spec.default, spec.metadata.get("range"))
        return cls(**values)

    @property
    def max_saved_bytes(self) -> int:
        return self.max_saved_megabytes * 1_000_000

    @property
    def upload_bytes_per_visitor(self) -> int:
        return self.upload_megabytes_per_visitor * 1_000_000

    @property
    def upload_bytes_total(self) -> int:
        return self.upload_megabytes_total * 1_000_000


def _parse(name: str, text: str, default, bounds: tuple[int, int] | None):
    if isinstance(default, bool):
        if text.lower() in TRUE | FALSE:
            return text.lower() in TRUE
        log.warning("%s=%r is not a yes/no value; using %s", name, text, default)
        return default
    try:
        value = int(text)
    except ValueError:
        log.warning("%s=%r is not a whole number; using the default %s", name, text, default)
        return default
    lowest, highest = bounds
    if not lowest <= value <= highest:
        clamped = min(max(value, lowest), highest)
        log.warning("%s=%s is outside %s..%s; using %s", name, value, lowest, highest, clamped)
        return clamped
    return value


class RateLimit:
    """At most one event per `interval` seconds, shared by every thread (every visitor) of a process."""

    def __init__(self, interval: float, clock=time.monotonic):
        self.interval, self._clock = interval, clock
        self._last: float | None = None
        self._lock = threading.Lock()

    def restart(self) -> None:
        """Count the interval from now: the event just ended (a long measurement must not leave no gap)."""
        with self._lock:
            self._last = self._clock()

    def acquire(self) -> float:
        """0.0 and the event is counted if it may happen now; else the seconds left to wait."""
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last < self.interval:
                return self.interval - (now - self._last)
            self._last = now
            return 0.0
