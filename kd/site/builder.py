"""`python -m kd site --out DIR`: a static folder that runs the shipped teacher and student in the browser.

The page (static/: HTML, CSS, JavaScript) preprocesses a drawing exactly as kd.preprocess does and runs
both models with ONNX Runtime Web. The folder holds everything it loads: the checked ONNX exports, the
runtime's files from node_modules (`make npm` installs them, pinned by package-lock.json; only the
WebAssembly build the page uses), and `site.json` with the models' results from their checkpoints'
metadata, the address of the full lab (`--lab-url`; without one the page shows no link to it) and the
widgets' values (kd.lab.widgets: the pad's side, the pen, the temperature slider), which the page's HTML
and JavaScript do not type themselves. Every
file is written atomically, and only after both models exported and passed the parity check; other
files in the folder (a Space's README, its .git) are left alone.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from kd import checkpoint
from kd.infer.export import parity_images, prepare
from kd.lab import widgets
from kd.metadata import ModelInfo
from kd.paths import ROOT

STATIC = Path(__file__).parent / "static"
SITE_FILES = ("index.html", "style.css", "preprocess.js", "app.js")
# The classic-script build with WebAssembly only, and the module and binary it loads at run time.
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
MODELS = {"teacher": "Teacher", "student": "Student (distilled)"}


class SiteError(ValueError):
    """The site cannot be built (a missing runtime or checkpoint)."""


def runtime_dir() -> Path:
    """onnxruntime-web's dist folder; KD_NODE_MODULES points elsewhere than ./node_modules."""
    return Path(os.environ.get("KD_NODE_MODULES", ROOT / "node_modules")) / "onnxruntime-web" / "dist"


def runtime_version() -> str:
    manifest = runtime_dir().parent / "package.json"
    return json.loads(manifest.read_text())["version"]


def model_summary(metadata: dict[str, Any], label: str, onnx_file: str, onnx_bytes: int) -> dict[str, Any]:
    """What the page shows of one model, from its checkpoint's metadata (MetadataError if that lacks any of it)."""
    info = ModelInfo.from_dict(metadata, label)
    return {
        "label": label,
        "onnx": onnx_file,
        "onnx_bytes": onnx_bytes,
        "role": info.role,
        "accuracy": info.metrics.accuracy,
        "errors": info.metrics.errors,
        "parameters": info.metrics.parameters,
        "macro_f1": info.metrics.macro_f1,
        "per_class_f1": list(info.metrics.per_class_f1),
        "temperature": info.train_config["temperature"],
        "alpha": info.train_config["alpha"],
        "weights_sha256": info.weights_sha256,
    }


def build_site(out: Path, checkpoints: Path, lab_url: str | None = None) -> dict[str, Any]:
    """Build the static site into `out` (created if needed); returns what was written.

    `lab_url` is where the page's "Open the full lab" link points (your Space); None leaves the link out.
    """
    if lab_url is not None and not lab_url.startswith(("https://", "http://")):
        raise SiteError(f"--lab-url must be an http:// or https:// address, got {lab_url!r}")
    missing = [name for name in RUNTIME_FILES if not (runtime_dir() / name).is_file()]
    if missing:
        raise SiteError(f"onnxruntime-web is not installed in {runtime_dir()} (run `make npm`): missing {missing[0]}")
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out} exists and is not a folder")
    images = parity_images()
    exports = {name: prepare(checkpoints / f"{name}.safetensors", images) for name in MODELS}
    # everything is checked: now write
    files: dict[str, bytes] = {name: (STATIC / name).read_bytes() for name in SITE_FILES}
    files.update({f"ort/{name}": (runtime_dir() / name).read_bytes() for name in RUNTIME_FILES})
    summaries = {}
    for name, exported in exports.items():
        files[f"models/{name}.onnx"] = exported.graph
        summaries[name] = model_summary(exported.metadata, MODELS[name], f"models/{name}.onnx", len(exported.graph))
    site = {
        "lab_url": lab_url,
        "widgets": widgets.static_page(),
        "models": summaries,
        "runtime": {"onnxruntime-web": runtime_version(), "wasm": RUNTIME_FILES[-1]},
        "built": time.strftime("%Y-%m-%d"),
        "command": "python -m kd site",
    }
    files["site.json"] = (json.dumps(site, indent=2) + "\n").encode()
    for relative, content in files.items():
        checkpoint.atomic_write(out / relative, content)
    return {
        "out": str(out),
        "files": sorted(files),
        "bytes": sum(len(content) for content in files.values()),
        "parity_max_abs_diff": {name: exported.parity_gap for name, exported in exports.items()},
        "lab_url": lab_url,
    }
