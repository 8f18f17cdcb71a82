"""The static site (python -m kd site) served by `python -m http.server` and opened in headless Chromium.

Shared by tests/test_site.py and benchmarks/browser_latency.py. Everything the page does wrong in
the browser (a failed request, an uncaught error, a console error) is collected in `problems`.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from browser_helpers import CHROMIUM, CHROMIUM_FLAGS, draw, free_port

PAD = "#pad"
# Both answers on the page describe the drawing as it was when the pen was lifted.
ANSWERED = "() => window.kdLab.releasedVersion !== null && window.kdLab.renderedVersion >= window.kdLab.releasedVersion"


@contextlib.contextmanager
def served(folder: Path, timeout: float = 20) -> Iterator[str]:
    """`python -m http.server` on a free port of 127.0.0.1 serving `folder`; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/index.html", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"http.server did not answer at {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(10)


@dataclass
class SitePage:
    page: object  # playwright's Page
    problems: list[str] = field(default_factory=list)

    def open(self, url: str) -> float:
        """Load the page and wait for both models; returns the page-ready time in seconds."""
        self.page.goto(url)
        self.page.wait_for_function("() => window.kdLab && window.kdLab.ready", timeout=60_000)
        return self.page.evaluate("() => window.kdLab.readyAt") / 1000

    def draw(self, digit: int) -> dict[str, str]:
        """Clear the pad, draw `digit` with the mouse; both answers once they describe the whole drawing."""
        self.page.click("#clear")
        draw(self.page, digit, canvas=PAD)
        self.page.wait_for_function(ANSWERED)
        return {name: self.page.inner_text(f"#{name}-digit") for name in ("teacher", "student")}

    def answer_delays(self) -> tuple[float, float]:
        """Seconds from the pen lifted, and from the last pen movement, to both answers on the page.

        The models answer while the digit is drawn, so the last answer may be there before the pen is
        lifted: that counts as 0.
        """
        lab = self.page.evaluate("() => [kdLab.renderedAt, kdLab.releasedAt, kdLab.changedAt]")
        rendered, released, changed = lab
        return max(0.0, rendered - released) / 1000, max(0.0, rendered - changed) / 1000


@contextlib.contextmanager
def browser_page(width: int = 1000, height: int = 1400) -> Iterator[SitePage]:
    """A fresh headless Chromium page that records failed requests, page errors and console errors."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(30_000)
            site = SitePage(page)
            page.on("pageerror", lambda error: site.problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda request: site.problems.append(f"request failed: {request.url}"))
            page.on("response", lambda r: r.status >= 400 and site.problems.append(f"HTTP {r.status}: {r.url}"))
            page.on("console", lambda m: m.type == "error" and site.problems.append(f"console error: {m.text}"))
            yield site
        finally:
            browser.close()
