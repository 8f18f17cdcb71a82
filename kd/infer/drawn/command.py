"""python -m kd.infer.drawn: how many digits of a drawn set each checkpoint reads right."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

import numpy as np

from kd.infer.drawn.sets import SETS, DrawnSet, drawn_set

TOP_MISREADINGS = 5


def share_right_by(right: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """The share read right in each group, groups in the order they first appear in the set."""
    return {str(group): float(right[groups == group].mean()) for group in dict.fromkeys(groups.tolist())}


def misreadings(labels: np.ndarray, predictions: np.ndarray) -> list[dict[str, int]]:
    """The commonest (true digit, digit read) confusions, most frequent first."""
    wrong = labels != predictions
    pairs = Counter(zip(labels[wrong].tolist(), predictions[wrong].tolist(), strict=True))
    return [{"true": true, "read": read, "count": n} for (true, read), n in pairs.most_common(TOP_MISREADINGS)]


def score(drawn: DrawnSet, predictions: np.ndarray) -> dict:
    """One checkpoint's figures on the set: overall, per part, per canvas kind, and its misreadings."""
    right = predictions == drawn.labels
    return {
        "accuracy": float(right.mean()),
        "errors": int((~right).sum()),
        "errors_per_digit": np.bincount(drawn.labels[~right], minlength=10).tolist(),
        "parts": share_right_by(right, drawn.parts),
        "kinds": share_right_by(right, drawn.kinds),
        "misreadings": misreadings(drawn.labels, predictions),
    }


def composition(drawn: DrawnSet) -> dict[str, dict[str, int]]:
    """How many digits each part and each canvas kind holds."""
    return {
        "parts": dict(Counter(drawn.parts.tolist())),
        "kinds": dict(Counter(drawn.kinds.tolist())),
    }


def listed(values: dict[str, float], spec: str) -> str:
    """The values joined as "name value, ...", each formatted by `spec` (",": a count; ".1%": a share)."""
    return ", ".join(f"{name} {value:{spec}}" for name, value in values.items())


def print_report(drawn: DrawnSet, results: dict[str, dict]) -> None:
    made = composition(drawn)
    print(f"{drawn.name} set, seed {drawn.seed}: {len(drawn.labels):,} digits")
    print(f"  parts: {listed(made['parts'], ',')}; canvases: {listed(made['kinds'], ',')}")
    for path, result in results.items():
        confusions = ", ".join(f"{m['true']}->{m['read']} x{m['count']}" for m in result["misreadings"]) or "none"
        print(f"{path}: {result['accuracy']:.2%} read right ({result['errors']} wrong)")
        print(f"  by part: {listed(result['parts'], '.1%')}")
        print(f"  by canvas: {listed(result['kinds'], '.1%')}")
        print(f"  misread most (true->read): {confusions}; errors per digit {result['errors_per_digit']}")


def main(argv: list[str] | None = None) -> int:
    """Print each checkpoint's share of a drawn set read right, per part and canvas kind, and its misreadings."""
    from kd.checkpoint import CheckpointError, load
    from kd.predict import predict_proba

    parser = argparse.ArgumentParser(prog="python -m kd.infer.drawn", description=main.__doc__)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument(
        "--set", default="fonts", choices=list(SETS),
        help="validation and mnist-8x8: make choices on them; heldback: report only",
    )  # fmt: skip
    parser.add_argument("--count", type=int, help="digits per part (default: 500; mnist: 1,000; sklearn: all 1,797)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        drawn = drawn_set(args.set, args.seed, args.count)
        results = {
            path: score(drawn, predict_proba(load(path), drawn.images).argmax(axis=1)) for path in args.checkpoints
        }
    except (ValueError, OSError, ImportError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        summary = {"set": drawn.name, "seed": drawn.seed, "count": len(drawn.labels), "composition": composition(drawn)}
        print(json.dumps({**summary, "results": results}))
    else:
        print_report(drawn, results)
    return 0
