"""How long each page of the Streamlit lab and each tab of the Gradio app takes to be usable, first visit included.

    python -m benchmarks.page_speed            # prints one JSON object: seconds per page, first and later visits

Starts each app as its launcher does (`make run`, `make gradio`: the start-up warm-up on) with the shipped
checkpoints, gives it `--settle` seconds, then opens every page: the first visit in a fresh headless Chromium
context (nothing cached, server or browser), then `--visits` more as a returning browser (one context, its cache
kept), and times from navigation until the page is usable (Streamlit: the running indicator is gone; Gradio: the
tab's own content is drawn, TABS). It reports the first visit and the median of the later ones; it asserts
nothing: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser tests' helpers start and drive the apps

from browser_helpers import CHROMIUM, CHROMIUM_FLAGS, gradio_server, open_page, streamlit_server  # noqa: E402

PAGES = {
    "overview": ("", "KD Lab: knowledge distillation on MNIST"),
    "draw": ("/draw", "Draw a digit"),
    "distill": ("/distill", "Distill a student"),
    "metrics": ("/metrics", "Compare two models"),
    "latency": ("/latency", "Latency"),
    "sweeps": ("/sweeps", "Sweeps: when does distillation help?"),
}
TABS = {  # what shows that a tab is usable: the sketchpad, the launch button, the comparison table
    "Draw": "#sketch canvas",
    "Distill": "role=button[name='Launch run']",
    "Metrics and latency": "#metrics-table",
}


def visits(browser, count: int):
    """The browser contexts to visit from: a fresh one (the first visit), then one kept for `count` more."""
    first = browser.new_context()
    yield first
    first.close()
    returning = browser.new_context()
    for _ in range(count):
        yield returning
    returning.close()


def summary(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """The first visit and the median of the later ones, per page."""
    return {name: {"first": runs[0], "later": round(statistics.median(runs[1:]), 2)} for name, runs in times.items()}


def streamlit_pages(browser, workdir: Path, settle: float, count: int) -> dict[str, list[float]]:
    times = {}
    with streamlit_server(workdir / "streamlit.log", KD_RUNS_DIR=str(workdir / "runs"), KD_WARM_UP="1") as (url, _):
        time.sleep(settle)
        for context in visits(browser, count):
            for name, (path, title) in PAGES.items():
                page = context.new_page()
                started = time.monotonic()
                open_page(page, f"{url}{path}", title)
                times.setdefault(name, []).append(round(time.monotonic() - started, 2))
                page.close()
    return times


def gradio_tabs(browser, workdir: Path, settle: float, count: int) -> dict[str, list[float]]:
    times = {}
    with gradio_server(workdir / "gradio.log", KD_RUNS_DIR=str(workdir / "runs"), KD_WARM_UP="1") as (url, _):
        time.sleep(settle)
        for context in visits(browser, count):
            page = context.new_page()
            started = time.monotonic()
            page.goto(url)
            for tab, usable in TABS.items():
                if tab != "Draw":  # the tab a visit opens on
                    started = time.monotonic()
                    page.get_by_role("tab", name=tab).click()
                page.locator(usable).first.wait_for(timeout=120_000)
                times.setdefault(tab, []).append(round(time.monotonic() - started, 2))
            page.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=20.0, help="seconds between a server's start and the visits")
    parser.add_argument("--visits", type=int, default=4, help="visits after the first, by a returning browser")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="kd-page-speed-") as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            result = {
                "streamlit": summary(streamlit_pages(browser, Path(folder), args.settle, args.visits)),
                "gradio": summary(gradio_tabs(browser, Path(folder), args.settle, args.visits)),
            }
        finally:
            browser.close()
    print(json.dumps({"seconds to usable": result}))


if __name__ == "__main__":
    main()
