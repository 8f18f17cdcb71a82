"""What the Gradio app shares between visitors: kd.lab.catalog with plain Python caches.

The Streamlit lab caches with st.cache_resource (dashboard/streamlit_ui/state.py); here functools does
the same job. Settings and caps are read when the server first needs them; models are
cached by path and weights checksum, so a replaced checkpoint is loaded again.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from kd.data import MNIST, load_mnist
from kd.lab import catalog
from kd.lab.catalog import ModelEntry, Settings
from kd.lab.limits import Limits
from kd.lab.runs import RunManager
from kd.predict import predict_proba


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def limits() -> Limits:
    """This server's limits (KD_* variables), the same as the Streamlit lab's."""
    return Limits.from_env()


@functools.cache
def run_manager() -> RunManager:
    """The one run queue of this server process, shared by every visitor."""
    return catalog.new_run_manager(settings(), limits())


@functools.lru_cache(maxsize=32)
def _load_model(path: str, sha: str) -> torch.nn.Module:
    return catalog.load_model(path, sha)


def load_model(entry: ModelEntry) -> torch.nn.Module:
    return _load_model(entry.path, entry.sha)


@functools.cache
def mnist() -> MNIST:
    return load_mnist()


def finished_runs() -> list[ModelEntry]:
    return catalog.finished_runs(run_manager())


def entries(teacher: bool = True) -> list[ModelEntry]:
    """The shipped models that are there, then the finished runs, newest first."""
    return catalog.model_entries(settings(), run_manager(), teacher)


def choices(teacher: bool = True) -> list[tuple[str, str]]:
    """(label, path) pairs for a gr.Dropdown."""
    return [(entry.label, entry.path) for entry in entries(teacher)]


def by_path(path: str | None) -> ModelEntry | None:
    return catalog.entry_for(path, settings()) if path else None


def shipped(name: str) -> ModelEntry | None:
    return catalog.shipped(name, settings())


def default_student() -> ModelEntry | None:
    """The shipped distilled student, or the first student there is."""
    return shipped(catalog.DEFAULT_STUDENT) or next(iter(entries(teacher=False)), None)


def probabilities(entry: ModelEntry, digit: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / T) of one 28x28 digit, as a (10,) array."""
    return predict_proba(load_model(entry), digit, temperature=temperature)[0]


def missing_notice() -> str:
    """A friendly line about shipped checkpoints that are not there, or "" when all are."""
    missing = catalog.missing_shipped(settings())
    if not missing:
        return ""
    return (
        f"Not found (or unreadable) in `{settings().checkpoints_dir}`: {', '.join(missing)}. "
        "`make checkpoints` trains them; the rest of the app works with what is there."
    )
