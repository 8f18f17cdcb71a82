"""The static site on a phone (390x844): after drawing, both answers are on the first screen, under the pad."""

from __future__ import annotations

import pytest
from static_site import browser_page, served
from test_site import site  # noqa: F401  the site built once from the shipped checkpoints

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_on_a_phone_the_answers_follow_the_pad(site):  # noqa: F811
    with served(site) as url, browser_page(390, 844) as page:
        page.open(url)
        assert page.draw(7) == {"teacher": "7", "student": "7"}
        for name in ("teacher", "student"):
            box = page.page.locator(f"#{name}-digit").bounding_box()
            assert box["y"] + box["height"] <= 844, f"the {name}'s answer ends {box['y'] + box['height']:.0f} px down"
        assert page.page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert page.problems == []
