"""The Streamlit pages and the limits of issue 27: the Latency page offers only what one measurement times, and a
Distill link keeps every setting (the sliders, the seed, the mixing and the teacher)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def test_a_distill_link_keeps_every_setting_mixing_and_teacher_included(ensemble_checkpoints, monkeypatch):
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(ensemble_checkpoints))  # two teachers: the page asks which
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    link = {"temperature": "4.0", "alpha": "0.3", "epochs": "2", "images": "2000", "seed": "7"}
    at.query_params.update({**link, "mix": "cutmix", "teacher": "ensemble"})  # choices named by their keys
    at.switch_page("streamlit_ui/pages/distill.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert {radio.key: radio.value for radio in at.radio} == {"teacher": "ensemble", "mix": "cutmix"}
    assert {slider.key: slider.value for slider in at.slider} == {
        "temperature": 4.0, "alpha": 0.3, "epochs": 2, "images": 2000,
    }  # fmt: skip
    assert at.number_input(key="seed").value == 7
    at.run()  # and they stay on the next rerun
    assert {radio.key: radio.value for radio in at.radio} == {"teacher": "ensemble", "mix": "cutmix"}


def test_the_latency_page_offers_only_as_many_models_as_one_measurement_times(monkeypatch):
    monkeypatch.setenv("KD_MAX_MEASURED_MODELS", "1")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("streamlit_ui/pages/latency.py").run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.multiselect(key="latency_models")
    assert picker.proto.max_selections == 1 and len(picker.value) == 1 and "up to 1" in picker.label
