"""What the Draw page pays on a model's first use: export to ONNX, parity check, cache write, runtime choice.

    python benchmarks/onnx_startup.py [CHECKPOINT ...]

Each checkpoint (default: the shipped teacher and student) is prepared twice with kd.infer.runtime.load_predictor
in an empty temporary cache folder: the first time exports and checks it, the second reads the cached file.
The PyTorch model is loaded and warmed up beforehand, as the dashboard does. It reports; it asserts nothing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kd import checkpoint  # noqa: E402
from kd.data import load_mnist  # noqa: E402
from kd.infer.runtime import load_predictor  # noqa: E402
from kd.predict import predict_proba  # noqa: E402


def main() -> None:
    paths = sys.argv[1:] or [str(ROOT / "checkpoints" / f"{name}.safetensors") for name in ("teacher", "student")]
    load_mnist()  # the dashboard has MNIST loaded already; the parity check reads its test digits
    with tempfile.TemporaryDirectory() as folder:
        for path in paths:
            model = checkpoint.load(path)
            predict_proba(model, np.zeros((28, 28), np.float32))
            timings = []
            for _ in range(2):
                start = time.perf_counter()
                predictor = load_predictor(path, model, Path(folder))
                timings.append(time.perf_counter() - start)
            print(
                f"{Path(path).stem}: first use {timings[0]:.2f} s (export, parity check, cache, timing both runtimes), "
                f"cached {timings[1]:.2f} s; answers with {predictor.runtime}"
            )


if __name__ == "__main__":
    main()
