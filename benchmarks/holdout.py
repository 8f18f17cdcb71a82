"""Student architectures compared without the test set: `python -m benchmarks.holdout [--stages 12,20/28 12,20/34]`.

Each run trains a student with the shipped distilled student's recipe (kd.recipes.DISTILLED_STUDENT, what
`python -m kd distill --recipe distilled-student` trains) on the first 50,000 training images and
scores it on the last 10,000, which it never sees.
Choosing a design by its test-set score would tune on the test set; this is how the shipped
student's width was chosen (README, "How its width was chosen"). The shipped teacher was trained on all
60,000 images, so it has seen the held-out ones: fine for comparing students with each other,
not for judging distillation against scratch. One JSON line per run with the settings it trained with
(one torch thread, as `make students` trains), then the mean held-out errors per architecture.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics

from kd import checkpoint
from kd.cli.main import DEFAULT_TEACHER
from kd.data import MNIST, load_mnist
from kd.models import STUDENT, build_model, count_parameters
from kd.recipes import DISTILLED_STUDENT
from kd.train import TrainConfig, seeded, train

HELD_OUT = 10_000  # the last images of the training set, MNIST's usual validation split


def held_out_split(data: MNIST) -> MNIST:
    """Train on all but the last HELD_OUT training images; the last ones stand in for the test set."""
    cut = len(data.train_images) - HELD_OUT
    return dataclasses.replace(
        data,
        train_images=data.train_images[:cut],
        train_labels=data.train_labels[:cut],
        test_images=data.train_images[cut:],
        test_labels=data.train_labels[cut:],
    )


def parse_stages(text: str) -> tuple[tuple[int, ...], ...]:
    """'12,20/34' -> ((12, 20), (34,)): stages split by '/', the widths of each by ','."""
    return tuple(tuple(int(width) for width in stage.split(",")) for stage in text.split("/"))


def recipe_config(epochs: int, seed: int) -> TrainConfig:
    """The shipped distilled student's recipe with these epochs and seed."""
    return dataclasses.replace(DISTILLED_STUDENT, epochs=epochs, seed=seed)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", nargs="+", default=["12,20/28", "12,20/34"], help="student stages to compare")
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds")
    parser.add_argument(
        "--epochs", type=int, default=DISTILLED_STUDENT.epochs, help="the shipped students' recipe's by default"
    )
    args = parser.parse_args(argv)
    data, teacher = held_out_split(load_mnist()), checkpoint.load(DEFAULT_TEACHER)
    errors: dict[str, list[int]] = {}
    for stages in args.stages:
        model_config = dataclasses.replace(STUDENT, stages=parse_stages(stages))
        for seed in (int(part) for part in args.seeds.split(",")):
            config = recipe_config(args.epochs, seed)
            with seeded(seed):
                student = build_model("convnet", model_config)
            result = train(student, data, config, teacher=teacher, threads=1)
            accuracy = result.history[-1]["test_accuracy"]
            errors.setdefault(stages, []).append(round((1 - accuracy) * HELD_OUT))
            row = {"stages": stages, "parameters": count_parameters(student), "seed": seed}
            row["recipe"] = dataclasses.asdict(config)
            row |= {"held_out_accuracy": accuracy, "held_out_errors": errors[stages][-1]}
            print(json.dumps(row | {"train_seconds": round(result.elapsed, 1)}), flush=True)
    summary = {stages: {"errors": runs, "mean_errors": statistics.fmean(runs)} for stages, runs in errors.items()}
    print(json.dumps({"summary": summary}))
    return {"summary": summary}


if __name__ == "__main__":
    main()
