"""How the tabs hand figures and tables to Gradio: shown with something in them, hidden while empty.

An empty gr.Dataframe is a table headed "1 2 3" and an empty gr.Plot a blank box with an icon:
neither tells a visitor anything, so a tab shows a sentence instead and hides them.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd
import plotly.graph_objects as go


def plot(figure: go.Figure | None) -> gr.Plot:
    return gr.Plot(figure, visible=figure is not None)


def table(frame: pd.DataFrame | None) -> gr.Dataframe:
    return gr.Dataframe(frame, visible=frame is not None)
