import torch

from kd.augment import THICKEN, THIN, augment


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
