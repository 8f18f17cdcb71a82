"""The shipped recipes (kd/recipes.py) are the ones the shipped checkpoints record and `make checkpoints` runs."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from kd import checkpoint
from kd.cli.main import parse_args
from kd.flags import from_args
from kd.recipes import RECIPES
from kd.sweep.results import read_sweep_record
from kd.sweep.shipped import SHIPPED_SWEEPS
from kd.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"teacher": "teacher", "scratch": "scratch-student", "student": "distilled-student"}  # checkpoint: recipe
MEMBERS = {"teacher-1": "teacher-1", "teacher-2": "teacher-2"}  # the ensemble's other members (`make ensemble`)


def parsed(command: str) -> argparse.Namespace:
    """A `python -m kd ...` command line as the command line parses it today."""
    words = shlex.split(command)
    return parse_args(words[words.index("kd") + 1 :])


@pytest.mark.parametrize("name, recipe", SHIPPED.items())
def test_each_shipped_checkpoint_records_a_command_that_trains_its_recipe(name, recipe):
    metadata = checkpoint.read_metadata(ROOT / "checkpoints" / f"{name}.safetensors")
    assert from_args(TrainConfig, parsed(metadata["command"])) == RECIPES[recipe]


def test_make_checkpoints_trains_each_model_with_its_recipe():
    # what make would run (make -n also dry-runs the recursive `$(MAKE) students`), nothing run
    done = subprocess.run(["make", "-n", "checkpoints"], cwd=ROOT, capture_output=True, text=True, check=True)
    commands = [line for line in done.stdout.splitlines() if re.search(r" -m kd (train-teacher|distill) ", line)]
    outs = {}
    for command in commands:
        args = parsed(command)
        assert args.recipe is not None, f"{command!r} does not name its recipe"
        assert from_args(TrainConfig, args) == RECIPES[args.recipe]
        outs[Path(args.out).name] = args.recipe
    assert outs == SHIPPED | MEMBERS  # every shipped checkpoint and ensemble member, each from its own recipe


@pytest.mark.parametrize("name", list(SHIPPED_SWEEPS))
def test_each_shipped_sweep_folder_holds_what_its_preset_names(name):
    spec = SHIPPED_SWEEPS[name]
    record = read_sweep_record(ROOT / spec.out)
    assert record["grid"] == json.loads(json.dumps(dataclasses.asdict(spec.grid)))
    assert record["teacher"] == spec.teacher
    recipe = dataclasses.asdict(spec.recipe)
    assert all(recipe[key] == value for key, value in record["recipe"].items())  # older records hold fewer fields


def test_make_calls_the_shipped_sweeps_by_name_and_types_no_grid():
    done = subprocess.run(["make", "-n", "sweep", "sweep-full-budget", "sweep-function-matching"], cwd=ROOT,
                          capture_output=True, text=True, check=True)  # fmt: skip
    sweeps = [line for line in done.stdout.splitlines() if " -m kd sweep " in line]
    assert sweeps and all("--preset" in line and "--temperatures" not in line for line in sweeps)
    assert all(name in done.stdout for name in SHIPPED_SWEEPS)
