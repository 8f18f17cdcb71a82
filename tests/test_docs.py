"""The README and docs/: short enough to read, every local link and picture there, commands that exist."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from kd.cli.report import BEGIN, END, FULL_TABLE, full_markdown, readme_markdown

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def test_the_readme_fits_on_a_screen_or_two():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250
    text = "\n".join(lines)
    for command in ("make run", "make gradio", "make site", "make test"):
        assert command in text


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_local_link_and_picture_is_in_the_repository(page):
    for target, _ in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        assert (page.parent / target).exists(), f"{page.name} links to {target}, which is not there"


def test_the_readme_shows_a_picture_of_each_app():
    text = (ROOT / "README.md").read_text()
    for picture in ("streamlit-draw.png", "gradio-draw.png", "static-page.png"):
        assert f"docs/images/{picture}" in text


def test_the_results_tables_are_rendered_from_the_stored_measurement_not_typed():
    measured = json.loads((ROOT / "checkpoints" / "results.json").read_text())
    readme = (ROOT / "README.md").read_text()
    assert readme.split(BEGIN, 1)[1].split(END, 1)[0].strip() == readme_markdown(measured)
    assert (ROOT / "checkpoints" / FULL_TABLE).read_text() == full_markdown(measured) + "\n"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_uploads_use_the_hf_command(page):
    assert "huggingface-cli upload" not in page.read_text()  # its old name; the docs use `hf upload` throughout


def test_the_built_site_is_ignored_but_not_the_site_package():
    ignored = subprocess.run(
        ["git", "check-ignore", "site/index.html", "kd/site/builder.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert ignored.stdout.split() == ["site/index.html"]
