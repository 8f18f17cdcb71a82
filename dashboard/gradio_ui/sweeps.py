"""The Gradio app's Sweeps tab: the sweeps on this server, read through the same `Lab.sweep_view` as the Streamlit page.

For each data budget of a sweep: the heatmap of paired gains over temperature and alpha (a star
where the gain survives Holm's correction), the cell the Distill tab's settings run (or the
nearest) seed by seed, and every cell with its p-values. The figures are opened when the tab is
(not on every page load); launching a sweep is the Streamlit lab's, or `python -m kd sweep`'s.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from dashboard import charts
from dashboard.gradio_ui.outputs import plot, table
from dashboard.gradio_ui.state import lab
from kd.lab import widgets
from kd.lab.sweep_views import budget_label, cell_summary, default_sweep
from kd.lab.texts import SWEEPS_INTRO

NO_SWEEP = (
    "No sweep on this server yet. `python -m kd sweep --temperatures 2,4 --alphas 0,0.9 --seeds 0,1,2 --limits 2000 "
    "--epochs 1 --out runs/my-sweep` trains one, and it shows here as its cells finish."
)


def sweeps() -> gr.Dropdown:
    """The sweep selector, with the sweeps there are now (the shipped one first and chosen)."""
    names = lab().sweep_names()
    return gr.Dropdown(choices=names, value=default_sweep(names))


def budgets(name: str | None) -> gr.Dropdown:
    """The data budgets of a sweep, by label; the index of one comes back."""
    try:
        found = lab().sweep_view(name).budgets() if name else []
    except ValueError:
        found = []
    return gr.Dropdown(choices=[(budget_label(b), i) for i, b in enumerate(found)], value=0 if found else None)


def show(name: str | None, budget: int | None) -> tuple:
    """(progress and notes, heatmap, caption, the default cell's sentence, its seeds, every cell) of one budget."""
    empty = plot(None), "", "", plot(None), table(None)
    if not name:
        return NO_SWEEP, *empty
    try:
        sweep = lab().sweep_view(name)
    except ValueError as exc:
        return f"{exc}.", *empty
    lines = [sweep.progress(), sweep.provenance()]
    found = sweep.budgets()
    if not sweep.stats or budget is None or not 0 <= int(budget) < len(found):
        lines.append("No distilled cell has its scratch baseline yet: the gains appear once both have finished.")
        return "\n\n".join(lines), *empty
    chosen = found[int(budget)]
    cell = sweep.default_cell(chosen)
    return (
        "\n\n".join(lines),
        plot(charts.gain_heatmap(sweep.heatmap_cells(chosen))),
        sweep.heatmap_caption(),
        "**The Distill tab's settings, or the nearest cell, seed by seed.** " + cell_summary(cell),
        plot(charts.seed_pairs(cell.seeds, cell.accuracies, cell.baseline_accuracies)),
        table(pd.DataFrame(sweep.table()).round(4)),
    )


def build(tab: gr.Tab) -> None:
    """The tab's widgets; its figures are made when it is opened and when a sweep or a budget is picked."""
    gr.Markdown(SWEEPS_INTRO)
    gr.Markdown(widgets.ALPHA_MEANING)
    with gr.Row():
        sweep = gr.Dropdown(label="Sweep", elem_id="sweep-name")
        budget = gr.Dropdown(label="Data budget", elem_id="sweep-budget")
    note = gr.Markdown(elem_id="sweep-note")
    heatmap = gr.Plot(show_label=False, visible=False)
    caption = gr.Markdown(elem_id="sweep-caption")
    cell = gr.Markdown(elem_id="sweep-cell")
    seeds = gr.Plot(show_label=False, visible=False)
    every_cell = gr.Dataframe(interactive=False, visible=False, elem_id="sweep-table")
    shown = [note, heatmap, caption, cell, seeds, every_cell]
    quick = dict(api_visibility="private", queue=False)  # reads files and cached statistics: milliseconds
    # chained rather than on .change: a sweep reopened, or another with as many budgets, changes no value
    tab.select(sweeps, None, sweep, **quick).then(budgets, sweep, budget, **quick).then(
        show, [sweep, budget], shown, **quick
    )
    sweep.input(budgets, sweep, budget, **quick).then(show, [sweep, budget], shown, **quick)
    budget.input(show, [sweep, budget], shown, **quick)
