"""Plotly figures for the dashboard. Each function takes plain data (lists, dicts) and returns a figure."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from kd.infer.bench import RUNTIMES
from kd.significance import format_p

TEACHER_COLOUR, STUDENT_COLOUR = "#636EFA", "#EF553B"
PALETTE = ["#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880"]
DIGITS = [str(d) for d in range(10)]
MIN_GAIN_SCALE = 0.25  # accuracy points: the least range of the gain heatmap's colour scale, either way


def _layout(figure: go.Figure, title: str | None = None, height: int = 300) -> go.Figure:
    figure.update_layout(
        title=title,
        height=height,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
    )
    return figure


def probability_bars(probabilities: Sequence[float], colour: str, title: str | None = None) -> go.Figure:
    """One model's probability per digit, the top digit drawn solid."""
    top = max(range(10), key=lambda d: probabilities[d])
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=list(probabilities),
            marker_color=colour,
            marker_opacity=[1.0 if d == top else 0.45 for d in range(10)],
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    figure.update_yaxes(range=[0, 1], tickformat=".0%")
    figure.update_xaxes(type="category", title="digit")
    return _layout(figure, title, height=250)


def softened_bars(distributions: dict[str, Sequence[float]], temperature: float) -> go.Figure:
    """Several models' softmax(logits / T) side by side, on a log scale so small shares show."""
    figure = go.Figure(
        [
            go.Bar(x=DIGITS, y=list(p), name=name, marker_color=PALETTE[i % len(PALETTE)])
            for i, (name, p) in enumerate(distributions.items())
        ]
    )
    figure.update_layout(barmode="group")
    figure.update_yaxes(type="log", dtick=1, title=f"probability at T = {temperature:g} (log scale)")
    figure.update_xaxes(type="category", title="digit")
    return _layout(figure, height=320)


def accuracy_curves(histories: dict[str, list[dict]]) -> go.Figure:
    """Validation accuracy per epoch (the last 10,000 training images), one line per model."""
    figure = _history_lines(histories, "validation_accuracy")
    figure.update_yaxes(title="validation accuracy", tickformat=".1%")
    return _layout(figure, height=340)


def loss_curves(histories: dict[str, list[dict]]) -> go.Figure:
    """Mean training loss per epoch, one line per model, on a log scale (distilled losses carry a T² factor)."""
    figure = _history_lines(histories, "loss")
    figure.update_yaxes(title="training loss (log scale)", type="log")
    return _layout(figure, height=340)


def _history_lines(histories: dict[str, list[dict]], field: str) -> go.Figure:
    """One line per model of a checkpoint history's `field` against the epoch."""
    figure = go.Figure()
    for i, (name, history) in enumerate(histories.items()):
        figure.add_scatter(
            x=[row["epoch"] for row in history],
            y=[row[field] for row in history],
            mode="lines+markers",
            name=name,
            line_color=PALETTE[i % len(PALETTE)],
        )
    figure.update_xaxes(title="epoch", dtick=1)
    return figure


def live_curves(progress: Sequence) -> go.Figure:
    """A run in progress (kd.train.Progress rows): loss over each stretch of steps, accuracy at each epoch's end.

    The accuracy axis spans what the run has reached, not 0 to 1 (a run at 97 % would sit under the
    top edge), with ticks every few points.
    """
    ends = [row for row in progress if row.validation_accuracy is not None]
    figure = go.Figure()
    figure.add_scatter(
        x=[row.step for row in progress], y=[row.loss for row in progress], mode="lines",
        name="training loss", line_color=STUDENT_COLOUR,
    )  # fmt: skip
    figure.add_scatter(
        x=[row.step for row in ends], y=[row.validation_accuracy for row in ends], mode="lines+markers",
        name="validation accuracy", yaxis="y2", line_color=TEACHER_COLOUR,
    )  # fmt: skip
    low = min((row.validation_accuracy for row in ends), default=0.9)
    bottom = max(0.0, math.floor(low * 20) / 20 - 0.05)  # a round number a little under the lowest point
    figure.update_layout(
        xaxis=dict(title="optimiser step"),
        yaxis=dict(title="loss", rangemode="tozero"),
        yaxis2=dict(title="validation accuracy", overlaying="y", side="right", range=[bottom, 1.0], tickformat=".0%"),
    )
    return _layout(figure, height=300)


def f1_change(deltas: Sequence[float], title: str) -> go.Figure:
    """Per-class F1 difference (positive = better), green up and red down."""
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=list(deltas),
            marker_color=["#2CA02C" if d >= 0 else "#D62728" for d in deltas],
            hovertemplate="digit %{x}: %{y:+.3f}<extra></extra>",
        )
    )
    figure.update_xaxes(type="category", title="digit")
    figure.update_yaxes(title="Δ F1", zeroline=True)
    return _layout(figure, title, height=260)


