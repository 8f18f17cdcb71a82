"""Function matching: mixup and CutMix batches (kd/mixing.py) and how training learns from them."""

import math

import pytest
import torch
import torch.nn.functional as F

from kd.mixing import Mixed, check_mix_alpha, mix
from kd.models import PRESETS, ConvNet
from kd.train import TrainConfig, batch_loss


def images(count: int = 32) -> torch.Tensor:
    """Distinct random images in channels_last, the memory format training uses."""
    return torch.rand(count, 1, 28, 28, generator=torch.Generator().manual_seed(7)).contiguous(
        memory_format=torch.channels_last
    )


@pytest.mark.parametrize("kind", ["mixup", "cutmix"])
def test_mixed_batch_keeps_shape_dtype_and_memory_format(kind):
    batch = images()
    mixed = mix(batch, torch.Generator().manual_seed(0), kind, 1.0)
    assert mixed.images.shape == batch.shape and mixed.images.dtype == batch.dtype
    assert mixed.images.stride() == batch.stride()
    assert sorted(mixed.index.tolist()) == list(range(len(batch)))  # a permutation: every image is someone's partner
    assert 0.0 <= mixed.lam <= 1.0


def test_mixup_blends_each_image_with_its_partner():
    batch = images()
    mixed = mix(batch, torch.Generator().manual_seed(0), "mixup", 1.0)
    assert torch.allclose(mixed.images, mixed.lam * batch + (1 - mixed.lam) * batch[mixed.index], atol=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_cutmix_lam_is_the_share_of_pixels_from_the_original(seed):
    batch = images()
    mixed = mix(batch, torch.Generator().manual_seed(seed), "cutmix", 1.0)
    own = mixed.images == batch  # the images are distinct random noise: a pixel matches only where it was kept
    partner = mixed.images == batch[mixed.index]
    moved = mixed.index != torch.arange(len(batch))  # an image paired with itself cannot tell the two apart
    assert torch.all(own | partner)
    assert own[moved].float().mean(dim=(1, 2, 3)).tolist() == pytest.approx([mixed.lam] * int(moved.sum()))


def test_the_same_seed_gives_the_same_batch():
    for kind in ("mixup", "cutmix"):
        first = mix(images(), torch.Generator().manual_seed(3), kind, 0.4)
        again = mix(images(), torch.Generator().manual_seed(3), kind, 0.4)
        other = mix(images(), torch.Generator().manual_seed(4), kind, 0.4)
        assert torch.equal(first.images, again.images) and torch.equal(first.index, again.index)
        assert first.lam == again.lam
        assert not torch.equal(first.images, other.images)


def test_small_alpha_mixes_little():
    # Beta(0.1, 0.1) puts most of its weight near 0 and 1: most mixed images stay close to one of the two
    generator = torch.Generator().manual_seed(0)
    lams = [mix(images(4), generator, "mixup", 0.1).lam for _ in range(200)]
    assert sum(min(lam, 1 - lam) < 0.1 for lam in lams) > 0.6 * len(lams)


STUDENT = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [1.0, -1.0, 0.0]])
TEACHER = torch.tensor([[3.0, 0.0, -2.0], [-1.0, 2.0, 0.5], [0.0, 0.0, 4.0]])
LABELS = torch.tensor([0, 2, 1])


PARTNERS = torch.tensor([2, 0, 1])


def mixed_batch(lam: float = 0.3) -> Mixed:
    return Mixed(torch.zeros(3, 1, 28, 28), PARTNERS, lam)  # the loss reads only the pairing and lam


def test_function_matching_loss_ignores_labels():
    config = TrainConfig(alpha=0.5, temperature=2.0, mix="mixup")
    loss = batch_loss(STUDENT, TEACHER, LABELS, mixed_batch(), config)
    assert batch_loss(STUDENT, TEACHER, torch.tensor([1, 1, 0]), mixed_batch(), config) == loss
    assert loss > 0 and batch_loss(TEACHER, TEACHER, LABELS, mixed_batch(), config).item() == pytest.approx(0, abs=1e-6)


def test_scratch_loss_on_mixed_images_mixes_the_labels():
    lam = 0.3
    config = TrainConfig(alpha=0.0, mix="cutmix")
    log_p = STUDENT.double().log_softmax(1)
    by_hand = -(lam * log_p[range(3), LABELS] + (1 - lam) * log_p[range(3), LABELS[PARTNERS]]).mean()
    assert batch_loss(STUDENT, None, LABELS, mixed_batch(lam), config).item() == pytest.approx(by_hand.item(), rel=1e-5)
    assert torch.allclose(batch_loss(STUDENT, None, LABELS, None, config), F.cross_entropy(STUDENT, LABELS))


def test_a_mixed_run_runs_the_teacher_on_every_batch_and_records_its_flags(small_mnist, tmp_path):
    from kd.pipeline import Job, train_and_save

    torch.manual_seed(0)
    teacher = ConvNet(PRESETS["teacher"])  # untrained: the plumbing is what is tested
    config = TrainConfig(epochs=1, limit=128, batch_size=64, augment=False, alpha=0.9, mix="cutmix", mix_alpha=0.5)
    metadata = train_and_save(Job(config, tmp_path / "fm"), small_mnist, teacher)
    assert metadata["teacher_seconds"] > 0  # no cached logits: the teacher saw each mixed batch
    saved = (tmp_path / "fm.json").read_text()
    assert '"mix": "cutmix"' in saved and '"mix_alpha": 0.5' in saved


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, "1"])
def test_a_bad_mix_alpha_is_refused(value):
    with pytest.raises(ValueError, match="mix_alpha"):
        TrainConfig(mix="mixup", mix_alpha=value)
    with pytest.raises(ValueError, match="mix_alpha"):
        check_mix_alpha(value)


def test_an_unknown_mix_is_refused():
    with pytest.raises(ValueError, match="mix must be one of none, mixup, cutmix"):
        TrainConfig(mix="blend")
    with pytest.raises(ValueError, match="mixup, cutmix"):
        mix(images(), torch.Generator(), "none", 1.0)
