"""The charts of a run trained without some digits (dashboard/charts.py): the digits left out are marked, and the
offset chosen on validation and the visitor's are both drawn."""

from __future__ import annotations

from dashboard import charts


def test_the_recall_bars_mark_each_digit_left_out_and_name_the_offset():
    as_trained, at_offset = [0.99] * 10, [0.98] * 10
    as_trained[3], at_offset[3] = 0.5, 0.97
    figure = charts.omitted_recall(as_trained, at_offset, (3, 8), 5.2)
    assert [trace.name for trace in figure.data] == ["as trained", "offset +5.2"]
    assert [(shape.x0, shape.x1) for shape in figure.layout.shapes] == [(2.5, 3.5), (7.5, 8.5)]
    assert [note.x for note in figure.layout.annotations] == ["3", "8"]


def test_the_offset_curve_draws_recall_errors_and_both_offsets():
    offsets, errors, recall = [0.0, 5.0, 10.0], [500, 140, 900], {"3": [0.5, 0.98, 1.0]}
    figure = charts.offset_curve(offsets, errors, recall, chosen=5.0, offset=10.0)
    assert [trace.name for trace in figure.data] == ["3s read", "test errors"]
    assert sorted(shape.x0 for shape in figure.layout.shapes) == [5.0, 10.0]
    assert "chosen on validation +5" in {note.text for note in figure.layout.annotations}
