"""The auto recipe, chosen on validation: `python -m benchmarks.short_runs [--seeds 0,1,2]`.

`kd.train`'s "auto" batch size and peak learning rate decide how every run that does not set them
trains: the dashboards' runs, the sweeps' cells, `python -m kd distill` with no flags. This measures
the alternatives on the validation images (the last 10,000 training images), never the test set:

- the short runs (5,000 images x 2 epochs, the dashboards' default run; 1,000 x 3): peak learning rates
  0.01, 0.03, 0.1 at the auto batch size, and batch sizes 16, 32, 64, 128 at the auto learning rate,
  each distilled (alpha 0.9, T 4) and from scratch (alpha 0) over the seeds;
- a long run (all 50,000 images x 10 epochs, from scratch): peak 0.01 against 0.03, the rule's other side.

Each run is what `python -m kd distill --limit N --epochs E [--alpha 0] --seed S [--batch-size B]
[--learning-rate LR]` trains (the config comes from the command line's own parser). One JSON line per
run, then per budget the mean validation accuracy of each setting, the best, and the choice: the shipped
(auto) setting stays unless another beats it by more than one standard error.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict

from kd import checkpoint
from kd.cli.main import TEACHER_CHECKPOINT, parse_args
from kd.data import load_mnist
from kd.flags import from_args
from kd.models import PRESETS, build
from kd.significance import one_standard_error
from kd.train import TrainConfig, seeded, train

AUTO = "auto"
SHORT = ((5000, 2), (1000, 3))  # (training images, epochs)
SHORT_SETTINGS = ((AUTO, AUTO), (AUTO, "0.01"), (AUTO, "0.1"), ("32", AUTO), ("64", AUTO), ("128", AUTO))
LONG = ((None, 10),)  # all 50,000 images
LONG_SETTINGS = ((AUTO, AUTO), (AUTO, "0.03"))  # auto is 0.01 there


def cli_config(limit: int | None, epochs: int, alpha: float, seed: int, batch: str, rate: str) -> TrainConfig:
    """The TrainConfig `python -m kd distill --limit ... --epochs ... --alpha ... --seed ...` builds."""
    argv = ["distill", "--epochs", str(epochs), "--alpha", str(alpha), "--seed", str(seed)]
    argv += ["--limit", str(limit)] if limit else []
    argv += [] if batch == AUTO else ["--batch-size", batch]
    argv += [] if rate == AUTO else ["--learning-rate", rate]
    return from_args(TrainConfig, parse_args(argv))


def decide(budget: tuple, accuracies: dict[tuple, dict[int, list[float]]]) -> dict:
    """One budget's settings by mean validation accuracy, and the choice: what ships (auto) stays unless another
    setting beats it by more than the best one's standard error (a change needs evidence, not seed noise).

    A setting's score for a seed is the mean over its arms (distilled and scratch) of that seed, so the standard
    error is over seeds: the gap between the two arms is not seed noise and must not widen it."""
    runs = {
        key[2:]: [statistics.fmean(arms) for arms in by_seed.values()]
        for key, by_seed in accuracies.items()
        if key[:2] == budget
    }
    means = {setting: statistics.fmean(values) for setting, values in runs.items()}
    pick = one_standard_error(means, lambda setting: statistics.stdev(runs[setting]) / len(runs[setting]) ** 0.5)
    best, error, chosen = pick.best, pick.standard_error, pick.keep((AUTO, AUTO))
    return {
        "limit": budget[0],
        "epochs": budget[1],
        "mean_validation_accuracy": {f"batch {b}, rate {r}": round(m, 5) for (b, r), m in means.items()},
        "best": f"batch {best[0]}, rate {best[1]} (standard error {error:.5f})",
        "chosen": f"batch {chosen[0]}, rate {chosen[1]}",
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (the short runs)")
    parser.add_argument("--long-seeds", default="0,1", help="comma-separated seeds (the long run)")
    args = parser.parse_args(argv)
    data, teacher = load_mnist(), checkpoint.load(TEACHER_CHECKPOINT)
    plans = [(SHORT, SHORT_SETTINGS, (0.9, 0.0), args.seeds), (LONG, LONG_SETTINGS, (0.0,), args.long_seeds)]
    accuracies: dict[tuple, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for budgets, settings, alphas, seeds in plans:
        for limit, epochs in budgets:
            for batch, rate in settings:
                for alpha in alphas:
                    for seed in (int(part) for part in seeds.split(",")):
                        config = cli_config(limit, epochs, alpha, seed, batch, rate)
                        with seeded(seed):
                            student = build(PRESETS["student"])
                        result = train(student, data, config, teacher=teacher)  # alpha 0 leaves it unused
                        accuracy = result.history[-1]["validation_accuracy"]
                        accuracies[(limit, epochs, batch, rate)][seed].append(accuracy)
                        row = {"limit": limit, "epochs": epochs, "alpha": alpha, "seed": seed}
                        row |= {"batch_size": batch, "learning_rate": rate, "validation_accuracy": accuracy}
                        row |= {
                            "resolved_batch": result.config.batch_size,
                            "resolved_rate": result.config.learning_rate,
                        }
                        print(json.dumps(row | {"train_seconds": round(result.elapsed, 2)}), flush=True)
    summary = [decide(budget, accuracies) for budget in dict.fromkeys(key[:2] for key in accuracies)]
    print(json.dumps({"summary": summary}))
    return {"summary": summary}


if __name__ == "__main__":
    main()
