"""What counts as a whole number and as a number in a run's settings: bools are neither, NaN and infinities are not
numbers. One place, so that every setting is checked alike (kd.train, kd.data, kd.augment)."""

from __future__ import annotations

import math


def is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
