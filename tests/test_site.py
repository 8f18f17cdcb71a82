"""The static site in headless Chromium: the shipped models read digits drawn with the mouse, and the
page's JavaScript preprocessing gives the models what kd.preprocess.canvas_to_mnist gives them.

Builds the site from the shipped checkpoints (clearly drawn digits must be read right, which tiny test
models cannot do), serves it with `python -m http.server` and drives it with Playwright. Needs Debian's
chromium at /usr/bin/chromium and onnxruntime-web in node_modules (`make npm`).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import STROKES, need_chromium
from drawing import draw_digit
from static_site import browser_page, served
from test_browser import ARTIFACTS, CHECKPOINTS
from test_preprocess_js import MAX_PIXEL_DIFFERENCE

from kd import checkpoint
from kd.lab import widgets
from kd.predict import predict_proba
from kd.preprocess import canvas_to_mnist
from kd.site.builder import build_site, runtime_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MODELS = ("teacher", "student")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if not (CHECKPOINTS / "student.safetensors").is_file() or not (CHECKPOINTS / "teacher.safetensors").is_file():
        pytest.skip(f"needs the shipped teacher and student in {CHECKPOINTS} (run `make checkpoints`)")
    need_chromium()
    if not runtime_dir().is_dir():
        (pytest.fail if os.environ.get("CI") else pytest.skip)("needs onnxruntime-web (run `make npm`)")
    folder = tmp_path_factory.mktemp("site")
    build_site(folder, CHECKPOINTS, lab_url="https://example.org/lab")
    return folder


@pytest.fixture(scope="module")
def page(site):
    with served(site) as url, browser_page() as page:
        page.ready_seconds = page.open(url)
        yield page


def test_digits_drawn_with_the_mouse(page):
    delays = []
    for digit in STROKES:  # 1, 7 and 0, as in the dashboard's browser test
        found = page.draw(digit)
        assert found == {"teacher": str(digit), "student": str(digit)}, f"a drawn {digit} was read as {found}"
        delays.append(page.answer_delays())
    seen = page.page.evaluate("() => Array.from(window.kdLab.lastInput)")
    assert len(seen) == 784 and max(seen) == pytest.approx(1.0) and min(seen) == 0.0
    assert page.page.get_attribute("#lab-link", "href") == "https://example.org/lab"
    assert page.page.is_visible("#lab-link")  # hidden when the site is built without --lab-url
    assert page.page.locator("#per-class tr").count() == 3  # a header and the two models
    assert page.problems == []
    # Measurements, reported (run with -s to see them), not asserted: they depend on the machine.
    print(
        f"\npage ready in {page.ready_seconds:.2f} s; both answers "
        + ", ".join(f"{released:.3f} s after release ({moved:.3f} s after the last move)" for released, moved in delays)
    )


def test_offline_once_loaded_and_readable_on_a_phone(page):
    context = page.page.context
    context.set_offline(True)  # everything the page needs is in memory once it is ready
    try:
        assert page.draw(1) == {"teacher": "1", "student": "1"}
    finally:
        context.set_offline(False)
    page.page.set_viewport_size({"width": 390, "height": 844})
    try:
        # nothing wider than the screen: wide tables scroll inside their own box
        assert page.page.evaluate("() => document.documentElement.scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=ARTIFACTS / "site-phone.png", full_page=True)
    finally:
        page.page.set_viewport_size({"width": 1000, "height": 1400})
    page.page.screenshot(path=ARTIFACTS / "site.png", full_page=True)
    assert page.problems == []


def softened_bars(page) -> dict[str, np.ndarray]:
    """The softened probabilities written beside the bars, (10,) per model, checked against the bars' lengths."""
    lines = page.page.eval_on_selector_all(
        "#softened .line",
        "lines => lines.map(l => [l.classList[1], l.querySelector('.value').textContent,"
        " l.querySelector('.fill').style.width])",
    )
    assert len(lines) == 20  # ten digits, two models
    for _, value, width in lines:  # a linear scale: the bar is the value's share of the track
        assert float(width.removesuffix("%")) == pytest.approx(100 * float(value), abs=0.06)
    return {name: np.array([float(value) for model, value, _ in lines if model == name]) for name in MODELS}


