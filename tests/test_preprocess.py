import numpy as np
import pytest
from drawing import draw_digit

from kd.preprocess import MAX_STROKE, canvas_to_mnist, decode_drawing, erode, ink_map, stroke_width, thinned


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


def bar(width: int, length: int = 120) -> np.ndarray:
    """A (160, 160) ink map holding one vertical bar of the given width, full ink."""
    ink = np.zeros((160, 160), np.float32)
    ink[20 : 20 + length, 60 : 60 + width] = 1.0
    return ink


@pytest.mark.parametrize("width", [4, 10, 30])
def test_stroke_width_is_twice_the_area_over_the_outline(width):
    # a w x 120 bar: area 120w, outline 2 x 120 + 2 (w - 2); near w when the bar is long, less for the end caps
    assert stroke_width(bar(width)) == pytest.approx(2 * 120 * width / (240 + 2 * (width - 2)))
    assert stroke_width(bar(width)) == pytest.approx(width, rel=0.2)
    assert stroke_width(np.zeros((10, 10), np.float32)) == 0.0


def test_erode_wears_a_step_off_every_side_and_treats_beyond_the_edges_as_blank():
    thinned = erode(bar(30), 5)
    columns = np.flatnonzero(thinned.any(axis=0))
    rows = np.flatnonzero(thinned.any(axis=1))
    assert (columns[0], columns[-1]) == (65, 84) and (rows[0], rows[-1]) == (25, 134)
    assert set(np.unique(thinned)) == {0.0, 1.0}
    assert not erode(np.ones((6, 6), np.float32), 1)[0].any()  # the edge counts as blank
    assert erode(bar(30), 0) is not None and np.array_equal(erode(bar(30), 0), bar(30))


def test_a_thick_brush_is_thinned_to_the_widest_stroke_allowed_and_still_fills_the_box():
    drawing = draw_digit(4, box=0.4, thickness=48)  # strokes about 40 % of the digit's height
    ink = ink_map(drawing)
    crop = ink[np.ix_((ink > 0.1).any(axis=1), (ink > 0.1).any(axis=0))]
    longer = max(crop.shape)
    assert stroke_width(crop) > 0.3 * longer
    # worn by half the excess on each side; junctions and caps keep the measure a little above the aim
    assert 0.9 * MAX_STROKE * longer < stroke_width(thinned(crop, MAX_STROKE)) < 1.25 * MAX_STROKE * longer
    thick, thin = canvas_to_mnist(drawing, max_stroke=None), canvas_to_mnist(drawing)
    assert (thin > 0.5).sum() < 0.8 * (thick > 0.5).sum()
    assert max(bounding_box(thin)) in (20, 21)  # cropped again after thinning, so scaled to the box


def test_a_pen_of_ordinary_width_is_left_as_it_is():
    drawing = draw_digit(4)  # the dashboard's 18 px pen on a digit of 210 px
    assert np.array_equal(canvas_to_mnist(drawing), canvas_to_mnist(drawing, max_stroke=None))


@pytest.mark.parametrize(
    "blank", [np.zeros((280, 280, 4), np.uint8), np.full((100, 80, 3), 255, np.uint8), np.zeros((280, 280), np.float32)]
)
def test_blank_drawing_is_none(blank):
    assert canvas_to_mnist(blank) is None


@pytest.mark.parametrize("bad", [np.zeros((5, 5, 2)), np.zeros((2, 3, 4, 5)), np.zeros((1, 10))])
def test_bad_shapes_raise(bad):
    with pytest.raises(ValueError):
        canvas_to_mnist(bad)


def png_bytes(array: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def huge_blank_png(side: int) -> bytes:
    """A valid greyscale PNG of side x side black pixels, built row by row without holding the image."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor, row, parts = zlib.compressobj(9), b"\0" * (side + 1), []
    for _ in range(side):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


def test_a_drawing_decodes_to_the_same_digit():
    drawing = draw_digit(3)
    decoded = decode_drawing(png_bytes(drawing), max_pixels=1_000_000)
    assert decoded.shape == (280, 280, 4) and decoded.dtype == np.uint8
    assert np.array_equal(canvas_to_mnist(decoded), canvas_to_mnist(drawing))


def test_a_huge_png_is_refused_from_its_header_without_decoding(monkeypatch):
    from PIL import ImageFile

    raw = huge_blank_png(10_000)
    assert len(raw) < 1_000_000  # small on the wire, 100 million pixels once decoded

    def no_decoding(self, *args):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ValueError, match="more than the 1,500,000"):  # PIL may refuse it first, at open
        decode_drawing(raw, max_pixels=1_500_000)


def test_a_huge_array_is_refused_by_canvas_to_mnist_before_any_work():
    big = np.broadcast_to(np.uint8(0), (10_000, 10_000))  # no memory behind it
    with pytest.raises(ValueError, match="more than the"):
        canvas_to_mnist(big, max_pixels=1_500_000)


@pytest.mark.parametrize(
    "raw, message",
    [
        (png_bytes(np.zeros((1, 1, 4), np.uint8)), "too small"),
        (png_bytes(np.zeros((40, 40), np.uint16)), "colour mode"),  # 16-bit grey
        (b"data:image/png;base64,not even decoded", "not a readable"),
        (b"GIF89a" + b"\0" * 100, "not a readable"),
        (png_bytes(np.zeros((40, 40, 3), np.uint8))[:60], "decoded|not a readable"),
        (b"\0" * 20_000_001, "bytes"),
    ],
    ids=["1x1", "16-bit", "text", "gif", "truncated", "too-many-bytes"],
)
def test_forged_drawings_give_a_readable_value_error(raw, message):
    with pytest.raises(ValueError, match=message):
        decode_drawing(raw, max_pixels=1_500_000)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.full((30, 30), np.nan, np.float32), "NaN"),
        (np.full((30, 30), np.inf), "NaN or infinite"),
        (np.zeros((30, 30), complex), "numeric"),
        (np.full((30, 30), "x", object), "numeric"),
        (np.zeros((1, 1, 4), np.uint8), "too small"),
        (np.zeros((0, 28)), "too small"),
    ],
)
def test_odd_arrays_give_a_readable_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        canvas_to_mnist(bad)


def test_sixteen_bit_and_boolean_images_work():
    sixteen = draw_digit(4)[..., 0].astype(np.uint16) * 257  # 0..65535
    assert np.abs(canvas_to_mnist(sixteen) - canvas_to_mnist(draw_digit(4))).max() < 0.02
    assert canvas_to_mnist(draw_digit(4)[..., 0] > 127) is not None
