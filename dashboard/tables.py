"""pandas tables for the dashboard, built from the metrics dicts that kd.evaluate returns."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kd.lab.catalog import ModelEntry


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
        columns[f"Δ {name}"] = right[name] - left[name]
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


def human_bytes(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} B"
    for unit in ("KB", "MB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GB"


def setup(choices: list[ModelEntry], latency_ms: dict[str, float]) -> pd.DataFrame:
    """The experiment's setup table: one column per model."""
    columns = {}
    for choice in choices:
        meta, metrics = choice.metadata, choice.metadata.get("metrics", {})
        config = meta.get("train_config", {})
        agreement = metrics.get("agreement")
        distilled = config.get("alpha", 0) > 0
        stages = meta.get("model_config", {}).get("stages", [])
        columns[choice.label] = {
            "role": meta.get("role", "?"),
            "conv widths per stage": " / ".join("-".join(map(str, s)) for s in stages),
            "parameters": f"{metrics.get('parameters', 0):,}",
            "size on disk": human_bytes(choice.size_bytes),
            "latency, 1 image (p50)": f"{latency_ms[choice.path]:.2f} ms" if choice.path in latency_ms else "…",
            "test accuracy": f"{metrics.get('accuracy', 0):.2%}",
            "test errors": f"{metrics.get('errors', 0)} / {metrics.get('test_size', 0)}",
            "macro F1": f"{metrics.get('macro', {}).get('f1', 0):.4f}",
            "ECE": f"{metrics.get('ece', 0):.4f}",
            "agreement with teacher": f"{agreement:.2%}" if agreement is not None else "—",
            "epochs": str(config.get("epochs", "?")),
            "training images": f"{meta.get('data', {}).get('train_images', 0):,}",
            "augmentation": "yes" if config.get("augment") else "no",
            "temperature T": f"{config.get('temperature'):g}" if distilled else "—",
            "alpha (soft-target share)": f"{config.get('alpha', 0):g}",
            "training time": f"{meta.get('train_seconds', 0):.0f} s",
        }
    return pd.DataFrame(columns)


def runs(choices: list[ModelEntry]) -> pd.DataFrame:
    """The finished runs, newest first."""
    rows = []
    for choice in choices:
        meta, metrics = choice.metadata, choice.metadata.get("metrics", {})
        config = meta.get("train_config", {})
        rows.append(
            {
                "run": choice.key,
                "T": config.get("temperature"),
                "alpha": config.get("alpha"),
                "epochs": config.get("epochs"),
                "images": meta.get("data", {}).get("train_images"),
                "seed": config.get("seed"),
                "accuracy": metrics.get("accuracy"),
                "agreement": metrics.get("agreement"),
                "ECE": metrics.get("ece"),
                "time (s)": round(meta.get("train_seconds", 0), 1),
                "created (UTC)": meta.get("created", ""),
            }
        )
    return pd.DataFrame(rows)
