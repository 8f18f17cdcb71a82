"""The load test (tests/load_test.py) with small numbers: visitors at once, runs launched at the same moment."""

from __future__ import annotations

import pytest
from browser_helpers import ROOT, need_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]  # minutes on a busy 2-core machine


def test_visitors_at_once_are_answered_right_and_runs_finish_in_turn(tmp_path):
    if not (ROOT / "checkpoints" / "teacher.safetensors").is_file():
        pytest.skip("needs the shipped checkpoints (run `make checkpoints`)")
    need_chromium()
    from load_test import run_load

    result = run_load(visitors=3, runs=2, epochs=1, images=200, workdir=tmp_path)
    print("\n" + result.summary())  # figures for this machine: pytest -s tests/test_load.py
    assert result.error is None and result.failures == [] and result.misread == []
    assert len(result.answers_idle) == 3 and len(result.answers_training) == 1
    assert len(result.run_finished_after) == 2 and result.runs_saved == 2
    assert result.peak_rss_mb < 2048
