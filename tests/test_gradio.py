"""The Gradio app (dashboard/gradio_app.py) as its users meet it: gradio_client on /predict and /distill,
and headless Chromium drawing on the sketchpad.

Starts `python dashboard/gradio_app.py` on a free port with the shipped checkpoints (clearly drawn
digits must be read right, which tiny test models cannot do) and a temporary runs folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    STROKES,
    draw_in_box,
    free_port,
    need_chromium,
    stop,
    wait_answering,
)
from drawing import draw_digit
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = Path(os.environ.get("KD_CHECKPOINTS_DIR", ROOT / "checkpoints"))

pytestmark = pytest.mark.slow  # the server takes a while to start on two busy cores


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not all((CHECKPOINTS / f"{name}.safetensors").is_file() for name in ("teacher", "student")):
        pytest.skip(f"needs the shipped teacher and student in {CHECKPOINTS} (run `make checkpoints`)")
    folder = tmp_path_factory.mktemp("gradio")
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "KD_CHECKPOINTS_DIR": str(CHECKPOINTS),
        "KD_RUNS_DIR": str(folder / "runs"),
    }
    log_path = folder / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "dashboard/gradio_app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_answering(f"{url}/gradio_api/info", process, timeout=120)
            yield {"url": url, "log": log_path}
        finally:
            stop(process)


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
    for path, message in ((blank, "blank"), (tiny, "too small"), (str(text), "not an image")):
        with pytest.raises(Exception, match=message) as raised:
            client.predict(handle_file(path), api_name="/predict")
        assert "Traceback" not in str(raised.value)
    assert "Traceback" not in server["log"].read_text()


def test_a_tiny_run_trains_while_predictions_answer_and_joins_the_student_selector(client, tmp_path):
    from gradio_client import handle_file

    job = client.submit(4.0, 0.5, 1, 300, 0, api_name="/distill")  # T, alpha, epochs, images, seed
    seven = handle_file(image_file(tmp_path, "seven", draw_digit(7)))
    answered_during_training = 0
    while not job.done():
        assert client.predict(seven, api_name="/predict")["student"]["digit"] == 7
        answered_during_training += 1
    status, _, card, _, students = job.result()
    assert status == "Finished." and "finished and was saved" in card, (status, card)
    assert answered_during_training >= 1
    runs = [label for label, _ in students["choices"] if label.startswith("Run ")]
    assert len(runs) == 1 and "α=0.5, 1 ep, 300 img" in runs[0]


@pytest.mark.browser
def test_drawing_on_the_sketchpad_shows_both_predictions(server):
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(60_000)
            seconds = []
            for digit in STROKES:
                started = time.monotonic()
                page.goto(server["url"])  # a fresh, empty sketchpad
                canvas = page.locator("#sketch canvas").first
                canvas.wait_for()
                seconds.append(time.monotonic() - started)
                box = canvas.bounding_box()
                side = 0.75 * min(box["width"], box["height"])  # the black square sits in the middle
                square = {"x": box["x"] + (box["width"] - side) / 2, "y": box["y"] + (box["height"] - side) / 2}
                draw_in_box(page, {**square, "width": side, "height": side}, digit)
                for name in ("teacher", "student"):
                    says = page.locator(f"#{name}-says")
                    page.wait_for_function(
                        "e => e.innerText.includes(' says ')", arg=says.element_handle(), timeout=30_000
                    )
                    text = says.inner_text()
                    assert f"says {digit} " in text, f"{name} read a drawn {digit}: {text!r}"
            # A measurement for the report (pytest -s), not an assertion: it depends on the machine.
            print(f"\nGradio page with its sketchpad ready in {', '.join(f'{s:.1f}' for s in seconds)} s")
        finally:
            browser.close()
