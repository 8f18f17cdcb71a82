"""The Gradio app's handlers called directly, without a server: missing models, bad settings, whose run is whose,
the sketchpad's bounded store of uploaded drawings, the Sweeps tab, and one forward pass per model per stroke."""

from __future__ import annotations

import io
import shutil
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from drawing import draw_digit
from fastapi import HTTPException
from PIL import Image

from dashboard import gradio_app
from dashboard.gradio_ui import compare as gradio_compare
from dashboard.gradio_ui import distill as gradio_distill
from dashboard.gradio_ui import draw as gradio_draw
from dashboard.gradio_ui import sketchpad, state
from dashboard.gradio_ui import sweeps as gradio_sweeps
from kd.lab import answers, widgets
from kd.lab.texts import ALPHA_SWITCH, ALPHA_SWITCH_LABEL


def request(session: str, forwarded_for: str | None = None) -> SimpleNamespace:
    """What the handlers read of Gradio's request: the peer, the headers and the session."""
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    return SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"), headers=headers, session_hash=session)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def lab_in(tmp_path, monkeypatch):
    """Point the app's one lab at a checkpoints folder (empty unless filled) and a runs folder; stop it after."""

    def point(**environ: str):
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        state.lab.cache_clear()
        return state.lab()

    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path / "runs"))
    state.lab.cache_clear()
    yield point
    state.lab().shutdown()
    state.lab.cache_clear()


def test_the_app_builds_and_says_what_is_missing(lab_in):
    lab_in()
    assert isinstance(gradio_app.build(), gr.Blocks)
    notice = state.missing_notice()
    assert (
        "Not found (or unreadable)" in notice
        and "Teacher" in notice
        and str(lab_in().settings.checkpoints_dir) not in notice
    )
    seen, note, teacher_line, teacher_bars, student_line, *_ = gradio_draw.view({"composite": draw_digit(7)}, None, 4.0)
    assert "not available" in teacher_line and "not available" in student_line and teacher_bars is None
    assert "<img" in seen and note == ""  # what the models would see is still shown


def test_predict_without_models_is_a_clear_error(lab_in):
    lab_in()
    with pytest.raises(gr.Error, match="teacher or student is missing"):
        gradio_draw.predict(png(draw_digit(7)))


def test_a_blank_or_forged_sketchpad_gets_a_sentence(lab_in):
    lab_in()
    seen, note, *_ = gradio_draw.view({"composite": gradio_draw.blank_canvas()}, None, 4.0)
    assert seen == "" and note == gradio_draw.ASK
    huge = np.zeros((2_000, 2_000, 4), np.uint8)  # over KD_MAX_DRAWING_PIXELS
    seen, note, *_ = gradio_draw.view({"composite": huge}, "student", 4.0)
    assert seen == "" and note.startswith("Cannot read this drawing") and "pixels" in note


def test_clearing_gives_the_blank_black_canvas_back(lab_in):
    lab_in()
    value, seen, note, *_ = gradio_draw.cleared("student", 4.0)
    assert value["layers"] == [] and value["composite"] is None
    assert np.array_equal(value["background"], gradio_draw.blank_canvas()) and note == gradio_draw.ASK


def test_a_run_without_a_teacher_is_refused_with_a_reason(lab_in):
    lab_in()
    with pytest.raises(gr.Error, match="teacher"):
        gradio_distill.launch(4.0, 0.5, 1, 100, 0, "none", "teacher", request("visitor"))


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ((4.0, 1.5, 1, 100, 0, "none", "teacher"), "alpha"),
        (("hot", 0.5, 1, 100, 0, "none", "teacher"), "must be numbers"),
        ((4.0, 0.5, 1.5, 100, 0, "none", "teacher"), "whole number"),
        ((4.0, 0.5, 10**6, 100, 0, "none", "teacher"), "epochs must be between"),
        ((4.0, 0.5, 1, 20_000, 0, "none", "teacher"), "10,000 images"),
        ((4.0, 0.5, 1, 100, 0, "blend", "teacher"), "mix must be one of none, mixup, cutmix"),
    ],
)
def test_bad_settings_from_the_api_are_refused_with_a_reason(lab_in, values, reason):
    lab_in()
    with pytest.raises(gr.Error, match=reason):
        gradio_distill.launch(*values, request("visitor"))