def confusion(matrix: list[list[int]], title: str) -> go.Figure:
    """A 10x10 confusion matrix; the diagonal dominates, so colour is on a log-like scale of counts."""
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=DIGITS,
            y=DIGITS,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            zmax=max(max(row[:i] + row[i + 1 :]) for i, row in enumerate(matrix)) or 1,  # errors stay visible
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            showscale=False,
        )
    )
    figure.update_xaxes(title="predicted", type="category")
    figure.update_yaxes(title="true", type="category", autorange="reversed")
    return _layout(figure, title, height=380)


def reliability(calibrations: dict[str, dict]) -> go.Figure:
    """Reliability diagram: accuracy against confidence per bin; the diagonal is perfect calibration."""
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect", line=dict(dash="dot", color="grey"))
    for i, (name, calibration) in enumerate(calibrations.items()):
        bins = calibration["bins"]
        figure.add_scatter(
            x=[b["confidence"] for b in bins],
            y=[b["accuracy"] for b in bins],
            mode="lines+markers",
            name=f"{name} (ECE {calibration['ece']:.4f})",
            marker_size=[6 + 14 * (b["count"] / max(c["count"] for c in bins)) ** 0.5 for b in bins],
            line_color=PALETTE[i % len(PALETTE)],
            customdata=[b["count"] for b in bins],
            hovertemplate="confidence %{x:.3f}, accuracy %{y:.3f}, %{customdata} digits<extra></extra>",
        )
    figure.update_xaxes(title="mean confidence in bin", range=[0, 1.02])
    figure.update_yaxes(title="accuracy in bin", range=[0, 1.02])
    return _layout(figure, height=380)


def latency_lines(rows: list[dict], value: str, axis_title: str, p95_bars: bool = False) -> go.Figure:
    """`value` against batch size (log-log), one line per model and runtime (ONNX Runtime dashed, in the
    model's colour); p95_bars draws the p95 above a p50 line."""
    figure = go.Figure()
    models = list(dict.fromkeys(row["model"] for row in rows))
    series = list(dict.fromkeys((row["model"], row.get("runtime", "torch")) for row in rows))
    both = len({runtime for _, runtime in series}) > 1
    for model, runtime in series:
        mine = [row for row in rows if row["model"] == model and row.get("runtime", "torch") == runtime]
        error_y = None
        if p95_bars:
            above = [row["p95_ms"] - row["p50_ms"] for row in mine]
            error_y = dict(type="data", symmetric=False, array=above, arrayminus=[0] * len(mine))
        figure.add_scatter(
            x=[row["batch_size"] for row in mine],
            y=[row[value] for row in mine],
            error_y=error_y,
            mode="lines+markers",
            name=f"{model} · {RUNTIMES[runtime]}" if both else model,
            line_color=PALETTE[models.index(model) % len(PALETTE)],
            line_dash="dash" if runtime == "onnx" else "solid",
        )
    sizes = sorted({row["batch_size"] for row in rows})
    figure.update_xaxes(title="batch size", type="log", tickvals=sizes, ticktext=[str(s) for s in sizes])
    figure.update_yaxes(title=axis_title, type="log", tickformat="~g")
    return _layout(figure, height=360)


