"""A gate for cheap events that skip a front end's queue: a bound on how many run at once, and a rate per visitor.

Gradio's queue gives predictions their own room, but events sent outside it (`queue=False`:
comparisons, the board, the run poll) each run at once on the server's shared thread pool, and
one client sending them from 200 threads took the honest /predict from 0.3 s to 19 s. The gate
refuses at once, never waits: at most `concurrency` such events are handled at a time for the
whole server, and a visitor (an address that tells visitors apart) may send `per_second` of
them on average, in bursts of BURST_SECONDS' worth. A refused event costs a few microseconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

BURST_SECONDS = 4.0  # a page load fires several events at once: a visitor may save up this many seconds' worth
KEEP_VISITORS = 10_000  # visitors whose rate is remembered; the least recently seen are forgotten first
BUSY = "The server is busy answering other requests; try again in a moment."
TOO_FAST = "Too many requests from your address; slow down and try again in a few seconds."


class EventGate:
    """At most `concurrency` events at once, server-wide; `per_second` per visitor (a token bucket)."""

    def __init__(self, concurrency: int, per_second: float, clock: Callable[[], float] = time.monotonic):
        self._slots = threading.BoundedSemaphore(concurrency)
        self.per_second, self._clock = per_second, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # visitor -> (tokens, when)
        self._lock = threading.Lock()

    def enter(self, visitor: str | None) -> str | None:
        """None if the event may run now (then call `leave` when it is done), else why not, in words.

        `visitor` None: no rate (a local server, where every visitor has the same address); the bound still holds.
        """
        if visitor is not None and not self._take(visitor):
            return TOO_FAST
        if not self._slots.acquire(blocking=False):
            return BUSY
        return None

    def leave(self) -> None:
        self._slots.release()

    def _take(self, visitor: str) -> bool:
        burst = self.per_second * BURST_SECONDS
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.pop(visitor, (burst, now))
            tokens = min(burst, tokens + (now - then) * self.per_second)
            allowed = tokens >= 1
            self._buckets[visitor] = (tokens - allowed, now)  # re-inserted last: the dict's order is the age
            while len(self._buckets) > KEEP_VISITORS:
                self._buckets.popitem(last=False)
        return allowed
