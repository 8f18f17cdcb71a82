"""Short runs with the command line's defaults, over seeds: `python -m benchmarks.short_runs [--seeds 0,1,2]`.

Each run is what `python -m kd distill --limit N --epochs E [--alpha 0] --seed S` trains (the
config comes from the command line's own parser, so its defaults are the ones measured: auto
batch size and learning rate, T = 4, no augmentation), from the shipped teacher, in this
process. It prints one JSON line per run, then the mean test accuracy per budget and alpha and
the mean paired gain of alpha 0.9 over alpha 0 (same seed, same initial weights).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from kd import checkpoint
from kd.cli.main import DEFAULT_TEACHER, parse_args
from kd.data import load_mnist
from kd.flags import from_args
from kd.models import PRESETS, build_model
from kd.train import TrainConfig, seeded, train

BUDGETS = ((5000, 2), (1000, 3))  # (training images, epochs): the short-run goals
ALPHAS = (0.9, 0.0)


def cli_config(limit: int, epochs: int, alpha: float, seed: int) -> TrainConfig:
    """The TrainConfig `python -m kd distill --limit ... --epochs ... --alpha ... --seed ...` builds."""
    argv = ["distill", "--limit", str(limit), "--epochs", str(epochs), "--alpha", str(alpha), "--seed", str(seed)]
    return from_args(TrainConfig, parse_args(argv))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    args = parser.parse_args(argv)
    seeds = [int(part) for part in args.seeds.split(",")]
    data, teacher = load_mnist(), checkpoint.load(DEFAULT_TEACHER)
    accuracies: dict[tuple, dict[int, float]] = defaultdict(dict)
    for limit, epochs in BUDGETS:
        for alpha in ALPHAS:
            for seed in seeds:
                config = cli_config(limit, epochs, alpha, seed)
                with seeded(seed):
                    student = build_model("convnet", PRESETS["student"])
                result = train(student, data, config, teacher=teacher)  # alpha 0 leaves it unused
                accuracy = result.history[-1]["test_accuracy"]
                accuracies[(limit, epochs, alpha)][seed] = accuracy
                row = {"limit": limit, "epochs": epochs, "alpha": alpha, "seed": seed, "accuracy": accuracy}
                row |= {"batch_size": result.config.batch_size, "learning_rate": result.config.learning_rate}
                print(json.dumps(row | {"train_seconds": round(result.elapsed, 2)}), flush=True)
    summary = []
    for limit, epochs in BUDGETS:
        kd_runs, scratch = accuracies[(limit, epochs, 0.9)], accuracies[(limit, epochs, 0.0)]
        summary.append(
            {
                "limit": limit,
                "epochs": epochs,
                "seeds": seeds,
                "alpha_0.9": sum(kd_runs.values()) / len(seeds),
                "alpha_0": sum(scratch.values()) / len(seeds),
                "lowest_alpha_0.9": min(kd_runs.values()),
                "lowest_alpha_0": min(scratch.values()),
                "paired_gain_points": 100 * sum(kd_runs[s] - scratch[s] for s in seeds) / len(seeds),
            }
        )
    print(json.dumps({"summary": summary}))
    return {"summary": summary}


if __name__ == "__main__":
    main()