def gain_heatmap(cells: list[dict], title: str | None = None) -> go.Figure:
    """Mean paired KD gain in accuracy points over temperature (rows) x alpha (columns).

    Each cell dict has temperature, alpha, gain, ci_low, ci_high (fractions; CI None with one
    seed), n, p_holm (None with one seed) and significant. A star marks a significant cell: the
    caller decides what survives (kd.sweep.stats: Holm's correction across the sweep), not the
    cell's own interval. The colour scale is centred on 0.
    """
    temperatures = sorted({cell["temperature"] for cell in cells})
    alphas = sorted({cell["alpha"] for cell in cells})
    by_position = {(cell["temperature"], cell["alpha"]): cell for cell in cells}

    def describe(cell: dict | None) -> tuple[float | None, str, str]:  # (colour value, label, hover)
        if cell is None:
            return None, "", "not run"
        low, high, gain = cell["ci_low"], cell["ci_high"], cell["gain"] * 100
        ci = "n/a (one seed)" if low is None else f"{low * 100:+.2f} to {high * 100:+.2f} points"
        holm = "n/a (one seed)" if cell["p_holm"] is None else format_p(cell["p_holm"])
        hover = f"mean gain {gain:+.2f} points<br>95 % CI {ci}, uncorrected<br>Holm p = {holm}<br>{cell['n']} seeds"
        return gain, f"{gain:+.2f}{' *' if cell['significant'] else ''}", hover

    grid = [[describe(by_position.get((t, a))) for a in alphas] for t in temperatures]
    z, text, hover = ([[cell[i] for cell in row] for row in grid] for i in range(3))
    # At least a quarter of a point either way: about the seed-to-seed noise of a full-budget cell, so a
    # grid of gains of a few hundredths is drawn pale, not in the scale's darkest blue.
    limit = max((abs(value) for row in z for value in row if value is not None), default=0.0)
    limit = max(limit, MIN_GAIN_SCALE)
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"{alpha:g}" for alpha in alphas],
            y=[f"{temperature:g}" for temperature in temperatures],
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            colorscale="RdBu",
            zmid=0,
            zmin=-limit,
            zmax=limit,
            colorbar=dict(title="gain (points)"),
            hovertemplate="T = %{y}, alpha = %{x}<br>%{customdata}<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    figure.update_xaxes(title="alpha (share of the teacher's soft targets)", type="category")
    figure.update_yaxes(title="temperature T", type="category")
    return _layout(figure, title, height=120 + 60 * len(temperatures))


def seed_pairs(seeds: Sequence[int], accuracies: Sequence[float], baselines: Sequence[float]) -> go.Figure:
    """Per seed, the distilled student's accuracy against the scratch baseline of the same seed, joined by a line."""
    figure = go.Figure()
    labels = [f"seed {seed}" for seed in seeds]
    for label, accuracy, baseline in zip(labels, accuracies, baselines, strict=True):
        colour = "#2CA02C" if accuracy >= baseline else "#D62728"
        figure.add_scatter(x=[label, label], y=[baseline, accuracy], mode="lines", line_color=colour, showlegend=False)
    figure.add_scatter(x=labels, y=list(baselines), mode="markers", name="scratch (alpha = 0)", marker_color="grey")
    figure.add_scatter(x=labels, y=list(accuracies), mode="markers", name="distilled", marker_color=STUDENT_COLOUR)
    figure.update_traces(marker_size=11, hovertemplate="%{x}: %{y:.2%}<extra></extra>")
    figure.update_xaxes(type="category")
    figure.update_yaxes(title="test accuracy", tickformat=".2%")  # seeds of one cell often differ by 0.05 %
    return _layout(figure, height=320)


def omitted_recall(
    as_trained: Sequence[float], at_offset: Sequence[float], omitted: Sequence[int], offset: float
) -> go.Figure:
    """Each class's test recall as trained and with `offset` on the left-out digits' logits, those digits shaded
    and named: what the offset buys them, and what it costs the others."""
    figure = go.Figure(
        [
            go.Bar(x=DIGITS, y=list(as_trained), name="as trained", marker_color="#B0B0B0"),
            go.Bar(x=DIGITS, y=list(at_offset), name=f"offset +{offset:g}", marker_color=STUDENT_COLOUR),
        ]
    )
    for digit in omitted:
        figure.add_vrect(x0=digit - 0.5, x1=digit + 0.5, fillcolor="#FFA15A", opacity=0.2, line_width=0)
        figure.add_annotation(x=str(digit), y=1.08, text="left out", showarrow=False, yref="y")
    figure.update_layout(barmode="group")
    figure.update_traces(hovertemplate="digit %{x}: %{y:.1%}<extra></extra>")
    figure.update_xaxes(type="category", title="digit")
    figure.update_yaxes(range=[0, 1.15], tickformat=".0%", title="test recall")
    return _layout(figure, height=300)


def offset_curve(
    offsets: Sequence[float], errors: Sequence[int], recall: dict[str, Sequence[float]], chosen: float, offset: float
) -> go.Figure:
    """The left-out digits' test recall and the total test errors at every offset, the one chosen on validation
    drawn dashed and the visitor's solid."""
    figure = go.Figure()
    for i, (digit, values) in enumerate(recall.items()):
        figure.add_scatter(
            x=list(offsets), y=list(values), mode="lines", name=f"{digit}s read", line_color=PALETTE[(i + 1) % 8],
            hovertemplate="offset +%{x}: %{y:.1%}<extra></extra>",
        )  # fmt: skip
    figure.add_scatter(
        x=list(offsets), y=list(errors), mode="lines", name="test errors", yaxis="y2", line_color=TEACHER_COLOUR,
        hovertemplate="offset +%{x}: %{y} errors<extra></extra>",
    )  # fmt: skip
    figure.add_vline(x=chosen, line_dash="dash", line_color="grey", annotation_text=f"chosen on validation +{chosen:g}")
    figure.add_vline(x=offset, line_color=STUDENT_COLOUR, annotation_text="yours", annotation_position="bottom right")
    figure.update_layout(
        xaxis=dict(title="offset on the left-out digits' logits"),
        yaxis=dict(title="recall", range=[0, 1.02], tickformat=".0%"),
        yaxis2=dict(title="test errors", overlaying="y", side="right", rangemode="tozero", tickformat=",d"),
    )
    return _layout(figure, height=320)
