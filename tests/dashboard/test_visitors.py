"""The dashboard with anonymous visitors: limits, ownership, forged input and damaged files as notices."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from streamlit.testing.v1 import AppTest
from test_app import launch, open_page, texts


def saved_by_someone_else(dashboard_checkpoints: Path, run_id: str = "run-someone-else") -> None:
    """A finished run in the runs folder that this visitor did not launch (another session, or before a restart)."""
    runs = Path(os.environ["KD_RUNS_DIR"])
    runs.mkdir(parents=True, exist_ok=True)
    for suffix in (".safetensors", ".json"):
        shutil.copyfile(dashboard_checkpoints / f"student{suffix}", runs / f"{run_id}{suffix}")


def delete_button(at: AppTest):
    return next(button for button in at.button if button.label == "Delete")


def test_a_visitor_cannot_delete_a_run_launched_by_someone_else(dashboard_checkpoints):
    saved_by_someone_else(dashboard_checkpoints)
    at = open_page("streamlit_ui/pages/distill.py")
    assert len(at.selectbox(key="distill_chosen").options) == 1
    assert delete_button(at).disabled
    assert "each visitor can delete the runs they launched" in texts(at.caption)
    assert (Path(os.environ["KD_RUNS_DIR"]) / "run-someone-else.safetensors").is_file()


def test_the_owner_of_a_private_instance_may_unlock_deleting_any_run(dashboard_checkpoints, monkeypatch):
    monkeypatch.setenv("KD_ALLOW_DELETE_ANY", "1")
    saved_by_someone_else(dashboard_checkpoints)
    at = open_page("streamlit_ui/pages/distill.py")
    assert not delete_button(at).disabled
    delete_button(at).click().run()
    assert not at.exception and "No finished runs yet" in texts(at.info)


@pytest.mark.parametrize("header", [["a", "list"], "a string"])
def test_a_malformed_file_in_the_runs_folder_breaks_no_page(dashboard_checkpoints, header):
    saved_by_someone_else(dashboard_checkpoints, "run-good")
    runs = Path(os.environ["KD_RUNS_DIR"])
    save_file({"w": torch.zeros(2)}, str(runs / "run-forged.safetensors"), metadata={"kd_lab": json.dumps(header)})
    (runs / "run-forged.json").write_text(json.dumps(header))
    for page in ("streamlit_ui/pages/draw.py", "streamlit_ui/pages/distill.py", "streamlit_ui/pages/metrics.py"):
        at = open_page(page)
        assert not at.error, page
    options = open_page("streamlit_ui/pages/distill.py").selectbox(key="distill_chosen").options
    assert len(options) == 1 and options[0].startswith("Run good")


def refuse_a_huge_drawing() -> None:
    import struct
    import zlib

    from dashboard.streamlit_ui.state import digit_from_canvas

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    side = 10_000
    pixels = zlib.compress(b"\0" * (side + 1) * side, 9)  # 100 MB of black in a 100 KB PNG
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
    digit_from_canvas(b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def test_a_huge_drawing_gets_a_friendly_notice():
    at = AppTest.from_function(refuse_a_huge_drawing, default_timeout=60).run()
    assert not at.exception
    assert "This drawing cannot be used: the drawing has more than the 1,500,000 pixels accepted" in texts(at.warning)


@pytest.mark.slow
def test_one_waiting_or_running_run_per_visitor(dashboard_checkpoints):
    at = open_page("streamlit_ui/pages/distill.py")
    at.slider(key="images").set_value(10_000)
    at.slider(key="epochs").set_value(5)
    launch(at)  # long enough to still be training at the second click
    assert not at.error
    launch(at)
    assert "you already have a run waiting or training" in texts(at.error)
    other_visitor = open_page("streamlit_ui/pages/distill.py")
    other_visitor.slider(key="images").set_value(300)
    launch(other_visitor)
    assert not other_visitor.error and "Queued, position 1" in texts(other_visitor.info)
    for visitor in (other_visitor, at):
        next(button for button in visitor.button if button.label == "Cancel run").click().run()
    deadline = time.monotonic() + 60
    while "cancelled" not in texts(at.info):
        assert time.monotonic() < deadline, "the run did not stop"
        time.sleep(0.2)
        at.run()


@pytest.mark.slow
def test_measuring_is_queued_and_once_per_interval_for_the_whole_server(dashboard_checkpoints, monkeypatch):
    monkeypatch.setenv("KD_MEASURE_INTERVAL_SECONDS", "3600")
    at = open_page("streamlit_ui/pages/latency.py", timeout=180)
    measure = next(button for button in at.button if button.label == "Measure on this server")
    measure.click().run(timeout=180)
    assert not at.exception and "Measuring once the runs before it" in texts(at.info)
    deadline = time.monotonic() + 180
    while "Measuring once" in texts(at.info):
        assert time.monotonic() < deadline, "the measurement did not finish"
        time.sleep(0.5)
        at.run(timeout=180)
    measured = [str(place) for table in at.table if "measured" in table.value for place in table.value["measured"]]
    assert any("this server" in place for place in measured)  # beside `kd report`'s figures, not instead of them
    # another visitor, with another list of models: the server measured moments ago, so it waits its turn
    other = open_page("streamlit_ui/pages/latency.py", timeout=180)
    other.multiselect(key="latency_models").select("scratch").run(timeout=180)
    next(button for button in other.button if button.label == "Measure on this server").click().run(timeout=180)
    assert "measure again in" in texts(other.info)
    assert not other.exception and any("measured" in table.value for table in other.table)  # figures for everyone


def test_the_shipped_config_hides_error_details_from_visitors():
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


def failing_page() -> None:
    from dashboard.streamlit_ui.notices import guarded

    def page() -> None:
        raise KeyError("/srv/secret/path/runs/run-1.json")

    guarded(page)()


def test_a_failing_page_shows_a_notice_and_logs_the_traceback(caplog):
    with caplog.at_level("ERROR", logger="kd.dashboard"):
        at = AppTest.from_function(failing_page, default_timeout=30).run()
    assert not at.exception
    assert "Something went wrong here" in texts(at.error) and "/srv/secret" not in texts(at.error)
    assert any(record.exc_info and "/srv/secret" in str(record.exc_info[1]) for record in caplog.records)
