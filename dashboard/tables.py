"""pandas tables for the apps, built from typed model records (kd.metadata) and kd.evaluate's metrics dicts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kd.lab.catalog import ModelEntry, run_teacher
from kd.lab.latency_views import human_bytes


def per_class(metrics: dict[str, Any]) -> pd.DataFrame:
    """Precision / recall / F1 / support per digit, then the macro and weighted averages."""
    keys = ("precision", "recall", "f1", "support")
    rows = [{"class": str(row["class"]), **{key: row[key] for key in keys}} for row in metrics["per_class"]]
    for average in ("macro", "weighted"):
        rows.append({"class": average, **metrics[average]})
    return pd.DataFrame(rows).set_index("class")


def per_class_comparison(a: dict[str, Any], b: dict[str, Any]) -> pd.DataFrame:
    """Per-class precision / recall / F1 of two models with B - A beside each."""
    left, right = per_class(a), per_class(b)
    columns = {}
    for name in ("precision", "recall", "f1"):
        columns[f"{name} A"] = left[name]
        columns[f"{name} B"] = right[name]
        # rounded to what is shown, and + 0.0 turns -0.0 into 0.0: no "-0.0000" where the two are equal
        columns[f"Δ {name}"] = (right[name] - left[name]).round(4) + 0.0
    columns["support"] = left["support"]
    return pd.DataFrame(columns)


def highlight_differences(frame: pd.DataFrame):
    """A Styler that colours the Δ columns: green where B is better, red where worse."""

    def colour(value: float) -> str:
        if abs(value) < 0.0005:
            return ""
        return "background-color: rgba(44, 160, 44, 0.25)" if value > 0 else "background-color: rgba(214, 39, 40, 0.25)"

    delta_columns = [c for c in frame.columns if c.startswith("Δ")]
    return (
        frame.style.map(colour, subset=delta_columns)
        .format("{:+.4f}", subset=delta_columns)
        .format("{:.4f}", subset=[c for c in frame.columns if c not in delta_columns and c != "support"])
    )


def full_height(frame: pd.DataFrame) -> int:
    """Pixels for st.dataframe to show every row without scrolling."""
    return 35 * (len(frame) + 1) + 3


def setup(choices: list[ModelEntry], latency_ms: dict[str, float]) -> pd.DataFrame:
    """The experiment's setup table: one column per model; `latency_ms` by model key.

    An ensemble's train_config holds only what its members share: a setting they differ in shows as "—".
    """
    columns = {}
    for choice in choices:
        info, metrics = choice.info, choice.info.metrics
        config = info.train_config
        student = choice.key != "teacher" and info.role != "teacher"
        columns[choice.label] = {
            "role": info.role,
            "layout (CNN widths per stage / MLP hidden units)": choice.layout,
            "parameters": f"{metrics.parameters:,}" if metrics.parameters is not None else "—",
            "size on disk": human_bytes(choice.size_bytes),
            # "—": not in the measurement file (an ensemble made after `kd report`); the Latency page times it
            "latency, 1 image (p50)": f"{latency_ms[choice.key]:.3f} ms" if choice.key in latency_ms else "—",
            "test accuracy": f"{metrics.accuracy:.2%}",
            "test errors": f"{metrics.errors} / {metrics.test_size}",
            "macro F1": f"{metrics.macro_f1:.4f}",
            "ECE": f"{metrics.ece:.4f}",
            "agreement with teacher": f"{metrics.agreement:.2%}" if metrics.agreement is not None else "—",
            "epochs": str(config.get("epochs", "—")),
            "training images": f"{info.train_images:,}",
            "augmentation": {True: "yes", False: "no"}.get(config.get("augment"), "—"),
            "temperature T": f"{config['temperature']:g}" if student and config["alpha"] > 0 else "—",
            "alpha (soft-target share)": f"{config['alpha']:g}" if student else "— (trained on labels)",
            "training time": f"{info.train_seconds:.0f} s",
        }
    return pd.DataFrame(columns)


def runs(choices: list[ModelEntry]) -> pd.DataFrame:
    """The finished runs, newest first."""
    rows = []
    for choice in choices:
        info, config = choice.info, choice.info.train_config
        rows.append(
            {
                "run": choice.key,
                "T": config["temperature"],
                "alpha": config["alpha"],
                "epochs": config["epochs"],
                "images": info.train_images,
                "seed": config["seed"],
                "mixing": config.get("mix", "none"),
                "teacher": run_teacher(info),
                "accuracy": info.metrics.accuracy,
                "agreement": info.metrics.agreement,
                "ECE": info.metrics.ece,
                "time (s)": round(info.train_seconds, 1),
                "created (UTC)": info.raw.get("created", ""),
            }
        )
    return pd.DataFrame(rows)
