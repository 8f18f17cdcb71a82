"""Drawn digits that are not MNIST: a check that the models read what people draw.

Each digit is an ink map drawn on a 280x280 canvas like the dashboard's, on one of three kinds
of canvas (white on black, as the dashboard draws; transparent, the pen's colour over alpha 0,
as the Streamlit canvas returns it; dark ink on opaque white, as a scan or an image editor
gives), and goes through kd.preprocess.canvas_to_mnist exactly as a drawing does. Three sets,
each a function of its name and seed, so a figure quoted from one can be rerun:

- ``fonts`` (the default; 500 digits): typed in 13 DejaVu and Liberation faces, white on black,
  with random pen, size, place, rotation and slant. The project's first check.
- ``validation`` (1,500): 500 typed in DejaVu faces only; 500 written as pen strokes (the
  forms of forms.FORMS by a varied hand); 500 such written digits brought down to 8x8 the way
  optdigits made its images and upscaled again ("coarse"). Pens from thin to thick: typed
  strokes widened up to 0.07 of the font size each side, written pens up to 26 % of the digit's
  height. Choices (recipes, preprocessing, thresholds) are made on this set and the next only.
- ``mnist-8x8`` (1,000): people's handwriting at scikit-learn's resolution: MNIST's validation
  images (the last 10,000 training images, which no shipped model trains on) taken down to 8x8
  the optdigits way and upscaled again. Choices may be made on it too.
- ``heldback`` (2,797): 500 typed in Liberation faces only, widened 0.02 to 0.08; 500 written
  with other random draws and pens up to 30 %; and scikit-learn's 1,797 8x8 handwritten digits
  (13 other writers) upscaled onto the canvas. Reported, never chosen on: nothing is trained on
  it or tuned to it, and sklearn's digits appear nowhere else.

Every generated digit of the validation and held-back sets goes on the three canvas kinds in
turn, and each digit records its part and its kind. The font split is explicit:
typed.VALIDATION_FONTS are DejaVu faces, typed.HELDBACK_FONTS Liberation faces, and no face is
in both. The fonts set mixes both families, so no choice may be made on it either. Each part
draws from its own random stream keyed by set and part, so the sets share no image whatever
seeds they are given.

    python -m kd.infer.drawn --set validation checkpoints/teacher.safetensors checkpoints/student.safetensors
"""

from kd.infer.drawn.canvas import CANVAS, CANVAS_KINDS, on_canvas, paint
from kd.infer.drawn.command import main
from kd.infer.drawn.sets import SETS, DrawnSet, drawn_digits, drawn_set
from kd.infer.drawn.strokes import draw_digit
from kd.infer.drawn.typed import available_fonts, render_digit

__all__ = [
    "CANVAS",
    "CANVAS_KINDS",
    "SETS",
    "DrawnSet",
    "available_fonts",
    "draw_digit",
    "drawn_digits",
    "drawn_set",
    "main",
    "on_canvas",
    "paint",
    "render_digit",
]
