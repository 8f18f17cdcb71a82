"""The static page's preprocessing (kd/site/static/preprocess.js) against kd.preprocess.canvas_to_mnist.

The page feeds the models what the JavaScript makes of a drawing, the apps what the Python makes of it.
Here node runs the page's own file on the same RGBA drawings as the Python, on every `make test` (no
browser needed): the 28x28 images must agree to float32 rounding, and so must the shipped models' answers.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from drawing import draw_digit

from kd import checkpoint
from kd.predict import predict_proba
from kd.preprocess import canvas_to_mnist

ROOT = Path(__file__).resolve().parents[1]
PREPROCESS_JS = ROOT / "kd" / "site" / "static" / "preprocess.js"
NODE = shutil.which("node")
# Each drawing as base64 RGBA bytes in, each 28x28 image as base64 float32 bytes out (null for a blank one).
RUNNER = """
const { canvasToMnist } = require(process.argv[1]);
const drawings = JSON.parse(require("fs").readFileSync(0, "utf8"));
const images = drawings.map(([width, height, rgba]) => {
  const image = canvasToMnist(width, height, new Uint8Array(Buffer.from(rgba, "base64")));
  return image && Buffer.from(image.buffer).toString("base64");
});
process.stdout.write(JSON.stringify(images));
"""
MAX_PIXEL_DIFFERENCE = 1e-5  # float32 rounding (3e-7 at most over 1,500 random drawings); one pixel shifted is ~1

pytestmark = pytest.mark.skipif(NODE is None, reason="needs node on PATH (Node.js 20, which `make npm` needs too)")


def bar(height: int, width: int) -> np.ndarray:
    """A white height x width bar on a black 280x280 canvas: ink of one level, so every step is exact."""
    image = np.zeros((280, 280, 4), np.uint8)
    image[..., 3] = 255
    image[100 : 100 + height, 130 : 130 + width, :3] = 255
    return image


def drawings() -> dict[str, np.ndarray]:
    return {
        "2 as the page's pad draws it": draw_digit(2),
        "7, small and off centre": draw_digit(7, box=0.35, offset=(0.2, -0.15)),
        "0, black on white": draw_digit(0, ink=0, background=255),
        "1, thin pen, tall and narrow": draw_digit(1, size=200, thickness=4),
        "4, ink in the alpha channel": draw_digit(4, transparent=True),
        "8, thick pen on a large canvas": draw_digit(8, size=560, box=0.9, thickness=44),
        "4, a brush as thick as a bold face: thinned": draw_digit(4, box=0.4, thickness=48),
        "0, thick ink on white: thinned": draw_digit(0, box=0.5, thickness=50, ink=0, background=255),
        "3, grey on grey, slanted": draw_digit(3, ink=90, background=180, slant=0.3),
        "9 touching the edge": draw_digit(9, box=0.95, offset=(0.1, 0.05)),
        "5 on a tiny canvas": draw_digit(5, size=40, thickness=3),
        "6 on a tall canvas": np.ascontiguousarray(draw_digit(6, slant=-0.2)[:, 40:230]),
        "a 12x20 bar, shifted 8.5 px: Python rounds halves to even": bar(20, 12),
        "a 25x40 bar, 12.5 px wide once scaled: rounded to even": bar(40, 25),
        "blank": bar(0, 0),
    }


def javascript(images: list[np.ndarray]) -> list[np.ndarray | None]:
    payload = [[image.shape[1], image.shape[0], base64.b64encode(image.tobytes()).decode()] for image in images]
    done = subprocess.run(
        [NODE, "-e", RUNNER, str(PREPROCESS_JS)], input=json.dumps(payload), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [
        None if found is None else np.frombuffer(base64.b64decode(found), np.float32).reshape(28, 28)
        for found in json.loads(done.stdout)
    ]


def test_javascript_preprocessing_matches_python_and_the_models_answer_alike():
    cases = drawings()
    thinned = [name for name, image in cases.items() if "thinned" in name]
    for name in thinned:  # the thinning is compared too, not only the steps around it
        assert not np.array_equal(canvas_to_mnist(cases[name]), canvas_to_mnist(cases[name], max_stroke=None)), name
    python = {name: canvas_to_mnist(image) for name, image in cases.items()}
    browser = dict(zip(cases, javascript(list(cases.values())), strict=True))
    assert python.pop("blank") is None and browser.pop("blank") is None
    for name, image in python.items():
        assert browser[name] is not None, f"{name}: blank to the JavaScript"
        difference = float(np.abs(browser[name] - image).max())
        assert difference <= MAX_PIXEL_DIFFERENCE, f"{name}: pixels differ by up to {difference:.2e}"
    names = list(python)
    for model_name in ("teacher", "student"):
        model = checkpoint.load(ROOT / "checkpoints" / f"{model_name}.safetensors")
        for temperature in (1.0, 4.0):
            expected = predict_proba(model, np.stack([python[name] for name in names]), temperature)
            got = predict_proba(model, np.stack([browser[name] for name in names]), temperature)
            assert (got.argmax(1) == expected.argmax(1)).all(), f"the {model_name} reads the two inputs differently"
            assert np.abs(got - expected).max() <= 1e-4, f"the {model_name}'s probabilities differ at T={temperature}"


def test_javascript_matches_python_on_drawn_validation_digits_thick_ones_thinned():
    from kd.infer.drawn import drawn_set

    canvases = []

    def keep(canvas):
        canvases.append(canvas)
        return canvas_to_mnist(canvas)

    drawn = drawn_set("validation", seed=0, count=20, prepare=keep)  # typed, written and coarse, on all 3 kinds
    browser = javascript(canvases)
    assert (
        sum(
            not np.array_equal(image, canvas_to_mnist(c, max_stroke=None))
            for c, image in zip(canvases, drawn.images, strict=True)
        )
        >= 3
    )
    for index, (python, found) in enumerate(zip(drawn.images, browser, strict=True)):
        assert np.abs(found - python).max() <= MAX_PIXEL_DIFFERENCE, f"drawn digit {index}"
