"""Self-describing checkpoints: safetensors weights plus JSON metadata, never a pickle.

A checkpoint `NAME.safetensors` carries the weights and, in its header, the metadata needed
to rebuild and trust the model: architecture name and config, training config (seed and
the command that made it), metrics, data fingerprint, library versions and a checksum of
the weights. `NAME.json` beside it repeats the metadata for people and tools to read.

An ensemble (kd.models.Ensemble) is one checkpoint too: architecture "ensemble", its model_config
listing each member's architecture and config, its tensors named `members.<i>.<name>`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from safetensors.torch import save as save_bytes

from kd.models import build_model, count_parameters, family

FORMAT = "kd-lab-checkpoint/1"
METADATA_KEY = "kd_lab"
MAX_PARAMETERS = 10_000_000  # the teacher has 131k: a header asking for more is forged or from elsewhere
REQUIRED = ("architecture", "model_config", "weights_sha256")
FIELD_TYPES = {  # the metadata the loader and the pages read, with the JSON type each must have
    "architecture": str,
    "model_config": dict,
    "weights_sha256": str,
    "train_config": dict,
    "metrics": dict,
    "history": list,
    "command": str,
    "created": str,
    "role": str,
}


class CheckpointError(Exception):
    """A checkpoint is missing, damaged or not a KD Lab checkpoint."""


def weights_checksum(state: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(state):
        digest.update(name.encode())
        digest.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import numpy

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}


def weights_path(path: str | Path) -> Path:
    """NAME.safetensors for NAME or NAME.safetensors: no other suffix is an extension (runs/alpha-0.9 keeps its .9)."""
    path = Path(path)
    return path if path.suffix == ".safetensors" else path.with_name(path.name + ".safetensors")


def metadata_path(path: str | Path) -> Path:
    return weights_path(path).with_suffix(".json")


def atomic_write(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a crash never leaves a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; results are meant to be shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_cache_file(path: Path, content: bytes, keep: int) -> None:
    """atomic_write, then remove all but the `keep` newest files with the same suffix beside it.

    Every new model (and every test run) adds a cache file: the folder must not grow for ever.
    """
    atomic_write(path, content)
    for old in sorted(path.parent.glob(f"*{path.suffix}"), key=lambda file: file.stat().st_mtime)[:-keep]:
        old.unlink(missing_ok=True)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write(path, (json.dumps(data, indent=2) + "\n").encode())


def save(path: str | Path, model: torch.nn.Module, metadata: dict[str, Any]) -> Path:
    """Write NAME.safetensors and NAME.json; metadata must include architecture and model_config."""
    path = weights_path(path)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    full = {
        "format": FORMAT,
        **metadata,
        "versions": library_versions(),
        "weights_sha256": weights_checksum(state),
    }
    header = {METADATA_KEY: json.dumps(full)}
    atomic_write(path, save_bytes(state, metadata=header))
    atomic_write_json(metadata_path(path), full)
    return path


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata stored in a checkpoint's header (the weights are not read), its types checked."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file (truncated or corrupted?): {exc}") from None
    try:
        metadata = json.loads(header[METADATA_KEY])
    except (KeyError, json.JSONDecodeError):
        raise CheckpointError(f"{path} is not a KD Lab checkpoint (no {METADATA_KEY!r} metadata)") from None
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path} has metadata of type {type(metadata).__name__}, expected a JSON object")
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path} has format {metadata.get('format')!r}, expected {FORMAT!r}")
    for key, expected in FIELD_TYPES.items():
        if (key in REQUIRED or key in metadata) and not isinstance(metadata.get(key), expected):
            raise CheckpointError(f"{path} has a malformed {key!r} in its metadata (expected {expected.__name__})")
    return metadata


def stored_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in a safetensors file, read from its header alone."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            return {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is truncated or corrupted: {exc}") from None


def check_architecture(path: str | Path, metadata: dict[str, Any]) -> None:
    """Check the declared architecture against caps and the stored tensors, before anything is allocated.

    The family (kd.models' registry) checks its declared config against its caps first; then the model
    is built on the meta device (shapes, no memory), so a header that asks for a huge network costs
    nothing; its parameter count and every tensor's name and shape must match what the file really holds.
    An ensemble's members are each held to their family's caps, the ensemble as a whole to the parameter cap.
    """
    try:
        family(metadata["architecture"]).check(metadata["model_config"])
        with torch.device("meta"):
            skeleton = build_model(metadata["architecture"], metadata["model_config"])
    except (TypeError, ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path} declares an architecture that cannot be built: {exc}") from None
    parameters = count_parameters(skeleton)
    if parameters > MAX_PARAMETERS:
        raise CheckpointError(f"{path} declares {parameters:,} parameters, more than the {MAX_PARAMETERS:,} allowed")
    expected = {name: tuple(tensor.shape) for name, tensor in skeleton.state_dict().items()}
    stored = stored_shapes(path)
    if expected != stored:
        differing = sorted(set(expected.items()) ^ set(stored.items()))[:3]
        raise CheckpointError(f"{path} does not match its own architecture: tensors differ, e.g. {differing}")


def load(path: str | Path) -> torch.nn.Module:
    """Rebuild the model a checkpoint describes, with its weights, in eval mode."""
    metadata = read_metadata(path)
    check_architecture(path, metadata)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is truncated or corrupted: {exc}") from None
    if weights_checksum(state) != metadata.get("weights_sha256"):
        raise CheckpointError(f"{path} is corrupted: its weights do not match the checksum it was saved with")
    try:
        model = build_model(metadata["architecture"], metadata["model_config"])
        model.load_state_dict(state, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path} does not match its own architecture: {exc}") from None
    # channels_last makes PyTorch's CPU convolutions markedly faster for these nets
    return model.to(memory_format=torch.channels_last).eval()