def test_temperature_softens_both_distributions_and_shows_what_python_computes(page, site):
    page.draw(7)
    side = widgets.CANVAS_PIXELS  # the pad's side as site.json gives it to the page
    size = page.page.evaluate("() => [document.getElementById('pad').width, document.getElementById('pad').height]")
    assert size == [side, side]
    pad = page.page.evaluate(
        f"() => Array.from(document.getElementById('pad').getContext('2d').getImageData(0, 0, {side}, {side}).data)"
    )
    digit = canvas_to_mnist(np.array(pad, np.uint8).reshape(side, side, 4))
    models = {name: checkpoint.load(CHECKPOINTS / f"{name}.safetensors") for name in MODELS}
    tops = []
    for temperature in (1, 4, 10):
        page.page.locator("#temperature").fill(str(temperature))
        shown = softened_bars(page)
        for name, model in models.items():  # the page's numbers are the Python lab's, for the pad's own pixels
            expected = predict_proba(model, digit, temperature)[0]
            assert np.abs(shown[name] - expected).max() <= 0.0005 + 1e-6, f"{name} at T={temperature}"
        tops.append(shown["teacher"].max())
    assert tops[0] > tops[1] > tops[2]  # T flattens the distribution, visibly on a linear scale
    assert page.page.inner_text("#temperature-value") == "10"
    page.page.click("#undo")
    page.page.wait_for_function("() => window.kdLab.lastInput === null")
    assert page.page.inner_text("#teacher-digit") == "–"


def drawings() -> list[tuple[str, np.ndarray]]:
    """60 drawings of every digit in several sizes, pens, positions, slants and colour schemes."""
    rng = np.random.default_rng(0)
    found = []
    for index in range(60):
        digit = index % 10
        options = {
            "size": int(rng.choice([200, 280, 280, 336])),
            "box": float(rng.uniform(0.35, 0.9)),
            "thickness": int(rng.integers(6, 30)),
            "offset": (float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.05, 0.05))),
            "slant": float(rng.uniform(-0.3, 0.3)),
        }
        if index % 7 == 3:
            options.update(ink=0, background=255)  # black on white
        if index % 11 == 5:
            options.update(transparent=True)  # ink in the alpha channel
        found.append((f"{digit} {options}", draw_digit(digit, **options)))
    return found


def test_javascript_preprocessing_matches_python(page, site):
    models = {name: checkpoint.load(CHECKPOINTS / f"{name}.safetensors") for name in MODELS}
    differences = []
    for name, image in drawings():
        height, width = image.shape[:2]
        encoded = base64.b64encode(image.tobytes()).decode()
        script = """async ([width, height, encoded]) => {
            const input = kdLab.preprocessRGBA(width, height, Uint8Array.from(atob(encoded), c => c.charCodeAt(0)));
            return {input: Array.from(input), probabilities: await kdLab.predict(input)};
        }"""
        browser = page.page.evaluate(script, [width, height, encoded])
        javascript = np.array(browser["input"], np.float32).reshape(28, 28)
        python = canvas_to_mnist(image)
        differences.append(float(np.abs(javascript - python).max()))
        assert differences[-1] <= MAX_PIXEL_DIFFERENCE, f"{name}: pixels differ by up to {differences[-1]:.2e}"
        for model_name, model in models.items():
            expected = int(predict_proba(model, python)[0].argmax())
            got = int(np.argmax(browser["probabilities"][model_name]))
            assert got == expected, f"{name}: the {model_name} reads {got} in the browser, {expected} in Python"
    assert page.problems == []
    print(
        f"\npreprocessing, JavaScript vs Python on {len(differences)} drawings: largest pixel difference "
        f"{np.mean(differences):.2e} on average, {max(differences):.2e} at most"
    )
