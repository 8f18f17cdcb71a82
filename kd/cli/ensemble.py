"""`python -m kd ensemble`: several teachers checked, joined into one model (the mean of their logits), evaluated
once and saved as one checkpoint that records where each member came from."""

from __future__ import annotations

import time
from typing import Any

from kd import checkpoint
from kd.cli.checks import UsageError, check_out
from kd.data import MNIST, VALIDATION_SIZE, load_mnist, validation_set
from kd.metadata import ModelInfo
from kd.models import Ensemble, model_spec
from kd.pipeline import kd_command
from kd.train import accuracy


def read_member(path: str, data: MNIST) -> ModelInfo:
    """An ensemble member's metadata, checked: a single model with the lab's fields, trained on the MNIST here.

    The ensemble is validated on the last 10,000 training images and scored on the test set of this
    MNIST: members trained on other data could have seen them.
    """
    metadata = checkpoint.read_metadata(path)
    if metadata["architecture"] == "ensemble":
        raise ValueError(f"{path} is an ensemble: list its members instead")
    info = ModelInfo.from_dict(metadata, path)
    trained_on = info.raw["data"].get("sha256")
    if trained_on != data.checksum:
        raise ValueError(
            f"{path} was trained on other data (sha256 {trained_on}) than the MNIST here ({data.checksum}): "
            "an ensemble's members must share their data"
        )
    return info


def member_record(path: str, info: ModelInfo) -> dict[str, Any]:
    """What an ensemble's metadata says of one member: where it came from and how to make it again."""
    return {
        "path": path,
        "weights_sha256": info.weights_sha256,
        "role": info.role,
        "seed": info.raw.get("seed"),
        "command": info.command,
        "accuracy": info.metrics.accuracy,
    }


def shared_settings(configs: list[dict[str, Any]]) -> dict[str, Any]:
    """The training settings every member shares (usually all but the seed): the ensemble's train_config.

    The pages show a teacher's settings (its temperature and alpha) from train_config; what differs
    between members is in each one's command.
    """
    first, *others = configs
    return {key: value for key, value in first.items() if all(key in other and other[key] == value for other in others)}


def ensemble_data_record(data: MNIST, infos: list[ModelInfo]) -> dict[str, Any]:
    """The ensemble's data record; train_images, which the lab shows, is the most any member trained on."""
    most = max(info.train_images for info in infos)
    return {
        "source": data.source,
        "sha256": data.checksum,
        "train_images": most,
        "train": f"each member's own training images (see members), at most {most:,}",
        "validation": f"the last {VALIDATION_SIZE:,} training images",
        "test": f"the {len(data.test_images):,} test images, once, after the members were put together",
    }


def run_ensemble(args) -> dict[str, Any]:
    """One teacher from member checkpoints: checked, evaluated once, saved as a single checkpoint."""
    from kd.evaluate import evaluate

    if len(args.members) < 2:
        raise UsageError("an ensemble needs at least two members")
    check_out(args.out, args.force)
    data = load_mnist()
    infos = [read_member(path, data) for path in args.members]  # all checked before any weights are read
    if len({info.weights_sha256 for info in infos}) < len(infos):
        raise ValueError("the same weights are listed twice: an ensemble's members must be different models")
    ensemble = Ensemble([checkpoint.load(path) for path in args.members]).eval()
    metrics = {
        **evaluate(ensemble, data),  # the one look at the test set
        "validation_accuracy": accuracy(ensemble, *validation_set(data)),
    }
    metadata = {
        "role": "teacher",
        **model_spec(ensemble),
        "members": [member_record(path, info) for path, info in zip(args.members, infos, strict=True)],
        "train_config": shared_settings([info.train_config for info in infos]),
        "command": kd_command(args.argv),
        "data": ensemble_data_record(data, infos),
        "history": [],  # nothing was trained: each member's history is in its own checkpoint
        "train_seconds": sum(info.train_seconds for info in infos),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": metrics,
    }
    path = checkpoint.save(args.out, ensemble, metadata)
    return {
        "checkpoint": str(path),
        "role": "teacher",
        "members": args.members,
        "accuracy": metrics["accuracy"],
        "errors": metrics["errors"],
        "validation_accuracy": metrics["validation_accuracy"],
        "ece": metrics["ece"],
        "parameters": metrics["parameters"],
    }
