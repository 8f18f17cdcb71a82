import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from kd.checkpoint import save
from kd.data import FIT_SIZE
from kd.infer.drawn import available_fonts, drawn_digits, drawn_set, lowres, main, render_digit, typed
from kd.infer.drawn.canvas import BLACK, CANVAS, CANVAS_KINDS, DARK_INKS, TRANSPARENT_INKS, WHITE, paint
from kd.infer.drawn.strokes import Hand, written_digits
from kd.models import PRESETS, ConvNet, config_dict
from kd.preprocess import canvas_to_mnist

SMALL = 12  # digits per part: every digit 0..9 and every canvas kind, in about a second a set


@pytest.fixture(scope="module")
def validation():
    return drawn_set("validation", seed=0, count=SMALL)


@pytest.fixture(scope="module")
def heldback():
    return drawn_set("heldback", seed=0, count=SMALL)


def test_several_fonts_are_available():
    assert len(available_fonts()) >= 8


def test_set_is_balanced_mnist_shaped_and_fixed_by_its_seed():
    images, labels = drawn_digits(count=30, seed=3)
    assert images.shape == (30, 28, 28) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert np.bincount(labels, minlength=10).tolist() == [3] * 10
    again, _ = drawn_digits(count=30, seed=3)
    other, _ = drawn_digits(count=30, seed=4)
    assert np.array_equal(images, again)
    assert not np.array_equal(images, other)


def test_render_places_the_digit_where_asked():
    font = available_fonts()[0]
    canvas = render_digit(7, font, height=0.3, stroke=0.0, angle=0.0, slant=0.0, position=np.array([0.0, 1.0]))
    assert canvas.shape == (CANVAS, CANVAS)
    rows, cols = np.nonzero(canvas)
    assert cols.min() == 0 and rows.max() == CANVAS - 1  # bottom-left corner
    assert rows.max() - rows.min() < 0.45 * CANVAS


@pytest.mark.parametrize("name", ["validation", "heldback", "mnist-8x8"])
def test_every_part_goes_on_all_three_canvas_kinds(name, validation, heldback):
    drawn = {"validation": validation, "heldback": heldback}.get(name) or drawn_set(name, seed=0, count=SMALL)
    for part in set(drawn.parts.tolist()):
        assert set(drawn.kinds[drawn.parts == part].tolist()) == set(CANVAS_KINDS), part


def test_a_set_is_fixed_by_its_name_and_seed(validation):
    again = drawn_set("validation", seed=0, count=SMALL)
    other = drawn_set("validation", seed=1, count=SMALL)
    assert np.array_equal(validation.images, again.images) and np.array_equal(validation.kinds, again.kinds)
    assert not np.array_equal(validation.images, other.images)


def fingerprints(images: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in images}


@pytest.mark.parametrize("heldback_seed", [0, 1])
def test_validation_and_heldback_share_no_image(validation, heldback_seed):
    heldback = drawn_set("heldback", seed=heldback_seed, count=SMALL)
    assert not fingerprints(validation.images) & fingerprints(heldback.images)


def test_validation_never_types_in_a_held_back_face(monkeypatch):
    assert not set(typed.VALIDATION_FONTS) & set(typed.HELDBACK_FONTS)
    faces = []
    render = typed.render_digit

    def recording_render(digit, font_path, **variation):
        faces.append(font_path.name)
        return render(digit, font_path, **variation)

    monkeypatch.setattr(typed, "render_digit", recording_render)
    drawn_set("validation", seed=0, count=SMALL)
    assert faces and set(faces) <= set(typed.VALIDATION_FONTS)


def test_sklearn_digits_are_only_in_the_held_back_set(validation, heldback, monkeypatch):
    assert "sklearn" in heldback.parts and "sklearn" not in validation.parts
    monkeypatch.setattr(lowres, "load_sklearn_digits", lambda: pytest.fail("the validation set read sklearn's digits"))
    drawn_set("validation", seed=0, count=SMALL)


