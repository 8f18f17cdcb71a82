"""Ensemble members compared on validation: `python -m benchmarks.teacher_members --member 48/96,96/192:12:4`.

Each `--member STAGES:EPOCHS:SEED` trains one teacher with the shipped teacher's recipe (kd.recipes.TEACHER:
augmented, the first 50,000 training images) and layout (kd.models.TEACHER) with these stage widths, epochs and
seed, on one torch thread (repeatable bit for bit), and saves its logits on the validation images (the last 10,000
training images) in --out. Members already saved there are not trained again: two processes can train one member
each, side by side, and a last call with no --member scores them all.

Then every ensemble of the shipped teachers (trained on the same 50,000 images) and the saved members is scored on
validation by the mean of its members' logits, as kd.models.Ensemble answers: one JSON line each, then each
member's errors and the mean errors per ensemble size, written to --out/summary.json too. The best of many
ensembles is picked from noise as much as from merit: the means per size are the figures to go by. The test set
is never read.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
from pathlib import Path

import numpy as np
import torch

from benchmarks.holdout import parse_stages
from kd.checkpoint import load
from kd.data import MNIST, load_mnist, training_split
from kd.models import TEACHER, build, count_parameters
from kd.predict import logits
from kd.recipes import TEACHER as TEACHER_RECIPE
from kd.recipes import TEACHER_RECIPES
from kd.train import seeded, train


def member_name(spec: str) -> str:
    """'32/64,64/128:30:3' -> '32_64-64_128-e30-s3', a file name."""
    stages, epochs, seed = spec.split(":")
    return f"{stages.replace('/', '_').replace(',', '-')}-e{int(epochs)}-s{int(seed)}"


def train_member(spec: str, data: MNIST) -> tuple[torch.nn.Module, dict]:
    """The member `spec` describes, trained, and a record of it."""
    stages, epochs, seed = spec.split(":")
    config = dataclasses.replace(TEACHER_RECIPE, epochs=int(epochs), seed=int(seed))
    with seeded(config.seed):
        model = build(dataclasses.replace(TEACHER, stages=parse_stages(stages)))
    result = train(model, data, config, threads=1)
    return model.cpu(), {"member": spec, "parameters": count_parameters(model), "train_seconds": round(result.elapsed)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--member", action="append", default=[], help="STAGES:EPOCHS:SEED, e.g. 32/64,64/128:30:3")
    parser.add_argument("--out", type=Path, default=Path("results/teacher-members"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    data = load_mnist()
    split = training_split(data, None, 0)
    for spec in args.member:
        path = args.out / f"{member_name(spec)}.npy"
        if not path.exists():
            model, record = train_member(spec, data)
            np.save(path, logits(model, split.validation_images).numpy())
            print(json.dumps(record), flush=True)
    shipped = {name: load(f"checkpoints/{name}.safetensors") for name in TEACHER_RECIPES}
    members = {name: logits(model, split.validation_images).numpy() for name, model in shipped.items()}
    members |= {path.stem: np.load(path) for path in sorted(args.out.glob("*.npy"))}
    labels = split.validation_labels.numpy()
    sizes = range(1, len(members) + 1)
    errors: dict[tuple[str, ...], int] = {}
    for names in itertools.chain.from_iterable(itertools.combinations(members, size) for size in sizes):
        mean_logits = np.mean([members[name] for name in names], axis=0)
        errors[names] = int((mean_logits.argmax(axis=1) != labels).sum())
        print(json.dumps({"ensemble": list(names), "validation_errors": errors[names]}), flush=True)
    summary = {
        "validation_images": len(labels),
        "members": {name: errors[(name,)] for name in members},
        "mean_errors_by_ensemble_size": {
            size: round(statistics.fmean(e for names, e in errors.items() if len(names) == size), 1) for size in sizes
        },
        "all_members": errors[tuple(members)],
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({"summary": summary}))
    return summary


if __name__ == "__main__":
    main()
