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
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kd import checkpoint
from kd.cli import output
from kd.cli.checks import UsageError, check_before_work, check_out, parse_batch_sizes
from kd.cli.sweep import add_sweep_flags, add_sweep_report_flags, run_sweep_command, run_sweep_report
from kd.data import FIT_SIZE, MNIST, VALIDATION_SIZE, DataError, load_mnist, training_split
from kd.experiments.hinton2015 import Schedule
from kd.flags import add_dataclass_flags, from_args
from kd.metadata import ModelInfo
from kd.models import PRESETS, Ensemble, model_spec
from kd.pipeline import TEACHER_ROLE, Job, kd_command
from kd.recipes import RECIPES, STUDENT_RECIPES, TEACHER, TEACHER_RECIPES
from kd.train import Cancelled, TrainConfig, accuracy

TEACHER_CHECKPOINT = "checkpoints/teacher.safetensors"  # what `distill` learns from unless --teacher says otherwise
SHIPPED_FOR_EXPORT = (TEACHER_CHECKPOINT, "checkpoints/student.safetensors", "checkpoints/scratch.safetensors")


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise UsageError(f"{message} (see --help)")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def progress_reporter(description: str):
    """A tqdm bar on a terminal; elsewhere (logs, CI) one stderr line per epoch."""
    from tqdm import tqdm

    if not sys.stderr.isatty():

        def log_epoch(progress) -> None:
            if progress.validation_accuracy is not None:
                print(
                    f"{description}: epoch {progress.epoch}, loss {progress.loss:.4f}, "
                    f"validation accuracy {progress.validation_accuracy:.4f}, {progress.elapsed:.0f} s",
                    file=sys.stderr,
                )

        return log_epoch, None
    bar = tqdm(total=None, desc=description, unit="step", file=sys.stderr)

    def on_progress(progress) -> None:
        bar.total = progress.total_steps
        bar.n = progress.step
        postfix = {"epoch": progress.epoch, "loss": f"{progress.loss:.4f}"}
        if progress.validation_accuracy is not None:
            postfix["val_acc"] = f"{progress.validation_accuracy:.4f}"
        bar.set_postfix(postfix, refresh=True)

    return on_progress, bar


def add_training_flags(
    parser: argparse.ArgumentParser,
    defaults: dict[str, Any],
    recipes: dict[str, TrainConfig],
    exclude: tuple[str, ...] = (),
) -> None:
    """--recipe, one flag per TrainConfig field (its comment is the help), then the flags that are not settings."""
    parser.add_argument(
        "--recipe",
        choices=list(recipes),
        default=None,
        help="start from a shipped recipe (kd/recipes.py): its settings become the defaults, flags given override them",
    )
    add_dataclass_flags(parser, TrainConfig, defaults=defaults, exclude=exclude)
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch threads while training (default: all cores; 1 is faster when other work shares the cores)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_model_flag(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--model", choices=list(PRESETS), default=default,
        help="the layout to train, from the model registry (kd.models.PRESETS): the shipped CNNs or the MLPs of "
        "Hinton et al. 2015 (default: %(default)s)",
    )  # fmt: skip


