"""Synthetic hand-drawn digits for the tests: kd.infer.drawn.strokes.draw_digit, a neat form of
each digit drawn with a round pen like the canvas (kept importable here for the tests and
benchmarks that import `drawing`)."""

from kd.infer.drawn.strokes import draw_digit

__all__ = ["draw_digit"]
