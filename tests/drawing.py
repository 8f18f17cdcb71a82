"""Synthetic hand-drawn digits: polylines in a unit box, drawn with a round pen like the canvas."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def ellipse(x0, y0, x1, y1, points=40):
    angles = np.linspace(0, 2 * np.pi, points)
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return [(cx + rx * np.sin(a), cy - ry * np.cos(a)) for a in angles]


STROKES = {
    0: [ellipse(0.28, 0.1, 0.72, 0.9)],
    1: [[(0.45, 0.18), (0.55, 0.1), (0.55, 0.9)]],
    2: [[(0.25, 0.3), (0.33, 0.15), (0.5, 0.1), (0.67, 0.15), (0.72, 0.3), (0.65, 0.47), (0.25, 0.9), (0.78, 0.9)]],
    3: [
        [
            (0.25, 0.15),
            (0.5, 0.08),
            (0.7, 0.18),
            (0.7, 0.35),
            (0.45, 0.48),
            (0.7, 0.6),
            (0.72, 0.78),
            (0.5, 0.92),
            (0.25, 0.85),
        ]
    ],
    4: [[(0.55, 0.1), (0.2, 0.62), (0.8, 0.62)], [(0.62, 0.35), (0.62, 0.92)]],
    5: [[(0.72, 0.1), (0.32, 0.1), (0.28, 0.45), (0.5, 0.4), (0.7, 0.5), (0.72, 0.72), (0.55, 0.9), (0.25, 0.85)]],
    6: [
        [
            (0.68, 0.1),
            (0.42, 0.28),
            (0.3, 0.55),
            (0.32, 0.82),
            (0.5, 0.92),
            (0.68, 0.82),
            (0.68, 0.62),
            (0.5, 0.52),
            (0.32, 0.62),
        ]
    ],
    7: [[(0.25, 0.12), (0.75, 0.12), (0.42, 0.9)]],
    8: [ellipse(0.32, 0.1, 0.68, 0.48), ellipse(0.28, 0.48, 0.72, 0.9)],
    9: [ellipse(0.3, 0.1, 0.7, 0.5), [(0.7, 0.3), (0.66, 0.9)]],
}


def draw_digit(
    digit: int,
    size: int = 280,
    box: float = 0.75,
    thickness: int = 18,
    offset: tuple[float, float] = (0.0, 0.0),
    slant: float = 0.0,
    ink: int = 255,
    background: int = 0,
    transparent: bool = False,
) -> np.ndarray:
    """An RGBA (size, size, 4) uint8 drawing; box is the digit's height as a share of the canvas."""
    image = Image.new("RGBA", (size, size), (background,) * 3 + (0 if transparent else 255,))
    pen = ImageDraw.Draw(image)
    left = (1 - box) / 2 + offset[0]
    top = (1 - box) / 2 + offset[1]
    for stroke in STROKES[digit]:
        points = [(size * (left + box * (x + slant * (0.5 - y))), size * (top + box * y)) for x, y in stroke]
        pen.line(points, fill=(ink, ink, ink, 255), width=thickness, joint="curve")
        radius = thickness / 2
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(ink, ink, ink, 255))
    return np.asarray(image)
