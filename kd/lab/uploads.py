"""A budget of upload bytes per window, per visitor and in total: what one client can make the server keep.

A front end keeps uploaded files for a while (the Gradio app deletes them after half an hour,
checking every ten minutes, so a file lives up to WINDOW_SECONDS); a size limit per file alone
let one client upload 100 files of 4.9 MB in 5 s. Bytes are counted when an upload is accepted,
from its declared length, and forgotten when the window has passed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 2400  # the longest an uploaded file is kept: 30 minutes, plus up to 10 until the next clean-up
MIN_CHARGE = 1024  # bytes an upload counts for at least: the record of a window holds at most total / 1 KB uploads


class UploadBudget:
    """At most `per_visitor` bytes from one visitor and `total` bytes from everyone per window."""

    def __init__(
        self,
        per_visitor: int,
        total: int,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.per_visitor, self.total, self.window = per_visitor, total, window_seconds
        self._clock = clock
        self._spent: deque[tuple[float, str | None, int]] = deque()  # (when, visitor, bytes), oldest first
        self._total = 0
        self._by_visitor: dict[str | None, int] = {}
        self._lock = threading.Lock()

    def spend(self, visitor: str | None, size: int) -> str | None:
        """None if `size` more bytes may be uploaded now (and they are counted), else why not, in words.

        `visitor` None: only the total applies (a local server, where every visitor has the same address).
        """
        size = max(size, MIN_CHARGE)
        minutes = f"{self.window / 60:.0f} minutes"
        with self._lock:
            self._forget(self._clock())
            if self._total + size > self.total:
                return f"This server takes at most {self.total / 1e6:.0f} MB of uploads per {minutes}; try later."
            mine = self._by_visitor.get(visitor, 0) if visitor is not None else 0
            if visitor is not None and mine + size > self.per_visitor:
                return f"Uploads from one address are limited to {self.per_visitor / 1e6:.0f} MB per {minutes}."
            self._spent.append((self._clock(), visitor, size))
            self._total += size
            self._by_visitor[visitor] = self._by_visitor.get(visitor, 0) + size
        return None

    def _forget(self, now: float) -> None:
        """Under the lock: drop what was spent a window ago."""
        while self._spent and now - self._spent[0][0] >= self.window:
            _, visitor, size = self._spent.popleft()
            self._total -= size
            left = self._by_visitor.pop(visitor) - size
            if left > 0:
                self._by_visitor[visitor] = left
