"""Digits typed in a font, then varied the way a hand varies them: pen, size, place, rotation, slant."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kd.infer.drawn.canvas import CANVAS

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
# Only faces whose digits a person would also write: no slashed or dotted zeros (the mono faces).
# The "fonts" set: both families, as the project has measured it since the first drawn-digit check.
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-ExtraLight.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Italic.ttf",
    "LiberationSans-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationSans-Italic.ttf",
    "LiberationSansNarrow-Regular.ttf",
    "LiberationSerif-Regular.ttf",
    "LiberationSerif-Italic.ttf",
)
# The validation set types in DejaVu faces only, the held-back set in Liberation faces only.
VALIDATION_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSans-ExtraLight.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSansCondensed-Oblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerifCondensed.ttf",
)
HELDBACK_FONTS = (
    "LiberationSans-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationSans-Italic.ttf",
    "LiberationSans-BoldItalic.ttf",
    "LiberationSansNarrow-Regular.ttf",
    "LiberationSansNarrow-Bold.ttf",
    "LiberationSansNarrow-Italic.ttf",
    "LiberationSerif-Regular.ttf",
    "LiberationSerif-Bold.ttf",
    "LiberationSerif-Italic.ttf",
    "LiberationSerif-BoldItalic.ttf",
)


@dataclass(frozen=True)
class Variation:
    """How far a typed digit strays from a neatly centred, upright one."""

    height: tuple[float, float] = (0.3, 0.9)  # font size as a share of the canvas; a digit is ~0.73 of it
    # Extra pen width on each side of the font's own stroke, as a share of the font size. The
    # dashboard's pen is 18 px of 280: 10 % of the height of the largest digits here and 29 % of
    # the smallest. At 0.06 a regular face's strokes reach about 30 % of the digit's height
    # (DejaVu Sans: 14 % of its own); bold faces (24 %) go beyond what that pen draws.
    stroke: tuple[float, float] = (0.0, 0.06)
    rotation: float = 15.0  # degrees, either way
    slant: float = 0.25  # horizontal shear, either way


def available_fonts(names: Sequence[str] = FONT_FILES) -> list[Path]:
    """The named font files found on this machine (fonts-dejavu, fonts-liberation); an error if none is."""
    found = [folder / name for name in names for folder in FONT_DIRS if (folder / name).exists()]
    if not found:
        raise FileNotFoundError(f"none of {', '.join(names)} found in {', '.join(map(str, FONT_DIRS))}")
    return found


def render_digit(
    digit: int, font_path: Path, height: float, stroke: float, angle: float, slant: float, position: np.ndarray
) -> np.ndarray:
    """One (280, 280) uint8 ink map, white digit on black; `position` in [0, 1]^2 places it."""
    pixels = int(height * CANVAS)
    font = ImageFont.truetype(str(font_path), size=pixels)
    stroke_width = int(round(stroke * pixels))
    layer = Image.new("L", (2 * CANVAS, 2 * CANVAS), 0)
    ImageDraw.Draw(layer).text(
        (CANVAS, CANVAS), str(digit), fill=255, font=font, anchor="mm", stroke_width=stroke_width, stroke_fill=255
    )
    # slant: x' = x + slant * (centre_y - y), about the layer's centre
    layer = layer.transform(
        layer.size, Image.Transform.AFFINE, (1, slant, -slant * CANVAS, 0, 1, 0), Image.Resampling.BILINEAR
    )
    layer = layer.rotate(angle, Image.Resampling.BILINEAR)
    ink = layer.crop(layer.getbbox())
    scale = min(1.0, 0.95 * CANVAS / max(ink.size))  # a huge slanted digit still fits the canvas
    if scale < 1.0:
        ink = ink.resize((max(1, int(ink.width * scale)), max(1, int(ink.height * scale))), Image.Resampling.BILINEAR)
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    left, top = ((np.array([CANVAS, CANVAS]) - ink.size) * position).astype(int)
    canvas.paste(ink, (int(left), int(top)))
    return np.asarray(canvas)


def typed_digits(
    fonts: Sequence[str], variation: Variation, count: int, rng: np.random.Generator
) -> Iterator[tuple[int, np.ndarray]]:
    """`count` (digit, ink map) pairs, digits cycling 0..9, face and variation drawn from `rng`."""
    paths = available_fonts(fonts)
    for index in range(count):
        digit = index % 10
        yield (
            digit,
            render_digit(
                digit,
                paths[rng.integers(len(paths))],
                height=rng.uniform(*variation.height),
                stroke=rng.uniform(*variation.stroke),
                angle=rng.uniform(-variation.rotation, variation.rotation),
                slant=rng.uniform(-variation.slant, variation.slant),
                position=rng.uniform(0.0, 1.0, size=2),
            ),
        )
