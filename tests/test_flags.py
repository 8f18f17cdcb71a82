"""Flags generated from a settings dataclass and the config written back as flags (kd/flags.py)."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import pytest

from kd.flags import add_dataclass_flags, field_comments, from_args, to_argv
from kd.train import TrainConfig


def parser_for(cls, **options) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_dataclass_flags(parser, cls, **options)
    return parser


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(),
        TrainConfig(epochs=3, alpha=0.5, temperature=2.5, augment=False, limit=1000, seed=7),
        TrainConfig(learning_rate=1e-5, weight_decay=0.0, limit=None, device="cpu"),
        TrainConfig(alpha=1.0, temperature=0.1, augment=True, limit=1),
    ],
)
def test_to_argv_then_parse_rebuilds_the_same_config(config):
    parser = parser_for(TrainConfig)
    assert from_args(TrainConfig, parser.parse_args(to_argv(config))) == config


def test_the_flags_reproduce_a_config_whatever_the_parser_defaults():
    # the sweep's and distill's parsers override defaults; every field is written out, so they do not matter
    config = TrainConfig(augment=True, epochs=2)
    parser = parser_for(TrainConfig, defaults={"augment": False, "epochs": 12, "limit": 500})
    assert from_args(TrainConfig, parser.parse_args(to_argv(config))) == config


def test_every_field_has_a_flag_with_its_type_default_and_help():
    parser = parser_for(TrainConfig)
    args = parser.parse_args([])
    assert from_args(TrainConfig, args) == TrainConfig()
    parsed = parser.parse_args(["--batch-size", "32", "--limit", "none", "--no-augment", "--learning-rate", "3e-3"])
    assert (parsed.batch_size, parsed.limit, parsed.augment, parsed.learning_rate) == (32, None, False, 0.003)
    assert "share of the soft-target term: 0 = labels only, 1 = teacher only" in " ".join(parser.format_help().split())
    with pytest.raises(argparse.ArgumentError, match="expected int"):
        parser.parse_args(["--epochs", "two"])


def test_excluded_fields_keep_their_defaults_and_overrides_win():
    parser = parser_for(TrainConfig, exclude=("alpha", "seed"))
    assert "--alpha" not in parser.format_help()
    config = from_args(TrainConfig, parser.parse_args(["--epochs", "2"]), alpha=0.25)
    assert config == TrainConfig(epochs=2, alpha=0.25)
    assert "--alpha" not in to_argv(config, exclude=("alpha",))


def test_range_checks_stay_in_the_dataclass():
    parser = parser_for(TrainConfig)
    with pytest.raises(ValueError, match="alpha"):
        from_args(TrainConfig, parser.parse_args(["--alpha", "1.5"]))


@dataclass(frozen=True)
class Example:
    mode: Literal["fast", "slow"] = "fast"  # how hard to try
    size: int | None = 4  # None: pick for me
    name: str = field(default="x", metadata={"help": "from metadata"})
    tags: float = 0.5


def test_other_dataclasses_literals_optionals_and_help_sources():
    assert field_comments(Example) == {"mode": "how hard to try", "size": "None: pick for me"}
    parser = parser_for(Example, help={"tags": "from the dict"})
    text = parser.format_help()
    assert "how hard to try" in text and "from metadata" in text and "from the dict" in text
    for example in (Example(), Example(mode="slow", size=None, name="a b", tags=2.0)):
        assert from_args(Example, parser.parse_args(to_argv(example))) == example
    assert to_argv(Example(size=None))[2:4] == ["--size", "none"]
    with pytest.raises(argparse.ArgumentError, match="expected one of fast, slow"):
        parser.parse_args(["--mode", "medium"])


def test_unknown_field_names_are_an_error():
    with pytest.raises(ValueError, match="no fields"):
        parser_for(TrainConfig, exclude=("temprature",))


def test_a_new_field_becomes_a_flag_without_other_edits():
    Extended = dataclasses.make_dataclass(
        "Extended", [("warmup_steps", int, dataclasses.field(default=0))], bases=(TrainConfig,), frozen=True
    )
    config = Extended(warmup_steps=50, alpha=0.9)
    assert "--warmup-steps" in to_argv(config)
    assert from_args(Extended, parser_for(Extended).parse_args(to_argv(config))) == config


def test_auto_settings_read_auto_and_show_it_as_the_docs_write_it():
    parser = parser_for(TrainConfig)
    parsed = parser.parse_args(["--batch-size", "auto", "--learning-rate", "AUTO"])
    assert (parsed.batch_size, parsed.learning_rate) == (None, None)
    assert parser.parse_args(["--batch-size", "none"]).batch_size is None  # commands recorded with `none` still run
    with pytest.raises(argparse.ArgumentError, match="expected int"):
        parser.parse_args(["--limit", "auto"])  # limit's None means every image, not auto
    text = " ".join(parser.format_help().split())
    assert "--batch-size INT|auto images per optimiser step (default: auto)" in text
    assert "--learning-rate FLOAT|auto" in text and "--limit INT|none" in text
    assert "None = auto" not in text and "auto_batch_size" not in text and "NONE|" not in text
    assert "--mix {none,mixup,cutmix} function matching" in text  # a Literal shows its choices
    recipe = parser_for(TrainConfig, defaults={"batch_size": 128}).format_help()
    assert "(default: 128)" in " ".join(recipe.split())  # a recipe's own value, not "auto"
