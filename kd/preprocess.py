"""Turn a drawing from the canvas into an MNIST-style 28x28 image.

MNIST digits were size-normalised to fit a 20x20 box (aspect ratio kept, anti-aliased) and
then centred in 28x28 by their centre of mass (LeCun et al.). A drawing must go through the
same steps, or the models see something they were never trained on.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

INK_THRESHOLD = 0.1  # ink level (0..1) that counts as drawn, for the bounding box and blankness
DIGIT_BOX = 20  # px: the longer side of the digit after scaling, as in MNIST
SIZE = 28  # px: side of the output image


def _to_float(array: np.ndarray) -> np.ndarray:
    array = array.astype(np.float32)
    return array / 255.0 if array.max(initial=0.0) > 1.0 else array


def ink_map(image: np.ndarray) -> np.ndarray:
    """Ink level in [0, 1] per pixel, whatever the colour scheme.

    A transparent background means the alpha channel is the drawing. Otherwise the
    background is the colour of the border, and ink is how far a pixel is from it,
    so black-on-white and white-on-black give the same map.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"expected a grey, RGB or RGBA image, got an array of shape {array.shape}")
    if min(array.shape[:2]) < 2:
        raise ValueError(f"image is too small: {array.shape[:2]}")
    array = _to_float(array)
    if array.ndim == 3 and array.shape[2] == 4 and array[..., 3].min() < 0.99:
        return array[..., 3]
    grey = array if array.ndim == 2 else array[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    distance = np.abs(grey - background)
    span = max(background, 1.0 - background)
    return np.clip(distance / span, 0.0, 1.0)


def canvas_to_mnist(image: np.ndarray) -> np.ndarray | None:
    """(H, W[, C]) drawing -> (28, 28) float32 in [0, 1], white digit on black; None if blank."""
    ink = ink_map(image)
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        return None
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL wants (W, H)
    digit = np.asarray(Image.fromarray(crop).resize(new_size, Image.Resampling.LANCZOS))
    digit = np.clip(digit, 0.0, 1.0)
    # Thin strokes fade when scaled down; restore full contrast so they look like MNIST ink.
    digit = digit / max(float(digit.max()), 1e-6)
    return _paste_centred(digit)


def _paste_centred(digit: np.ndarray) -> np.ndarray:
    """Paste a (h, w) digit into 28x28 so its centre of mass lands on the centre."""
    height, width = digit.shape
    total = float(digit.sum())
    ys, xs = np.indices(digit.shape)
    centre_y, centre_x = (ys * digit).sum() / total, (xs * digit).sum() / total
    top = int(round(SIZE / 2 - centre_y))
    left = int(round(SIZE / 2 - centre_x))
    top = min(max(top, 0), SIZE - height)  # keep the whole digit inside the frame
    left = min(max(left, 0), SIZE - width)
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top : top + height, left : left + width] = digit
    return out
