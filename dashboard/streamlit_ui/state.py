"""Where the Streamlit pages get models, data, metrics and runs: kd.lab.catalog, cached, never a traceback.

The catalogue (kd/lab/catalog.py) lists the models and reads the settings, kd.lab.limits the limits of a
shared server; this module only adds Streamlit's caches and the notices a page shows. Models are
cached with st.cache_resource (shared by every visitor), keyed by path and weights checksum so a
replaced file is reloaded; latency and comparisons with st.cache_data.
"""

from __future__ import annotations

import logging
import os
import secrets
from concurrent.futures import Future

import numpy as np
import streamlit as st
import torch

from kd import checkpoint
from kd.data import MNIST, load_mnist
from kd.evaluate import disagreements
from kd.infer import runtime
from kd.infer.bench import benchmark
from kd.infer.sessions import Predictor
from kd.lab import catalog
from kd.lab.catalog import ModelEntry, Settings
from kd.lab.limits import Limits, RateLimit
from kd.lab.runs import RunManager
from kd.lab.sweeps import SweepQueue
from kd.preprocess import canvas_to_mnist, decode_drawing
from kd.recipes import DASHBOARD_RUN

log = logging.getLogger(__name__)


def shipped(name: str) -> ModelEntry | None:
    """One of the shipped checkpoints (teacher, student, scratch), or None if it is not there."""
    return catalog.shipped(name, Settings.from_env())


def finished_runs() -> list[ModelEntry]:
    return catalog.finished_runs(run_manager())


def model_choices(teacher: bool = True) -> list[ModelEntry]:
    """Every model there is to pick: the shipped ones that exist, then the finished runs."""
    return catalog.model_entries(Settings.from_env(), run_manager(), teacher)


def missing_notice() -> None:
    """A friendly note about any shipped checkpoint that is not there."""
    settings = Settings.from_env()
    missing = catalog.missing_shipped(settings)
    if missing:
        st.info(
            f"Not found (or unreadable) in `{settings.checkpoints_dir}`: {', '.join(missing)}. "
            "`make checkpoints` trains them (about a quarter of an hour on a laptop CPU); "
            "the rest of the page works with what is there."
        )


@st.cache_resource(show_spinner="Loading the model…", max_entries=32)
def _load_model(path: str, sha: str) -> torch.nn.Module:
    return catalog.load_model(path, sha)


def _load_or_warn(choice: ModelEntry | None, loader):
    if choice is None:
        return None
    try:
        return loader(choice.path, choice.sha)
    except (OSError, checkpoint.CheckpointError) as exc:
        st.warning(f"Could not load {choice.label}: {exc}")
        return None


def load_model(choice: ModelEntry | None) -> torch.nn.Module | None:
    """The model behind a choice, or None with a warning on the page if it cannot be loaded."""
    return _load_or_warn(choice, _load_model)


@st.cache_resource(show_spinner="Preparing the model for ONNX Runtime…", max_entries=32)
def _load_predictor(path: str, sha: str) -> Predictor:
    # exported once per weights into the cache folder; the faster runtime at one image answers
    return runtime.load_predictor(path, _load_model(path, sha))


def load_predictor(choice: ModelEntry | None) -> Predictor | None:
    """What answers a drawing for a choice (ONNX Runtime where faster), or None with a warning on the page."""
    return _load_or_warn(choice, _load_predictor)


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> MNIST:
    return load_mnist()


@st.cache_resource
def _limits(settings: tuple[tuple[str, str], ...]) -> Limits:
    return Limits.from_env(dict(settings))  # cached per set of KD_* values: a bad value is warned about once


def limits() -> Limits:
    """This server's limits, from the KD_* environment variables."""
    return _limits(tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("KD_"))))


def visitor() -> str:
    """A random token for this browser session: the owner of the runs it launches."""
    return st.session_state.setdefault("kd_visitor", secrets.token_urlsafe(16))


@st.cache_resource
def _run_manager(settings: Settings, server_limits: Limits) -> RunManager:
    return catalog.new_run_manager(settings, server_limits)


def run_manager() -> RunManager:
    """The one run queue of this server process, shared by every visitor."""
    return _run_manager(Settings.from_env(), limits())


@st.cache_resource
def _sweep_queue(settings: Settings, server_limits: Limits) -> SweepQueue:
    # every cell is the Distill page's run with the grid's values
    return SweepQueue(_run_manager(settings, server_limits), DASHBOARD_RUN)


