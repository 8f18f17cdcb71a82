"""The dashboards' tests use the session's tiny checkpoints (tests/conftest.py), never the shipped ones."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def dashboard_checkpoints(tiny_checkpoints):
    """The folder holding the session's tiny teacher, distilled and scratch students."""
    return tiny_checkpoints["teacher"].parent


@pytest.fixture(autouse=True)
def dashboard_env(dashboard_checkpoints, tmp_path_factory, monkeypatch):
    """Point the dashboard at the tiny checkpoints and a runs folder, for each dashboard test only."""
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(dashboard_checkpoints))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path_factory.mktemp("runs")))
    monkeypatch.setenv("KD_WARM_UP", "0")  # every test has a lab of its own: none should load what it never uses
