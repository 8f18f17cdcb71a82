"""Sweeps: where distillation beats the scratch student of the same seed, by how much, and whether it is noise.

What the page shows of a sweep is the lab's (`Lab.sweep_view`, kd.lab.sweep_views: the Gradio app's
Sweeps tab shows the same). A visitor can launch a small sweep here too; kd.lab.sweeps checks it
against the server's caps, writes its folder under the runs folder and queues its cells one at a
time on the run queue's worker.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.streamlit_ui.state import lab, plot, visitor
from kd.lab import widgets
from kd.lab.sweep_views import budget_label, cell_summary, default_sweep
from kd.lab.sweeps import QueuedSweep, grid_from_form
from kd.lab.texts import SWEEPS_INTRO
from kd.recipes import DASHBOARD_RUN

REFRESH_SECONDS = 10  # how often the page looks for new cells while a sweep is still running
MAX_LIST_CHARS = 200  # per list in the launch form


st.title("Sweeps: when does distillation help?")
st.markdown(SWEEPS_INTRO)
st.caption(widgets.ALPHA_MEANING)  # the loss, as the Distill pages give it


def launch_form(expanded: bool) -> None:
    """A small sweep within this server's caps; launching it selects its folder below."""
    caps = lab().limits
    with st.expander("Launch a small sweep", expanded=expanded), st.form("sweep_form", border=False):
        left, right = st.columns(2)
        lists = {  # comma-separated, like the command line's; max_chars keeps a huge paste out of the parser
            name: left.text_input(label, default, max_chars=MAX_LIST_CHARS, key=f"sweep_form_{name}", help=help_text)
            for name, label, default, help_text in (
                ("temperatures", "Temperatures T", "2, 4", "Comma-separated, each above 0."),
                ("alphas", "Alphas", f"0, {DASHBOARD_RUN.alpha:g}", "Comma-separated, 0 to 1. 0 (scratch) is needed."),
                ("seeds", "Seeds", "0, 1, 2", "Comma-separated whole numbers."),
            )
        }
        images = right.number_input("Training images per cell", 1, None, min(DASHBOARD_RUN.limit, caps.max_images),
                                    100, key="sweep_form_images")  # fmt: skip
        epochs = right.number_input("Epochs per cell", 1, None, DASHBOARD_RUN.epochs, key="sweep_form_epochs")
        st.caption(
            f"One cell per seed and (T, alpha) pair, plus one scratch baseline per seed; this server trains at most "
            f"{caps.max_sweep_cells} cells per sweep, {caps.max_images:,} images and {caps.max_epochs} epochs per "
            "cell, and one sweep per visitor at a time. The cells take turns with everyone's runs on the one "
            "training worker: a run launched meanwhile waits for at most one cell of each sweep."
        )
        launched = st.form_submit_button("Launch sweep", type="primary")
    if launched:
        try:
            grid = grid_from_form(**lists, images=images, epochs=epochs)
            sweep = lab().launch_sweep(visitor(), grid)
        except ValueError as exc:
            st.error(f"This sweep was not launched: {exc}.")
        else:
            st.session_state["sweep_folder"] = f"runs/{sweep.folder.name}"  # the selector below shows it
            st.success(f"Launched {len(sweep.cells)} cells; their results appear below as they finish.")


names = lab().sweep_names()
launch_form(expanded=not names)
names = lab().sweep_names()  # with the one just launched
if not names:
    st.info(
        "No sweep yet. Launch a small one above, or run a larger one from a terminal, for example "
        "`python -m kd sweep --temperatures 2,4 --alphas 0,0.9 --seeds 0,1,2 --limits 2000 --epochs 1 "
        "--out runs/my-sweep`, and it appears here as its cells finish (any folder under `runs/` or `results/` "
        "that holds a `results.csv` and a `sweep.json`)."
    )
    st.stop()
if st.session_state.get("sweep_folder") not in names:  # first visit, or a folder pruned since: the shipped sweep
    st.session_state["sweep_folder"] = default_sweep(names)
name = st.selectbox("Sweep", names, key="sweep_folder")  # names a visitor may see, never a server path


def stop_control(sweep: QueuedSweep) -> None:
    """The visitor's own sweep in flight: what it waits for, and a way to stop it."""
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.caption(
        f"Your sweep (runs/{sweep.folder.name}): its cells train one at a time, each after the runs launched "
        "before it. Stopping keeps the cells recorded so far; its command run from a terminal would train the rest."
    )
    if right.button("Stop my sweep", key="sweep_stop"):
        lab().stop_sweep(visitor())
        st.rerun()


def show(name: str) -> None:
    try:
        sweep = lab().sweep_view(name)
    except ValueError as exc:
        st.warning(f"{exc}.")
        return
    st.markdown(sweep.progress())
    with st.expander("Recipe (training settings shared by every cell), student and data"):
        st.json(sweep.record["recipe"])
        st.caption(sweep.provenance())
    mine = lab().sweep_of(visitor())
    if mine is not None:  # whichever sweep is shown: a visitor can always stop theirs
        stop_control(mine)
    if not sweep.stats:
        st.info("No distilled cell has its scratch baseline yet: the gains appear once both have finished.")
        return

    budget = st.selectbox("Data budget", sweep.budgets(), format_func=budget_label, key="sweep_budget")
    plot(charts.gain_heatmap(sweep.heatmap_cells(budget)), key="sweep_heatmap")
    st.caption(sweep.heatmap_caption())

    st.subheader("One cell, seed by seed")
    default, cells = sweep.default_cell(budget), sweep.of_budget(budget)
    left, right = st.columns(2)
    temperatures = sorted({s.temperature for s in cells})
    temperature = left.selectbox("Temperature T", temperatures, index=temperatures.index(default.temperature),
                                 format_func=lambda value: f"{value:g}", key="sweep_temperature")  # fmt: skip
    alphas = sorted({s.alpha for s in cells if s.temperature == temperature})
    alpha = right.selectbox("alpha", alphas, index=alphas.index(default.alpha) if default.alpha in alphas else 0,
                            format_func=lambda value: f"{value:g}", key="sweep_alpha")  # fmt: skip
    cell = sweep.cell(budget, temperature, alpha)
    plot(charts.seed_pairs(cell.seeds, cell.accuracies, cell.baseline_accuracies), key="sweep_seeds")
    st.markdown(cell_summary(cell))

    with st.expander("Every cell of this sweep"):
        st.dataframe(pd.DataFrame(sweep.table()).style.format(precision=4), hide_index=True, width="stretch")


try:
    unfinished = lab().sweep_view(name).unfinished  # still running (or interrupted): look again for new cells
except ValueError as exc:
    st.warning(f"{exc}.")
    st.stop()
st.fragment(show, run_every=REFRESH_SECONDS if unfinished else None)(name)
