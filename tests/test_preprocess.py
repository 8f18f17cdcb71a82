import numpy as np
import pytest
from drawing import draw_digit

from kd.preprocess import canvas_to_mnist


def bounding_box(image, threshold=0.1):
    rows = np.flatnonzero((image > threshold).any(axis=1))
    cols = np.flatnonzero((image > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(image):
    ys, xs = np.indices(image.shape)
    return (ys * image).sum() / image.sum(), (xs * image).sum() / image.sum()


def test_output_is_mnist_shaped():
    out = canvas_to_mnist(draw_digit(3))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() == pytest.approx(1.0)
    assert max(bounding_box(out)) in (20, 21)  # longer side scaled to 20 px (+1 for anti-aliasing)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) < 0.75 and abs(cx - 14) < 0.75


def test_shift_does_not_matter():
    centred = canvas_to_mnist(draw_digit(7))
    shifted = canvas_to_mnist(draw_digit(7, offset=(-0.1, 0.1)))
    assert np.abs(centred - shifted).mean() < 0.02


def test_scale_does_not_matter_much():
    large = canvas_to_mnist(draw_digit(2, box=0.9, thickness=22))
    small = canvas_to_mnist(draw_digit(2, box=0.45, thickness=11))
    assert np.abs(large - small).mean() < 0.05


def test_either_polarity_and_transparent_background_give_the_same_image():
    white_on_black = canvas_to_mnist(draw_digit(5))
    black_on_white = canvas_to_mnist(draw_digit(5, ink=0, background=255))
    transparent = canvas_to_mnist(draw_digit(5, ink=0, transparent=True))
    grey = canvas_to_mnist(draw_digit(5)[..., 0])
    rgb = canvas_to_mnist(draw_digit(5)[..., :3])
    for other in (black_on_white, transparent, grey, rgb):
        assert np.abs(white_on_black - other).max() < 0.02


def test_float_and_non_square_input():
    tall = draw_digit(1, size=280)[:, 40:200].astype(np.float32) / 255
    out = canvas_to_mnist(tall)
    assert out.shape == (28, 28) and bounding_box(out)[0] in (20, 21)


def test_thin_strokes_keep_full_contrast():
    thin = canvas_to_mnist(draw_digit(4, thickness=3))
    assert thin.max() == pytest.approx(1.0) and (thin > 0.5).sum() > 15


@pytest.mark.parametrize(
    "blank", [np.zeros((280, 280, 4), np.uint8), np.full((100, 80, 3), 255, np.uint8), np.zeros((280, 280), np.float32)]
)
def test_blank_drawing_is_none(blank):
    assert canvas_to_mnist(blank) is None


@pytest.mark.parametrize("bad", [np.zeros((5, 5, 2)), np.zeros((2, 3, 4, 5)), np.zeros((1, 10))])
def test_bad_shapes_raise(bad):
    with pytest.raises(ValueError):
        canvas_to_mnist(bad)
