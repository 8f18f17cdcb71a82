"""The Gradio app's Compare runs tab: two or more finished models' training curves overlaid, settings side by side.

The lab reads the curves from each checkpoint's history (Lab.compare_runs); this tab only lays
them out, as the Streamlit Compare runs page does. Its picker lists the models there are when the
tab opens, so a run that finished since is there to pick.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from dashboard import charts
from dashboard.gradio_ui.outputs import plot, table
from dashboard.gradio_ui.state import lab
from kd.lab.compare import first_picks
from kd.lab.texts import COMPARE_INTRO, COMPARE_LOSS_NOTE


def comparable() -> gr.Dropdown:
    """The picker with every model that has curves, the shipped pair and the newest run picked at first."""
    found = lab().comparable_models()
    return gr.Dropdown(
        choices=[(entry.label, entry.key) for entry in found], value=first_picks(found), multiselect=True
    )


def show(keys: list[str] | None) -> tuple:
    """(note, accuracy curves, loss curves, settings table) for the models picked; a sentence if too few."""
    try:
        comparison = lab().compare_runs(keys or [])
    except ValueError as exc:
        return str(exc), plot(None), plot(None), table(None)
    settings = pd.DataFrame(comparison.settings).rename_axis("setting").reset_index()
    return (
        COMPARE_LOSS_NOTE,
        plot(charts.accuracy_curves(comparison.histories)),
        plot(charts.loss_curves(comparison.histories)),
        table(settings),
    )


def build(tab: gr.Tab) -> None:
    """The tab's widgets, filled when it is opened and whenever the picked models change."""
    gr.Markdown(COMPARE_INTRO)
    picked = gr.Dropdown(multiselect=True, label="Models", elem_id="compare-models")
    note = gr.Markdown(elem_id="compare-note")
    with gr.Row():
        accuracy = gr.Plot(label="Validation accuracy", visible=False)
        loss = gr.Plot(label="Training loss", visible=False)
    settings = gr.Dataframe(interactive=False, visible=False, elem_id="compare-settings")
    shown = [note, accuracy, loss, settings]
    tab.select(comparable, None, picked, api_visibility="private", queue=False).then(
        show, picked, shown, api_visibility="private", queue=False
    )
    picked.input(show, picked, shown, api_visibility="private", queue=False)
