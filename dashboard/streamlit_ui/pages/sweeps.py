"""Sweeps: where distillation beats the scratch student of the same seed, by how much, and whether it is noise.

A visitor can launch a small sweep here too; kd.lab.sweeps checks it against the server's caps, writes its
folder under the runs folder and queues its cells one at a time on the run queue's worker.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.streamlit_ui.state import lab, plot, visitor
from kd.lab.settings import shown_command
from kd.lab.sweeps import QueuedSweep, grid_from_form
from kd.recipes import DASHBOARD_RUN
from kd.significance import format_p
from kd.status import DONE
from kd.sweep.results import RESULTS_FILE, SWEEP_FILE, provenance, read_results, read_sweep_record
from kd.sweep.stats import GainStat, gains, interval, nearest, tested, verdict

SHIPPED_SWEEP = "results/sweep"  # made by `make sweep`: the one the README reads, shown first
REFRESH_SECONDS = 10  # how often the page looks for new cells while a sweep is still running
MAX_LIST_CHARS = 200  # per list in the launch form


@st.cache_data(show_spinner=False, max_entries=32)
def _load(folder: str, stamp: tuple) -> tuple[dict, list[dict], list[GainStat]]:
    results = read_results(Path(folder) / RESULTS_FILE)
    sweep = read_sweep_record(folder)
    return sweep, [asdict(row) for row in results], gains(results)


def load(name: str, folder: Path) -> tuple[dict, list[dict], list[GainStat]] | None:
    """(sweep.json, result rows, gains), reread when either file changes; None if they cannot be read."""
    try:
        stamp = tuple((folder / file).stat().st_mtime_ns for file in (RESULTS_FILE, SWEEP_FILE))
        return _load(str(folder), stamp)
    except (OSError, ValueError, KeyError) as exc:
        st.warning(f"The sweep {name} could not be read: {type(exc).__name__}.")
        return None


def budget_label(budget: tuple) -> str:
    limit, epochs, augment = budget
    return f"{limit:,} images × {epochs} epoch{'s' if epochs != 1 else ''}{', augmented' if augment else ''}"


st.title("Sweeps: when does distillation help?")
st.markdown(
    "Each cell of a sweep trains a student from the teacher with one temperature $T$, one $\\alpha$, one data "
    "budget and one seed, and compares it with the **scratch** student ($\\alpha = 0$) of the same budget and "
    "seed: same initial weights, same order of the data. The loss is"
)
st.latex(
    r"\mathcal{L} = \alpha \, T^2 \, \mathrm{KL}\big(\mathrm{softmax}(z_t / T) \,\|\, \mathrm{softmax}(z_s / T)\big)"
    r" + (1 - \alpha)\, \mathrm{CE}(z_s, y)"
)
st.caption(
    "alpha is the share of the teacher's soft targets: 0 = labels only (the scratch baseline), 1 = teacher only."
)


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


launch_form(expanded=not lab().sweep_folders())
folders = lab().sweep_folders()
if not folders:
    st.info(
        "No sweep yet. Launch a small one above, or run a larger one from a terminal, for example "
        "`python -m kd sweep --temperatures 2,4 --alphas 0,0.9 --seeds 0,1,2 --limits 2000 --epochs 1 "
        "--out runs/my-sweep`, and it appears here as its cells finish (any folder under `runs/` or `results/` "
        "that holds a `results.csv` and a `sweep.json`)."
    )
    st.stop()
names = list(folders)
if st.session_state.get("sweep_folder") not in names:  # first visit, or a folder pruned since: the shipped sweep
    st.session_state["sweep_folder"] = SHIPPED_SWEEP if SHIPPED_SWEEP in names else names[0]
name = st.selectbox("Sweep", names, key="sweep_folder")  # names a visitor may see, never a server path
folder = folders[name]


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


def show(name: str, folder: Path) -> None:
    loaded = load(name, folder)
    if loaded is None:
        return
    sweep, rows, stats = loaded
    done = sum(row["status"] == DONE for row in rows)
    failed = len(rows) - done
    st.markdown(
        f"**{done} of {sweep['cells']} cells done**" + (f", {failed} failed" if failed else "")
        + f". Command: `{shown_command(sweep['command'])}`"
    )  # fmt: skip
    with st.expander("Recipe (training settings shared by every cell), student and data"):
        st.json(sweep["recipe"])
        st.caption(provenance(sweep))
    mine = lab().sweep_of(visitor())
    if mine is not None:  # whichever sweep is shown: a visitor can always stop theirs
        stop_control(mine)
    if not stats:
        st.info("No distilled cell has its scratch baseline yet: the gains appear once both have finished.")
        return

    budgets = sorted({(s.limit, s.epochs, s.augment) for s in stats})
    budget = st.selectbox("Data budget", budgets, format_func=budget_label, key="sweep_budget")
    mine = [s for s in stats if (s.limit, s.epochs, s.augment) == budget]
    cells = [
        {"temperature": s.temperature, "alpha": s.alpha, "gain": s.mean_gain, "ci_low": s.ci_low,
         "ci_high": s.ci_high, "n": s.n, "p_holm": s.p_holm, "significant": s.significant}
        for s in mine
    ]  # fmt: skip
    plot(charts.gain_heatmap(cells), key="sweep_heatmap")
    st.caption(
        "Mean paired gain of the distilled student over the scratch student, in accuracy points (blue: KD helps, "
        "red: it hurts). A star marks a gain (or loss) that survives **Holm's correction across all "
        f"{tested(stats)} tested cells of this sweep** at 5 % (two-sided paired t-tests over the seeds): with that "
        "many cells, a few would pass an uncorrected test by chance. The table of every cell below also gives the "
        "uncorrected p and Benjamini-Hochberg's, less strict. Hover for the uncorrected 95 % interval, Holm's p "
        "and the seeds."
    )

    st.subheader("One cell, seed by seed")
    # opens on the Distill page's settings (or the nearest cell run), never on the best cell: its interval,
    # picked for being the largest, would overstate the gain (the winner's curse)
    default = nearest(mine, DASHBOARD_RUN.temperature, DASHBOARD_RUN.alpha)
    left, right = st.columns(2)
    temperatures = sorted({s.temperature for s in mine})
    temperature = left.selectbox("Temperature T", temperatures, index=temperatures.index(default.temperature),
                                 format_func=lambda value: f"{value:g}", key="sweep_temperature")  # fmt: skip
    alphas = sorted({s.alpha for s in mine if s.temperature == temperature})
    alpha = right.selectbox("alpha", alphas, index=alphas.index(default.alpha) if default.alpha in alphas else 0,
                            format_func=lambda value: f"{value:g}", key="sweep_alpha")  # fmt: skip
    cell = next(s for s in mine if (s.temperature, s.alpha) == (temperature, alpha))
    plot(charts.seed_pairs(cell.seeds, cell.accuracies, cell.baseline_accuracies), key="sweep_seeds")
    test = (
        "one seed: no test"
        if cell.p_holm is None
        else f"p = {format_p(cell.p_value)}, Holm p = {format_p(cell.p_holm)}: "
        f"{'shown' if cell.significant else 'not shown'} after the correction"
    )
    st.markdown(
        f"T = {temperature:g}, alpha = {alpha:g}: distilled {cell.mean_accuracy:.2%} against scratch "
        f"{cell.mean_baseline_accuracy:.2%} over {cell.n} seeds, a mean paired gain of "
        f"**{cell.mean_gain * 100:+.2f} points** (95 % CI {interval(cell)} points, uncorrected; {test})."
    )

    with st.expander("Every cell of this sweep"):
        frame = pd.DataFrame(
            {
                "images": s.limit, "epochs": s.epochs, "augment": s.augment, "T": s.temperature, "alpha": s.alpha,
                "seeds": s.n, "distilled": s.mean_accuracy, "scratch": s.mean_baseline_accuracy,
                "gain (points)": s.mean_gain * 100,
                "CI low (uncorrected)": None if s.ci_low is None else s.ci_low * 100,
                "CI high (uncorrected)": None if s.ci_high is None else s.ci_high * 100,
                "p": s.p_value, "p (Holm)": s.p_holm, "p (BH)": s.p_bh, "KD (Holm, 5 %)": verdict(s),
            }
            for s in stats
        )  # fmt: skip
        st.dataframe(frame.style.format(precision=4), hide_index=True, width="stretch")


loaded = load(name, folder)
if loaded is None:
    st.stop()
unfinished = len(loaded[1]) < loaded[0]["cells"]  # still running (or interrupted): look again for new cells
st.fragment(show, run_every=REFRESH_SECONDS if unfinished else None)(name, folder)
