"""The dashboard in headless Chromium: every page, digits drawn with the mouse, a tiny run launched and finished.

Starts `streamlit run dashboard/server.py` on a free port with the shipped checkpoints (it checks that clearly
drawn digits are recognised, which tiny test models cannot do) and a temporary runs folder. Screenshots of
each page go to test-artifacts/. Needs Debian's chromium at /usr/bin/chromium (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from browser_helpers import (
    CANVAS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    ROOT,
    STROKES,
    WATCH_ANSWER,
    answer_seconds,
    clipped_tables,
    draw,
    need_chromium,
    open_page,
    streamlit_server,
    wait_for_predictions,
)

CHECKPOINTS = Path(os.environ.get("KD_CHECKPOINTS_DIR", ROOT / "checkpoints"))
ARTIFACTS = ROOT / "test-artifacts"
# A selectbox's visible text plus its input's value: the chosen option is shown in one or the other.
SELECTED_TEXT = "e => [e.innerText, ...Array.from(e.querySelectorAll('input'), i => i.value)].join(' ')"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not (CHECKPOINTS / "student.safetensors").is_file() or not (CHECKPOINTS / "teacher.safetensors").is_file():
        pytest.skip(f"needs the shipped teacher and student in {CHECKPOINTS} (run `make checkpoints`)")
    need_chromium()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    runs = str(tmp_path_factory.mktemp("runs"))
    with streamlit_server(log, KD_CHECKPOINTS_DIR=str(CHECKPOINTS), KD_RUNS_DIR=runs) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    page.set_default_timeout(60_000)
    return page


def screenshot(page, name: str) -> None:
    page.wait_for_timeout(500)  # let the charts draw
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_dashboard_in_a_browser(server, page):
    started = time.monotonic()
    open_page(page, server, "KD Lab: knowledge distillation on MNIST")
    first_page_seconds = time.monotonic() - started
    page.get_by_text("Setup and results").wait_for()
    screenshot(page, "overview")

    open_page(page, f"{server}/draw", "Draw a digit")
    page.get_by_text("Draw a digit in the black square to see").wait_for()
    answers = []
    for digit in STROKES:
        open_page(page, f"{server}/draw", "Draw a digit")  # a fresh, empty canvas
        page.wait_for_selector(CANVAS)
        page.evaluate(WATCH_ANSWER)
        draw(page, digit)
        found = wait_for_predictions(page)
        answers.append(answer_seconds(page))
        assert found["Teacher says"] == str(digit), f"teacher read a drawn {digit} as {found['Teacher says']}"
        assert found["Student says"] == str(digit), f"student read a drawn {digit} as {found['Student says']}"
        screenshot(page, f"draw-{digit}")
    # A measurement, reported (run with -s to see it), not asserted: it depends on the machine.
    print(
        f"\nfirst page in {first_page_seconds:.1f} s; predictions "
        f"{', '.join(f'{t:.2f}' for t in answers)} s after releasing the mouse"
    )

    open_page(page, f"{server}/distill?epochs=1&images=300&alpha=0.7", "Distill a student")
    temperature = page.get_by_role("slider").first  # T = 8.0 by default; one step is 0.5
    temperature.focus()
    temperature.press("ArrowRight")
    page.wait_for_url("**temperature=8.5**")  # the settings live in the URL
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached")
    page.get_by_role("button", name="Launch run").click()
    page.get_by_text("finished and was saved").wait_for(timeout=120_000)
    page.get_by_text("Test accuracy").first.wait_for()  # the result card follows the message in the same rerun
    page.get_by_text("scratch, same budget and seed").first.wait_for(timeout=120_000)  # the twin joins the card
    assert "alpha=0.7" in page.url and "images=300" in page.url
    screenshot(page, "distill")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.get_by_role("heading", name="Finished runs").scroll_into_view_if_needed()
    assert clipped_tables(page) == [], "the finished-runs table hides a column at 1366 px"
    page.set_viewport_size({"width": 1400, "height": 2200})
    page.get_by_role("button", name="Open in Draw").click()  # leaves a URL with bound settings
    page.get_by_role("heading", name="Draw a digit").wait_for()
    page.wait_for_selector("[data-testid=stStatusWidget]", state="detached")
    screenshot(page, "draw-run")
    student = page.locator("[data-testid=stSelectbox]").first.evaluate(SELECTED_TEXT)
    assert "Run " in student, f"Open in Draw did not select the run as the student: {student!r}"

    open_page(page, f"{server}/metrics", "Compare two models")
    page.get_by_text(re.compile(r"The first \d+ such test digits|They agree on every test digit")).wait_for()
    screenshot(page, "metrics")

    open_page(page, f"{server}/latency", "Latency")
    page.get_by_role("button", name="Measure on this server").click()
    page.get_by_text("measured on this server").first.wait_for(timeout=120_000)
    screenshot(page, "latency")

    open_page(page, f"{server}/sweeps", "Sweeps: when does distillation help?")
    page.get_by_text(re.compile(r"No sweep yet|cells done")).first.wait_for()
    screenshot(page, "sweeps")


def test_no_page_shows_a_server_path(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    for path, title in (("", "KD Lab: knowledge distillation on MNIST"), ("/draw", "Draw a digit"),
                        ("/distill", "Distill a student"), ("/metrics", "Compare two models"),
                        ("/latency", "Latency"), ("/sweeps", "Sweeps: when does distillation help?"),
                        ("/compare", "Compare runs")):  # fmt: skip
        open_page(page, f"{server}{path}", title)
        html = page.content()
        for secret in (str(ROOT), str(CHECKPOINTS.resolve()), "/tmp/"):
            assert secret not in html, f"{path or '/'} shows {secret}"
    page.close()


def test_on_a_phone_the_drawing_pad_is_on_the_first_screen(server, browser):
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    open_page(phone, f"{server}/draw", "Draw a digit")
    phone.wait_for_selector(CANVAS)
    top = phone.locator(CANVAS).bounding_box()["y"]
    assert top + 100 < 844, f"the pad starts {top:.0f} px down, below the fold of a 844 px screen"
    assert "finger" in phone.content()  # the caption does not speak of a mouse only
    phone.screenshot(path=ARTIFACTS / "draw-phone.png")
    phone.close()


def test_at_1366_pixels_no_table_hides_a_column(server, browser):
    desktop = browser.new_page(viewport={"width": 1366, "height": 768})
    desktop.set_default_timeout(60_000)
    open_page(desktop, server, "KD Lab: knowledge distillation on MNIST")
    desktop.get_by_text("Per-class precision").wait_for()
    desktop.locator("[data-testid=stDataFrame]").first.wait_for()
    assert clipped_tables(desktop) == [], "the Overview hides a column (the per-class F1?)"
    open_page(desktop, f"{server}/latency", "Latency")
    desktop.locator("[data-testid=stTable]").first.wait_for()  # `kd report`'s figures, before any measurement
    assert clipped_tables(desktop) == [], "the Latency table hides a column"
    desktop.close()


def test_on_a_phone_the_answers_are_on_the_first_screen_after_drawing(server, browser):
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.set_default_timeout(60_000)
    open_page(phone, f"{server}/draw", "Draw a digit")
    phone.wait_for_selector(CANVAS)
    draw(phone, 7)
    assert wait_for_predictions(phone)["Teacher says"] == "7"
    for metric in phone.locator("[data-testid=stMetric]").all():
        box = metric.bounding_box()
        assert box["y"] + box["height"] <= 844, f"an answer ends {box['y'] + box['height']:.0f} px down"
    phone.screenshot(path=ARTIFACTS / "draw-phone-answered.png")
    open_page(phone, f"{server}/sweeps", "Sweeps: when does distillation help?")
    phone.get_by_text("cells done").first.wait_for()
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the Sweeps page (its formula?) is {width} px wide on a 390 px screen"
    phone.close()


def test_one_browser_holds_one_run_across_reloads_and_tabs(server, browser):
    """A visitor is a browser (its cookie), not a page load: a reload or a new tab is the same visitor, who may
    cancel the run from either; another browser is another visitor. (The same rule for sweeps is tested without a
    browser in tests/test_sweep_queue.py: pages that wait on a sweep beside a training run were too slow to wait
    for in CI.)"""
    long_run = f"{server}/distill?epochs=5&images=5000"
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    context.set_default_timeout(120_000)
    first = context.new_page()
    open_page(first, long_run, "Distill a student")
    first.get_by_role("button", name="Launch run").click()
    first.get_by_text("Your run").wait_for()
    first.reload()
    first.get_by_text("Your run").wait_for()  # the run is still this visitor's after a reload

    second = context.new_page()  # a new tab of the same browser
    open_page(second, long_run, "Distill a student")
    second.get_by_text("Your run").wait_for()
    second.get_by_role("button", name="Launch run").click()
    second.get_by_text("you already have a run waiting or training").wait_for()

    other = browser.new_context().new_page()  # another browser: another visitor, who may launch
    other.set_default_timeout(120_000)
    open_page(other, f"{server}/distill?epochs=1&images=300", "Distill a student")
    other.get_by_role("button", name="Launch run").click()
    other.get_by_text(re.compile("Queued, position|Epoch 1 of 1|finished and was saved")).first.wait_for()
    for tab in (other, second):  # the second tab cancels the browser's run
        open_page(tab, f"{server}/distill", "Distill a student")
        if tab.get_by_role("button", name="Cancel run").count():
            tab.get_by_role("button", name="Cancel run").click()
    second.get_by_text(re.compile("cancelled|finished and was saved")).first.wait_for()
    context.close()
