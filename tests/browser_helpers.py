"""Driving the dashboard in headless Chromium: shared by the browser test and the load test.

A server on a free port (`streamlit_server`), pages opened and waited for, digits drawn on the
canvas with the mouse the way a hand would, and both models' answers read and timed inside the
page. Needs Debian's chromium at /usr/bin/chromium (.ci/run installs it) and Playwright for Python.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CANVAS = "[data-testid=stBidiComponentIsolated] canvas.upper-canvas"

# Strokes in the unit square of the canvas, drawn the way a person would.
STROKES = {
    1: [[(0.48, 0.2), (0.56, 0.13), (0.56, 0.87)]],
    7: [[(0.27, 0.17), (0.73, 0.17), (0.46, 0.87)]],
    0: [[(0.5 + 0.2 * math.sin(a), 0.5 - 0.35 * math.cos(a)) for a in [i * math.pi / 20 for i in range(41)]]],
}

# Timed inside the page, so Playwright's own round trips do not count: from the last mouse-up to
# both predictions being in the DOM.
WATCH_ANSWER = """() => { window.kdUp = null; window.kdShown = null;
  document.addEventListener('mouseup', () => { window.kdUp = performance.now(); }, {capture: true});
  new MutationObserver(() => {
    if (window.kdUp !== null && window.kdShown === null
        && document.querySelectorAll('[data-testid=stMetricValue]').length >= 2) { window.kdShown = performance.now(); }
  }).observe(document.body, {childList: true, subtree: true, characterData: true}); }"""


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


@contextlib.contextmanager
def streamlit_server(log_path: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run dashboard/server.py` on a free port of 127.0.0.1 with extra environment; (url, process)."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "dashboard/server.py", "--server.headless=true"]
    command += [f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"]
    command += ["--server.fileWatcherType=none"]
    env = {"KD_WARM_UP": "0", **env}  # a test measures what it does, not the start-up's loading
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_answering(f"{url}/_stcore/health", process, timeout=120)  # it answers once its lab is warm
            yield url, process
        finally:
            stop(process)


@contextlib.contextmanager
def gradio_server(log_path: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python dashboard/gradio_app.py` on a free port of 127.0.0.1 with extra environment; (url, process)."""
    port = free_port()
    settings = {"GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_ANALYTICS_ENABLED": "False"}
    settings["KD_WARM_UP"] = "0"  # a test measures what it sends, not the start-up's loading (env may say otherwise)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "dashboard/gradio_app.py"], cwd=ROOT, env={**os.environ, **settings, **env},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_answering(f"{url}/gradio_api/info", process, timeout=120)
            yield url, process
        finally:
            stop(process)


def open_page(page, url: str, title: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=title).wait_for()
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached", timeout=90_000)  # script finished


def draw(page, digit: int, canvas: str = CANVAS) -> None:
    """Draw a digit on the canvas matching the selector `canvas`."""
    draw_in_box(page, page.locator(canvas).bounding_box(), digit)


def draw_in_box(page, box: dict, digit: int) -> None:
    """Draw a digit stroke by stroke, as a hand would, in a box (x, y, width, height) of the page."""
    for stroke in STROKES[digit]:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for start, end in zip(points, points[1:], strict=False):
            for t in (0.25, 0.5, 0.75, 1.0):  # intermediate moves: a smooth stroke, as a hand makes
                page.mouse.move(start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1]))
        page.mouse.up()


def predictions(page) -> dict[str, str]:
    found = {}
    for metric in page.locator("[data-testid=stMetric]").all():
        label = metric.locator("[data-testid=stMetricLabel]").inner_text().strip()
        found[label] = metric.locator("[data-testid=stMetricValue]").inner_text().strip()
    return found


def wait_for_predictions(page, timeout: float = 20) -> dict[str, str]:
    """Both models' answers once the rerun has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if {"Teacher says", "Student says"} <= set(predictions(page)):
            page.wait_for_selector("[data-testid=stStatusWidget]", state="detached")
            return predictions(page)
        page.wait_for_timeout(50)
    raise AssertionError(f"no predictions after drawing; the page shows {predictions(page)}")


def answer_seconds(page) -> float:
    """Seconds from the last mouse-up to both answers on the page (after WATCH_ANSWER and a drawing)."""
    return page.evaluate("() => window.kdShown - window.kdUp") / 1000


def page_failures(page) -> list[str]:
    """What a visitor would see of a failure: Streamlit's exception boxes and our failure notices."""
    shown = [element.inner_text() for element in page.locator("[data-testid=stException]").all()]
    return shown + [text for text in [page.inner_text("body")] if "Something went wrong" in text]


# Each table of the page whose content is wider than its frame (a column hidden behind a scroll bar):
# the scrolling part of a data grid, or a static table's wrapper.
CLIPPED_TABLES = """() => Array.from(document.querySelectorAll('[data-testid=stDataFrame], [data-testid=stTable]'))
  .map(e => [e, e.querySelector('.dvn-scroller') || e.querySelector('table')?.parentElement || e])
  .filter(([e, s]) => s.scrollWidth > s.clientWidth + 1)
  .map(([e, s]) => `${e.getAttribute('data-testid')} ${s.scrollWidth} px wide in ${s.clientWidth} px`)"""


def clipped_tables(page) -> list[str]:
    """The tables of the page that hide a column at its present width (CLIPPED_TABLES), in words."""
    return page.evaluate(CLIPPED_TABLES)
