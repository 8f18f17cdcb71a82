"""The folder of finished runs: a listing that reads only what changed, bounds, orphan sweep, deletion.

A run is a pair of files, `<id>.safetensors` + `<id>.json`, written by `kd.checkpoint.save`.
On a public server anyone can make runs, so the folder is bounded (oldest deleted first, by
count and by total bytes); the listing is read on every page rerun, so each file's header is
read once and then only again when its size or modification time changes; a crash between
the two writes leaves half a run, which is swept away at start-up.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

from kd import checkpoint

log = logging.getLogger(__name__)

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
ORPHAN_AGE = 600.0  # seconds: younger half-runs may still be being written by another process
SUFFIXES = (".safetensors", ".json")
RUN_METRICS = {"accuracy", "errors", "ece", "macro", "per_class", "confusion", "calibration"}  # what the pages read


class RunStore:
    """Finished runs in one folder. Thread-safe: every visitor's page reads it at once."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        # file name -> ((mtime_ns, size), metadata or None if unreadable)
        self._headers: dict[str, tuple[tuple[int, int], dict[str, Any] | None]] = {}

    def _pairs(self) -> list[tuple[Path, int, int]]:
        """(weights path, mtime_ns, total bytes of both files) of each complete run, by stat only."""
        found = []
        for weights in self.folder.glob("*.safetensors"):
            try:
                stat, meta = weights.stat(), weights.with_suffix(".json").stat()
            except OSError:
                continue  # no .json: half a run (swept at start-up) or deleted meanwhile
            found.append((weights, stat.st_mtime_ns, stat.st_size + meta.st_size))
        return found

    def entries(self) -> list[dict[str, Any]]:
        """Saved runs, newest first: {id, path, metadata}; a damaged file is logged once and skipped."""
        listed, headers = [], {}
        with self._lock:
            for weights, mtime, size in self._pairs():
                stamp = (mtime, size)
                cached = self._headers.get(weights.name)
                if cached is None or cached[0] != stamp:
                    cached = (stamp, _read(weights))
                headers[weights.name] = cached
                if cached[1] is not None:
                    listed.append({"id": weights.stem, "path": weights, "metadata": cached[1]})
            self._headers = headers
        return sorted(listed, key=lambda run: (str(run["metadata"].get("created", "")), run["id"]), reverse=True)

    def delete(self, run_id: str) -> bool:
        """Remove a run's two files. False if there was nothing to delete."""
        if not RUN_ID.match(run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        removed = False
        for suffix in SUFFIXES:
            path = self.folder / f"{run_id}{suffix}"
            if path.is_file():
                path.unlink(missing_ok=True)
                removed = True
        return removed

    def prune(self, max_runs: int, max_bytes: int, keep: str | None = None) -> list[str]:
        """Delete the oldest runs until at most `max_runs` remain within `max_bytes`; never `keep`."""
        runs = sorted(self._pairs(), key=lambda pair: pair[1])  # oldest first
        total = sum(size for _, _, size in runs)
        removed = []
        for weights, _, size in runs:
            if len(runs) - len(removed) <= max_runs and total <= max_bytes:
                break
            if weights.stem == keep or not RUN_ID.match(weights.stem):
                continue
            self.delete(weights.stem)
            removed.append(weights.stem)
            total -= size
        if removed:
            log.info("removed %d old run(s) to stay within %d runs and %d bytes", len(removed), max_runs, max_bytes)
        return removed

    def sweep_orphans(self, min_age: float = ORPHAN_AGE) -> list[Path]:
        """Remove half-written runs (one file of the pair) and leftover temporary files older than `min_age`."""
        if not self.folder.is_dir():
            return []
        removed, now = [], time.time()
        for path in self.folder.iterdir():
            leftover = path.name.startswith(".") and path.name.endswith(".tmp")
            half = path.suffix in SUFFIXES and RUN_ID.match(path.stem) and not _partner(path).exists()
            try:
                if (leftover or half) and path.is_file() and now - path.stat().st_mtime >= min_age:
                    path.unlink()
                    removed.append(path)
            except OSError as exc:
                log.warning("could not remove the orphan file %s: %s", path, exc)
        if removed:
            log.warning("removed %d orphan file(s) from %s: %s", len(removed), self.folder, [p.name for p in removed])
        return removed


def _partner(path: Path) -> Path:
    return path.with_suffix(".json" if path.suffix == ".safetensors" else ".safetensors")


def _read(weights: Path) -> dict[str, Any] | None:
    """A run's metadata if it is a readable checkpoint with what a run's pages show, else None (logged once)."""
    try:
        metadata = checkpoint.read_metadata(weights)
    except checkpoint.CheckpointError as exc:
        log.warning("skipping a damaged run file: %s", exc)  # once per version of the file: it is cached
        return None
    metrics, config = metadata.get("metrics"), metadata.get("train_config")
    if not isinstance(metrics, dict) or not isinstance(config, dict) or not RUN_METRICS <= metrics.keys():
        log.warning("skipping %s: a checkpoint, but not a finished run (no metrics or training config)", weights)
        return None
    return metadata
