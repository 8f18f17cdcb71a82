"""The README and docs/: short enough to read, every local link and picture there, commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
