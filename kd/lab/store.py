"""The folder of finished runs: a listing that reads only what changed, bounds, orphan sweep, deletion.

A run is a pair of files, `<id>.safetensors` + `<id>.json`, written by `kd.checkpoint.save`.
On a public server anyone can make runs, so the folder is bounded by count and by total bytes,
the runs' scratch twins (`baselines/`, kd.baselines: a cache, deleted first) included; each
visitor keeps a share: the visitor holding the most runs loses their own oldest first, so one
visitor making runs in a loop evicts their own, not everyone else's. Whose run is whose (an
opaque visitor id) is kept in the folder (`.owners.json`), so a restart still knows. The
listing is read on every page rerun, so each file's header is read once and then only again
when its size or modification time changes; a crash between the two writes leaves half a run,
which is swept away at start-up.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from kd import checkpoint
from kd.checkpoint import atomic_write_json

log = logging.getLogger(__name__)

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
ORPHAN_AGE = 600.0  # seconds: younger half-runs may still be being written by another process
SUFFIXES = (".safetensors", ".json")
RUN_METRICS = {"accuracy", "errors", "ece", "macro", "per_class", "confusion", "calibration"}  # what the pages read
BASELINES = "baselines"  # the scratch twins' metrics (kd.baselines), one small JSON file each
OWNERS = ".owners.json"  # run id -> the opaque id of the visitor who launched it (no RUN_ID: never swept)


class RunStore:
    """Finished runs in one folder. Thread-safe: every visitor's page reads it at once."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        # file name -> ((mtime_ns, size), metadata or None if unreadable)
        self._headers: dict[str, tuple[tuple[int, int], dict[str, Any] | None]] = {}
        self._owners: dict[str, str] = _read_owners(self.folder / OWNERS)

    def owner(self, run_id: str) -> str | None:
        """The visitor who launched a saved run, as recorded when it finished (None: unknown, or from code)."""
        with self._lock:
            return self._owners.get(run_id)

    def set_owner(self, run_id: str, owner: str | None) -> None:
        """Record whose run this is (nothing for a run launched from code)."""
        if owner is not None:
            with self._lock:
                self._owners[run_id] = owner
                self._write_owners()

    def _write_owners(self) -> None:
        """Under the lock: the owners of the runs still there, written atomically."""
        self._owners = {run_id: owner for run_id, owner in self._owners.items() if self._weights(run_id).is_file()}
        try:
            atomic_write_json(self.folder / OWNERS, self._owners)
        except OSError as exc:
            log.warning("could not record the runs' owners: %s", exc)

    def _weights(self, run_id: str) -> Path:
        return self.folder / f"{run_id}{SUFFIXES[0]}"

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
        with self._lock:
            if self._owners.pop(run_id, None) is not None:
                self._write_owners()
        return removed

    def _baselines(self) -> list[tuple[Path, int]]:
        """(path, bytes) of each scratch twin's metrics file, oldest first."""
        found = []
        for path in (self.folder / BASELINES).glob("*.json"):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((stat.st_mtime_ns, path, stat.st_size))
        return [(path, size) for _, path, size in sorted(found)]

    def prune(self, max_runs: int, max_bytes: int, keep: str | None = None) -> list[str]:
        """Delete runs and scratch twins until at most `max_runs` of each remain, all within `max_bytes`.

        The twins are a cache (a run's card keeps its twin's metrics), so the oldest go first. Then,
        while the runs are over a cap, the visitor holding the most runs loses their oldest (ties: the
        oldest run of all goes), so that each visitor keeps a share. `keep` (the run just saved) stays.
        Returns the ids of the runs deleted.
        """
        runs = [(weights.stem, size) for weights, _, size in sorted(self._pairs(), key=lambda pair: pair[1])]
        runs = [(run_id, size) for run_id, size in runs if RUN_ID.match(run_id)]
        baselines = self._baselines()
        total = sum(size for _, size in runs) + sum(size for _, size in baselines)
        while baselines and (len(baselines) > max_runs or total > max_bytes):
            path, size = baselines.pop(0)
            path.unlink(missing_ok=True)
            total -= size
        with self._lock:
            owners = {run_id: self._owners.get(run_id) for run_id, _ in runs}
        held = Counter(owners.values())  # each visitor's share, the run to keep included
        deletable: dict[str | None, deque[tuple[int, str, int]]] = {}  # owner -> (age rank, id, bytes), oldest first
        for rank, (run_id, size) in enumerate(runs):
            if run_id != keep:
                deletable.setdefault(owners[run_id], deque()).append((rank, run_id, size))
        removed, count = [], len(runs)
        while (count > max_runs or total > max_bytes) and deletable:
            # the largest share first; among equal shares the one whose oldest run is the oldest
            owner = min(deletable, key=lambda who: (-held[who], deletable[who][0][0]))
            _, run_id, size = deletable[owner].popleft()
            if not deletable[owner]:
                del deletable[owner]
            self.delete(run_id)
            removed.append(run_id)
            held[owner] -= 1
            count -= 1
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


def _read_owners(path: Path) -> dict[str, str]:
    """The recorded owners, {} if there are none or the file is unreadable (nobody's runs are then protected)."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {run_id: owner for run_id, owner in found.items() if isinstance(owner, str) and RUN_ID.match(run_id)}


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
