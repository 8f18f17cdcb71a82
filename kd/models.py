"""The model registry: every model family by name, with its config dataclass, its module and its checks.

A family is a name, a frozen config dataclass and the module built from it (kd/families/). Checkpoints,
export, sweeps, the lab and the command line ask this registry, never a family's name typed in place:
adding a family is a module under kd/families/ and one entry in FAMILIES. Every model returns raw logits
(B, 10) for images (B, 1, 28, 28) or (B, 28, 28): distillation needs them unsoftened.

An Ensemble of such models is one model too (Hinton et al. 2015 distil an ensemble): it averages
its members' logits, saves into one checkpoint and exports to one ONNX graph.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from kd.families import convnet, mlp
from kd.families.convnet import STUDENT, TEACHER, ConvNet, ConvNetConfig
from kd.families.mlp import MLP, MLP_STUDENT, MLP_TEACHER, MLPConfig

MAX_MEMBERS = 16  # models in one ensemble


@dataclass(frozen=True)
class Family:
    name: str  # what a checkpoint's "architecture" says
    config: type | None  # the config dataclass (None: the ensemble, whose config is its members' specs)
    module: type[nn.Module]
    check: Callable[[dict[str, Any]], None]  # ValueError for a declared config over the caps, before building
    describe: Callable[[Any], str]  # the layout in a few characters, from the config
    fuse: Callable[[nn.Module], nn.Module]  # the eval-mode copy that deployment and latency use


class Ensemble(nn.Module):
    """Models that answer as one: the mean of the members' logits (B, 10).

    Averaged logits rather than averaged probabilities: softmax(mean logits / T) is the geometric
    mean of the members' softmax(logits / T), normalised, at every temperature T. Distillation
    computes its soft targets from the teacher's logits at its own temperature, so an ensemble
    used as a teacher gives the same kind of targets one model does; averaged probabilities
    would have no logits to divide by T.
    """

    def __init__(self, members: Sequence[nn.Module]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(images) for member in self.members]).mean(dim=0)


def _check_ensemble(config: dict[str, Any]) -> None:
    members = config.get("members")
    if set(config) != {"members"} or not (
        isinstance(members, list)
        and 1 <= len(members) <= MAX_MEMBERS
        and all(isinstance(member, dict) and isinstance(member.get("model_config"), dict) for member in members)
    ):
        raise ValueError(
            f"declares ensemble members {str(members)[:80]}: expected a list of 1 to {MAX_MEMBERS} objects, "
            "each with an architecture and a model_config"
        )
    for member in members:
        if member.get("architecture") == ENSEMBLE:
            raise ValueError("an ensemble's members must be single models, not ensembles")
        family(member.get("architecture")).check(member["model_config"])


def _describe_ensemble(config: dict[str, Any]) -> str:
    """The members' layouts side by side, joined by ' + '."""
    return " + ".join(describe(member["architecture"], member["model_config"]) for member in config["members"])


def _fuse_ensemble(model: Ensemble) -> Ensemble:
    return Ensemble([fuse_for_inference(member) for member in model.members]).eval()


ENSEMBLE = "ensemble"
FAMILIES: dict[str, Family] = {
    "convnet": Family("convnet", ConvNetConfig, ConvNet, convnet.check, convnet.describe, convnet.fuse),
    "mlp": Family("mlp", MLPConfig, MLP, mlp.check, mlp.describe, mlp.fuse),
    ENSEMBLE: Family(ENSEMBLE, None, Ensemble, _check_ensemble, _describe_ensemble, _fuse_ensemble),
}
# the models the project trains, by the name `--model` takes: the shipped CNNs and the paper's MLPs
PRESETS: dict[str, Any] = {
    "teacher": TEACHER,
    "student": STUDENT,
    "mlp-teacher": MLP_TEACHER,
    "mlp-student": MLP_STUDENT,
}
__all__ = ["ENSEMBLE", "FAMILIES", "PRESETS", "Ensemble", "Family", "build", "build_model", "model_spec"]


def family(architecture: str) -> Family:
    """The family a checkpoint's architecture names; ValueError for a name the registry does not know."""
    if not isinstance(architecture, str) or architecture not in FAMILIES:
        raise ValueError(f"unknown architecture {architecture!r}; known: {sorted(FAMILIES)}")
    return FAMILIES[architecture]


def family_of(model_or_config: Any) -> Family:
    """The family of a built model or of a config dataclass."""
    for candidate in FAMILIES.values():
        if isinstance(model_or_config, candidate.module) or (
            candidate.config is not None and isinstance(model_or_config, candidate.config)
        ):
            return candidate
    raise TypeError(f"no model family for a {type(model_or_config).__name__}")


def config_from_dict(architecture: str, config: dict[str, Any]) -> Any:
    """A family's config dataclass from its JSON form (lists back to tuples)."""
    cls = family(architecture).config
    if cls is None:
        return config
    return cls(**{key: _tuples(value) for key, value in config.items()})


def _tuples(value: Any) -> Any:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def build_model(architecture: str, config: dict[str, Any] | Any) -> nn.Module:
    """Build a model from its architecture name and config (a dataclass or its dict form)."""
    chosen = family(architecture)
    if chosen.name == ENSEMBLE:
        _check_ensemble(config)
        return Ensemble([build_model(member["architecture"], member["model_config"]) for member in config["members"]])
    if isinstance(config, dict):
        config = config_from_dict(architecture, config)
    return chosen.module(config)


def build(config: Any) -> nn.Module:
    """The model a config dataclass describes (PRESETS' values among them), built by its family."""
    return family_of(config).module(config)


def config_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def model_spec(model_or_config: Any) -> dict[str, Any]:
    """The architecture name and config dict that build_model rebuilds a model from: what a checkpoint stores."""
    if isinstance(model_or_config, Ensemble):
        return {"architecture": ENSEMBLE, "model_config": {"members": [model_spec(m) for m in model_or_config.members]}}
    chosen = family_of(model_or_config)
    config = model_or_config if chosen.config is not None and isinstance(model_or_config, chosen.config) else None
    return {"architecture": chosen.name, "model_config": config_dict(config or model_or_config.config)}


def describe(architecture: str, config: dict[str, Any]) -> str:
    """A stored model's layout in a few characters ("12,20/34", "800-800"), for tables."""
    return family(architecture).describe(config_from_dict(architecture, config))


def count_parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def fuse_for_inference(model: nn.Module) -> nn.Module:
    """The eval-mode copy a deployed model runs (a CNN's BatchNorm folded into its convs): same outputs, fewer layers.

    This is how a deployed model runs, and what latency measures.
    """
    return family_of(model).fuse(model)
