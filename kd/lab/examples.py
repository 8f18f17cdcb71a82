"""Examples to click on the Draw pages: a few MNIST validation digits and a few drawn ones, as canvases.

Every example is a 280x280 white-on-black canvas, the pad's own, so a front end answers it as it
answers a drawing: the lab prepares it (kd.preprocess, cropped to the ink and centred) and the
models answer it. MNIST validation digits are the last 10,000 training images, which no shipped
model trains on, scaled up ten times; drawn ones are kd.infer.drawn's written digits with a slant,
the forms people draw. Validation digits need MNIST; the drawn ones are there even without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kd.data import FIT_SIZE, MNIST
from kd.infer.drawn import draw_digit
from kd.infer.drawn.canvas import BLACK, WHITE, paint
from kd.lab.widgets import CANVAS_PIXELS

VALIDATION_INDICES = (3, 47, 1024, 2718)  # into the validation images: four digits picked once, any would do
DRAWN = ((4, 0.25), (7, -0.15), (9, 0.1), (2, 0.3))  # (digit, slant): forms a hand draws, leaning either way
SCALE = CANVAS_PIXELS // 28  # a 28x28 image onto the pad, each pixel a block


@dataclass(frozen=True)
class Example:
    key: str  # what a page sends back: "validation-3", "drawn-4"
    caption: str  # what the page shows under it, short: "MNIST 3" (a validation digit), "drawn 4"
    canvas: np.ndarray  # (280, 280, 4) uint8, white on black: what the pad would hold


def drawn_keys() -> list[str]:
    return [f"drawn-{digit}" for digit, _ in DRAWN]


def validation_keys() -> list[str]:
    return [f"validation-{index}" for index in VALIDATION_INDICES]


def drawn_example(digit: int, slant: float) -> Example:
    canvas = draw_digit(digit, slant=slant, box=0.6)
    return Example(f"drawn-{digit}", f"drawn {digit}", canvas)


def validation_example(data: MNIST, index: int) -> Example:
    image = data.train_images[FIT_SIZE + index].numpy()
    ink = np.kron(image, np.ones((SCALE, SCALE), np.uint8))
    label = int(data.train_labels[FIT_SIZE + index])
    return Example(f"validation-{index}", f"MNIST {label}", paint(ink, WHITE, BLACK))


def example(key: str, data: MNIST | None) -> Example:
    """The example a key (of `validation_keys` or `drawn_keys`) names; a validation digit needs `data`."""
    drawn = {f"drawn-{digit}": (digit, slant) for digit, slant in DRAWN}
    if key in drawn:
        return drawn_example(*drawn[key])
    return validation_example(data, int(key.removeprefix("validation-")))
