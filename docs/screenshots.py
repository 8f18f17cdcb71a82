"""The README's screenshots, taken from the real apps in headless Chromium: `make screenshots`.

Starts the Streamlit lab, the Gradio app and the static page on free ports of this machine with
the shipped checkpoints and a temporary runs folder, draws a 7 on each, trains one short run on the
Streamlit lab for its result card, opens the shipped sweep, and writes docs/images/{streamlit-draw,
result-card,sweeps-heatmap,gradio-draw,static-page}.png. Needs Debian's
chromium at /usr/bin/chromium and onnxruntime-web in node_modules (`make npm`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser tests' helpers: one way to start and drive the apps

from browser_helpers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_FLAGS,
    draw,
    draw_in_box,
    free_port,
    gradio_server,
    open_page,
    stop,
    streamlit_server,
    wait_answering,
)

IMAGES = ROOT / "docs" / "images"
VIEWPORT = {"width": 1280, "height": 900}


@contextlib.contextmanager
def served(command: list[str], health: str, env: dict[str, str], log: Path):
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_answering(health, process, timeout=180)
            yield
        finally:
            stop(process)


# A run that shows distillation paying, as the README's "try this first": few images, a warm temperature.
CARD_RUN = "distill?images=500&epochs=2&temperature=8&alpha=0.9"


def streamlit_page(browser, workdir: Path) -> None:
    """The Draw page with a 7, a finished run's result card, and the Sweeps page's heatmap."""
    with streamlit_server(workdir / "streamlit.log", KD_RUNS_DIR=str(workdir / "runs")) as (url, _):
        page = browser.new_page(viewport=VIEWPORT)
        open_page(page, f"{url}/draw", "Draw a digit")
        draw(page, 7)
        page.get_by_text("Teacher says").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=IMAGES / "streamlit-draw.png")

        open_page(page, f"{url}/{CARD_RUN}", "Distill a student")
        page.get_by_role("button", name="Launch run").click()
        page.get_by_text("finished and was saved").wait_for(timeout=900_000)  # the run, then its scratch twin
        page.get_by_text("Test accuracy").first.wait_for()
        page.wait_for_selector("[data-testid=stStatusWidget]", state="detached")
        page.get_by_role("heading", name="Result").evaluate("e => e.scrollIntoView({block: 'start'})")  # the card
        page.wait_for_timeout(1500)  # the per-class chart draws
        page.screenshot(path=IMAGES / "result-card.png")

        open_page(page, f"{url}/sweeps", "Sweeps: when does distillation help?")
        heatmap = page.locator("[data-testid=stPlotlyChart]").first
        heatmap.wait_for(timeout=60_000)
        heatmap.scroll_into_view_if_needed()
        page.wait_for_timeout(1500)
        page.screenshot(path=IMAGES / "sweeps-heatmap.png")


def gradio_page(browser, workdir: Path) -> None:
    with gradio_server(workdir / "gradio.log", KD_RUNS_DIR=str(workdir / "runs")) as (url, _):
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(url)
        canvas = page.locator("#sketch canvas").first
        canvas.wait_for(timeout=120_000)
        draw_in_box(page, canvas.bounding_box(), 7)
        page.locator("#teacher-says").get_by_text("Teacher says").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=IMAGES / "gradio-draw.png")


def static_page(browser, workdir: Path) -> None:
    site = workdir / "site"
    subprocess.run([sys.executable, "-m", "kd", "site", "--out", str(site)], cwd=ROOT, check=True)
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)]
    url = f"http://127.0.0.1:{port}"
    with served(command, f"{url}/index.html", {}, workdir / "site.log"):
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(url)
        page.locator("#pad").wait_for()
        page.wait_for_function("() => window.kdLab && window.kdLab.ready", timeout=60_000)
        draw_in_box(page, page.locator("#pad").bounding_box(), 7)
        page.wait_for_timeout(1500)
        page.screenshot(path=IMAGES / "static-page.png")


def main() -> None:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kd-screenshots-") as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for take in (streamlit_page, gradio_page, static_page):
                take(browser, Path(folder))
        finally:
            browser.close()
    print("\n".join(str(path.relative_to(ROOT)) for path in sorted(IMAGES.glob("*.png"))))


if __name__ == "__main__":
    main()
