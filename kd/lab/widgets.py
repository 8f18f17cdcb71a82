"""What every front end's widgets offer, written once: ranges, steps, choices and defaults, the canvas and the pen.

The Streamlit app, the Gradio app and the static page build their widgets from these (the
static page gets them written into its config by kd.site), so a range changed here changes
everywhere. Caps that depend on the server (most epochs, most images) come from `Limits`; the
lab lists the teachers a run may learn from (`Lab.teacher_choices`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from kd import drawing_facts, omitted
from kd.lab.limits import Limits
from kd.lab.texts import KD_LOSS
from kd.recipes import DASHBOARD_RUN, MISSING_THREE

# the pad, from the low module that kd.infer.drawn draws its test digits with too
CANVAS_PIXELS, PEN_WIDTH = drawing_facts.CANVAS_PIXELS, drawing_facts.PEN_WIDTH
PEN_RADIUS = PEN_WIDTH // 2  # what a brush that is sized by its radius (Gradio's) takes


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    default: float
    step: float


TEMPERATURE = Range(0.5, 20.0, DASHBOARD_RUN.temperature, 0.5)  # a run's T
ALPHA = Range(0.0, 1.0, DASHBOARD_RUN.alpha, 0.05)  # a run's share of the soft-target term
SEED = Range(0, 9_999, DASHBOARD_RUN.seed, 1)
DRAW_TEMPERATURE = Range(1.0, 20.0, 4.0, 0.5)  # the Draw pages' softening of the answers
ALPHA_MEANING = (
    "Alpha is the share of the soft-target term: **0 = labels only** (a scratch student), **1 = teacher only**. "
    + KD_LOSS
)


@dataclass(frozen=True)
class Choices:
    labels: dict[str, str]  # the value a page sends -> the label a visitor sees, in the order offered
    default: str


# function matching (kd.mixing): the mixing of a run's images, by the values TrainConfig.mix takes
MIXING = Choices({"none": "None", "mixup": "Mixup", "cutmix": "CutMix"}, DASHBOARD_RUN.mix)
MIXING_HELP = (
    "Function matching: the student sees mixed images and learns the teacher's answer on them; its scratch twin "
    "learns the mixed labels. Slower: the teacher answers every batch (each of an ensemble's members does)."
)


# Hinton et al. 2015, section 3: digits left out of a run's training images (validation and test keep them)
DIGITS = tuple(str(digit) for digit in range(10))  # the "Leave out digits" control's choices; none by default
OMIT_HELP = (
    "Train without these digits: the student never sees one, and learns what it knows of them from the teacher's "
    "soft answers on the other digits. Its scratch twin trains on the same images. After training, one offset on "
    "their logits is chosen on the validation images (any digits but not all ten)."
)


def offset_range(chosen: float) -> Range:
    """The result card's offset control: kd.omitted's offsets, starting at the one it chose on validation."""
    return Range(float(omitted.OFFSETS[0]), float(omitted.OFFSETS[-1]), chosen, 0.1)


@dataclass(frozen=True)
class Preset:
    label: str
    help: str
    values: dict[str, object]  # Lab.run_settings' arguments (its widgets' names) -> the value the preset sets


def missing_three(limits: Limits) -> Preset:
    """ "Hinton's missing 3" (kd.recipes.MISSING_THREE), within this server's caps (the sliders' ranges)."""
    config = MISSING_THREE
    values = {
        "temperature": config.temperature,
        "alpha": config.alpha,
        "epochs": min(config.epochs, limits.max_epochs),
        "images": min(config.limit, limits.max_images),
        "mix": config.mix,
        "omit_digits": [str(digit) for digit in config.omit_digits],
    }
    text = (
        f"Hinton et al. (2015): a student trained on {values['images']:,} images without a single 3, for "
        f"{values['epochs']} epochs, from the teacher's soft targets alone (alpha = {config.alpha:g}) at "
        f"T = {config.temperature:g}. It learns to read 3s it never saw; one offset, chosen on validation, fixes "
        "how rarely it dares to say 3."
    )
    return Preset("Hinton's missing 3", text, values)


def epochs(limits: Limits) -> Range:
    return Range(1, limits.max_epochs, min(DASHBOARD_RUN.epochs, limits.max_epochs), 1)


def images(limits: Limits) -> Range:
    return Range(100, limits.max_images, min(DASHBOARD_RUN.limit, limits.max_images), 100)


def static_page() -> dict:
    """The static page's pad and temperature slider, as kd.site writes them into its site.json."""
    return {"canvas_pixels": CANVAS_PIXELS, "pen_width": PEN_WIDTH, "temperature": asdict(DRAW_TEMPERATURE)}