def sweep_queue() -> SweepQueue:
    """The sweeps launched from the Sweeps page, their cells queued on the run queue's one worker."""
    return _sweep_queue(Settings.from_env(), limits())


def digit_from_canvas(raw: bytes | None) -> np.ndarray | None:
    """The canvas's PNG as the 28x28 digit the models get; None if blank, or refused with a notice."""
    if raw is None:
        return None
    try:
        image = decode_drawing(raw, limits().max_drawing_pixels)
        return canvas_to_mnist(image, max_pixels=limits().max_drawing_pixels)
    except ValueError as exc:
        log.warning("drawing refused: %s", exc)
        st.warning(f"This drawing cannot be used: {exc}. Clear the canvas and draw again.")
        return None


@st.cache_data(show_spinner=False, max_entries=64)
def _latency(
    paths: tuple[str, ...], shas: tuple[str, ...], batch_sizes: tuple[int, ...], repeats: int, runtimes: tuple[str, ...]
) -> list[dict]:
    models = {path: _load_model(path, sha) for path, sha in zip(paths, shas, strict=True)}
    return benchmark(models, batch_sizes=batch_sizes, repeats=repeats, warmup=5, runtimes=runtimes)


Runtimes = tuple[str, ...]  # names from kd.infer.bench.RUNTIMES


def _key(choices: list[ModelEntry], batch_sizes: tuple[int, ...], repeats: int, runtimes: Runtimes) -> tuple:
    return tuple(c.path for c in choices), tuple(c.sha for c in choices), batch_sizes, repeats, runtimes


@st.cache_resource
def _measurements() -> dict[tuple, Future]:
    """The latest "Measure again" of each set of models, shared by every visitor (a Future on the run worker)."""
    return {}


@st.cache_resource
def _measure_gate(interval: int) -> RateLimit:
    return RateLimit(interval)


def latency(
    choices: list[ModelEntry], batch_sizes: tuple[int, ...], repeats: int = 30, runtimes: Runtimes = ("torch",)
) -> list[dict]:
    """kd.infer.bench rows for these models in each of `runtimes`, measured once and cached (or measured again);
    `model` is the label, `runtime` says which runtime ran it."""
    key = _key(choices, batch_sizes, repeats, runtimes)
    again = _measurements().get(key)
    if again is not None and again.done() and not again.cancelled() and again.exception() is None:
        rows = again.result()
    else:
        rows = _latency(*key)
    labels = {choice.path: choice.label for choice in choices}
    return [{**row, "model": labels[row["model"]]} for row in rows]


def measurement_pending(
    choices: list[ModelEntry], batch_sizes: tuple[int, ...], repeats: int = 30, runtimes: Runtimes = ("torch",)
) -> bool:
    again = _measurements().get(_key(choices, batch_sizes, repeats, runtimes))
    return again is not None and not again.done()


def measure_again(
    choices: list[ModelEntry], batch_sizes: tuple[int, ...], repeats: int = 30, runtimes: Runtimes = ("torch",)
) -> str | None:
    """Queue a new measurement behind any runs, at most once per interval per server; else why not.

    Measuring takes seconds of every core, so it waits its turn on the run worker instead of
    sharing the CPUs with a run, and everyone keeps seeing the previous figures meanwhile.
    """
    if measurement_pending(choices, batch_sizes, repeats, runtimes):
        return None  # already queued: the page says so
    wait = _measure_gate(limits().measure_interval_seconds).acquire()
    if wait > 0:
        return f"These figures were measured again moments ago; try again in {wait:.0f} s."
    key = _key(choices, batch_sizes, repeats, runtimes)
    models = {path: _load_model(path, sha) for path, sha in zip(key[0], key[1], strict=True)}
    _measurements()[key] = run_manager().submit(
        lambda: benchmark(models, batch_sizes=batch_sizes, repeats=repeats, warmup=5, runtimes=runtimes)
    )
    return None


@st.cache_data(show_spinner="Finding test digits where they disagree…", max_entries=32)
def _disagreements(path_a: str, sha_a: str, path_b: str, sha_b: str, limit: int) -> list[dict]:
    return disagreements(_load_model(path_a, sha_a), _load_model(path_b, sha_b), mnist(), limit=limit)


def disagreement_gallery(a: ModelEntry, b: ModelEntry, limit: int = 40) -> list[dict]:
    return _disagreements(a.path, a.sha, b.path, b.sha, limit)


def training_busy() -> bool:
    """True while a run or a sweep's cell trains: measurements taken now share the CPUs with it."""
    return run_manager().running() is not None or sweep_queue().training()
