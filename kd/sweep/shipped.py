"""The sweeps the project ships (results/), each written once as a named grid, recipe and teacher.

`python -m kd sweep --preset NAME` starts from one (flags given as well override its values), and the
Makefile's sweep targets call them by name, so a grid is typed in one place. docs/sweeps.md and
docs/results.md report them.
"""

from __future__ import annotations

from kd.sweep.results import SweepGrid, SweepSpec
from kd.train import TrainConfig

TEACHER = "checkpoints/teacher.safetensors"
ENSEMBLE = "checkpoints/ensemble.safetensors"
FIVE_SEEDS, TEN_SEEDS = (0, 1, 2, 3, 4), tuple(range(10))


# 4 temperatures x 2 alphas and the scratch baseline at five budgets, 2 epochs, no augmentation; ten seeds where the
# seed-to-seed spread is widest (500 and 1,000 images) and five elsewhere (docs/sweeps.md)
SWEEP = SweepSpec(
    SweepGrid(
        (1.0, 2.0, 4.0, 8.0),
        (0.0, 0.5, 0.9),
        FIVE_SEEDS,
        (500, 1000, 5000, 20000, 50000),
        (2,),
        ((500, TEN_SEEDS), (1000, TEN_SEEDS)),
    ),
    TrainConfig(augment=False),
    "results/sweep",
    TEACHER,
)
# the shipped students' own recipe (all 50,000 images, augmented, 30 epochs) over five seeds: does the teacher
# help at the full budget?
FULL_BUDGET = SweepSpec(
    SweepGrid((4.0,), (0.0, 0.9), FIVE_SEEDS, (50000,), (30,)),
    TrainConfig(augment=True),
    "results/full-budget",
    TEACHER,
)
# function matching from the ensemble (docs/results.md, "A stronger teacher and function matching"): mixup at T = 4
# at 20,000 x 5 and 50,000 x 8; mixup at T = 2 and 8 and CutMix at T = 2, 4, 8 at 20,000 x 5 to choose on
# validation; the choice (CutMix, T = 4) at 50,000 x 8
MIXUP, CUTMIX = TrainConfig(augment=True, mix="mixup"), TrainConfig(augment=True, mix="cutmix")


def _function_matching(temperatures, alphas, limit, epochs, recipe, out) -> SweepSpec:
    return SweepSpec(SweepGrid(temperatures, alphas, FIVE_SEEDS, (limit,), (epochs,)), recipe, out, ENSEMBLE)


FUNCTION_MATCHING = {
    "fm-ensemble": _function_matching((4.0,), (0.0, 0.9), 20000, 5, MIXUP, "results/fm-ensemble"),
    "fm-full-budget": _function_matching((4.0,), (0.0, 0.9), 50000, 8, MIXUP, "results/fm-full-budget"),
    "fm-mixup-temperatures": _function_matching((2.0, 8.0), (0.9,), 20000, 5, MIXUP, "results/fm-mixup-temperatures"),
    "fm-cutmix": _function_matching((2.0, 4.0, 8.0), (0.0, 0.9), 20000, 5, CUTMIX, "results/fm-cutmix"),
    "fm-cutmix-full-budget": _function_matching((4.0,), (0.0, 0.9), 50000, 8, CUTMIX, "results/fm-cutmix-full-budget"),
}
SHIPPED_SWEEPS: dict[str, SweepSpec] = {"sweep": SWEEP, "full-budget": FULL_BUDGET, **FUNCTION_MATCHING}
