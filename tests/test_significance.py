"""Corrections for many tests and McNemar's test of two models (kd/significance.py), against hand computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from kd.significance import (
    McNemar,
    benjamini_hochberg,
    compare_on_test_set,
    exact_mcnemar_p,
    format_p,
    holm,
    mcnemar,
    one_standard_error,
)

P = [0.01, 0.04, 0.03, 0.005]


def test_holm_matches_a_hand_computation():
    # sorted: 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; running maximum 0.02, 0.03,
    # 0.06, 0.06; back in the input's order:
    assert holm(P) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # capped at 1
    assert holm([]) == []


def test_benjamini_hochberg_matches_a_hand_computation_and_scipy():
    # sorted: 0.005, 0.01, 0.03, 0.04 times 4 / rank = 0.02, 0.02, 0.04, 0.04; running minimum from the top
    # leaves them as they are; back in the input's order:
    assert benjamini_hochberg(P) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    rng = np.random.default_rng(0)
    many = list(rng.uniform(0, 0.2, 60))
    assert benjamini_hochberg(many) == pytest.approx(list(scipy_stats.false_discovery_control(many)))


def test_holm_is_never_below_benjamini_hochberg_nor_the_raw_p():
    many = list(np.random.default_rng(1).uniform(0, 0.1, 40))
    for raw, strict, lenient in zip(many, holm(many), benjamini_hochberg(many), strict=True):
        assert raw <= lenient <= strict


def test_exact_mcnemar_p_matches_a_hand_computation():
    # b = 12, c = 17: 29 discordant digits; P(X <= 12) for X ~ Bin(29, 1/2) is
    # (C(29,0) + ... + C(29,12)) / 2^29 = 123,012,781 / 536,870,912 = 0.229129..., doubled:
    assert exact_mcnemar_p(12, 17) == pytest.approx(2 * 123_012_781 / 536_870_912)
    assert exact_mcnemar_p(12, 17) == pytest.approx(0.458258, abs=1e-6)
    assert exact_mcnemar_p(17, 12) == exact_mcnemar_p(12, 17)  # two-sided
    assert exact_mcnemar_p(0, 10) == pytest.approx(2 / 1024)  # all ten one way: 2 * (1/2)^10
    assert exact_mcnemar_p(5, 5) == 1.0 and exact_mcnemar_p(0, 0) == 1.0  # capped; no discordant digit at all
    assert exact_mcnemar_p(3000, 3100) == pytest.approx(scipy_stats.binomtest(3000, 6100).pvalue)  # large counts


def test_mcnemar_counts_only_the_digits_one_model_gets_right_and_the_other_wrong():
    a = np.array([True] * 12 + [False] * 17 + [True] * 50 + [False] * 5)
    b = np.array([False] * 12 + [True] * 17 + [True] * 50 + [False] * 5)
    result = mcnemar(a, b)
    assert (result.a_only, result.b_only) == (12, 17)
    assert result.p_value == pytest.approx(0.458258, abs=1e-6) and not result.significant
    with pytest.raises(ValueError, match="different images"):
        mcnemar(a, b[:-1])


def test_describe_says_whether_the_gap_is_more_than_test_set_noise():
    assert McNemar(12, 17, exact_mcnemar_p(12, 17)).describe() == (
        "A right, B wrong: 12; B right, A wrong: 17; McNemar exact p = 0.46 — not more than test-set noise"
    )
    assert (
        McNemar(30, 5, exact_mcnemar_p(30, 5))
        .describe("distilled", "scratch")
        .endswith("McNemar exact p = < 0.001 — more than test-set noise")
    )


def test_format_p():
    assert [format_p(p) for p in (1.0, 0.458, 0.0427, 0.0077, 0.00012)] == ["1", "0.46", "0.043", "0.0077", "< 0.001"]


def test_one_standard_error_names_the_best_and_the_settings_seed_noise_cannot_tell_from_it():
    means = {"a": 0.990, "b": 0.995, "c": 0.9945, "d": 0.980}
    errors = {"a": 0.1, "b": 0.001, "c": 0.5, "d": 0.1}  # only the best's error counts
    pick = one_standard_error(means, errors.__getitem__)
    assert (pick.best, pick.standard_error, pick.ties) == ("b", 0.001, ("c",))
    assert pick.keep("c") == "c"  # what ships stays within one standard error of the best
    assert pick.keep("a") == "b" and pick.keep("d") == "b"  # ... and gives way beyond it
    assert pick.keep("unknown") == "b"  # a setting that was not measured never stays
    assert one_standard_error({"x": 0.9, "y": 0.9}, lambda best: 0.0).best == "x"  # of equal means, the first


def test_two_models_are_compared_on_the_test_set(tiny_checkpoints, small_mnist):
    from kd.checkpoint import load
    from kd.predict import logits

    student, scratch = (load(tiny_checkpoints[name]) for name in ("student", "scratch"))
    result = compare_on_test_set(student, scratch, small_mnist)
    same = compare_on_test_set(student, student, small_mnist)
    assert (same.a_only, same.b_only, same.p_value) == (0, 0, 1.0)
    labels = small_mnist.test_labels.numpy()
    right = [int((logits(m, small_mnist.test_images).argmax(1).numpy() == labels).sum()) for m in (student, scratch)]
    assert result.a_only - result.b_only == right[0] - right[1]  # the discordant digits make the whole gap
    assert result.p_value == exact_mcnemar_p(result.a_only, result.b_only)
    assert compare_on_test_set(scratch, student, small_mnist) == McNemar(result.b_only, result.a_only, result.p_value)


@pytest.fixture
def dashboard(tiny_checkpoints, tmp_path, monkeypatch):
    """The Streamlit app on the session's tiny checkpoints (as tests/dashboard/conftest.py sets it up)."""
    monkeypatch.setenv("KD_CHECKPOINTS_DIR", str(tiny_checkpoints["teacher"].parent))
    monkeypatch.setenv("KD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("KD_WARM_UP", "0")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py"), default_timeout=120)
    return at.run()


def shipped_test(tiny_checkpoints, mnist, a: str, b: str) -> McNemar:
    from kd.checkpoint import load

    return compare_on_test_set(load(tiny_checkpoints[a]), load(tiny_checkpoints[b]), mnist)


def test_the_overview_says_whether_distilled_vs_scratch_is_more_than_test_set_noise(dashboard, tiny_checkpoints, mnist):
    assert not dashboard.exception, [e.value for e in dashboard.exception]
    expected = shipped_test(tiny_checkpoints, mnist, "student", "scratch").describe("distilled", "scratch")
    assert f"Digit by digit: {expected}." in " ".join(caption.value for caption in dashboard.caption)


def test_the_metrics_page_tests_the_two_chosen_models(dashboard, tiny_checkpoints, mnist):
    at = dashboard.switch_page("streamlit_ui/pages/metrics.py").run()
    assert not at.exception, [e.value for e in at.exception]
    keys = (at.selectbox(key="metrics_a_select").value, at.selectbox(key="metrics_b_select").value)
    assert keys == ("teacher", "student")
    expected = shipped_test(tiny_checkpoints, mnist, *keys).describe("A", "B")
    assert expected + "." in [markdown.value for markdown in at.markdown]
    at.selectbox(key="metrics_b_select").set_value("scratch").run()
    expected = shipped_test(tiny_checkpoints, mnist, "teacher", "scratch").describe("A", "B")
    assert expected + "." in [markdown.value for markdown in at.markdown]
