"""Helpers shared by the tests that start a server or a browser: a free port, waiting for the server,
Debian's chromium, a hand drawing a digit."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Strokes in the unit square of a canvas, drawn the way a person would.
STROKES = {
    1: [[(0.48, 0.2), (0.56, 0.13), (0.56, 0.87)]],
    7: [[(0.27, 0.17), (0.73, 0.17), (0.46, 0.87)]],
    0: [[(0.5 + 0.2 * math.sin(a), 0.5 - 0.35 * math.cos(a)) for a in [i * math.pi / 20 for i in range(41)]]],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_answering(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    """Return once `url` answers 200; fail early if the server process has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"nothing answered at {url} within {timeout} s")


def need_chromium() -> None:
    if not Path(CHROMIUM).is_file():
        # CI installs chromium (.ci/run): there a missing browser is a failure, not a reason to skip
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"needs Debian's chromium at {CHROMIUM}")
    pytest.importorskip("playwright.sync_api")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def draw(page, box: dict, digit: int) -> None:
    """Draw a digit stroke by stroke, as a hand would, in a box (x, y, width, height) of the page."""
    for stroke in STROKES[digit]:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for start, end in zip(points, points[1:], strict=False):
            for t in (0.25, 0.5, 0.75, 1.0):  # intermediate moves: a smooth stroke, as a hand makes
                page.mouse.move(start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1]))
        page.mouse.up()
