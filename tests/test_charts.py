"""The apps' figures (dashboard/charts.py) and tables (dashboard/tables.py): what a reader sees on them."""

from __future__ import annotations

from kd.evaluate import classification_report
from kd.train import Progress


def test_live_curves_show_the_accuracy_reached_not_an_axis_from_zero():
    from dashboard.charts import live_curves

    progress = [
        Progress(25, 100, 1, 2.0, 1.0),
        Progress(50, 100, 1, 1.0, 2.0, 0.971),
        Progress(100, 100, 2, 0.5, 4.0, 0.982),
    ]
    figure = live_curves(progress)
    low, high = figure.layout.yaxis2.range
    assert 0.85 <= low < 0.971 and high == 1.0  # the points sit inside the axis, not above its top label
    assert list(figure.data[1].y) == [0.971, 0.982] and list(figure.data[0].x) == [25, 50, 100]


def test_a_comparison_of_equal_models_shows_no_minus_zero():
    import numpy as np

    from dashboard.tables import highlight_differences, per_class_comparison

    labels = np.arange(10).repeat(10)
    predictions = labels.copy()
    predictions[::7] = (predictions[::7] + 1) % 10
    metrics = classification_report(predictions, labels)
    html = highlight_differences(per_class_comparison(metrics, metrics)).to_html()
    assert "-0.0000" not in html and "+0.0000" in html