def test_a_visitor_is_their_address_behind_the_proxy_and_their_session_here(lab_in):
    lab_in(KD_PROXY_HOPS="1")
    behind = [state.visitor(request(session, "203.0.113.9")) for session in ("a", "b")]
    assert behind[0] == behind[1]  # a reload (a new session) is the same visitor
    assert state.visitor(request("a", "203.0.113.10")) != behind[0]
    lab_in(KD_PROXY_HOPS="0")  # no trusted proxy: a forged header changes nothing, the session tells them apart
    assert state.visitor(request("a", "203.0.113.9")) == state.visitor(request("a", "198.51.100.1"))
    assert state.visitor(request("a")) != state.visitor(request("b"))


def test_cancel_stops_only_the_callers_own_run(lab_in, tmp_path, small_teacher):
    (tmp_path / "checkpoints").mkdir()
    shutil.copy(small_teacher, tmp_path / "checkpoints" / "teacher.safetensors")
    lab_in()
    owner, other = request("owner"), request("someone else")
    with pytest.raises(gr.Error, match="unknown teacher '/etc/passwd'"):  # a key, never a path
        gradio_distill.launch(4.0, 0.5, 1, 100, 0, "none", "/etc/passwd", owner)
    assert gradio_distill.launch(4.0, 0.5, 1, 100, 0, "none", "teacher", owner).startswith(("Queued", "Starting"))
    with pytest.raises(gr.Error, match="already have a run"):
        gradio_distill.launch(4.0, 0.5, 1, 100, 0, "none", "teacher", owner)
    assert gradio_distill.cancel(other).startswith("You have no run")
    assert state.lab().run_of(state.visitor(owner)).active  # untouched by someone else's Cancel
    assert gradio_distill.cancel(owner).startswith(("The run was cancelled", "Stopping the run"))
    state.lab().runs.wait(state.lab().run_of(state.visitor(owner)).id, timeout=60)
    status, *_, timer = gradio_distill.watch(owner)
    assert status == "The run was cancelled; nothing was saved." and timer.active is False


def radio(demo: gr.Blocks, label: str) -> gr.Radio:
    return next(block for block in demo.blocks.values() if isinstance(block, gr.Radio) and block.label == label)


def test_the_distill_tab_offers_the_mixings_and_a_teacher_only_where_there_is_a_choice(
    lab_in, tiny_checkpoints, ensemble_checkpoints
):
    lab_in(KD_CHECKPOINTS_DIR=str(tiny_checkpoints["teacher"].parent))
    demo = gradio_app.build()
    mixing = radio(demo, "Mixing")
    assert mixing.choices == [("None", "none"), ("Mixup", "mixup"), ("CutMix", "cutmix")] and mixing.value == "none"
    assert mixing.info == widgets.MIXING_HELP and "scratch twin learns the mixed labels" in mixing.info
    teacher = radio(demo, "Teacher")
    assert teacher.choices == [("Teacher (one CNN)", "teacher")] and teacher.visible == "hidden"  # nothing to pick
    lab_in(KD_CHECKPOINTS_DIR=str(ensemble_checkpoints))
    teacher = radio(gradio_app.build(), "Teacher")
    assert teacher.visible is True and teacher.value == "teacher"
    assert teacher.choices == [("Teacher (one CNN)", "teacher"), ("Ensemble of 2 teachers", "ensemble")]


def blobs(pad: sketchpad.BoundedSketchpad, blob: bytes, **fields: str) -> None:
    pad.accept_blobs(SimpleNamespace(data=fields, files=[("blob.png", blob)]))


