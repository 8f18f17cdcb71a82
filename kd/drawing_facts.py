"""The drawing pad every front end offers, written once: its side and its pen.

Low in the package on purpose: kd.infer.drawn draws its test digits on this pad, kd.lab.widgets
hands it to the apps, and kd.site writes it into the static page's config, so none of them types
the numbers again and none has to import a layer above its own.
"""

from __future__ import annotations

CANVAS_PIXELS = 280  # side of the drawing pad, in CSS pixels: ten times MNIST's 28
PEN_WIDTH = 18  # stroke width on that pad: about MNIST's stroke once scaled to 20 px