def build_parser(recipe: TrainConfig | None = None) -> Parser:
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
    hinton.add_argument("--json", action="store_true")
    sweep = commands.add_parser("sweep", help="students over a grid of T, alpha, data budget and seed")
    add_sweep_flags(sweep, default_teacher=TEACHER_CHECKPOINT)
    add_sweep_report_flags(commands.add_parser("sweep-report", help="a sweep's paired KD gains with 95 %% CIs"))
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The parsed command line; with --recipe NAME, parsed again with the recipe's fields as the flags' defaults.

    argparse cannot tell a flag given explicitly from its default afterwards, so the recipe goes in as the
    defaults of a second parse: any flag on the command line then still overrides its field.
    """
    args = build_parser().parse_args(argv)
    if getattr(args, "recipe", None) is not None:
        args = build_parser(RECIPES[args.recipe]).parse_args(argv)
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


def command_line(args) -> str:
    """The command that made a checkpoint, as typed: what its metadata records."""
    return kd_command(args.argv)


def run_training(args, job: Job) -> dict[str, Any]:
    from kd.pipeline import train_and_save

    data = load_mnist()
    on_progress, bar = progress_reporter(job.named_role)
    try:
        metadata = train_and_save(job, data, on_progress=on_progress, command=command_line(args))
    finally:
        if bar is not None:
            bar.close()
    metrics = metadata["metrics"]
    return {
        "checkpoint": str(checkpoint.weights_path(job.out)),
        "role": job.named_role,
        "config": metadata["train_config"],
        "accuracy": metrics["accuracy"],
        "errors": metrics["errors"],
        "agreement": metrics.get("agreement"),
        "ece": metrics["ece"],
        "parameters": metrics["parameters"],
        "train_seconds": metadata["train_seconds"],
        "teacher_seconds": metadata["teacher_seconds"],
        "history": metadata["history"],
        **({"omitted": metadata["omitted"]} if "omitted" in metadata else {}),
    }


def run_train_teacher(args) -> dict[str, Any]:
    job = Job(from_args(TrainConfig, args), Path(args.out), args.model, threads=args.threads, role=TEACHER_ROLE)
    return run_training(args, job)


def run_distill(args) -> dict[str, Any]:
    config = from_args(TrainConfig, args)
    out = args.out or f"runs/distill-{time.strftime('%Y%m%d-%H%M%S')}"
    teacher_path = Path(args.teacher) if Path(args.teacher).exists() or config.alpha > 0 else None
    return run_training(args, Job(config, Path(out), args.model, teacher_path, threads=args.threads))


def read_member(path: str, data: MNIST) -> ModelInfo:
    """An ensemble member's metadata, checked: a single model with the lab's fields, trained on the MNIST here.

    The ensemble is validated on the last 10,000 training images and scored on the test set of this
    MNIST: members trained on other data could have seen them.
    """
    metadata = checkpoint.read_metadata(path)
    if metadata["architecture"] == "ensemble":
        raise ValueError(f"{path} is an ensemble: list its members instead")
    info = ModelInfo.from_dict(metadata, path)
    trained_on = info.raw["data"].get("sha256")
    if trained_on != data.checksum:
        raise ValueError(
            f"{path} was trained on other data (sha256 {trained_on}) than the MNIST here ({data.checksum}): "
            "an ensemble's members must share their data"
        )
    return info


def member_record(path: str, info: ModelInfo) -> dict[str, Any]:
    """What an ensemble's metadata says of one member: where it came from and how to make it again."""
    return {
        "path": path,
        "weights_sha256": info.weights_sha256,
        "role": info.role,
        "seed": info.raw.get("seed"),
        "command": info.command,
        "accuracy": info.metrics.accuracy,
    }


def shared_settings(configs: list[dict[str, Any]]) -> dict[str, Any]:
    """The training settings every member shares (usually all but the seed): the ensemble's train_config.

    The pages show a teacher's settings (its temperature and alpha) from train_config; what differs
    between members is in each one's command.
    """
    first, *others = configs
    return {key: value for key, value in first.items() if all(key in other and other[key] == value for other in others)}


def ensemble_data_record(data: MNIST, infos: list[ModelInfo]) -> dict[str, Any]:
    """The ensemble's data record; train_images, which the lab shows, is the most any member trained on."""
    most = max(info.train_images for info in infos)
    return {
        "source": data.source,
        "sha256": data.checksum,
        "train_images": most,
        "train": f"each member's own training images (see members), at most {most:,}",
        "validation": f"the last {VALIDATION_SIZE:,} training images",
        "test": f"the {len(data.test_images):,} test images, once, after the members were put together",
    }


def run_ensemble(args) -> dict[str, Any]:
    """One teacher from member checkpoints: checked, evaluated once, saved as a single checkpoint."""
    from kd.evaluate import evaluate

    if len(args.members) < 2:
        raise UsageError("an ensemble needs at least two members")
    check_out(args.out, args.force)
    data = load_mnist()
    infos = [read_member(path, data) for path in args.members]  # all checked before any weights are read
    if len({info.weights_sha256 for info in infos}) < len(infos):
        raise ValueError("the same weights are listed twice: an ensemble's members must be different models")
    ensemble = Ensemble([checkpoint.load(path) for path in args.members]).eval()
    validation = training_split(data, None, 0)
    metrics = {
        **evaluate(ensemble, data),  # the one look at the test set
        "validation_accuracy": accuracy(ensemble, validation.validation_images, validation.validation_labels),
    }
    metadata = {
        "role": "teacher",
        **model_spec(ensemble),
        "members": [member_record(path, info) for path, info in zip(args.members, infos, strict=True)],
        "train_config": shared_settings([info.train_config for info in infos]),
        "command": command_line(args),
        "data": ensemble_data_record(data, infos),
        "history": [],  # nothing was trained: each member's history is in its own checkpoint
        "train_seconds": sum(info.train_seconds for info in infos),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": metrics,
    }
    path = checkpoint.save(args.out, ensemble, metadata)
    return {
        "checkpoint": str(path),
        "role": "teacher",
        "members": args.members,
        "accuracy": metrics["accuracy"],
        "errors": metrics["errors"],
        "validation_accuracy": metrics["validation_accuracy"],
        "ece": metrics["ece"],
        "parameters": metrics["parameters"],
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

    result = reproduce(from_args(Schedule, args), Path(args.checkpoints), Path(args.out), args.workers, log=log)
    if args.docs:
        Path(args.docs).write_text(page(result["rows"], result, command_line(args)))
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