def test_the_sketchpad_keeps_a_bounded_store_of_uploaded_drawings():
    pad = sketchpad.BoundedSketchpad(layers=False, render=False)
    with pytest.raises(HTTPException) as refused:
        blobs(pad, b"x", type="layer", index="50000000", id="far")  # upstream made a list that long
    assert refused.value.status_code == 400 and not pad.blob_storage
    with pytest.raises(HTTPException) as refused:
        blobs(pad, bytes(sketchpad.MAX_BLOB_BYTES + 1), type="composite", index="null", id="big")
    assert refused.value.status_code == 413 and not pad.blob_storage
    for n in range(3 * sketchpad.MAX_PENDING):  # ids no event ever reads
        blobs(pad, b"x", type="composite", index="null", id=f"id{n}")
    assert list(pad.blob_storage) == [f"id{n}" for n in range(2 * sketchpad.MAX_PENDING, 3 * sketchpad.MAX_PENDING)]
    # a drawing as the editor uploads it, then read by its event
    seven = draw_digit(7)
    for kind, index in (("background", "null"), ("layer", "0"), ("composite", "null")):
        blobs(pad, png(seven), type=kind, index=index, id="drawn")
    value = pad.preprocess(pad.data_model(background=None, layers=[], composite=None, id="drawn"))
    assert value["composite"].shape[:2] == seven.shape[:2] and len(value["layers"]) == 1
    assert "drawn" not in pad.blob_storage


def test_the_sweeps_tab_shows_the_shipped_sweep_from_the_labs_own_view(lab_in):
    the_lab = lab_in()  # KD_RESULTS_DIR unset: the repository's results/, which holds the shipped sweep
    assert isinstance(gradio_app.build(), gr.Blocks)  # the tab is wired into the app
    picker = gradio_sweeps.sweeps()
    assert picker.value == "results/sweep" and "results/sweep" in [key for _, key in picker.choices]
    budget = gradio_sweeps.budgets("results/sweep")
    assert budget.value == 0 and budget.choices
    note, heatmap, caption, cell, seeds, every_cell = gradio_sweeps.show("results/sweep", 0)
    view = the_lab.sweep_view("results/sweep")  # what the Streamlit Sweeps page shows too
    assert view.progress() in note and "Holm's correction" in caption and "mean paired gain" in cell
    drawn = heatmap.value["plot"] if isinstance(heatmap.value, dict) else heatmap.value
    assert heatmap.visible and seeds.visible and drawn is not None
    assert every_cell.visible and len(every_cell.value["data"]) == len(view.stats)
    note, *_ = gradio_sweeps.show("runs/nothing-here", 0)
    assert note == "There is no sweep 'runs/nothing-here' on this server."


@pytest.fixture
def forward_passes(monkeypatch) -> list:
    """The predictor of every forward pass the lab runs for a drawing, in order."""
    used = []
    real = answers.digit_logits
    monkeypatch.setattr(
        answers, "digit_logits", lambda predictor, digit: used.append(predictor) or real(predictor, digit)
    )
    return used


def test_the_draw_tab_runs_each_model_once_per_stroke_for_both_temperatures(lab_in, tiny_checkpoints, forward_passes):
    lab_in(KD_CHECKPOINTS_DIR=str(tiny_checkpoints["teacher"].parent))
    *_, teacher_line, _, student_line, _, softened = gradio_draw.view({"composite": draw_digit(7)}, "student", 4.0)
    assert len(forward_passes) == 2  # the teacher once and the student once, for T = 1 and T = 4
    assert "Teacher says" in teacher_line and "Student says" in student_line and softened is not None


def test_predict_answers_with_the_runtime_the_draw_tab_uses(lab_in, tiny_checkpoints, forward_passes):
    the_lab = lab_in(KD_CHECKPOINTS_DIR=str(tiny_checkpoints["teacher"].parent))
    answered = gradio_draw.predict(png(draw_digit(7)))
    teacher, student = the_lab.shipped("teacher"), the_lab.default_student()
    assert forward_passes == [the_lab.predictor(teacher), the_lab.predictor(student)]  # the Draw tab's, cached
    digit = the_lab.digit_from_bytes(png(draw_digit(7)))
    expected = the_lab.answers(teacher, digit, (1.0,))[1.0]
    assert answered["teacher"]["probabilities"] == pytest.approx(list(expected), abs=1e-7)


