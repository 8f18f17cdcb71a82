"""Drawings from untrusted clients: the size limit set for the whole process, then decoded and prepared.

`refuse_large_images` sets PIL's own cap to the lab's, so that every decoder in the process (a
framework's upload handling included, which runs before any app code) refuses an image over it
from the header, before a pixel is decoded. kd.preprocess then checks again at each step.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from kd.preprocess import canvas_to_mnist, decode_drawing


def refuse_large_images(max_pixels: int) -> None:
    """Make PIL refuse, at open, any image over `max_pixels`: it raises above twice its cap (and only warns below)."""
    Image.MAX_IMAGE_PIXELS = max_pixels // 2


def digit_from_bytes(raw: bytes, max_pixels: int) -> np.ndarray | None:
    """PNG or JPEG bytes -> the 28x28 digit the models get; None if blank; ValueError, in words, if refused."""
    return canvas_to_mnist(decode_drawing(raw, max_pixels), max_pixels=max_pixels)


def digit_from_array(image: np.ndarray | None, max_pixels: int) -> np.ndarray | None:
    """An image array (a sketchpad's composite) -> the 28x28 digit; None if blank or absent; ValueError if refused."""
    return None if image is None else canvas_to_mnist(image, max_pixels=max_pixels)
