"""Turn a drawing from the canvas into an MNIST-style 28x28 image.

MNIST digits were size-normalised to fit a 20x20 box (aspect ratio kept, anti-aliased) and
then centred in 28x28 by their centre of mass (LeCun et al.). A drawing must go through the
same steps, or the models see something they were never trained on. One step more: MNIST's
writers used pens, so a drawing whose strokes are much thicker than a pen's (a bold face, a
thick brush on a small digit) has them thinned first (`MAX_STROKE`).

A drawing arrives from a browser, so it is untrusted: `decode_drawing` reads the image's size
from its header and refuses one larger than a cap before any pixel is decoded (a 0.56 MB PNG
can declare 10000x10000), and odd arrays (too small, NaN, strange types) are a ValueError with
a message a visitor can read, never a crash.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image

INK_THRESHOLD = 0.1  # ink level (0..1) that counts as drawn, for the bounding box and blankness
DIGIT_BOX = 20  # px: the longer side of the digit after scaling, as in MNIST
SIZE = 28  # px: side of the output image
MAX_ENCODED_BYTES = 10_000_000  # a canvas PNG is a few KB to a few hundred KB
MODES = {"1", "L", "LA", "P", "PA", "RGB", "RGBA"}  # what a canvas or an image editor makes
# A drawing larger than this is refused before any work (a 280 px canvas at a device pixel ratio of 4 is 1.25 M);
# the default of every check here and of the lab's KD_MAX_DRAWING_PIXELS, so that no route can forget it.
MAX_DRAWING_PIXELS = 1_500_000
# Strokes wider than this share of the digit's longer side are thinned toward it (`thinned`), chosen
# on the validation drawings: python -m benchmarks.stroke_width (docs/results.md, "Thick strokes").
MAX_STROKE = 0.2


def decode_drawing(raw: bytes, max_pixels: int = MAX_DRAWING_PIXELS) -> np.ndarray:
    """PNG or JPEG bytes -> an (H, W, 4) uint8 RGBA array; ValueError for an image too big, too small or odd.

    The size comes from the header (PIL opens lazily), so an image over `max_pixels` is
    refused before it is decoded: neither time nor memory depend on what it claims to be.
    """
    if len(raw) > MAX_ENCODED_BYTES:
        raise ValueError(f"the drawing is {len(raw):,} bytes, more than the {MAX_ENCODED_BYTES:,} accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=["PNG", "JPEG"])
    except Image.DecompressionBombError:  # over twice PIL's own cap (the lab sets that to half of max_pixels)
        raise ValueError(f"the drawing has more than the {max_pixels:,} pixels accepted") from None
    except (OSError, ValueError, SyntaxError):
        raise ValueError("the drawing is not a readable PNG or JPEG image") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ValueError(f"the drawing is {width}x{height} pixels, more than the {max_pixels:,} accepted")
    if min(width, height) < 2:
        raise ValueError(f"the drawing is too small: {width}x{height} pixels")
    if image.mode not in MODES:
        raise ValueError(f"the drawing has an unexpected colour mode {image.mode!r}")
    try:
        return np.asarray(image.convert("RGBA"))
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupted pixel data
        raise ValueError(f"the drawing could not be decoded: {exc}") from None


def _to_float(array: np.ndarray) -> np.ndarray:
    """Any real-valued array -> float32 in [0, 1]: 0..1 floats kept, 0..255 scaled, larger ranges by their maximum."""
    if array.dtype == bool:
        return array.astype(np.float32)
    if array.dtype.kind not in "uif":
        raise ValueError(f"expected a numeric image, got values of type {array.dtype}")
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError("the image has NaN or infinite values")
    array = np.clip(array, 0.0, None)
    top = float(array.max(initial=0.0))
    return array / 255.0 if 1.0 < top <= 255.0 else array / top if top > 255.0 else array


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


def canvas_to_mnist(
    image: np.ndarray, max_pixels: int = MAX_DRAWING_PIXELS, max_stroke: float | None = MAX_STROKE
) -> np.ndarray | None:
    """(H, W[, C]) drawing -> (28, 28) float32 in [0, 1], white digit on black; None if blank.

    Strokes wider than `max_stroke` of the digit's longer side are thinned toward it (None: never).
    ValueError for an array that is not an image, or larger than `max_pixels`, before any work on it.
    """
    shape = np.shape(image)
    if len(shape) >= 2 and shape[0] * shape[1] > max_pixels:
        raise ValueError(f"the drawing is {shape[1]}x{shape[0]} pixels, more than the {max_pixels:,} accepted")
    crop = _cropped(ink_map(image))
    if crop is None:
        return None
    if max_stroke is not None:
        crop = thinned(crop, max_stroke)
    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL wants (W, H)
    digit = np.asarray(Image.fromarray(crop).resize(new_size, Image.Resampling.LANCZOS))
    digit = np.clip(digit, 0.0, 1.0)
    # Thin strokes fade when scaled down; restore full contrast so they look like MNIST ink.
    digit = digit / max(float(digit.max()), 1e-6)
    return _paste_centred(digit)


def _cropped(ink: np.ndarray) -> np.ndarray | None:
    """The ink map cut to the box around its drawn pixels; None if nothing is drawn."""
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        return None
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def stroke_width(ink: np.ndarray) -> float:
    """The strokes' mean width in pixels: twice the inked area over its outline (0 for no ink).

    A stroke of width w and length L covers about wL pixels inside an outline of about 2L.
    Ink counts where it is over half; the outline is the inked pixels with a blank 4-neighbour.
    """
    on = ink > 0.5
    area = int(on.sum())
    if area == 0:
        return 0.0
    padded = np.pad(on, 1)
    inner = on & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return 2 * area / int((on & ~inner).sum())


def erode(ink: np.ndarray, steps: int) -> np.ndarray:
    """The ink worn away by `steps` pixels on every side; beyond the edges is blank.

    Each step takes the minimum over a 3x3 neighbourhood, a cross and a square in turn: together
    an octagon, close to a disk, so strokes thin alike in every direction.
    """
    for step in range(steps):
        padded = np.pad(ink, 1)
        around = [padded[1:-1, 1:-1], padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
        if step % 2:
            around += [padded[:-2, :-2], padded[:-2, 2:], padded[2:, :-2], padded[2:, 2:]]
        ink = np.minimum.reduce(around)
    return ink


def thinned(crop: np.ndarray, max_stroke: float) -> np.ndarray:
    """A cropped digit whose strokes are wider than `max_stroke` of its longer side, worn by half the excess on
    each side and cropped again (unchanged if they are not, or if thinning would leave nothing)."""
    excess = stroke_width(crop) - max_stroke * max(crop.shape)
    steps = int(round(excess / 2)) if excess > 0 else 0
    if steps == 0:
        return crop
    thin = _cropped(erode(crop, steps))
    return crop if thin is None else thin


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
