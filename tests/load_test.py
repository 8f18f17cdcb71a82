"""Load test: many visitors at once in one headless Chromium, some launching runs at the same moment.

    python tests/load_test.py --visitors 8 --runs 3        # prints the figures; --json for one JSON object

Starts `streamlit run dashboard/server.py` on a free port (shipped checkpoints, a temporary runs
folder) and opens one browser context per visitor. Every visitor draws a digit on the Draw page
at the same time; then `runs` of them press "Launch run" on the Distill page within a few
milliseconds of each other while the others draw again, so drawings are answered while a run
trains. It records what each visitor saw (answers, failures, queue notices), each answer time
timed inside the page, when each run was seen finished, and the server's peak resident memory
(from /proc, sampled every 0.2 s). tests/test_load.py runs it with small numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from browser_helpers import (
    CANVAS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    ROOT,
    STROKES,
    WATCH_ANSWER,
    answer_seconds,
    draw,
    open_page,
    page_failures,
    streamlit_server,
    wait_for_predictions,
)


@dataclass
class LoadResult:
    visitors: int
    runs: int
    answers_idle: list[float] = field(default_factory=list)  # s, drawings while no run trains
    answers_training: list[float] = field(default_factory=list)  # s, drawings while the runs train
    misread: list[str] = field(default_factory=list)  # "drew 7, teacher said 1"
    failures: list[str] = field(default_factory=list)  # exception boxes or failure notices on any page
    run_finished_after: list[float] = field(default_factory=list)  # s from the clicks to each "finished" message
    queued_seen: int = 0  # launching visitors who were told they were queued
    runs_saved: int = 0
    peak_rss_mb: float = 0.0
    error: str | None = None  # the step that did not complete in time, if any (the figures before it stand)

    def summary(self) -> str:
        def spread(values: list[float]) -> str:
            if not values:
                return "none"
            return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s (n={len(values)})"

        return "\n".join(
            [
                f"{self.visitors} visitors, {self.runs} runs launched at the same moment",
                f"answers, no run training: {spread(self.answers_idle)}",
                f"answers, runs training: {spread(self.answers_training)}",
                f"misread drawings: {len(self.misread)}; pages showing a failure: {len(self.failures)}",
                "runs seen finished after: " + ", ".join(f"{s:.1f} s" for s in self.run_finished_after),
                f"visitors told they were queued: {self.queued_seen}; runs saved: {self.runs_saved}",
                f"server peak resident memory: {self.peak_rss_mb:.0f} MB",
                f"stopped early: {self.error}" if self.error else "every step completed",
            ]
        )


class PeakMemory(threading.Thread):
    """The highest VmRSS of a process, sampled until stopped (Linux /proc; no extra package)."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kb = pid, every, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                lines = Path(f"/proc/{self.pid}/status").read_text().splitlines()
            except OSError:
                return
            rss = next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)
            self.peak_kb = max(self.peak_kb, rss)


def draw_everywhere(pages, url: str, result: LoadResult, answers: list[float]) -> None:
    """Each page opens Draw and draws a digit; the answers are then read from every page."""
    digits = list(STROKES)
    for page in pages:
        page.goto(f"{url}/draw")
    for page in pages:
        page.get_by_role("heading", name="Draw a digit").wait_for()
        page.wait_for_selector(CANVAS)
        page.wait_for_selector("[data-testid=stStatusWidget]", state="detached")
        page.evaluate(WATCH_ANSWER)
    for index, page in enumerate(pages):
        draw(page, digits[index % len(digits)])
    for index, page in enumerate(pages):
        digit = digits[index % len(digits)]
        found = wait_for_predictions(page, timeout=300)
        answers.append(answer_seconds(page))
        for model in ("Teacher", "Student"):
            if found[f"{model} says"] != str(digit):
                result.misread.append(f"visitor {index} drew {digit}, {model.lower()} said {found[f'{model} says']}")


def launch_runs(launchers, url: str, epochs: int, images: int) -> float:
    """Open Distill with tiny settings on each launcher's page, then press Launch on all of them at once."""
    address = f"{url}/distill?epochs={epochs}&images={images}&alpha=0.5"
    for page in launchers:
        open_page(page, address, "Distill a student")
    buttons = [page.get_by_role("button", name="Launch run") for page in launchers]
    for button in buttons:
        button.wait_for()
    clicked = time.monotonic()
    for button in buttons:
        button.click(no_wait_after=True)
    return clicked


def watch_runs(launchers, clicked: float, result: LoadResult, timeout: float) -> None:
    """Poll every launcher's page until each shows its run finished; note who was told to wait in the queue."""
    finished: dict[int, float] = {}
    queued: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(finished) < len(launchers):
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(finished)} of {len(launchers)} runs finished within {timeout} s")
        for index, page in enumerate(launchers):
            if index in finished:
                continue
            if page.get_by_text("Queued, position").count():
                queued.add(index)
            if page.get_by_text("finished and was saved").count():
                finished[index] = time.monotonic() - clicked
        launchers[0].wait_for_timeout(250)
    result.run_finished_after = sorted(finished.values())
    result.queued_seen = len(queued)


def run_load(
    visitors: int = 8,
    runs: int = 3,
    epochs: int = 1,
    images: int = 300,
    workdir: Path | None = None,
    checkpoints: Path = ROOT / "checkpoints",
    run_timeout: float = 900,
    page_timeout: float = 300,
) -> LoadResult:
    """Drive `visitors` browser contexts against a fresh server; return what they saw and what it cost."""
    from playwright.sync_api import sync_playwright

    workdir = Path(workdir or tempfile.mkdtemp(prefix="kd-load-"))
    runs_dir = workdir / "runs"
    result = LoadResult(visitors, runs)
    with streamlit_server(workdir / "server.log", KD_CHECKPOINTS_DIR=str(checkpoints), KD_RUNS_DIR=str(runs_dir)) as (
        url,
        server,
    ):
        memory = PeakMemory(server.pid)
        memory.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                pages = [
                    browser.new_context(viewport={"width": 1300, "height": 1600}).new_page() for _ in range(visitors)
                ]
                for page in pages:
                    page.set_default_timeout(page_timeout * 1000)
                try:
                    draw_everywhere(pages, url, result, result.answers_idle)
                    launchers, others = pages[:runs], pages[runs:]
                    clicked = launch_runs(launchers, url, epochs, images)
                    if others:
                        draw_everywhere(others, url, result, result.answers_training)
                    watch_runs(launchers, clicked, result, run_timeout)
                except Exception as exc:  # a step that timed out: report it with the figures so far
                    result.error = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                for index, page in enumerate(pages):
                    result.failures += [f"visitor {index}: {text[:200]}" for text in page_failures(page)]
            finally:
                browser.close()
        memory.stopped.set()
        memory.join()
        result.peak_rss_mb = memory.peak_kb / 1024
    result.runs_saved = len(list(runs_dir.glob("*.safetensors")))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="visitors who launch a run at the same moment")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--run-timeout", type=float, default=900, help="seconds to wait for all runs to finish")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run_load(
        args.visitors, min(args.runs, args.visitors), args.epochs, args.images, run_timeout=args.run_timeout
    )
    print(json.dumps(asdict(result)) if args.json else result.summary())


if __name__ == "__main__":
    main()
