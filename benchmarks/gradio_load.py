"""Measure the Gradio app as its users meet it: python benchmarks/gradio_load.py [--clients 8 --calls 40].

Starts `python dashboard/gradio_app.py` on a free port with the shipped checkpoints and a temporary runs
folder, then reports (a measurement, not a test: the figures depend on the machine and its load):
- whether /predict reads a drawn 1, 0 and 7 right with both models;
- `--clients` gradio_client clients sending `--calls` /predict calls together (after one untimed call
  each): errors, p50 / p95 / max; with --baseline, the same against a Gradio endpoint that does nothing,
  which shows what Gradio and the clients cost on this machine;
- with --browser, how long headless Chromium takes from opening the page to a usable sketchpad;
- one run launched through /distill (and watched through /run), and /predict answer times while it trains.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from drawing import draw_digit  # noqa: E402  (the synthetic hand-drawn digits of the tests)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The same endpoint shape as /predict (a file in, JSON out, same concurrency), doing nothing.
BASELINE_APP = """
import gradio as gr
with gr.Blocks() as demo:
    upload, result = gr.File(visible=False, type="binary"), gr.JSON(visible=False)
    gr.Button(visible=False).click(lambda image: {}, upload, result, api_name="predict", concurrency_limit=4)
demo.queue(max_size=256, api_open=False).launch()
"""


def start_server(folder: Path, command: list[str]) -> tuple[subprocess.Popen, str, float]:
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "KD_RUNS_DIR": str(folder / "runs"),
    }
    started = time.monotonic()
    log = (folder / "server.log").open("a")
    server = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        if server.poll() is not None:
            raise SystemExit(f"error: the Gradio app exited; see {folder / 'server.log'}")
        try:
            with urllib.request.urlopen(f"{url}/gradio_api/info", timeout=2):
                return server, url, time.monotonic() - started
        except OSError:
            time.sleep(0.25)


def percentiles(seconds: list[float]) -> dict[str, float]:
    p50, p95 = np.percentile(seconds, [50, 95])
    rounded = {"p50_s": float(p50), "p95_s": float(p95), "max_s": max(seconds)}
    return {"calls": len(seconds), **{key: round(value, 3) for key, value in rounded.items()}}


def timed_predict(client, image) -> float:
    start = time.perf_counter()
    client.predict(image, api_name="/predict")
    return time.perf_counter() - start


def load(url: str, image, clients: int, calls: int) -> dict:
    """`clients` clients, each in its own thread, share `calls` calls, all starting at once."""
    from gradio_client import Client

    connected = [Client(url, verbose=False) for _ in range(clients)]
    seconds, errors, barrier = [], [], threading.Barrier(clients)

    def work(client, count: int) -> None:
        timed_predict(client, image)  # untimed: the connection and the server's threads are set up
        barrier.wait()
        for _ in range(count):
            try:
                seconds.append(timed_predict(client, image))
            except Exception as exc:  # counted and reported, not raised: this is a load test
                errors.append(f"{type(exc).__name__}: {exc}")

    shares = [calls // clients + (i < calls % clients) for i in range(clients)]
    threads = [threading.Thread(target=work, args=(c, n)) for c, n in zip(connected, shares, strict=True)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"clients": clients, **percentiles(seconds), "errors": errors, "wall_s": round(wall, 2)}


def while_training(url: str, image) -> dict:
    """Launch one run (1 epoch, 5,000 images) and time /predict, one call after another, until it ends.

    /distill only queues the run; /run is the caller's run as the page polls it (its status sentence
    first, its result card third once it is saved).
    """
    from gradio_client import Client

    client = Client(url, verbose=False)
    client.predict(4.0, 0.9, 1, 5000, 0, api_name="/distill")
    seconds = []
    while True:
        status, _, card, *_ = client.predict(api_name="/run")
        if card or not status.startswith(("Queued", "Starting", "Epoch", "Trained")):
            break
        seconds.append(timed_predict(client, image))
    return {"run": status, **percentiles(seconds)}


def first_page(url: str) -> list[float]:
    """Seconds from opening the page to a sketchpad ready to draw on, three fresh page loads."""
    from browser_helpers import CHROMIUM, CHROMIUM_FLAGS
    from playwright.sync_api import sync_playwright

    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for _ in range(3):
                page = browser.new_page()
                started = time.monotonic()
                page.goto(url)
                page.locator("#sketch canvas").first.wait_for(timeout=60_000)
                seconds.append(round(time.monotonic() - started, 2))
                page.close()
        finally:
            browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--calls", type=int, default=40, help="calls in all, shared by the clients")
    parser.add_argument("--browser", action="store_true", help="also time the first page in headless Chromium")
    parser.add_argument("--baseline", action="store_true", help="also load a Gradio endpoint that does nothing")
    parser.add_argument("--no-training", action="store_true", help="skip the run launched during predictions")
    args = parser.parse_args()
    from gradio_client import handle_file

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server, url, startup = start_server(folder, ["dashboard/gradio_app.py"])
        try:
            images = {}
            for digit in (1, 0, 7):
                Image.fromarray(draw_digit(digit)).save(folder / f"{digit}.png")
                images[digit] = handle_file(str(folder / f"{digit}.png"))
            from gradio_client import Client

            client = Client(url, verbose=False)
            answers = {digit: client.predict(file, api_name="/predict") for digit, file in images.items()}
            read = {digit: {name: model["digit"] for name, model in a.items()} for digit, a in answers.items()}
            result = {
                "server_answers_after_s": round(startup, 1),
                "drawn_digits_read": read,
                "all_read_right": all(set(v.values()) == {d} for d, v in read.items()),
                "load": load(url, images[7], args.clients, args.calls),
                "cpus": os.cpu_count(),
            }
            if args.browser:
                result["first_page_ready_s"] = first_page(url)
            if not args.no_training:
                result["predict_while_training"] = while_training(url, images[7])
        finally:
            server.terminate()
            server.wait(10)
        if args.baseline:
            server, url, _ = start_server(folder, ["-c", BASELINE_APP])
            try:
                result["baseline_do_nothing_load"] = load(url, images[7], args.clients, args.calls)
            finally:
                server.terminate()
                server.wait(10)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
