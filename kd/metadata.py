"""A checkpoint's metadata as typed records, read once at the boundary: a missing field is an error, not a zero.

`kd.checkpoint` writes and checks the JSON; these records are what the lab, the apps and the
report read from it. Extra fields are kept in the JSON and ignored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class MetadataError(ValueError):
    """Metadata that lacks a field the lab needs, or holds one of the wrong kind."""


def _field(record: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = record.get(name) if isinstance(record, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float, (int, float)):
        raise MetadataError(f"{where} has no valid {name!r}")
    return value


@dataclass(frozen=True)
class Metrics:
    """Test-set metrics of one model (kd.evaluate), or of a run's same-budget scratch twin."""

    accuracy: float
    errors: int
    test_size: int
    ece: float
    macro_f1: float
    per_class_f1: tuple[float, ...]  # classes 0..9
    agreement: float | None  # with the teacher; None where nothing was compared
    parameters: int | None
    raw: dict[str, Any]  # the whole dict: confusion, calibration bins, per-class precision and recall

    @classmethod
    def from_dict(cls, metrics: dict[str, Any], where: str = "metrics") -> Metrics:
        per_class = _field(metrics, "per_class", list, where)
        macro = _field(metrics, "macro", dict, where)
        agreement = metrics.get("agreement")
        parameters = metrics.get("parameters")
        return cls(
            accuracy=float(_field(metrics, "accuracy", (int, float), where)),
            errors=int(_field(metrics, "errors", int, where)),
            test_size=int(_field(metrics, "test_size", int, where)),
            ece=float(_field(metrics, "ece", (int, float), where)),
            macro_f1=float(_field(macro, "f1", (int, float), f"{where}['macro']")),
            per_class_f1=tuple(float(_field(row, "f1", (int, float), f"{where}['per_class']")) for row in per_class),
            agreement=float(agreement) if isinstance(agreement, int | float) else None,
            parameters=int(parameters) if isinstance(parameters, int) else None,
            raw=metrics,
        )


@dataclass(frozen=True)
class ModelInfo:
    """What the lab shows of a checkpoint: who it is, how it was trained, how well it does."""

    role: str
    metrics: Metrics
    train_config: dict[str, Any]  # TrainConfig's fields as trained (batch size and learning rate resolved)
    train_images: int
    command: str
    train_seconds: float
    weights_sha256: str
    history: tuple[dict[str, Any], ...]
    baseline: Metrics | None  # a dashboard run's scratch twin: alpha 0, same images, epochs and seed
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, metadata: dict[str, Any], where: str = "checkpoint") -> ModelInfo:
        config = _field(metadata, "train_config", dict, where)
        data = _field(metadata, "data", dict, where)
        baseline = metadata.get("baseline")
        return cls(
            role=_field(metadata, "role", str, where),
            metrics=Metrics.from_dict(_field(metadata, "metrics", dict, where), f"{where}'s metrics"),
            train_config=config,
            train_images=int(_field(data, "train_images", int, f"{where}'s data")),
            command=_field(metadata, "command", str, where),
            train_seconds=float(_field(metadata, "train_seconds", (int, float), where)),
            weights_sha256=_field(metadata, "weights_sha256", str, where),
            history=tuple(_field(metadata, "history", list, where)),
            baseline=Metrics.from_dict(baseline, f"{where}'s baseline") if baseline is not None else None,
            raw=metadata,
        )
