"""The named sets of drawn digits, each a function of its name and seed.

Every digit is an ink map from one part's generator (typed; written strokes; written strokes or
MNIST's validation digits brought down to 8x8; scikit-learn's 8x8 digits), put on a canvas of one
kind (cycling through the set's kinds, so that each digit has each kind as often) and prepared by
kd.preprocess.canvas_to_mnist exactly as a drawing is. Each part draws from its own random
stream, keyed by the set and the part, so no two sets or parts share draws whatever seeds they
are given, and a smaller count gives a prefix of a part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np

from kd.infer.drawn.canvas import CANVAS_KINDS, on_canvas
from kd.infer.drawn.lowres import SKLEARN_DIGITS, coarse_digits, mnist_digits, sklearn_digits
from kd.infer.drawn.strokes import Hand, written_digits
from kd.infer.drawn.typed import FONT_FILES, HELDBACK_FONTS, VALIDATION_FONTS, Variation, typed_digits
from kd.preprocess import canvas_to_mnist

Digits = Callable[[int, np.random.Generator], Iterator[tuple[int, np.ndarray]]]


@dataclass(frozen=True)
class Part:
    """One source of digits in a set."""

    name: str  # "typed", "strokes", "coarse", "mnist" or "sklearn": how the report groups the digits
    digits: Digits  # (count, rng) -> (digit, ink map) pairs
    count: int  # digits it gives unless asked for fewer or more
    stream: tuple[int, ...]  # mixed into the seed; nonzero, since numpy ignores trailing zeros in a seed


@dataclass(frozen=True)
class SetSpec:
    kinds: tuple[str, ...]
    parts: tuple[Part, ...]


# Both sets reach thick pens, so that choices made on the validation set see them; the held-back
# set reaches a little further. Typed strokes are widened up to 0.07 (validation) or 0.08 of the
# font size on each side (a regular face's strokes then reach ~33 % or ~36 % of the digit's
# height), written pens up to 26 % or 30 % of the digit's height.
VALIDATION_TYPE, VALIDATION_HAND = Variation(stroke=(0.0, 0.07)), Hand(pen=(0.04, 0.26))
HELDBACK_TYPE, HELDBACK_HAND = Variation(stroke=(0.02, 0.08)), Hand(pen=(0.04, 0.30))

SETS = {
    # The project's first check: 13 faces of both families, white on black. It shares the
    # Liberation faces with the held-back set, so no choice may be made on it either.
    "fonts": SetSpec(("white-on-black",), (Part("typed", partial(typed_digits, FONT_FILES, Variation()), 500, ()),)),
    "validation": SetSpec(
        CANVAS_KINDS,
        (
            Part("typed", partial(typed_digits, VALIDATION_FONTS, VALIDATION_TYPE), 500, (1, 1)),
            Part("strokes", partial(written_digits, VALIDATION_HAND), 500, (1, 2)),
            Part("coarse", partial(coarse_digits, VALIDATION_HAND), 500, (1, 3)),
        ),
    ),
    # People's handwriting at 8x8, the low resolution of scikit-learn's digits: MNIST's validation images (never
    # trained on by a shipped model) taken down the optdigits way. A validation set too: choices may be made on it.
    "mnist-8x8": SetSpec(CANVAS_KINDS, (Part("mnist", mnist_digits, 1000, (3, 1)),)),
    "heldback": SetSpec(
        CANVAS_KINDS,
        (
            Part("typed", partial(typed_digits, HELDBACK_FONTS, HELDBACK_TYPE), 500, (2, 1)),
            Part("strokes", partial(written_digits, HELDBACK_HAND), 500, (2, 2)),
            Part("sklearn", sklearn_digits, SKLEARN_DIGITS, (2, 3)),
        ),
    ),
}


@dataclass(frozen=True)
class DrawnSet:
    """Digits as canvas_to_mnist returns them, with what made each one."""

    name: str
    seed: int
    images: np.ndarray  # (N, 28, 28) float32 in [0, 1]
    labels: np.ndarray  # (N,) int
    parts: np.ndarray  # (N,) str, the Part's name
    kinds: np.ndarray  # (N,) str, one of CANVAS_KINDS


def drawn_set(
    name: str, seed: int = 0, count: int | None = None, prepare: Callable[[np.ndarray], np.ndarray] = canvas_to_mnist
) -> DrawnSet:
    """The set `name` drawn from `seed`; `count` digits per part (the sklearn part has at most 1,797).

    `prepare` turns each canvas into the 28x28 image a model reads (another one to compare preprocessings).
    """
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}; expected one of {', '.join(SETS)}")
    if count is not None and count < 1:
        raise ValueError("the count must be at least 1")
    spec = SETS[name]
    images, labels, parts, kinds = [], [], [], []
    for part in spec.parts:
        rng = np.random.default_rng([seed, *part.stream])
        for index, (digit, ink) in enumerate(part.digits(count or part.count, rng)):
            kind = spec.kinds[index % len(spec.kinds)]
            images.append(prepare(on_canvas(ink, kind, rng)))
            labels.append(digit)
            parts.append(part.name)
            kinds.append(kind)
    return DrawnSet(name, seed, np.stack(images).astype(np.float32), np.array(labels), np.array(parts), np.array(kinds))


def drawn_digits(count: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The "fonts" set: (count, 28, 28) float32 images and their (count,) labels, digits cycling 0..9."""
    drawn = drawn_set("fonts", seed, count)
    return drawn.images, drawn.labels
