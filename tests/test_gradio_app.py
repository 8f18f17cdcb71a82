"""The Gradio app's handlers called directly, without a server: what a visitor sees when things are missing."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import gradio as gr
import pytest
from drawing import draw_digit
from PIL import Image

from dashboard import gradio_app
from dashboard.gradio_ui import distill as gradio_distill
from dashboard.gradio_ui import draw as gradio_draw
from dashboard.gradio_ui import state as models
from kd.recipes import DASHBOARD_RUN


@pytest.fixture
def empty_server(tmp_path, monkeypatch):
    """The app's process-wide caches pointed at an empty checkpoints folder, and cleared again after."""
    caches = (models.settings, models.run_manager)
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path / "runs"))
    for cache in caches:
        cache.cache_clear()
    yield tmp_path
    for cache in caches:
        cache.cache_clear()


def test_the_app_builds_and_says_what_is_missing(empty_server):
    assert isinstance(gradio_app.build(), gr.Blocks)
    assert "Not found (or unreadable)" in models.missing_notice() and "Teacher" in models.missing_notice()
    seen, note, teacher_line, teacher_bars, student_line, *_ = gradio_draw.view({"composite": draw_digit(7)}, None, 4.0)
    assert "not available" in teacher_line and "not available" in student_line and teacher_bars is None
    assert seen is not None and note == ""  # what the models would see is still shown


def test_predict_without_models_is_a_clear_error(empty_server):
    path = empty_server / "seven.png"
    Image.fromarray(draw_digit(7)).save(path)
    with pytest.raises(gr.Error, match="teacher or student is missing"):
        gradio_draw.predict(str(path))


def test_a_blank_sketchpad_asks_for_a_drawing(empty_server):
    seen, note, *_ = gradio_draw.view({"composite": gradio_draw.blank_canvas()}, None, 4.0)
    assert seen is None and note == gradio_draw.ASK


def test_a_run_without_a_teacher_is_refused_with_a_reason(empty_server):
    with pytest.raises(gr.Error, match="no teacher checkpoint"):
        next(gradio_distill.watch(dataclasses.replace(DASHBOARD_RUN, epochs=1, limit=100), "visitor"))


def test_bad_settings_from_the_api_are_refused_with_a_reason(empty_server):
    request = SimpleNamespace(session_hash="visitor")  # what the handler reads of Gradio's request
    with pytest.raises(gr.Error, match="alpha"):
        next(gradio_distill.launch(4.0, 1.5, 1, 100, 0, request))
