"""How thick a stroke the drawing's preprocessing lets through, chosen on validation drawings.

`python -m benchmarks.stroke_width` prepares the drawn validation set (kd.infer.drawn: typed in DejaVu faces with
thick strokes, written, coarse; never the test set) with each candidate `max_stroke` of
kd.preprocess.canvas_to_mnist ("none": no thinning) and scores the shipped models on it. The rule is the
project's: the best mean over the models, except that what ships (kd.preprocess.MAX_STROKE) stays where it is
within one standard error of the best (the binomial one of the best mean over the set's digits); among equal
means the candidate that thins the fewest drawings. `--heldback` then scores the held-back set with no thinning
and with the choice, to report what it brings: printed apart, never chosen on. One JSON line per candidate.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from functools import partial

from kd.checkpoint import load
from kd.infer.drawn.command import score
from kd.infer.drawn.sets import drawn_set
from kd.predict import predict_proba
from kd.preprocess import MAX_STROKE, canvas_to_mnist
from kd.significance import one_standard_error

MODELS = ("teacher", "ensemble", "scratch", "student")
CANDIDATES = ("none", "0.24", "0.22", "0.2", "0.18", "0.16")  # from the least thinning to the most


def max_stroke(text: str) -> float | None:
    return None if text == "none" else float(text)


def scored(models: dict, name: str, count: int | None, stroke: float | None) -> dict:
    """Each model's figures on the set `name` prepared with `stroke`, and their mean accuracy."""
    drawn = drawn_set(name, 0, count, prepare=partial(canvas_to_mnist, max_stroke=stroke))
    figures = {key: score(drawn, predict_proba(model, drawn.images).argmax(axis=1)) for key, model in models.items()}
    return {
        "mean": statistics.fmean(result["accuracy"] for result in figures.values()),
        "digits": len(drawn.labels),
        "models": {key: {"accuracy": result["accuracy"], "parts": result["parts"]} for key, result in figures.items()},
    }


def choose(results: dict[str, dict], shipped: str) -> str:
    """The best mean (the first of equal ones), or what ships where it is within one standard error of it."""
    means = {name: result["mean"] for name, result in results.items()}

    def binomial_error(best: str) -> float:
        return math.sqrt(means[best] * (1 - means[best]) / results[best]["digits"])

    return one_standard_error(means, binomial_error).keep(shipped)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", type=max_stroke, default=[max_stroke(c) for c in CANDIDATES])
    parser.add_argument("--models", nargs="+", default=list(MODELS), help="shipped checkpoints, by name")
    parser.add_argument("--count", type=int, default=1000, help="validation digits per part")
    parser.add_argument("--heldback", action="store_true", help="also report the held-back set, before and after")
    args = parser.parse_args(argv)
    models = {name: load(f"checkpoints/{name}.safetensors") for name in args.models}
    results = {}
    for stroke in args.candidates:
        label = "none" if stroke is None else f"{stroke:g}"
        results[label] = scored(models, "validation", args.count, stroke)
        print(json.dumps({"max_stroke": label, "validation": results[label]}), flush=True)
    chosen = choose(results, f"{MAX_STROKE:g}")
    report = {"chosen on validation": chosen, "validation means": {k: round(v["mean"], 4) for k, v in results.items()}}
    if args.heldback:
        report["heldback"] = {label: scored(models, "heldback", None, max_stroke(label)) for label in ("none", chosen)}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
