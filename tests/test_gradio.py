"""The Gradio app (dashboard/gradio_app.py) as its users meet it: gradio_client on /predict, /distill and
/run (the caller's run, as the page polls it), and headless Chromium drawing on the sketchpad.

Starts `python dashboard/gradio_app.py` on a free port with the shipped checkpoints (clearly drawn
digits must be read right, which tiny test models cannot do) and a temporary runs folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    STROKES,
    draw_in_box,
    gradio_server,
    need_chromium,
)
from drawing import draw_digit
from PIL import Image

from kd.lab.card import TWIN_TRAINING

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = Path(os.environ.get("KD_CHECKPOINTS_DIR", ROOT / "checkpoints"))

pytestmark = pytest.mark.slow  # the server takes a while to start on two busy cores


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not all((CHECKPOINTS / f"{name}.safetensors").is_file() for name in ("teacher", "student")):
        pytest.skip(f"needs the shipped teacher and student in {CHECKPOINTS} (run `make checkpoints`)")
    folder = tmp_path_factory.mktemp("gradio")
    log_path = folder / "server.log"
    env = {"KD_CHECKPOINTS_DIR": str(CHECKPOINTS), "KD_RUNS_DIR": str(folder / "runs")}
    with gradio_server(log_path, **env) as (url, _):
        yield {"url": url, "log": log_path}


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server["url"], verbose=False)


def image_file(folder: Path, name: str, array) -> str:
    path = folder / f"{name}.png"
    Image.fromarray(array).save(path)
    return str(path)


@pytest.mark.parametrize("digit", [1, 0, 7])
def test_predict_reads_a_drawn_digit_with_both_models(client, tmp_path, digit):
    from gradio_client import handle_file

    answer = client.predict(handle_file(image_file(tmp_path, "digit", draw_digit(digit))), api_name="/predict")
    assert set(answer) == {"teacher", "student"}
    for name, model in answer.items():
        assert model["digit"] == digit, f"{name} read a drawn {digit} as {model['digit']}"
        assert len(model["probabilities"]) == 10 and sum(model["probabilities"]) == pytest.approx(1, abs=1e-4)
        assert max(model["probabilities"]) == model["probabilities"][digit]


def test_bad_input_gets_a_clear_message_and_no_traceback(server, client, tmp_path):
    from gradio_client import handle_file

    blank = image_file(tmp_path, "blank", draw_digit(1, ink=0))  # black ink on black: nothing drawn
    tiny = image_file(tmp_path, "tiny", draw_digit(1)[:1, :1])
    text = tmp_path / "notes.png"
    text.write_text("not an image at all")
    for path, message in ((blank, "blank"), (tiny, "too small"), (str(text), "not a readable PNG or JPEG")):
        with pytest.raises(Exception, match=message) as raised:
            client.predict(handle_file(path), api_name="/predict")
        assert "Traceback" not in str(raised.value)
    assert "Traceback" not in server["log"].read_text()


def test_a_tiny_run_trains_while_predictions_answer_and_joins_the_student_selector(client, tmp_path):
    from gradio_client import handle_file

    said = client.predict(4.0, 0.5, 1, 300, 0, api_name="/distill")  # T, alpha, epochs, images, seed
    assert said.startswith(("Queued", "Starting")), said  # launching returns at once: the lab's worker trains
    seven = handle_file(image_file(tmp_path, "seven", draw_digit(7)))
    answered_during_training, deadline = 0, time.monotonic() + 300
    while time.monotonic() < deadline:
        status, _, card, _, students, *_ = client.predict(api_name="/run")  # the caller's own run, as the page polls it
        if card and TWIN_TRAINING not in card:  # the card shows first, its scratch twin's comparison next
            break
        assert client.predict(seven, api_name="/predict")["student"]["digit"] == 7
        answered_during_training += 1
    assert status == "The run finished and was saved." and "finished and was saved" in card, (status, card)
    assert "| this run |" in card and "| scratch, same budget and seed |" in card
    assert answered_during_training >= 1
    runs = [label for label, _ in students["choices"] if label.startswith("Run ")]
    assert len(runs) == 1 and "α=0.5, 1 ep, 300 img" in runs[0]
    with pytest.raises(Exception, match="greater than maximum value"):  # over the caps, refused with the reason
        client.predict(4.0, 0.5, 10**6, 300, 0, api_name="/distill")


@pytest.fixture
def page(server):
    """A headless Chromium page (1400x1600)."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def open_sketchpad(page, url: str) -> dict:
    """Open the app on a fresh, empty sketchpad; the box of its black square."""
    page.goto(url)
    canvas = page.locator("#sketch canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    side = 0.75 * min(box["width"], box["height"])  # the black square sits in the middle
    return {"x": box["x"] + (box["width"] - side) / 2, "y": box["y"] + (box["height"] - side) / 2,
            "width": side, "height": side}  # fmt: skip


def wait_for_answers(page, digit: int, timeout_ms: int = 30_000) -> None:
    """Both models' answers on the page, each reading `digit`."""
    for name in ("teacher", "student"):
        says = page.locator(f"#{name}-says")
        page.wait_for_function("e => e.innerText.includes(' says ')", arg=says.element_handle(), timeout=timeout_ms)
        text = says.inner_text()
        assert f"says {digit} " in text, f"{name} read a drawn {digit}: {text!r}"


@pytest.mark.browser
def test_drawing_on_the_sketchpad_shows_both_predictions(server, page):
    seconds = []
    for digit in STROKES:
        started = time.monotonic()
        square = open_sketchpad(page, server["url"])
        seconds.append(time.monotonic() - started)
        draw_in_box(page, square, digit)
        wait_for_answers(page, digit)
    # A measurement for the report (pytest -s), not an assertion: it depends on the machine.
    print(f"\nGradio page with its sketchpad ready in {', '.join(f'{s:.1f}' for s in seconds)} s")


@pytest.mark.browser
def test_after_clearing_the_sketchpad_a_new_drawing_is_read(server, page):
    square = open_sketchpad(page, server["url"])
    draw_in_box(page, square, 7)
    wait_for_answers(page, 7)
    page.locator("#sketch").get_by_role("button", name="Clear canvas").click()
    says = page.locator("#teacher-says")
    page.wait_for_function("e => !e.innerText.includes(' says ')", arg=says.element_handle(), timeout=30_000)
    # Gradio's own clearing left a white pad asking to pick the draw tool, where the brush drew nothing
    page.locator("#sketch").get_by_role("button", name="Brush").first.click()
    page.mouse.click(5, 5)  # closes the brush's options, if they opened
    draw_in_box(page, square, 1)
    wait_for_answers(page, 1, timeout_ms=15_000)


@pytest.mark.browser
def test_an_example_clicked_is_answered_as_a_drawing(server, page):
    open_sketchpad(page, server["url"])
    page.locator("#draw-examples").get_by_text("drawn 4").click()  # the fifth example, after four MNIST digits
    wait_for_answers(page, 4)
    assert "<img" in page.locator("#seen").inner_html()  # what the models see, as for a drawing


@pytest.mark.browser
def test_after_launch_the_run_status_is_on_the_screen_and_alpha_reads_as_a_switch_with_mixing(server, page):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(server["url"])
    page.get_by_role("tab", name="Distill").click()
    page.get_by_label("CutMix").check()
    page.get_by_text("alpha is a switch").wait_for()  # the sentence under the slider, relabelled with it
    page.get_by_label("None").check()
    page.get_by_role("button", name="Launch run").click()
    status = page.locator("#run-status")
    page.wait_for_function("e => e.innerText.trim().length > 0", arg=status.element_handle(), timeout=30_000)
    # scrolled into view: below the settings it would sit past the first screen
    on_screen = "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }"
    page.wait_for_function(on_screen, arg=status.element_handle(), timeout=10_000)
    page.get_by_role("button", name="Cancel run").click()


@pytest.mark.browser
def test_opening_the_metrics_tab_shows_the_comparison_and_the_latency_figures(server, page):
    page.goto(server["url"])
    page.get_by_role("tab", name="Metrics and latency").click()  # computed when opened, not on every page load
    page.locator("#metrics-table").wait_for(timeout=30_000)
    assert "accuracy" in page.locator("#metrics-headline").inner_text().lower()
    assert "measured on" in page.locator("#latency-note").inner_text()


@pytest.mark.browser
def test_opening_the_sweeps_tab_shows_the_shipped_sweep(server, page):
    page.goto(server["url"])
    page.get_by_role("tab", name="Sweeps").click()  # read when opened, through the Streamlit page's Lab call
    page.locator("#sweep-table").wait_for(timeout=30_000)
    assert "cells done" in page.locator("#sweep-note").inner_text()
    assert "Holm's correction" in page.locator("#sweep-caption").inner_text()
    assert "mean paired gain" in page.locator("#sweep-cell").inner_text()


@pytest.mark.browser
def test_on_a_phone_the_brush_toolbar_leaves_the_pad_clear_and_the_answers_follow_it(server):
    need_chromium()
    import io

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            phone.set_default_timeout(60_000)
            square = open_sketchpad(phone, server["url"])
            toolbar = phone.locator("#sketch .toolbar-wrap").bounding_box()
            row = toolbar["y"] + toolbar["height"] / 2  # a row of pixels through the toolbar and the pad
            shot = Image.open(io.BytesIO(phone.screenshot())).convert("L")
            dark = [x for x in range(int(toolbar["x"]), 390) if shot.getpixel((x, int(row))) < 10]
            assert dark and toolbar["x"] + toolbar["width"] <= dark[0] + 1, "the toolbar covers the pad's left edge"
            draw_in_box(phone, square, 7)
            wait_for_answers(phone, 7)
            for name in ("teacher", "student"):
                box = phone.locator(f"#{name}-says").bounding_box()
                assert box["y"] + box["height"] <= 844, (
                    f"the {name}'s answer ends {box['y'] + box['height']:.0f} px down"
                )
        finally:
            browser.close()
