"""Self-describing checkpoints: safetensors weights plus JSON metadata, never a pickle.

A checkpoint `NAME.safetensors` carries the weights and, in its header, the metadata needed
to rebuild and trust the model: architecture name and config, training config (seed and
the command that made it), metrics, data fingerprint, library versions and a checksum of
the weights. `NAME.json` beside it repeats the metadata for people and tools to read.
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

from kd.models import build_model

FORMAT = "kd-lab-checkpoint/1"
METADATA_KEY = "kd_lab"


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


def metadata_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


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


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write(path, (json.dumps(data, indent=2) + "\n").encode())


def save(path: str | Path, model: torch.nn.Module, metadata: dict[str, Any]) -> Path:
    """Write NAME.safetensors and NAME.json; metadata must include architecture and model_config."""
    path = Path(path).with_suffix(".safetensors")
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
    """The metadata stored in a checkpoint's header (the weights are not read)."""
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
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path} has format {metadata.get('format')!r}, expected {FORMAT!r}")
    return metadata


def load(path: str | Path) -> torch.nn.Module:
    """Rebuild the model a checkpoint describes, with its weights, in eval mode."""
    metadata = read_metadata(path)
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