def test_sklearn_digits_land_on_the_canvas_with_margins():
    images, _ = lowres.load_sklearn_digits()
    rng = np.random.default_rng(0)
    margin = int(lowres.MARGIN * CANVAS)
    for image in images[:20]:
        ink = lowres.upscaled_ink(image, rng)
        rows, cols = np.nonzero(ink)
        assert min(rows.min(), cols.min()) >= margin and max(rows.max(), cols.max()) < CANVAS - margin


def test_coarse_digits_are_counted_as_optdigits_are():
    _, ink = next(written_digits(Hand(), 1, np.random.default_rng(0)))
    small = lowres.block_counts(ink)
    assert small.shape == (8, 8) and small.dtype == np.uint8
    assert set(np.unique(small).tolist()) <= {round(n * 255 / 16) for n in range(17)}
    assert small[0].any() and small[-1].any()  # fitted to the bitmap's height, as a 0 is


def test_mnist_digits_come_from_the_validation_images_alone(monkeypatch):
    images = torch.zeros(FIT_SIZE + 12, 28, 28, dtype=torch.uint8)
    images[FIT_SIZE:, 6:22, 10:18] = 255  # only the validation images have ink
    labels = torch.tensor([3] * FIT_SIZE + list(range(10)) + [0, 1])
    monkeypatch.setattr(lowres, "load_mnist", lambda: SimpleNamespace(train_images=images, train_labels=labels))
    drawn = drawn_set("mnist-8x8", seed=0, count=12)
    # each validation image once: a training image would add a 3
    assert sorted(drawn.labels.tolist()) == [0, 0, 1, 1, *range(2, 10)]
    assert set(drawn.parts.tolist()) == {"mnist"} and all(image.max() == 1.0 for image in drawn.images)


@pytest.mark.parametrize(
    ("colour", "background"),
    [(colour, None) for colour in TRANSPARENT_INKS] + [(colour, WHITE) for colour in DARK_INKS],
)
def test_every_canvas_kind_gives_the_same_bright_digit_on_dark(colour, background):
    rng = np.random.default_rng(1)
    for _, ink in written_digits(Hand(pen=(0.04, 0.3)), 10, rng):
        expected = canvas_to_mnist(paint(ink, WHITE, BLACK))
        got = canvas_to_mnist(paint(ink, colour, background))
        assert got.max() == 1.0 and got[0].max() == got[-1].max() == 0.0  # ink bright, background dark
        assert np.abs(got - expected).mean() < 0.02


def test_command_reports_each_checkpoint(tmp_path, capsys):
    model = ConvNet(PRESETS["student"]).eval()
    path = save(tmp_path / "s", model, {"architecture": "convnet", "model_config": config_dict(PRESETS["student"])})
    assert main([str(path), "--count", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][str(path)]
    assert 0.0 <= result["accuracy"] <= 1.0
    assert sum(result["errors_per_digit"]) == result["errors"]


def test_command_reports_parts_canvas_kinds_and_misreadings(tmp_path, capsys):
    model = ConvNet(PRESETS["student"]).eval()
    path = save(tmp_path / "s", model, {"architecture": "convnet", "model_config": config_dict(PRESETS["student"])})
    assert main([str(path), "--set", "heldback", "--count", str(SMALL), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["set"] == "heldback" and report["count"] == 3 * SMALL
    assert report["composition"]["parts"] == {"typed": SMALL, "strokes": SMALL, "sklearn": SMALL}
    assert set(report["composition"]["kinds"]) == set(CANVAS_KINDS)
    result = report["results"][str(path)]
    assert set(result["parts"]) == {"typed", "strokes", "sklearn"} and set(result["kinds"]) == set(CANVAS_KINDS)
    assert sum(m["count"] for m in result["misreadings"]) <= result["errors"]
    assert all(m["true"] != m["read"] for m in result["misreadings"])
    assert main([str(path), "--set", "validation", "--count", "3"]) == 0
    text = capsys.readouterr().out
    assert "by part: typed" in text and "by canvas: white-on-black" in text and "misread most" in text


def test_command_fails_in_one_line_on_a_missing_checkpoint(tmp_path, capsys):
    assert main([str(tmp_path / "missing.safetensors"), "--count", "10"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error:") and error.count("\n") == 1
