"""Runs-folder test: many minimal runs with new seeds, then what the runs folder kept, scratch twins included.

    python tests/runs_cap_test.py --runs 30 --cap 10      # prints what was kept; --json for one JSON object

Starts a fresh Gradio app (shipped checkpoints, a temporary runs folder, KD_MAX_SAVED_RUNS=cap)
and launches `runs` minimal runs (1 epoch of 200 images) with new seeds from one visitor, one
after the other (each new seed trains a new scratch twin). Bounded: each run is waited for at
most `run_timeout` seconds, and everything goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from browser_helpers import ROOT, gradio_server

RUN = [4.0, 0.5, 1, 200, 0, "none", "teacher", []]  # T, alpha, epochs, images, seed, mixing, teacher, no digit
# left out: the smallest run


@dataclass
class RunsResult:
    launched: int
    cap: int
    runs_kept: int
    twins_kept: int
    megabytes_kept: float
    seconds: float

    def summary(self) -> str:
        return (
            f"{self.launched} minimal runs with new seeds in {self.seconds:.0f} s (KD_MAX_SAVED_RUNS={self.cap}): "
            f"{self.runs_kept} runs and {self.twins_kept} scratch twins kept, {self.megabytes_kept:.2f} MB"
        )


def run_many(url: str, runs_dir: Path, runs: int, cap: int, run_timeout: float = 300) -> RunsResult:
    from gradio_client import Client

    watcher = Client(url, verbose=False)
    started = time.monotonic()
    launched = 0
    with httpx.Client(timeout=30) as http:
        for seed in range(1000, 1000 + runs):
            body = {"data": [*RUN[:4], seed, *RUN[5:]], "session_hash": "runner"}
            if http.post(f"{url}/gradio_api/run/distill", json=body).status_code == 200:
                launched += 1
            deadline = time.monotonic() + run_timeout
            while time.monotonic() < deadline:
                now = watcher.predict(api_name="/server_status")
                if not now["runs_waiting"] and not now["training"]:
                    break
                time.sleep(0.5)
    files = [path for path in runs_dir.rglob("*") if path.is_file()]
    return RunsResult(
        launched,
        cap,
        runs_kept=len(list(runs_dir.glob("*.safetensors"))),
        twins_kept=len(list((runs_dir / "baselines").glob("*.json"))),
        megabytes_kept=sum(path.stat().st_size for path in files) / 1e6,
        seconds=time.monotonic() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cap", type=int, default=10, help="KD_MAX_SAVED_RUNS of the server")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kd-runs-"))
    env = {"KD_CHECKPOINTS_DIR": str(ROOT / "checkpoints"), "KD_RUNS_DIR": str(folder / "runs")}
    env |= {"KD_MAX_SAVED_RUNS": str(args.cap), "KD_MAX_EPOCHS": "2", "KD_MAX_IMAGES": "200"}
    env |= {"GRADIO_TEMP_DIR": str(folder / "gradio")}
    with gradio_server(folder / "server.log", **env) as (url, _):
        result = run_many(url, folder / "runs", args.runs, args.cap)
    print(json.dumps(asdict(result)) if args.json else result.summary())


if __name__ == "__main__":
    main()
