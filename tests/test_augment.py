import math

import pytest
import torch

from kd.augment import THICKEN, THIN, augment, coarsen, embolden
from kd.models import PRESETS, ConvNet
from kd.train import TrainConfig


def bars(count: int) -> torch.Tensor:
    images = torch.zeros(count, 1, 28, 28)
    images[:, :, 8:20, 13:15] = 1.0  # a vertical stroke, 2 px wide, in the middle
    return images


def test_shape_range_and_seed():
    images = bars(64)
    first = augment(images, torch.Generator().manual_seed(0))
    again = augment(images, torch.Generator().manual_seed(0))
    other = augment(images, torch.Generator().manual_seed(1))
    assert first.shape == images.shape
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_some_strokes_get_thicker_and_some_thinner():
    images = bars(2000)
    ink = augment(images, torch.Generator().manual_seed(0)).sum(dim=(1, 2, 3)) / images[0].sum()
    # a 2 px stroke grown by 1 px on each side carries about twice its ink
    assert (ink > 1.7).float().mean() > 0.5 * THICKEN
    assert (ink < 0.75).float().mean() > 0.5 * THIN
    assert ((ink > 0.8) & (ink < 1.25)).float().mean() > 0.3  # most keep their ink


def test_embolden_and_coarsen_keep_shape_range_and_follow_the_seed():
    images = bars(64)
    for change in (embolden, coarsen):
        first = change(images, torch.Generator().manual_seed(0), 0.5)
        assert first.shape == images.shape and first.min() >= 0 and first.max() <= 1
        assert torch.equal(first, change(images, torch.Generator().manual_seed(0), 0.5))
        assert torch.equal(change(images, torch.Generator().manual_seed(0), 0.0), images)


def test_embolden_inks_the_chosen_share_much_thicker_and_leaves_the_rest():
    images = bars(2000)
    bold = embolden(images, torch.Generator().manual_seed(0), 0.3)
    ink = bold.sum(dim=(1, 2, 3)) / images[0].sum()
    # the 2 px stroke, 12 px long, grown by 2 px on every side: 6 x 16 px, four times the ink
    assert torch.allclose(ink[ink > 1], torch.tensor(4.0))
    assert 0.25 < (ink > 1).float().mean() < 0.35
    assert torch.equal(bold[ink == 1], images[ink == 1])


def test_coarsen_takes_the_digit_box_to_8x8_and_back():
    images = bars(400)
    images[:, :, 2, :] = 0.7  # ink outside the 20x20 box, which coarsening leaves alone
    coarse = coarsen(images, torch.Generator().manual_seed(0), 1.0)
    assert torch.equal(coarse[:, :, :4], images[:, :, :4]) and torch.equal(coarse[:, :, 24:], images[:, :, 24:])
    assert all(not torch.equal(a, b) for a, b in zip(coarse, images, strict=True))
    # scaled up nearest (about half of them), a digit is made of optdigits' 17 grey levels only
    levels = coarse[:, :, 4:24, 4:24] * 16
    blocky = torch.isclose(levels, levels.round(), atol=1e-4).flatten(1).all(dim=1)
    assert 0.4 < blocky.float().mean() < 0.6
    # the bar covers columns 13-14 of 28, 9-10 of the box: one 4x4 block column in 8 once fitted to 32x32
    assert coarse[blocky][:, :, 4:24, 4:24].amax(dim=(1, 2, 3)).min() > 0.4


@pytest.mark.parametrize("field", ["bold", "coarse"])
@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, "0.5", True])
def test_a_share_outside_0_to_1_is_refused(field, value):
    with pytest.raises(ValueError, match=f"{field} must be a number from 0 to 1"):
        TrainConfig(**{field: value})


def test_a_run_with_bold_and_coarse_ink_runs_the_teacher_on_every_batch_and_records_both(small_mnist, tmp_path):
    from kd.pipeline import Job, train_and_save

    torch.manual_seed(0)
    teacher = ConvNet(PRESETS["teacher"])  # untrained: the plumbing is what is tested
    config = TrainConfig(epochs=1, limit=128, batch_size=64, augment=False, alpha=0.9, bold=0.25, coarse=0.5)
    metadata = train_and_save(Job(config, tmp_path / "s"), small_mnist, teacher)
    assert metadata["teacher_seconds"] > 0  # no cached logits: the teacher saw each changed batch
    saved = (tmp_path / "s.json").read_text()
    assert '"bold": 0.25' in saved and '"coarse": 0.5' in saved
