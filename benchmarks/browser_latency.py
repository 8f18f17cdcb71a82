"""How fast the static page answers in headless Chromium: page ready, and pen lifted to both answers.

    python benchmarks/browser_latency.py [--site DIR] [--loads 5] [--drawings 12] [--json]

Builds the site from the shipped checkpoints (or serves --site DIR), serves it with `python -m http.server`
and, in Debian's chromium: opens the page `--loads` times in fresh browser contexts (page ready = both
models loaded and run once, from navigation start), then draws `--drawings` digits with the mouse and
times, inside the page, the pen lifted to both answers on the page. The models answer while the digit is
drawn, so the answer often is already there when the pen lifts (0 s); the time from the last pen
movement to the answers is reported beside it. It measures and reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_helpers import STROKES  # noqa: E402
from static_site import browser_page, served  # noqa: E402

from kd.site.builder import build_site  # noqa: E402


def measure(site: Path, loads: int, drawings: int) -> dict:
    ready, released, moved = [], [], []
    with served(site) as url:
        for _ in range(loads):
            with browser_page() as page:
                ready.append(page.open(url))
        with browser_page() as page:
            page.open(url)
            digits = list(STROKES)
            for index in range(drawings):
                digit = digits[index % len(digits)]
                found = page.draw(digit)
                after_release, after_move = page.answer_delays()
                released.append(after_release)
                moved.append(after_move)
                if found != {"teacher": str(digit), "student": str(digit)}:
                    print(f"note: a drawn {digit} was read as {found}", file=sys.stderr)
            problems = page.problems
    return {
        "page_ready_s": {"median": statistics.median(ready), "all": ready},
        "release_to_answers_s": {"median": statistics.median(released), "max": max(released)},
        "last_move_to_answers_s": {"median": statistics.median(moved), "max": max(moved)},
        "drawings": drawings,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=None, help="a built site (default: build one now)")
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--drawings", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        site = args.site or build_site(Path(folder), ROOT / "checkpoints")["out"]
        result = measure(Path(site), args.loads, args.drawings)
    if args.json:
        print(json.dumps(result))
        return
    print(f"page ready: {result['page_ready_s']['median']:.2f} s median of {args.loads} loads")
    print(
        f"pen lifted -> both answers: {result['release_to_answers_s']['median'] * 1e3:.1f} ms median, "
        f"{result['release_to_answers_s']['max'] * 1e3:.1f} ms max over {args.drawings} drawings"
    )
    print(
        f"last pen movement -> both answers: {result['last_move_to_answers_s']['median'] * 1e3:.1f} ms median, "
        f"{result['last_move_to_answers_s']['max'] * 1e3:.1f} ms max"
    )
    print(f"problems (failed requests, page or console errors): {result['problems'] or 'none'}")


if __name__ == "__main__":
    main()