def test_the_distill_tab_offers_digits_to_leave_out_and_refuses_all_ten(lab_in, tiny_checkpoints):
    lab_in(KD_CHECKPOINTS_DIR=str(tiny_checkpoints["teacher"].parent))
    demo = gradio_app.build()
    omit = next(block for block in demo.blocks.values() if isinstance(block, gr.CheckboxGroup))
    assert omit.label == "Leave out digits" and omit.value == [] and len(omit.choices) == 10
    preset = next(block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "preset-missing-three")
    assert preset.value == "Hinton's missing 3"
    assert gradio_distill.fill_preset() == [20.0, 1.0, 3, 5000, "none", ["3"]]  # T, alpha, epochs, images, mix, digits
    with pytest.raises(gr.Error, match="at most nine digits"):
        gradio_distill.launch(4.0, 0.5, 1, 100, 0, "none", "teacher", request("visitor"), list(widgets.DIGITS))
    with pytest.raises(gr.Error, match="digits from 0 to 9"):
        gradio_distill.launch(4.0, 0.5, 1, 100, 0, "none", "teacher", request("visitor"), ["11"])
    assert state.lab().run_of(state.visitor(request("visitor"))) is None


@pytest.mark.slow
def test_a_run_without_3s_shows_their_recall_and_the_offset_moves_it(lab_in, tiny_checkpoints):
    lab_in(KD_CHECKPOINTS_DIR=str(tiny_checkpoints["teacher"].parent))
    me = request("visitor")
    values = widgets.missing_three(state.lab().limits).values
    gradio_distill.launch(values["temperature"], values["alpha"], 1, 1000, 0, "none", "teacher", me, ["3"])
    state.lab().runs.wait(state.lab().run_of(state.visitor(me)).id, timeout=300)
    status, _, card, _, *_, offset, note, bars, curve, _ = gradio_distill.watch(me)
    assert "finished" in status and "**Left out of training: 3**" in card and "never saw a 3" in card
    assert "| scratch, same budget and seed (never saw them either) |" in card and "3s read, with its offset" in card
    assert offset.visible and 0 <= offset.value <= 20 and note.visible and bars.visible and curve.visible
    assert f"chosen on validation, +{offset.value:g}" in note.value
    moved, *_ = gradio_distill.move_offset(20.0, me)
    assert moved.value.startswith("With +20 on the logit of 3")
    with pytest.raises(gr.Error, match="offset must be a number"):
        gradio_distill.move_offset("lots", me)


def test_alpha_reads_as_a_switch_under_mixing_and_the_distill_api_names_its_output(lab_in, tiny_checkpoints):
    lab_in(KD_CHECKPOINTS_DIR=str(tiny_checkpoints["teacher"].parent))
    slider, meaning = gradio_distill.alpha_meaning("cutmix")
    assert slider.label == ALPHA_SWITCH_LABEL and meaning == ALPHA_SWITCH
    slider, meaning = gradio_distill.alpha_meaning("none")
    assert slider.label == "Alpha" and meaning == widgets.ALPHA_MEANING
    returns = gradio_app.build().get_api_info()["named_endpoints"]["/distill"]["returns"]
    assert [output["label"] for output in returns] == ["status"]


def test_the_compare_tab_overlays_curves_and_sets_settings_side_by_side(lab_in, tiny_checkpoints):
    lab_in(KD_CHECKPOINTS_DIR=str(tiny_checkpoints["teacher"].parent))
    picker = gradio_compare.comparable()
    assert picker.value == ["student", "scratch"] and len(picker.choices) == 3
    note, accuracy, loss, settings = gradio_compare.show(["student", "teacher"])
    assert "T²" in note and accuracy.visible and loss.visible and settings.visible
    assert list(settings.value["headers"]) == ["setting", "Distilled student", "Teacher"]
    note, accuracy, *_ = gradio_compare.show(["student"])
    assert note.startswith("Pick two or more") and not accuracy.visible


def test_an_example_clicked_goes_onto_the_pad_and_is_answered_as_a_drawing(lab_in, tiny_checkpoints):
    lab_in(KD_CHECKPOINTS_DIR=str(tiny_checkpoints["teacher"].parent))
    shown = gradio_draw.examples()
    assert len(shown) == 8 and shown[-1][1] == "drawn 2" and shown[0][0].shape == (280, 280, 3)
    sketch, seen, note, teacher_line, *_ = gradio_draw.pick_example("student", 4.0, SimpleNamespace(index=5))
    assert sketch["composite"] is sketch["background"] and "<img" in seen and note == ""
    assert teacher_line.startswith("**Teacher says")
    skipped, seen, note, *_ = gradio_draw.pick_example("student", 4.0, SimpleNamespace(index=99))  # a forged index
    assert seen == "" and note == gradio_draw.ASK
