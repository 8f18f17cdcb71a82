"""Command line: python -m kd data | train-teacher | distill | ensemble | evaluate | bench | report | export
| site | sweep | sweep-report.

Every command takes --json (one JSON object on stdout). Bad input ends with one line
`error: ...` on stderr and a non-zero exit, never a traceback. Installed (`pip install -e .`), the
same command line is the `kd` command: main() returns the exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kd import checkpoint
from kd.cli import output
from kd.cli.checks import UsageError, check_before_work, parse_batch_sizes
from kd.cli.ensemble import run_ensemble
from kd.cli.sweep import add_sweep_flags, add_sweep_report_flags, run_sweep_command, run_sweep_report
from kd.cli.training import add_model_flag, add_training_flags, positive_int, run_distill, run_train_teacher
from kd.data import FIT_SIZE, DataError, load_mnist
from kd.experiments.hinton2015 import Schedule
from kd.flags import add_dataclass_flags, from_args
from kd.pipeline import kd_command
from kd.recipes import RECIPES, STUDENT_RECIPES, TEACHER, TEACHER_RECIPES
from kd.sweep.results import SweepSpec
from kd.sweep.shipped import SHIPPED_SWEEPS
from kd.train import Cancelled, TrainConfig

TEACHER_CHECKPOINT = "checkpoints/teacher.safetensors"  # what `distill` learns from unless --teacher says otherwise
SHIPPED_FOR_EXPORT = (TEACHER_CHECKPOINT, "checkpoints/student.safetensors", "checkpoints/scratch.safetensors")


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise UsageError(f"{message} (see --help)")


def build_parser(recipe: TrainConfig | None = None, sweep_preset: SweepSpec | None = None) -> Parser:
    """The whole command line; `recipe`, when given, supplies the training flags' defaults (see parse_args)."""
    recipe_defaults = asdict(recipe) if recipe is not None else None
    parser = Parser(prog="python -m kd", description="KD Lab: knowledge distillation on MNIST.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    data = commands.add_parser("data", help="locate, verify and cache MNIST")
    data.add_argument("--json", action="store_true")

    teacher = commands.add_parser("train-teacher", help="train the teacher CNN")
    add_training_flags(teacher, recipe_defaults or asdict(TEACHER), TEACHER_RECIPES, exclude=("temperature", "alpha"))
    add_model_flag(teacher, "teacher")
    teacher.add_argument("--out", default="checkpoints/teacher")
    teacher.add_argument("--force", action="store_true", help="replace an existing checkpoint at --out")

    distill = commands.add_parser("distill", help="train a student from the teacher (alpha=0: scratch baseline)")
    distill.add_argument(
        "--teacher", default=TEACHER_CHECKPOINT,
        help="teacher checkpoint to learn from: one model or an ensemble (default: %(default)s)",
    )  # fmt: skip
    add_training_flags(distill, recipe_defaults or {"epochs": 12, "augment": False, "alpha": 0.9}, STUDENT_RECIPES)
    add_model_flag(distill, "student")
    distill.add_argument("--out", default=None, help="checkpoint path (default: runs/distill-<time>)")
    distill.add_argument("--force", action="store_true", help="replace an existing checkpoint at --out")

    ensemble = commands.add_parser("ensemble", help="one teacher from several: the mean of their logits")
    ensemble.add_argument("members", nargs="+", metavar="MEMBER", help="checkpoints of single models, same data")
    ensemble.add_argument("--out", default="checkpoints/ensemble", help="writes OUT.safetensors and OUT.json")
    ensemble.add_argument("--force", action="store_true", help="replace an existing checkpoint at --out")
    ensemble.add_argument("--json", action="store_true")

    evaluate = commands.add_parser("evaluate", help="test-set metrics of checkpoints")
    evaluate.add_argument("checkpoints", nargs="+")
    evaluate.add_argument("--reference", default=TEACHER_CHECKPOINT, help="model to measure agreement with")
    evaluate.add_argument("--json", action="store_true")

    bench = commands.add_parser("bench", help="latency and throughput of checkpoints on this host")
    bench.add_argument("checkpoints", nargs="+")
    bench.add_argument("--batch-sizes", default="1,1000", help="comma-separated, e.g. 1,32,1000")
    bench.add_argument("--repeats", type=positive_int, default=100)
    bench.add_argument("--threads", type=positive_int, default=None, help="torch threads (default: all cores)")
    bench.add_argument("--runtime", default="torch", help="comma-separated: torch (PyTorch), onnx (ONNX Runtime)")
    bench.add_argument("--json", action="store_true")

    report = commands.add_parser("report", help="results table of the shipped checkpoints (Markdown)")
    report.add_argument("--checkpoints", default="checkpoints")
    report.add_argument("--readme", default=None, help="also write the table into this README")
    report.add_argument("--json", action="store_true")

    export = commands.add_parser("export", help="ONNX files of checkpoints, checked against PyTorch")
    export.add_argument("checkpoints", nargs="*", default=list(SHIPPED_FOR_EXPORT))
    export.add_argument("--out", required=True, help="folder for <name>.onnx and <name>.json")
    export.add_argument(
        "--corrected", action="store_true",
        help="a model trained without some digits (--omit-digits) exported with its recorded logit offset, as "
        "<name>-corrected.onnx",
    )  # fmt: skip
    export.add_argument("--json", action="store_true")

    site = commands.add_parser("site", help="the static page that runs teacher and student in the browser")
    site.add_argument("--out", required=True, help="site folder (created if needed; other files kept)")
    site.add_argument("--checkpoints", default="checkpoints", help="folder with the shipped teacher and student")
    site.add_argument(
        "--lab-url", default=None, help="address of the full lab (your Space) to link to; without it, no link"
    )
    site.add_argument("--json", action="store_true")
    hinton = commands.add_parser(
        "hinton2015", help="Hinton, Vinyals & Dean (2015)'s MNIST table reproduced (docs/hinton2015.md)"
    )
    add_dataclass_flags(hinton, Schedule)
    hinton.add_argument("--out", default="results/hinton2015", help="checkpoints, summary.json and run.json")
    hinton.add_argument("--checkpoints", default="checkpoints", help="folder with the shipped CNN teachers")
    hinton.add_argument("--workers", type=positive_int, default=2, help="processes training at once, 1 thread each")
    hinton.add_argument("--docs", default="docs/hinton2015.md", help="the page the table is written into")
    hinton.add_argument(
        "--report-only", action="store_true", help="write the table from the models trained so far, training nothing"
    )
    hinton.add_argument("--json", action="store_true")
    sweep = commands.add_parser("sweep", help="students over a grid of T, alpha, data budget and seed")
    add_sweep_flags(sweep, default_teacher=TEACHER_CHECKPOINT, preset=sweep_preset)
    add_sweep_report_flags(commands.add_parser("sweep-report", help="a sweep's paired KD gains with 95 %% CIs"))
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The parsed command line; with --recipe NAME (or a sweep's --preset NAME), parsed again with the recipe's
    fields (the shipped sweep's grid, recipe, teacher and folder) as the flags' defaults.

    argparse cannot tell a flag given explicitly from its default afterwards, so the recipe goes in as the
    defaults of a second parse: any flag on the command line then still overrides its field.
    """
    args = build_parser().parse_args(argv)
    if getattr(args, "recipe", None) is not None:
        args = build_parser(RECIPES[args.recipe]).parse_args(argv)
    if getattr(args, "preset", None) is not None:
        args = build_parser(sweep_preset=SHIPPED_SWEEPS[args.preset]).parse_args(argv)
    args.argv = argv
    return args


def run_data(args) -> dict[str, Any]:
    data = load_mnist()
    return {
        "source": data.source,
        "train": FIT_SIZE,
        "validation": len(data.train_images) - FIT_SIZE,
        "test": len(data.test_images),
        "test_class_counts": data.test_labels.bincount().tolist(),
        "cache_path": str(data.cache_path),
        "sha256": data.checksum,
    }


def run_evaluate(args) -> dict[str, Any]:
    from kd.evaluate import evaluate

    data = load_mnist()
    reference = checkpoint.load(args.reference) if Path(args.reference).exists() else None
    return {
        "models": {
            path: evaluate(checkpoint.load(path), data, reference=reference, checkpoint_path=path)
            for path in args.checkpoints
        }
    }


def run_bench(args) -> dict[str, Any]:
    from kd.infer.bench import benchmark

    sizes = parse_batch_sizes(args.batch_sizes)
    runtimes = tuple(part.strip() for part in args.runtime.split(",") if part.strip())
    models = {path: checkpoint.load(path) for path in args.checkpoints}
    rows = benchmark(models, batch_sizes=sizes, repeats=args.repeats, threads=args.threads, runtimes=runtimes)
    return {"rows": rows}


def run_report(args) -> dict[str, Any]:
    from kd.cli.report import results_table, write_into_readme

    table = results_table(Path(args.checkpoints))
    if args.readme:
        write_into_readme(Path(args.readme), table["markdown"])
    return table


def run_export(args) -> dict[str, Any]:
    from kd.infer.export import parity_images, prepare, write

    images = parity_images()
    exports = [
        prepare(path, images, args.corrected) for path in args.checkpoints
    ]  # all checked before anything is written
    return {"models": [write(exported, args.out) for exported in exports]}


def run_hinton2015(args) -> dict[str, Any]:
    from kd.experiments.hinton2015 import page, reproduce

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    schedule, checkpoints, out = from_args(Schedule, args), Path(args.checkpoints), Path(args.out)
    result = reproduce(schedule, checkpoints, out, args.workers, log=log, train=not args.report_only)
    if args.docs:
        Path(args.docs).write_text(page(result["rows"], result, kd_command(args.argv)))
    return result


def run_site(args) -> dict[str, Any]:
    from kd.site.builder import build_site

    return build_site(Path(args.out), Path(args.checkpoints), args.lab_url)


def print_text(result: dict[str, Any]) -> None:
    print(output.text(result))


RUNNERS = {
    "data": run_data,
    "train-teacher": run_train_teacher,
    "distill": run_distill,
    "ensemble": run_ensemble,
    "evaluate": run_evaluate,
    "bench": run_bench,
    "report": run_report,
    "export": run_export,
    "site": run_site,
    "hinton2015": run_hinton2015,
    "sweep": run_sweep_command,
    "sweep-report": run_sweep_report,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse_args(argv)
        check_before_work(args)
        result = RUNNERS[args.command](args)
    except (UsageError, ValueError, DataError, checkpoint.CheckpointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except (KeyboardInterrupt, Cancelled):
        print("error: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result))
    else:
        print_text(result)
    return 0
