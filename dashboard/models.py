"""Where the Streamlit pages get models, data, metrics and runs: kd.catalog, cached, never a traceback.

The catalogue (kd/catalog.py) lists the models and reads the settings; this module only adds
Streamlit's caches and the notices a page shows. Models are cached with st.cache_resource
(shared by every visitor), keyed by path and weights checksum so a replaced file is
reloaded; latency and comparisons with st.cache_data.
"""

from __future__ import annotations

import streamlit as st
import torch

from kd import catalog, checkpoint
from kd.bench import benchmark
from kd.catalog import ModelEntry, RunCaps, Settings
from kd.data import MNIST, load_mnist
from kd.evaluate import disagreements
from kd.runs import RunManager


def shipped(name: str) -> ModelEntry | None:
    """One of the shipped checkpoints (teacher, student, scratch), or None if it is not there."""
    return catalog.shipped(name, Settings.from_env())


def finished_runs() -> list[ModelEntry]:
    return catalog.finished_runs(run_manager())


def model_choices(teacher: bool = True) -> list[ModelEntry]:
    """Every model there is to pick: the shipped ones that exist, then the finished runs."""
    return catalog.model_entries(Settings.from_env(), run_manager(), teacher)


def baseline_for(metadata: dict, own_path: str) -> tuple[ModelEntry | None, bool]:
    return catalog.baseline_for(metadata, own_path, finished_runs(), Settings.from_env())


def missing_notice() -> None:
    """A friendly note about any shipped checkpoint that is not there."""
    settings = Settings.from_env()
    missing = catalog.missing_shipped(settings)
    if missing:
        st.info(
            f"Not found (or unreadable) in `{settings.checkpoints_dir}`: {', '.join(missing)}. "
            "`make checkpoints` trains them (about half an hour on a laptop CPU); "
            "the rest of the page works with what is there."
        )


@st.cache_resource(show_spinner="Loading the model…", max_entries=32)
def _load_model(path: str, sha: str) -> torch.nn.Module:
    return catalog.load_model(path, sha)


def load_model(choice: ModelEntry | None) -> torch.nn.Module | None:
    """The model behind a choice, or None with a warning on the page if it cannot be loaded."""
    if choice is None:
        return None
    try:
        return _load_model(choice.path, choice.sha)
    except (OSError, checkpoint.CheckpointError) as exc:
        st.warning(f"Could not load {choice.label}: {exc}")
        return None


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist() -> MNIST:
    return load_mnist()


@st.cache_resource
def _run_manager(settings: Settings, caps: RunCaps) -> RunManager:
    return catalog.new_run_manager(settings, caps)


def run_manager() -> RunManager:
    """The one run queue of this server process, shared by every visitor."""
    return _run_manager(Settings.from_env(), catalog.run_caps())


@st.cache_data(show_spinner=False, max_entries=64)
def _latency(paths: tuple[str, ...], shas: tuple[str, ...], batch_sizes: tuple[int, ...], repeats: int) -> list[dict]:
    models = {path: _load_model(path, sha) for path, sha in zip(paths, shas, strict=True)}
    return benchmark(models, batch_sizes=batch_sizes, repeats=repeats, warmup=5)


def latency(choices: list[ModelEntry], batch_sizes: tuple[int, ...], repeats: int = 30) -> list[dict]:
    """kd.bench rows for these models, measured once per set of models and cached; `model` is the label."""
    rows = _latency(tuple(c.path for c in choices), tuple(c.sha for c in choices), batch_sizes, repeats)
    labels = {choice.path: choice.label for choice in choices}
    return [{**row, "model": labels[row["model"]]} for row in rows]


def clear_latency() -> None:
    _latency.clear()


@st.cache_data(show_spinner="Finding test digits where they disagree…", max_entries=32)
def _disagreements(path_a: str, sha_a: str, path_b: str, sha_b: str, limit: int) -> list[dict]:
    return disagreements(_load_model(path_a, sha_a), _load_model(path_b, sha_b), mnist(), limit=limit)


def disagreement_gallery(a: ModelEntry, b: ModelEntry, limit: int = 40) -> list[dict]:
    return _disagreements(a.path, a.sha, b.path, b.sha, limit)


def training_busy() -> bool:
    """True while a run trains: measurements taken now share the CPUs with it."""
    return run_manager().running() is not None
