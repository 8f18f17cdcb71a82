"""Student architectures compared on validation: `python -m benchmarks.holdout [--stages 12,20/28 12,20/34]`.

Each run trains a student with the shipped distilled student's recipe (kd.recipes.DISTILLED_STUDENT, what
`python -m kd distill --recipe distilled-student` trains; --epochs shortens it) on the first 50,000
training images, from the shipped teacher (trained on those 50,000 too), and scores it on the last 10,000,
which neither has seen. Choosing a design by its test-set score would tune on the test set; this is how
the shipped student's width is chosen (docs/results.md, "How the recipe was chosen"). One JSON line per run
with the settings it trained with (one torch thread, as `make students` trains), then the mean validation
errors per architecture.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics

from kd import checkpoint
from kd.cli.main import TEACHER_CHECKPOINT
from kd.data import VALIDATION_SIZE, load_mnist
from kd.models import STUDENT, build, count_parameters
from kd.recipes import DISTILLED_STUDENT
from kd.train import TrainConfig, seeded, train


def parse_stages(text: str) -> tuple[tuple[int, ...], ...]:
    """'12,20/34' -> ((12, 20), (34,)): stages split by '/', the widths of each by ','."""
    return tuple(tuple(int(width) for width in stage.split(",")) for stage in text.split("/"))


def recipe_config(epochs: int, seed: int, alpha: float = DISTILLED_STUDENT.alpha) -> TrainConfig:
    """The shipped distilled student's recipe with these epochs and seed (alpha 0: its scratch twin's)."""
    return dataclasses.replace(DISTILLED_STUDENT, epochs=epochs, seed=seed, alpha=alpha)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", nargs="+", default=["12,20/28", "12,20/34"], help="student stages to compare")
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds")
    parser.add_argument(
        "--epochs", type=int, nargs="+", default=[DISTILLED_STUDENT.epochs],
        help="epoch counts to compare (the shipped students' recipe's by default)",
    )  # fmt: skip
    parser.add_argument(
        "--alpha", type=float, default=DISTILLED_STUDENT.alpha, help="0: the scratch twin's recipe instead"
    )
    args = parser.parse_args(argv)
    data, teacher = load_mnist(), checkpoint.load(TEACHER_CHECKPOINT)
    errors: dict[str, list[int]] = {}
    for stages in args.stages:
        model_config = dataclasses.replace(STUDENT, stages=parse_stages(stages))
        for epochs in args.epochs:
            setting = f"{stages}, {epochs} epochs"
            for seed in (int(part) for part in args.seeds.split(",")):
                config = recipe_config(epochs, seed, args.alpha)
                with seeded(seed):
                    student = build(model_config)
                result = train(student, data, config, teacher=teacher, threads=1)
                accuracy = result.history[-1]["validation_accuracy"]
                errors.setdefault(setting, []).append(round((1 - accuracy) * VALIDATION_SIZE))
                row = {"stages": stages, "parameters": count_parameters(student), "seed": seed}
                row["recipe"] = dataclasses.asdict(config)
                row |= {"validation_accuracy": accuracy, "validation_errors": errors[setting][-1]}
                print(json.dumps(row | {"train_seconds": round(result.elapsed, 1)}), flush=True)
    summary = {setting: {"errors": runs, "mean_errors": statistics.fmean(runs)} for setting, runs in errors.items()}
    print(json.dumps({"summary": summary}))
    return {"summary": summary}


if __name__ == "__main__":
    main()
