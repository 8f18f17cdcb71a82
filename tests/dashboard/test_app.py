"""Every dashboard page under streamlit.testing.v1.AppTest: renders, reacts to widgets, trains a tiny run."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kd.lab.card import TWIN_TRAINING
from kd.lab.texts import ALPHA_SWITCH_LABEL

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TITLES = {
    "streamlit_ui/pages/overview.py": "KD Lab: knowledge distillation on MNIST",
    "streamlit_ui/pages/draw.py": "Draw a digit",
    "streamlit_ui/pages/distill.py": "Distill a student",
    "streamlit_ui/pages/metrics.py": "Compare two models",
    "streamlit_ui/pages/latency.py": "Latency",
    "streamlit_ui/pages/compare.py": "Compare runs",
}


def open_page(page: str, timeout: float = 60) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()  # registers the pages with st.navigation; the first one is the overview
    if page != "streamlit_ui/pages/overview.py":
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def launch(at: AppTest) -> None:
    """Press the Distill page's "Launch run" (the preset's button comes first on the page)."""
    next(button for button in at.button if button.label == "Launch run").click().run()


def texts(elements) -> str:
    return " ".join(str(element.value) for element in elements)


def wait_for_run(at: AppTest, seconds: float) -> None:
    """Rerun the page until its run says it finished and its scratch twin's comparison is in (failing on a failed
    run, an exception or the time)."""
    deadline = time.monotonic() + seconds
    while not any("finished and was saved" in str(s.value) and TWIN_TRAINING not in str(s.value) for s in at.success):
        assert time.monotonic() < deadline, "the run did not finish in time"
        assert "failed" not in texts(at.error)
        time.sleep(0.5)
        at.run()
        assert not at.exception


@pytest.mark.parametrize(
    "page",
    [
        "streamlit_ui/pages/overview.py",
        "streamlit_ui/pages/draw.py",
        "streamlit_ui/pages/distill.py",
        "streamlit_ui/pages/metrics.py",
    ],
)
def test_page_renders(dashboard_checkpoints, page):
    at = open_page(page)
    assert [title.value for title in at.title] == [TITLES[page]]
    assert not at.warning and not at.error


def test_latency_page_opens_at_once_and_says_what_is_not_measured_yet(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/latency.py")
    assert [title.value for title in at.title] == [TITLES["streamlit_ui/pages/latency.py"]]
    assert at.multiselect(key="latency_models").value  # teacher and student by default
    assert "Not measured yet" in texts(at.info) and not at.dataframe  # nothing is timed on a page's first visit


def test_blank_canvas_asks_for_a_drawing(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/draw.py")
    assert "Draw a digit" in texts(at.info)
    assert not at.metric  # no prediction without a drawing


def test_a_test_digit_gets_both_predictions_and_temperature_softens_them(dashboard_checkpoints, monkeypatch):
    from kd.lab import answers

    passes = []  # the models' forward passes, through the lab (Lab.answers), never a runtime of the page's own
    real = answers.digit_logits
    monkeypatch.setattr(answers, "digit_logits", lambda predictor, digit: passes.append(1) or real(predictor, digit))
    at = open_page("streamlit_ui/pages/draw.py")
    at.button_group(key="draw_source").set_value("MNIST test digit").run()
    assert not at.exception
    assert [metric.label for metric in at.metric] == ["Teacher says", "Student says"]
    assert all(metric.value in list("0123456789") for metric in at.metric)
    passes.clear()
    at.slider(key="draw_temperature").set_value(12.0).run()
    assert not at.exception
    assert len(passes) == 2  # one per model gives both the answer at T = 1 and the softened one
    teacher_says = at.metric[0].value
    assert f"nearly certain it is a {teacher_says}" in texts(at.caption)  # the explanation speaks of this digit
    at.selectbox(key="draw_student").set_value("scratch").run()  # models are named by key, never by path
    assert not at.exception and len(at.metric) == 2
    assert "Cropped to the ink" not in texts(at.caption)  # a test digit goes to the models as it is


def test_an_example_is_answered_as_a_drawing_is(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/draw.py")
    at.button_group(key="draw_source").set_value("Example").run()
    assert not at.exception and not at.metric and "Pick an example" in texts(at.info)
    pills = at.button_group(key="draw_example")
    assert len(pills.options) == 8  # four MNIST validation digits, four drawn ones
    pills.set_value("drawn-7").run()
    assert not at.exception and [metric.label for metric in at.metric] == ["Teacher says", "Student says"]
    assert "Cropped to the ink" in texts(at.caption)  # prepared as a drawing is


def test_with_mixing_alpha_reads_as_a_switch(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/distill.py")
    at.slider(key="alpha").set_value(0.3).run()
    at.radio(key="mix").set_value("cutmix").run()
    assert not at.exception and at.slider(key="alpha").label == ALPHA_SWITCH_LABEL
    assert at.slider(key="alpha").value == 0.3 and "alpha is a switch" in texts(at.caption)  # the value is kept


def test_the_overview_shows_latency_from_one_source_labelled_with_where_and_when(
    dashboard_checkpoints, tmp_path, monkeypatch
):
    import json

    for file in dashboard_checkpoints.iterdir():
        shutil.copy(file, tmp_path / file.name)
    rows = [
        {"model": name, "runtime": "torch", "batch_size": 1, "p50_ms": p50, "p95_ms": p50, "throughput": 1.0,
         "repeats": 3, "parameters": 1, "threads": 2}
        for name, p50 in (("teacher", 0.265), ("student", 0.097), ("scratch", 0.102))
    ]  # fmt: skip
    measured = {"date": "2026-12-01", "host": "x86_64, 2 cores, torch 2.14.1"}
    (tmp_path / "results.json").write_text(json.dumps({"measured": measured, "latency": rows}))
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(tmp_path))
    at = open_page("streamlit_ui/pages/overview.py")
    table = at.table[0].value
    assert list(table.loc["latency, 1 image (p50)"]) == ["0.265 ms", "0.097 ms", "0.102 ms"]
    assert "x86_64, 2 cores, torch 2.14.1, by `python -m kd report`, 2026-12-01" in texts(at.caption)
    assert list(table.loc["alpha (soft-target share)"])[0] == "— (trained on labels)"  # not "0" for the teacher


def test_distill_settings_come_from_the_url(dashboard_checkpoints):
    # The browser writes widget changes into the URL (tests/test_browser.py checks that); here: URL -> widgets.
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("streamlit_ui/pages/distill.py")
    at.query_params.update({"temperature": "8.0", "alpha": "0.25", "epochs": "3", "images": "700", "seed": "7"})
    at.run()
    assert not at.exception
    values = {key: at.slider(key=key).value for key in ("temperature", "alpha", "epochs", "images")}
    assert values == {"temperature": 8.0, "alpha": 0.25, "epochs": 3, "images": 700}
    assert at.number_input(key="seed").value == 7
    assert "0 = labels only" in texts(at.caption) and "1 = teacher only" in texts(at.caption)


def test_bad_url_settings_are_ignored(dashboard_checkpoints):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("streamlit_ui/pages/distill.py")
    at.query_params.update({"temperature": "999", "alpha": "lots", "epochs": "50"})
    at.run()
    assert not at.exception
    assert (at.slider(key="temperature").value, at.slider(key="alpha").value) == (8.0, 0.5)  # DASHBOARD_RUN
    assert at.slider(key="epochs").value <= 5


def test_distill_offers_the_mixing_and_a_teacher_only_where_there_is_a_choice(
    dashboard_checkpoints, ensemble_checkpoints, monkeypatch
):
    at = open_page("streamlit_ui/pages/distill.py")
    mixing = at.radio(key="mix")
    assert (mixing.label, mixing.options, mixing.value) == ("Mixing", ["None", "Mixup", "CutMix"], "none")
    assert "scratch twin learns the mixed labels" in mixing.help
    assert [radio.key for radio in at.radio] == ["mix"]  # one teacher: nothing to choose
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(ensemble_checkpoints))
    at = open_page("streamlit_ui/pages/distill.py")
    teacher = at.radio(key="teacher")
    assert (teacher.options, teacher.value) == (["Teacher (one CNN)", "Ensemble of 2 teachers"], "teacher")
    assert not at.warning and not at.error


def test_the_ensemble_is_shown_beside_the_shipped_models_where_it_was_made(ensemble_checkpoints, monkeypatch):
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(ensemble_checkpoints))
    at = open_page("streamlit_ui/pages/overview.py")
    table = at.table[0].value
    assert list(table.columns)[-1] == "Ensemble of 2 teachers" and len(table.columns) == 4
    assert table.loc["epochs", "Ensemble of 2 teachers"] == "1" and "ensemble of 2 teachers" in texts(at.caption)
    at = open_page("streamlit_ui/pages/draw.py")
    assert "ensemble" in at.selectbox(key="draw_student").options[-1].lower()
    at = open_page("streamlit_ui/pages/metrics.py")
    at.selectbox(key="metrics_b_select").set_value("ensemble").run()
    assert not at.exception and not at.error and len(at.dataframe) == 1


@pytest.mark.slow
def test_a_tiny_run_from_the_ensemble_on_mixed_images_is_compared_with_its_mixed_scratch_twin(
    ensemble_checkpoints, monkeypatch
):
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(ensemble_checkpoints))
    at = open_page("streamlit_ui/pages/distill.py")
    at.slider(key="images").set_value(100)
    at.slider(key="epochs").set_value(1)
    at.radio(key="teacher").set_value("ensemble")
    at.radio(key="mix").set_value("mixup")
    next(button for button in at.button if button.label == "Launch run").click().run()
    assert not at.exception and not at.error
    wait_for_run(at, seconds=180)
    headline = texts(at.success)
    assert "the ensemble of 2 teachers added" in headline and "the same mixup images" in headline
    assert "plain scratch student" in headline and "plain scratch, same budget and seed" in at.table[0].value.columns
    assert "scratch, same budget, seed and mixup" in at.table[0].value.columns
    assert "on the same mixup images (it learns their mixed labels)" in texts(at.caption)
    chosen = at.selectbox(key="distill_chosen")
    assert chosen.options[0].endswith(", mixup, from the ensemble") and chosen.index == 0  # the new run is picked
    assert "pts vs plain scratch" in str(at.metric[0].proto.delta)


def test_metrics_needs_two_different_models(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/metrics.py")
    assert len(at.dataframe) == 1  # the per-class comparison
    at.selectbox(key="metrics_b_select").set_value("teacher").run()
    assert not at.exception and "two different models" in texts(at.info)


@pytest.mark.slow
def test_a_tiny_run_is_launched_completed_listed_opened_and_deleted(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/distill.py")
    at.slider(key="images").set_value(300)
    at.slider(key="epochs").set_value(1)
    at.slider(key="alpha").set_value(0.5)
    launch(at)
    assert not at.exception and not at.error
    wait_for_run(at, seconds=120)
    assert [metric.label for metric in at.metric][:2] == ["Test accuracy", "Agreement with the teacher"]
    runs = at.selectbox(key="distill_chosen")
    assert len(runs.options) == 1 and "α=0.5" in runs.options[0]

    open_in_draw = next(button for button in at.button if button.label == "Open in Draw")
    open_in_draw.click().run()
    assert not at.exception and [title.value for title in at.title] == [TITLES["streamlit_ui/pages/draw.py"]]
    assert at.selectbox(key="draw_student").value.startswith("run-")

    at.switch_page("streamlit_ui/pages/distill.py").run()
    next(button for button in at.button if button.label == "Open in Metrics").click().run()
    assert not at.exception and [title.value for title in at.title] == [TITLES["streamlit_ui/pages/metrics.py"]]
    assert "run-" in at.selectbox(key="metrics_b_select").value

    at.switch_page("streamlit_ui/pages/distill.py").run()
    next(button for button in at.button if button.label == "Delete").click().run()
    assert not at.exception and "No finished runs yet" in texts(at.info)


def test_every_page_is_friendly_without_checkpoints(dashboard_checkpoints, tmp_path, monkeypatch):
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path / "runs"))
    for page in TITLES:
        at = open_page(page)
        assert "Not found (or unreadable) on this server" in texts(at.info), page


@pytest.mark.slow
def test_a_second_visitor_queues_behind_the_first_and_both_can_cancel(dashboard_checkpoints):
    first, second = open_page("streamlit_ui/pages/distill.py"), open_page("streamlit_ui/pages/distill.py")
    first.slider(key="images").set_value(10_000)
    first.slider(key="epochs").set_value(5)
    launch(first)  # long enough to still be training when the second one launches
    second.slider(key="images").set_value(300)
    launch(second)
    assert not second.exception
    assert "Queued, position 1" in texts(second.info)

    next(button for button in second.button if button.label == "Cancel run").click().run()
    assert "cancelled" in texts(second.info)
    first.run()
    next(button for button in first.button if button.label == "Cancel run").click().run()
    deadline = time.monotonic() + 60
    while "cancelled" not in texts(first.info):
        assert time.monotonic() < deadline, "the first run did not stop"
        time.sleep(0.2)
        first.run()
    assert not first.exception and "No finished runs yet" in texts(first.info)


def test_every_page_copes_with_a_damaged_teacher(dashboard_checkpoints, tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    shutil.copytree(dashboard_checkpoints, folder)
    teacher = folder / "teacher.safetensors"
    teacher.write_bytes(teacher.read_bytes()[:200])  # truncated, as by a crash mid-copy
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(folder))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path / "runs"))
    for page in (
        "streamlit_ui/pages/overview.py",
        "streamlit_ui/pages/draw.py",
        "streamlit_ui/pages/distill.py",
        "streamlit_ui/pages/metrics.py",
    ):
        at = open_page(page)
        assert "Teacher" in texts(at.info), page  # named in the notice, and the page still renders


def test_the_missing_three_preset_fills_in_the_settings_and_a_link_keeps_the_digits_left_out(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/distill.py")
    omit = at.button_group(key="omit_digits")
    assert omit.label == "Leave out digits" and omit.value == []  # none by default
    next(button for button in at.button if button.label == "Hinton's missing 3").click().run()
    assert not at.exception and not at.error
    values = {key: at.slider(key=key).value for key in ("temperature", "alpha", "epochs", "images")}
    assert values == {"temperature": 20.0, "alpha": 1.0, "epochs": 3, "images": 5000}
    assert at.button_group(key="omit_digits").value == ["3"] and at.radio(key="mix").value == "none"
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("streamlit_ui/pages/distill.py")
    at.query_params.update({"omit_digits": ["3", "8"]})
    at.run()
    assert not at.exception and at.button_group(key="omit_digits").value == ["3", "8"]


@pytest.mark.slow
def test_a_tiny_run_without_3s_shows_their_recall_and_an_offset_to_move(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/distill.py")
    next(button for button in at.button if button.label == "Hinton's missing 3").click().run()
    at.slider(key="images").set_value(1000)
    at.slider(key="epochs").set_value(1)
    next(button for button in at.button if button.label == "Launch run").click().run()
    assert not at.exception and not at.error
    wait_for_run(at, seconds=240)
    assert "Left out of training: 3" in texts(at.markdown) and "never saw a 3" in texts(at.markdown)
    table = at.table[1].value
    assert list(table.columns) == ["this run", "scratch, same budget and seed (never saw them either)",
                                   "teacher (saw every digit)"]  # fmt: skip
    assert "3s read, with its offset" in table.index
    offset = next(slider for slider in at.slider if slider.key.startswith("offset_"))
    chosen = offset.value
    assert f"chosen on validation, +{chosen:g}" in texts(at.caption)
    offset.set_value(20.0).run()
    assert not at.exception and "With +20 on the logit of 3" in texts(at.caption)
    assert at.selectbox(key="distill_chosen").options[0].endswith(f"no 3s · answers corrected (+{chosen:g} on 3)")
    next(button for button in at.button if button.label == "Open in Draw").click().run()
    student = at.selectbox(key="draw_student")  # Draw answers with the run, corrected, and says so
    assert not at.exception and student.value.startswith("run-") and "answers corrected" in student.options[-1]
    at.switch_page("streamlit_ui/pages/draw.py").run()  # AppTest stays on the page it was told, not the switched one
    at.button_group(key="draw_source").set_value("MNIST test digit").run()
    assert not at.exception and [metric.label for metric in at.metric] == ["Teacher says", "Student says"]
    assert "answers corrected" in at.metric[1].help


def test_compare_runs_overlays_the_curves_of_the_models_picked():
    at = open_page("streamlit_ui/pages/compare.py")
    assert [title.value for title in at.title] == ["Compare runs"] and not at.warning and not at.error
    assert at.multiselect(key="compare_models").value == ["student", "scratch"]
    assert len(at.get("plotly_chart")) == 2 and list(at.table[0].value.columns) == [
        "Distilled student",
        "Scratch student (alpha = 0)",
    ]
    at.multiselect(key="compare_models").set_value(["student"]).run()
    assert "Pick two or more" in texts(at.info) and not at.get("plotly_chart")
