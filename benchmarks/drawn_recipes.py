"""Bold and coarse ink compared on validation drawings: `python -m benchmarks.drawn_recipes --arms none bold=0.2`.

Each arm is the shipped scratch student's recipe (kd.recipes.SCRATCH_STUDENT; --epochs shortens it) with a share
of each batch inked bold and/or taken to 8x8 and back (`--bold`, `--coarse`: kd.augment). Every run trains on the
first 50,000 training images with one torch thread (repeatable bit for bit) and is scored on what was held out:
MNIST's last 10,000 training images and the drawn validation set (kd.infer.drawn, 1,500 digits: typed in DejaVu
faces, written, coarse), never on the test set. The arm chosen is the one with the most drawn validation digits
read right over the seeds. `--heldback` also scores each run on the held-back drawn set, to report what the
choice brings: it is printed apart and must never be chosen on. One JSON line per run, then a summary per arm.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics

from kd.data import load_mnist
from kd.infer.drawn.command import score
from kd.infer.drawn.sets import drawn_set
from kd.models import STUDENT, build
from kd.predict import predict_proba
from kd.recipes import SCRATCH_STUDENT
from kd.train import TrainConfig, seeded, train

SHARES = ("bold", "coarse")


def parse_arm(text: str) -> dict[str, float]:
    """'bold=0.2,coarse=0.3' -> {'bold': 0.2, 'coarse': 0.3}; 'none' -> {} (the recipe as it is)."""
    if text == "none":
        return {}
    arm = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in SHARES:
            raise argparse.ArgumentTypeError(f"an arm sets {' and '.join(SHARES)}, got {part!r}")
        arm[name] = float(value)
    return arm


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", nargs="+", type=parse_arm, default=[{}, {"bold": 0.2}], help="none, bold=S, ...")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--epochs", type=int, default=8, help=f"per run (the recipe's: {SCRATCH_STUDENT.epochs})")
    parser.add_argument("--heldback", action="store_true", help="also report the held-back drawn set")
    args = parser.parse_args(argv)
    data = load_mnist()
    sets = {"validation": drawn_set("validation", 0)}
    if args.heldback:
        sets["heldback"] = drawn_set("heldback", 0)
    runs: dict[str, list[dict]] = {}
    for arm in args.arms:
        name = ",".join(f"{key}={value:g}" for key, value in arm.items()) or "none"
        for seed in (int(part) for part in args.seeds.split(",")):
            config = TrainConfig(**{**dataclasses.asdict(SCRATCH_STUDENT), "epochs": args.epochs, "seed": seed, **arm})
            with seeded(seed):
                student = build(STUDENT)
            result = train(student, data, config, threads=1)
            row = {"arm": name, "seed": seed, "mnist_validation": result.history[-1]["validation_accuracy"]}
            for set_name, drawn in sets.items():
                figures = score(drawn, predict_proba(student, drawn.images).argmax(axis=1))
                row[f"drawn_{set_name}"] = {"accuracy": figures["accuracy"], "parts": figures["parts"]}
            runs.setdefault(name, []).append(row)
            print(json.dumps(row | {"train_seconds": round(result.elapsed, 1)}), flush=True)
    summary = {
        name: {
            key: round(
                statistics.fmean(row[key] if key == "mnist_validation" else row[key]["accuracy"] for row in rows), 4
            )
            for key in ("mnist_validation", *(f"drawn_{set_name}" for set_name in sets))
        }
        for name, rows in runs.items()
    }
    chosen = max(summary, key=lambda name: summary[name]["drawn_validation"])
    print(json.dumps({"summary": summary, "chosen on drawn validation": chosen}))
    return {"summary": summary, "chosen": chosen}


if __name__ == "__main__":
    main()
