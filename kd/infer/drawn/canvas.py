"""The three kinds of canvas a drawing arrives on, all made from one ink map.

An ink map is a (H, W) uint8 array, 255 where the pen covered the pixel fully and 0 where it did
not touch it. The dashboard's canvas is white on black; the Streamlit canvas with a transparent
background returns the pen's colour with the coverage in the alpha channel; a scan or an image
editor gives dark ink on white. kd.preprocess.canvas_to_mnist must read all three alike.
"""

from __future__ import annotations

import numpy as np

from kd.drawing_facts import CANVAS_PIXELS

CANVAS = CANVAS_PIXELS  # px, the apps' canvas side, under the short name the drawn modules use
CANVAS_KINDS = ("white-on-black", "transparent", "black-on-white")
WHITE, BLACK = (255, 255, 255), (0, 0, 0)
# A pen on a transparent canvas may have any colour: only the alpha channel says where it went.
TRANSPARENT_INKS = (WHITE, BLACK, (220, 40, 40), (40, 90, 220))
# Dark pens on white: black, graphite grey and blue-black, which leave less contrast than black.
DARK_INKS = (BLACK, (70, 70, 70), (20, 30, 110))


def paint(ink: np.ndarray, colour: tuple[int, int, int], background: tuple[int, int, int] | None) -> np.ndarray:
    """An (H, W, 4) uint8 RGBA canvas: `colour` laid over `background` by coverage, or over nothing if None."""
    coverage = ink[..., None].astype(np.float32) / 255.0
    if background is None:
        # A browser keeps the pen's colour under a partial alpha; untouched pixels are (0, 0, 0, 0).
        rgb = np.where(coverage > 0, np.float32(colour), np.float32(0))
        alpha = ink
    else:
        rgb = np.float32(background) * (1 - coverage) + np.float32(colour) * coverage
        alpha = np.full_like(ink, 255)
    return np.dstack([np.rint(rgb).astype(np.uint8), alpha])


def on_canvas(ink: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """`ink` on a canvas of `kind`; where a kind allows several pens, `rng` picks one."""
    if kind == "white-on-black":  # the dashboard's pen and background: nothing to draw
        return paint(ink, WHITE, BLACK)
    if kind == "transparent":
        return paint(ink, TRANSPARENT_INKS[rng.integers(len(TRANSPARENT_INKS))], None)
    if kind == "black-on-white":
        return paint(ink, DARK_INKS[rng.integers(len(DARK_INKS))], WHITE)
    raise ValueError(f"unknown canvas kind {kind!r}; expected one of {', '.join(CANVAS_KINDS)}")
