"""Digits drawn as pen strokes, the way a mouse or a finger draws them on the canvas.

`draw_digit` draws a neat form (forms.STROKES) with a round pen, unvaried: the tests' drawings.
`written_digits` writes any form of forms.FORMS by hand: corners rounded, the whole digit
smoothly warped (a writer's proportions), the pen shaking along each stroke, then widened or
narrowed, slanted, rotated, sized and placed at random, with a pen from thin to thick.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from kd.drawing_facts import PEN_WIDTH
from kd.infer.drawn.canvas import CANVAS, paint
from kd.infer.drawn.forms import FORMS, STROKES, Point

SUPERSAMPLE = 4  # a written digit is drawn 4x larger and scaled down: anti-aliased like a browser's canvas
STEP = 0.01  # spacing of the points along a written stroke, in the unit box


@dataclass(frozen=True)
class Hand:
    """How far a writer's digits stray from the forms."""

    height: tuple[float, float] = (0.3, 0.85)  # the digit's height as a share of the canvas
    pen: tuple[float, float] = (0.04, 0.22)  # the pen's width as a share of the digit's height
    width: tuple[float, float] = (0.75, 1.2)  # the digit's width against its form's
    slant: float = 0.3  # horizontal shear, either way
    rotation: float = 12.0  # degrees, either way
    warp: float = 0.03  # size of the smooth distortion of the whole digit, in the unit box
    tremor: float = 0.006  # size of the pen's shake along a stroke, in the unit box


def stroke_line(pen: ImageDraw.ImageDraw, points: Sequence[Point], width: int, fill: int) -> None:
    """One stroke as a canvas draws it: a polyline with round joints and round ends."""
    pen.line(list(points), fill=fill, width=width, joint="curve")
    radius = width / 2
    for x, y in (points[0], points[-1]):
        pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def draw_digit(
    digit: int,
    size: int = CANVAS,
    box: float = 0.75,
    thickness: int = PEN_WIDTH,
    offset: tuple[float, float] = (0.0, 0.0),
    slant: float = 0.0,
    ink: int = 255,
    background: int = 0,
    transparent: bool = False,
) -> np.ndarray:
    """An RGBA (size, size, 4) uint8 drawing of STROKES[digit]; box is the digit's height as a share of the canvas.

    `ink` and `background` are grey levels; a transparent canvas has no background.
    """
    mask = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(mask)
    left = (1 - box) / 2 + offset[0]
    top = (1 - box) / 2 + offset[1]
    for stroke in STROKES[digit]:
        points = [(size * (left + box * (x + slant * (0.5 - y))), size * (top + box * y)) for x, y in stroke]
        stroke_line(pen, points, thickness, 255)
    return paint(np.asarray(mask), (ink,) * 3, None if transparent else (background,) * 3)


def round_corners(points: np.ndarray, passes: int = 2) -> np.ndarray:
    """Chaikin's corner cutting, ends kept: a hand turns in curves where a polyline has corners."""
    for _ in range(passes):
        cuts = np.empty((2 * len(points) - 2, 2))
        cuts[0::2] = 0.75 * points[:-1] + 0.25 * points[1:]
        cuts[1::2] = 0.25 * points[:-1] + 0.75 * points[1:]
        points = np.vstack([points[:1], cuts, points[-1:]])
    return points


def resample(points: np.ndarray, step: float = STEP) -> np.ndarray:
    """Points evenly spaced by `step` along the polyline, so that a shake is as dense on long and short strokes."""
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    at = np.linspace(0.0, along[-1], max(2, int(along[-1] / step) + 1))
    return np.column_stack([np.interp(at, along, points[:, axis]) for axis in range(2)])


def warp(strokes: list[np.ndarray], strength: float, rng: np.random.Generator) -> list[np.ndarray]:
    """The same smooth random distortion of the unit box on every stroke: a writer's proportions."""
    frequency = rng.uniform(-1.2, 1.2, size=(2, 2))  # one wave across the box per axis, at most 1.2 periods
    phase = rng.uniform(0.0, 2 * np.pi, size=2)
    amplitude = rng.normal(0.0, strength, size=2)
    return [s + amplitude * np.sin(2 * np.pi * s @ frequency.T + phase) for s in strokes]


def shake(stroke: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """The stroke with the pen's slow tremor: random offsets every 10 points, joined smoothly."""
    knots = max(2, len(stroke) // 10)
    offsets = rng.normal(0.0, strength, size=(knots, 2))
    at, knot_at = np.linspace(0.0, 1.0, len(stroke)), np.linspace(0.0, 1.0, knots)
    return stroke + np.column_stack([np.interp(at, knot_at, offsets[:, axis]) for axis in range(2)])


def pose(strokes: list[np.ndarray], hand: Hand, rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes widened or narrowed, slanted and rotated about the box's centre."""
    width = rng.uniform(*hand.width)
    slant = rng.uniform(-hand.slant, hand.slant)
    angle = np.radians(rng.uniform(-hand.rotation, hand.rotation))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[width, -slant], [0.0, 1.0]])  # y grows downwards: a positive slant leans the top right
    return [(s - 0.5) @ (rotation @ shear).T for s in strokes]


def placed(strokes: list[np.ndarray], height: float, pen: float, rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes in canvas pixels, `height` tall (less if too wide to fit), all ink inside, anywhere on it."""
    points = np.vstack(strokes)
    low, extent = points.min(axis=0), np.ptp(points, axis=0)
    scale = min(height / extent[1], (0.95 * CANVAS - pen) / extent.max())
    corner = pen / 2 + (CANVAS - pen - extent * scale) * rng.uniform(0.0, 1.0, size=2)
    return [corner + (s - low) * scale for s in strokes]


def written_ink(form: list[Sequence[Point]], hand: Hand, rng: np.random.Generator) -> np.ndarray:
    """A (280, 280) uint8 ink map of `form` written by `hand`."""
    strokes = [resample(round_corners(np.asarray(stroke, dtype=float))) for stroke in form]
    strokes = pose([shake(s, hand.tremor, rng) for s in warp(strokes, hand.warp, rng)], hand, rng)
    height = rng.uniform(*hand.height) * CANVAS
    pen = max(2.0, rng.uniform(*hand.pen) * height)
    big = Image.new("L", (SUPERSAMPLE * CANVAS, SUPERSAMPLE * CANVAS), 0)
    drawing = ImageDraw.Draw(big)
    for stroke in placed(strokes, height, pen, rng):
        stroke_line(drawing, [tuple(p) for p in SUPERSAMPLE * stroke], round(SUPERSAMPLE * pen), 255)
    return np.asarray(big.resize((CANVAS, CANVAS), Image.Resampling.BOX))


def written_digits(hand: Hand, count: int, rng: np.random.Generator) -> Iterator[tuple[int, np.ndarray]]:
    """`count` (digit, ink map) pairs, digits cycling 0..9, form and hand's variation drawn from `rng`."""
    for index in range(count):
        digit = index % 10
        yield digit, written_ink(FORMS[digit][rng.integers(len(FORMS[digit]))], hand, rng)
