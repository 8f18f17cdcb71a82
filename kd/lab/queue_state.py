"""What the server's one worker is doing, in counts: the Distill pages' line about others' runs and monitoring.

No visitor's data is in it: only whether a run trains, how many wait, and the latency board's state.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueState:
    training: str | None  # the id of the run training now, if any
    waiting: int  # runs queued behind it
    busy: bool  # a run or a sweep's cell trains: timings taken now are slower
    measuring: bool  # a latency measurement is queued or running
    measurements: int  # latency measurements this server has run

    def others_note(self, own_run: str | None) -> str | None:
        """The sentence a visitor sees when the worker trains someone else's run; None when it does not."""
        if self.training is None or self.training == own_run:
            return None
        return f"The server is training another run now; {self.waiting} more waiting."

    def counts(self) -> dict:
        """For monitoring (the Gradio app's server_status) and the abuse tests."""
        return {
            "latency_measurements": self.measurements,
            "measuring": self.measuring,
            "runs_waiting": self.waiting,
            "training": self.busy,
        }
