"""Digits at 8x8, upscaled onto the canvas: scikit-learn's handwriting, and others brought as low.

sklearn.datasets.load_digits (bundled with scikit-learn, no download) holds the 1,797 digits of
the UCI optdigits test set, written on forms by 13 people, a collection apart from MNIST: 32x32
bitmaps, on pixels counted in 4x4 blocks into 8x8 images of 0..16. They are held back: nothing
may be trained or chosen on them. `coarse_digits` takes written digits (strokes.py) down the
same documented way (fitted to a 32x32 bitmap, blocks counted), so that the validation set
holds low-resolution digits too; `mnist_digits` does the same to people's handwriting that no
shipped model has seen, MNIST's validation images. Each kind is scaled up, nearest (blocky, as a low-resolution
scan) or bilinear (soft), to a person's digit size and placed on the canvas with margins.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

from kd.data import load_mnist, validation_set
from kd.infer.drawn.canvas import CANVAS
from kd.infer.drawn.strokes import Hand, written_digits

SKLEARN_DIGITS = 1797  # images in sklearn.datasets.load_digits
BITMAP, BLOCK = 32, 4  # optdigits: 32x32 bitmaps, counted in 4x4 blocks
HEIGHT = (0.35, 0.85)  # the digit's height as a share of the canvas
MARGIN = 0.05  # share of the canvas kept clear on each side, as a person keeps off the edge
UPSCALING = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR)


def load_sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 8, 8) uint8 ink maps (0..255) and their labels; a clear error without scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError("the held-back set needs scikit-learn (pip install -e '.[dev]')") from exc
    digits = load_digits()
    return np.rint(digits.images * (255 / 16)).astype(np.uint8), digits.target


def block_counts(ink: np.ndarray) -> np.ndarray:
    """An (8, 8) uint8 ink map (0..255): the digit fitted to a 32x32 bitmap, keeping its shape, on pixels counted."""
    image = Image.fromarray(ink)
    digit = image.crop(image.getbbox())
    scale = BITMAP / max(digit.size)
    size = (max(1, round(digit.width * scale)), max(1, round(digit.height * scale)))
    digit = digit.resize(size, Image.Resampling.BOX)  # each bit on where the pen covers half of it or more
    bitmap = Image.new("L", (BITMAP, BITMAP), 0)
    bitmap.paste(digit, ((BITMAP - digit.width) // 2, (BITMAP - digit.height) // 2))
    on = np.asarray(bitmap) >= 128
    counts = on.reshape(BITMAP // BLOCK, BLOCK, BITMAP // BLOCK, BLOCK).sum(axis=(1, 3))
    return np.rint(counts * (255 / BLOCK**2)).astype(np.uint8)


def upscaled_ink(small: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A (280, 280) uint8 ink map: the 8x8 digit scaled to a drawn size and placed within the margins."""
    side = round(rng.uniform(*HEIGHT) * CANVAS)
    digit = Image.fromarray(small).resize((side, side), UPSCALING[rng.integers(len(UPSCALING))])
    free = CANVAS - side - 2 * MARGIN * CANVAS
    left, top = (MARGIN * CANVAS + free * rng.uniform(0.0, 1.0, size=2)).astype(int)
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    canvas.paste(digit, (int(left), int(top)))
    return np.asarray(canvas)


def sklearn_digits(count: int, rng: np.random.Generator) -> Iterator[tuple[int, np.ndarray]]:
    """Up to `count` (digit, ink map) pairs from the 1,797, in an order drawn from `rng`."""
    images, labels = load_sklearn_digits()
    for index in rng.permutation(len(labels))[:count]:
        yield int(labels[index]), upscaled_ink(images[index], rng)


def coarse_digits(hand: Hand, count: int, rng: np.random.Generator) -> Iterator[tuple[int, np.ndarray]]:
    """`count` (digit, ink map) pairs: digits written by `hand`, taken down to 8x8 and upscaled again."""
    for digit, ink in written_digits(hand, count, rng):
        yield digit, upscaled_ink(block_counts(ink), rng)


def mnist_digits(count: int, rng: np.random.Generator) -> Iterator[tuple[int, np.ndarray]]:
    """Up to `count` (digit, ink map) pairs: MNIST's validation images (the last 10,000 training images, which the
    shipped models do not train on), in an order drawn from `rng`, taken down to 8x8 and upscaled again."""
    data = load_mnist()
    images, labels = (tensor.numpy() for tensor in validation_set(data))
    for index in rng.permutation(len(labels))[:count]:
        yield int(labels[index]), upscaled_ink(block_counts(images[index]), rng)
