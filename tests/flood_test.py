"""Flood test: one client floods an event that skips Gradio's queue while an honest visitor draws.

    python tests/flood_test.py --threads 200 --seconds 30                # starts a fresh Gradio app
    python tests/flood_test.py --url http://127.0.0.1:7860 --hops 0      # or attacks one already running

The attacker sends the Metrics tab's comparison (`compare`, queue=False) from `threads` threads,
each as fast as the server answers, from one address (an X-Forwarded-For entry: the app is
started with KD_PROXY_HOPS=1, as on a Space; --hops 0 trusts no header, every client is one
local visitor). Meanwhile one honest client asks /predict for a drawn 7, one request after the
other. Prints the honest answers' p50/p95, how many came back, and what the attacker got.
Every loop is bounded by `seconds`; every request goes to the given URL (127.0.0.1 by default).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np
from browser_helpers import ROOT, gradio_server
from drawing import draw_digit
from PIL import Image


@dataclass
class FloodResult:
    threads: int
    seconds: float
    event: str
    honest_seconds: list[float] = field(default_factory=list)
    honest_wrong: int = 0
    honest_failed: list[str] = field(default_factory=list)  # predictions that got no answer, and why
    attacker_answers: dict[str, int] = field(default_factory=dict)  # HTTP status (or error) -> count

    def percentile(self, share: float) -> float:
        return float(np.percentile(self.honest_seconds, share)) if self.honest_seconds else float("nan")

    def summary(self) -> str:
        flood = ", ".join(f"{code}: {count}" for code, count in sorted(self.attacker_answers.items()))
        return (
            f"{self.threads} threads flooding `{self.event}` for {self.seconds:.0f} s\n"
            f"honest /predict: {len(self.honest_seconds)} answers, p50 {self.percentile(50):.2f} s, "
            f"p95 {self.percentile(95):.2f} s, max {max(self.honest_seconds, default=float('nan')):.2f} s, "
            f"{self.honest_wrong} wrong, {len(self.honest_failed)} unanswered {self.honest_failed[:3]}\n"
            f"the attacker's requests: {sum(self.attacker_answers.values())} ({flood})"
        )


def event_index(url: str, api_name: str) -> int:
    config = httpx.get(f"{url}/config", timeout=30).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def flood(url: str, threads: int, seconds: float, event: str = "compare", hops: int = 1) -> FloodResult:
    """Run the flood against a server that is answering at `url`; return what both clients saw."""
    from gradio_client import Client, handle_file

    result = FloodResult(threads, seconds, event)
    fn_index = event_index(url, event)
    body = {"data": ["teacher", "student"], "fn_index": fn_index, "session_hash": "flood"}
    attacker = {"X-Forwarded-For": "10.66.66.66"} if hops else {}
    stop, codes, lock = threading.Event(), Counter(), threading.Lock()

    def attack() -> None:
        with httpx.Client(headers=attacker, timeout=60) as http:
            while not stop.is_set():
                try:
                    code = str(http.post(f"{url}/gradio_api/run/predict", json=body).status_code)
                except httpx.HTTPError as exc:
                    code = type(exc).__name__
                with lock:
                    codes[code] += 1

    seven = Path(tempfile.mkdtemp(prefix="kd-flood-")) / "seven.png"
    Image.fromarray(draw_digit(7)).save(seven)
    honest = Client(url, headers={"X-Forwarded-For": "10.0.0.1"} if hops else None, verbose=False)
    honest.predict(handle_file(str(seven)), api_name="/predict")  # models loaded before the clock starts
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in range(threads):
            pool.submit(attack)
        time.sleep(2)  # the flood is on
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    answer = honest.predict(handle_file(str(seven)), api_name="/predict")
                except Exception as exc:  # noqa: BLE001  no answer at all: counted, with the time it took
                    result.honest_failed.append(f"{type(exc).__name__} after {time.monotonic() - started:.0f} s")
                    continue
                result.honest_seconds.append(time.monotonic() - started)
                result.honest_wrong += answer["student"]["digit"] != 7
        finally:
            stop.set()
    result.attacker_answers = dict(codes)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--event", default="compare", help="the api_name of an event that skips the queue")
    parser.add_argument("--url", help="attack a server already running there instead of starting one")
    parser.add_argument("--hops", type=int, default=1, help="KD_PROXY_HOPS of the server (0: no header sent)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.url:
        result = flood(args.url, args.threads, args.seconds, args.event, args.hops)
    else:
        folder = Path(tempfile.mkdtemp(prefix="kd-flood-"))
        env = {"KD_CHECKPOINTS_DIR": str(ROOT / "checkpoints"), "KD_RUNS_DIR": str(folder / "runs")}
        env |= {"KD_PROXY_HOPS": str(args.hops), "GRADIO_TEMP_DIR": str(folder / "gradio")}
        with gradio_server(folder / "server.log", **env) as (url, _):
            result = flood(url, args.threads, args.seconds, args.event, args.hops)
    with contextlib.suppress(statistics.StatisticsError):
        print(json.dumps(asdict(result)) if args.json else result.summary())


if __name__ == "__main__":
    main()
