"""The Sweeps page under AppTest: small fake sweeps written by the test, and a tiny one launched from the page."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kd.lab import widgets
from kd.status import DONE
from kd.sweep.results import CellResult, read_results, record

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
# seed -> scratch accuracy; the KD cells add a gain per (T, alpha) and a little per-seed wobble. +0.6 points
# passes an uncorrected test (p = 0.035) but not Holm's correction across the sweep's 8 cells
BASELINES = {0: 0.90, 1: 0.93, 2: 0.88}
GAINS = {(2.0, 0.5): 0.02, (2.0, 0.9): -0.001, (4.0, 0.5): 0.006, (4.0, 0.9): -0.03}


def row(temperature, alpha, seed, limit, accuracy) -> CellResult:
    return CellResult(
        temperature, alpha, seed, limit, 1, False, accuracy, accuracy, 0, 0.01, 0.95, 1.0, DONE, "", "cmd", "{}"
    )


def write_sweep(folder: Path, limits=(1000, 5000), cells: int | None = None, gains=GAINS) -> None:
    for limit in limits:
        for seed, baseline in BASELINES.items():
            record(folder / "results.csv", row(4.0, 0.0, seed, limit, baseline))
            for (temperature, alpha), gain in gains.items():
                wobble = (seed - 1) * 0.002
                record(folder / "results.csv", row(temperature, alpha, seed, limit, baseline + gain + wobble))
    sweep = {"command": "python -m kd sweep --out x", "recipe": {"batch_size": 128}, "cells": cells or 15 * len(limits)}
    (folder / "sweep.json").write_text(json.dumps(sweep))


def open_sweeps(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("KD_RESULTS_DIR", str(tmp_path / "results"))  # not the repository's results/
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("streamlit_ui/pages/sweeps.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def heatmap(at: AppTest) -> dict:
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    (data,) = [figure["data"][0] for figure in figures if figure["data"][0]["type"] == "heatmap"]
    return data


def test_no_sweep_yet_is_a_friendly_notice(tmp_path, monkeypatch):
    at = open_sweeps(tmp_path, monkeypatch)
    assert [title.value for title in at.title] == ["Sweeps: when does distillation help?"]
    assert "No sweep yet" in at.info[0].value and "python -m kd sweep" in at.info[0].value
    assert at.caption[0].value == widgets.ALPHA_MEANING  # the loss as the Distill pages give it, typed once
    assert "KL(softmax(teacher/T)" in at.caption[0].value


def test_a_sweep_shows_as_a_heatmap_of_paired_gains_with_corrected_cells_marked(tmp_path, monkeypatch):
    write_sweep(Path(os.environ["KD_RUNS_DIR"]) / "demo")
    at = open_sweeps(tmp_path, monkeypatch)
    assert not at.warning and not at.error
    assert "30 of 30 cells done" in " ".join(str(m.value) for m in at.markdown)
    data = heatmap(at)
    assert data["x"] == ["0.5", "0.9"] and data["y"] == ["2", "4"]
    # +2 and -3 points survive Holm's correction across the 8 cells; +0.6 does not, though its own 95 % CI
    # (+0.10 to +1.10) excludes zero: no star
    assert data["text"] == [["+2.00 *", "-0.10"], ["+0.60", "-3.00 *"]]
    assert "95 % CI +0.10 to +1.10 points, uncorrected<br>Holm p = 0.14<br>3 seeds" in data["customdata"][1][0]
    assert "Holm's correction across all 8 tested cells of this sweep" in " ".join(c.value for c in at.caption)

    # the page opens on the cell nearest the Distill page's T = 8, alpha = 0.5 (DASHBOARD_RUN): T = 4, alpha = 0.5,
    # not on the best cell (T = 2, alpha = 0.5)
    assert (at.selectbox(key="sweep_temperature").value, at.selectbox(key="sweep_alpha").value) == (4.0, 0.5)
    summary = " ".join(str(m.value) for m in at.markdown)
    assert (
        "**+0.60 points** (95 % CI +0.10 to +1.10 points, uncorrected; p = 0.035, Holm p = 0.14: not shown" in summary
    )
    at.selectbox(key="sweep_alpha").set_value(0.9).run()
    assert not at.exception
    summary = " ".join(str(m.value) for m in at.markdown)
    assert "T = 4, alpha = 0.9: distilled 87.33% against scratch 90.33% over 3 seeds" in summary
    assert "**-3.00 points**" in summary and "shown after the correction" in summary

    table = at.dataframe[0].value
    assert {"p", "p (Holm)", "p (BH)", "KD (Holm, 5 %)"} <= set(table.columns)
    cell = table[(table["images"] == 1000) & (table["T"] == 4.0) & (table["alpha"] == 0.5)].iloc[0]
    assert cell["p"] < 0.05 < cell["p (Holm)"] and cell["KD (Holm, 5 %)"] == "not shown"
    assert list(table["KD (Holm, 5 %)"]).count("helps") == 2 and list(table["KD (Holm, 5 %)"]).count("hurts") == 2

    at.selectbox(key="sweep_budget").set_value((5000, 1, False, "")).run()
    assert not at.exception and heatmap(at)["text"][0][0] == "+2.00 *"


def test_without_the_default_cell_the_page_opens_on_the_nearest(tmp_path, monkeypatch):
    # The default is T = 8, alpha = 0.5: T = 16 is as far from 8 as T = 4 (a factor 2), the lower wins the tie;
    # alpha = 0.9 is nearer 0.5 than 1. The best cell is T = 16, alpha = 1.
    gains = {(4.0, 0.9): 0.0, (4.0, 1.0): 0.001, (16.0, 0.9): 0.0, (16.0, 1.0): 0.02}
    write_sweep(Path(os.environ["KD_RUNS_DIR"]) / "demo", limits=(1000,), gains=gains)
    at = open_sweeps(tmp_path, monkeypatch)
    assert (at.selectbox(key="sweep_temperature").value, at.selectbox(key="sweep_alpha").value) == (4.0, 0.9)


def test_a_sweep_without_pairs_yet_says_so(tmp_path, monkeypatch):
    folder = Path(os.environ["KD_RUNS_DIR"]) / "early"
    record(folder / "results.csv", row(4.0, 0.0, 0, 1000, 0.9))
    (folder / "sweep.json").write_text(json.dumps({"command": "c", "recipe": {}, "cells": 60}))
    at = open_sweeps(tmp_path, monkeypatch)
    assert "1 of 60 cells done" in " ".join(str(m.value) for m in at.markdown)
    assert any("No distilled cell has its scratch baseline yet" in info.value for info in at.info)


def fill_sweep_form(at: AppTest, **values) -> AppTest:
    """Type into the launch form (only the given fields) and press Launch sweep."""
    for name, value in values.items():
        widget = at.number_input if name in ("images", "epochs") else at.text_input
        widget(key=f"sweep_form_{name}").set_value(value)
    return next(button for button in at.button if button.label == "Launch sweep").click().run()


def test_a_tiny_sweep_launched_from_the_page_records_its_cells_as_they_finish(tmp_path, monkeypatch):
    at = open_sweeps(tmp_path, monkeypatch)
    fill_sweep_form(at, temperatures="4", alphas="0, 0.9", seeds="0", images=200, epochs=1)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Launched 2 cells" in at.success[0].value
    name = at.selectbox(key="sweep_folder").value
    assert name.startswith("runs/sweep-")
    folder = Path(os.environ["KD_RUNS_DIR"]) / name.removeprefix("runs/")
    assert "python -m kd sweep --temperatures 4.0 --alphas 0.0,0.9 --seeds 0 --limits 200 --epochs 1" in " ".join(
        str(m.value) for m in at.markdown
    )

    deadline = time.monotonic() + 180
    while "2 of 2 cells done" not in " ".join(str(m.value) for m in at.markdown):
        assert time.monotonic() < deadline, "the sweep's cells did not finish in time"
        time.sleep(0.5)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    rows = read_results(folder / "results.csv")
    assert [(row.alpha, row.limit, row.epochs, row.status) for row in rows] == [
        (0.0, 200, 1, DONE),
        (0.9, 200, 1, DONE),
    ]
    assert heatmap(at)["x"] == ["0.9"] and heatmap(at)["y"] == ["4"]  # the distilled cell against its baseline


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"alphas": "0.5, 0.9"}, "add alpha 0"),
        ({"temperatures": "1, 2, 3, 4, 5"}, "more than 12 cells"),  # 3 seeds x (1 baseline + 5 T): 18 cells
        ({"images": 50_000}, "10,000 images on this server"),
        ({"seeds": "zero"}, "seeds: expected comma-separated ints"),
    ],
)
def test_a_sweep_the_server_may_not_train_is_a_friendly_error(tmp_path, monkeypatch, values, message):
    at = fill_sweep_form(open_sweeps(tmp_path, monkeypatch), **values)
    assert not at.exception and not at.success
    assert "This sweep was not launched" in at.error[0].value and message in at.error[0].value
    assert not list(Path(os.environ["KD_RUNS_DIR"]).glob("sweep-*"))


def test_the_owner_stops_a_sweep_and_keeps_the_cells_recorded_so_far(tmp_path, monkeypatch):
    at = fill_sweep_form(open_sweeps(tmp_path, monkeypatch), seeds="0, 1, 2", images=1000, epochs=1)  # 9 cells
    assert "Your sweep" in " ".join(str(c.value) for c in at.caption)
    next(button for button in at.button if button.label == "Stop my sweep").click().run()
    deadline = time.monotonic() + 60
    while any(button.label == "Stop my sweep" for button in at.button):  # shown while the sweep is in flight
        assert time.monotonic() < deadline, "the sweep did not stop"
        time.sleep(0.2)
        at.run()
    assert not at.exception and not at.error
    folder = Path(os.environ["KD_RUNS_DIR"]) / at.selectbox(key="sweep_folder").value.removeprefix("runs/")
    assert len(read_results(folder / "results.csv")) < 9
    assert "of 9 cells done" in " ".join(str(m.value) for m in at.markdown)


def test_gain_heatmap_draws_gains_of_hundredths_pale_and_centres_the_scale_on_zero():
    from dashboard.charts import MIN_GAIN_SCALE, gain_heatmap

    tiny = [
        {"temperature": 4.0, "alpha": 0.9, "gain": 0.00003, "ci_low": -0.0015, "ci_high": 0.0016, "n": 3,
         "p_holm": 1.0, "significant": False}
    ]  # fmt: skip
    heatmap = gain_heatmap(tiny).data[0]
    assert (heatmap.zmin, heatmap.zmax) == (-MIN_GAIN_SCALE, MIN_GAIN_SCALE)  # +0.003 points is not "full blue"
    large = [dict(tiny[0], gain=0.028), dict(tiny[0], alpha=1.0, gain=-0.01)]
    scale = gain_heatmap(large).data[0]
    assert (scale.zmin, scale.zmax) == (pytest.approx(-2.8), pytest.approx(2.8))  # the largest gain, either way


def test_the_shipped_sweep_is_shown_first(tmp_path, monkeypatch):
    results = tmp_path / "results"
    for name in ("full-budget", "sweep"):  # "full-budget" sorts first
        (results / name).mkdir(parents=True)
        write_sweep(results / name)
    at = open_sweeps(tmp_path, monkeypatch)
    assert at.selectbox(key="sweep_folder").value == "results/sweep"  # a name, never a server path


def test_gain_heatmap_stars_the_cells_marked_significant_not_those_whose_own_interval_excludes_zero():
    from dashboard.charts import gain_heatmap

    clear = {"temperature": 4.0, "alpha": 0.5, "gain": 0.02, "ci_low": 0.015, "ci_high": 0.025, "n": 3}
    cells = [dict(clear, p_holm=0.01, significant=True), dict(clear, alpha=0.9, p_holm=0.14, significant=False)]
    heatmap = gain_heatmap(cells).data[0]
    assert [list(row) for row in heatmap.text] == [["+2.00 *", "+2.00"]]
    assert "Holm p = 0.14" in heatmap.customdata[0][1]
