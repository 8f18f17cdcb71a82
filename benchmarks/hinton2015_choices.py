"""How `make hinton2015`'s distilled students train, chosen on validation: `python -m benchmarks.hinton2015_choices`.

Each candidate schedule trains the three students that learn from the shipped CNN teacher (all digits, no 3s,
only 7s and 8s) on seed 0 through the table's own plan (kd.experiments.hinton2015, `--workers` at a time), into
results/hinton2015/choices/NAME/ (kept: a rerun trains only what is missing). Reported, from the validation
images only: the distilled student's accuracy, and for each transfer set its errors and the left-out digits'
recall after the offset that kd.omitted chose. The pipeline scores the test set too; this script never reads it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from kd import checkpoint
from kd.experiments.hinton2015 import Schedule, plan, run_jobs
from kd.paths import ROOT

FOLDER = ROOT / "results" / "hinton2015" / "choices"
STUDENTS = ("distilled-cnn", "missing-3", "only-7-8")
SEED = 0
CANDIDATES = {  # the table's first schedule, longer, with the teacher answering on augmented images, as many steps
    "10 epochs": Schedule(seeds=(SEED,), distilled_epochs=10, distilled_augment=False, distilled_steps_matched=False),
    "30 epochs": Schedule(seeds=(SEED,), distilled_epochs=30, distilled_augment=False, distilled_steps_matched=False),
    "20 epochs, augmented": Schedule(seeds=(SEED,), distilled_epochs=20, distilled_steps_matched=False),
    "30 epochs, augmented": Schedule(seeds=(SEED,), distilled_epochs=30, distilled_steps_matched=False),
    "30 epochs, augmented, steps matched": Schedule(seeds=(SEED,), distilled_epochs=30),
}


def _folder(name: str) -> Path:
    return FOLDER / name.replace(" ", "-").replace(",", "")


def _validation(metadata: dict) -> dict:
    """What validation says of one student: accuracy (its last epoch), or its errors and recall after the offset."""
    if "omitted" not in metadata:
        return {"validation_accuracy": metadata["history"][-1]["validation_accuracy"]}
    after = metadata["omitted"]["validation"]["after"]
    return {"offset": metadata["omitted"]["offset"], "errors_after": after["errors"], "recall_after": after["recall"]}


def choose(names: list[str], workers: int) -> dict:
    report = {}
    for name in names:
        schedule, out = CANDIDATES[name], _folder(name)
        jobs = {key: job for key, job in plan(schedule, ROOT / "checkpoints", out)[0].items()
                if key.rsplit("-s", 1)[0] in STUDENTS}  # fmt: skip
        run_jobs(jobs, workers, None, print)
        records = {key: checkpoint.read_metadata(checkpoint.weights_path(job.out)) for key, job in jobs.items()}
        report[name] = {
            "schedule": asdict(schedule),
            "train_seconds": {key: record["train_seconds"] for key, record in records.items()},
            **{key: _validation(record) for key, record in records.items()},
        }
        print(name, json.dumps(report[name]), flush=True)
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    return choose(args.only, args.workers)


if __name__ == "__main__":
    main()
