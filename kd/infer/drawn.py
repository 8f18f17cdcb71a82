"""Drawn digits that are not MNIST: a check that the models read what people draw.

Each digit is typed in one of several fonts, then varied the way a hand varies it: pen
thickness, size, position on the canvas, rotation and slant. It is drawn white on black on a
280x280 canvas like the dashboard's and goes through kd.preprocess.canvas_to_mnist, exactly as
a drawing does. The set is a function of its seed, so a figure quoted from it can be rerun:

    python -m kd.infer.drawn checkpoints/teacher.safetensors checkpoints/student.safetensors
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kd.preprocess import canvas_to_mnist

CANVAS = 280  # px, the dashboard's canvas side
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))
# Faces whose digits a person would also write: no slashed or dotted zeros (the mono faces).
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


@dataclass(frozen=True)
class Variation:
    """How far a drawn digit strays from a neatly centred, upright one."""

    height: tuple[float, float] = (0.3, 0.9)  # font size as a share of the canvas; a digit is ~0.73 of it
    # Extra pen width on each side of the font's own stroke, as a share of the font size. The
    # dashboard's pen is 18 px of 280: 10 % of the height of the largest digits here and 29 % of
    # the smallest. At 0.06 a regular face's strokes reach about 30 % of the digit's height
    # (DejaVu Sans: 14 % of its own); bold faces (24 %) go beyond what that pen draws.
    stroke: tuple[float, float] = (0.0, 0.06)
    rotation: float = 15.0  # degrees, either way
    slant: float = 0.25  # horizontal shear, either way


def available_fonts() -> list[Path]:
    """The listed font files found on this machine (fonts-dejavu-core, fonts-liberation)."""
    return [folder / name for name in FONT_FILES for folder in FONT_DIRS if (folder / name).exists()]


def render_digit(
    digit: int, font_path: Path, height: float, stroke: float, angle: float, slant: float, position: np.ndarray
) -> np.ndarray:
    """One (280, 280) uint8 canvas, white digit on black; `position` in [0, 1]^2 places it."""
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


def drawn_digits(count: int = 500, seed: int = 0, variation: Variation = Variation()) -> tuple[np.ndarray, np.ndarray]:
    """(count, 28, 28) float32 images as canvas_to_mnist returns them and their (count,) labels.

    Digits cycle 0..9, so every class has the same share; the rest is drawn from `seed`.
    """
    fonts = available_fonts()
    if not fonts:
        raise FileNotFoundError(f"no fonts found in {', '.join(map(str, FONT_DIRS))}")
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for index in range(count):
        digit = index % 10
        canvas = render_digit(
            digit,
            fonts[rng.integers(len(fonts))],
            height=rng.uniform(*variation.height),
            stroke=rng.uniform(*variation.stroke),
            angle=rng.uniform(-variation.rotation, variation.rotation),
            slant=rng.uniform(-variation.slant, variation.slant),
            position=rng.uniform(0.0, 1.0, size=2),
        )
        images.append(canvas_to_mnist(canvas))
        labels.append(digit)
    return np.stack(images).astype(np.float32), np.array(labels)


def main(argv: list[str] | None = None) -> int:
    """Print each checkpoint's accuracy on the drawn digits (and the digits each one misreads most)."""
    from kd.checkpoint import CheckpointError, load
    from kd.predict import predict_proba

    parser = argparse.ArgumentParser(prog="python -m kd.infer.drawn", description=main.__doc__)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--count", type=int, default=500, help="digits in the set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.count < 1:
            raise ValueError("--count must be at least 1")
        images, labels = drawn_digits(args.count, args.seed)
        results = {}
        for path in args.checkpoints:
            predictions = predict_proba(load(path), images).argmax(axis=1)
            wrong = predictions != labels
            results[path] = {
                "accuracy": float(1 - wrong.mean()),
                "errors": int(wrong.sum()),
                "errors_per_digit": np.bincount(labels[wrong], minlength=10).tolist(),
            }
    except (ValueError, OSError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"count": args.count, "seed": args.seed, "results": results}))
    else:
        for path, result in results.items():
            print(
                f"{path}: {result['accuracy']:.2%} of {args.count} drawn digits read right;"
                f" errors per digit {result['errors_per_digit']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
