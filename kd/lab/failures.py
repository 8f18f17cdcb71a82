"""What a visitor is told when a run fails: what failed, in words, with no server path and no raw exception.

The exception itself (its text may hold a path, a library's internals) goes to the server's log with its
traceback; the visitor sees only the kind of failure and what they can do about it.
"""

from __future__ import annotations

from kd.checkpoint import CheckpointError
from kd.data import DataError

# A run that found no MNIST: the server cannot train at all, which is not the run's failure (kd.lab.service says so)
NO_DATA = (
    "MNIST is not available on this server, so nothing can be trained here; the shipped models still read drawings"
)
# (exception type, what failed), the first that matches wins: CheckpointError before the OSError it is not
FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (CheckpointError, "a checkpoint the run needs could not be read on this server"),
    (MemoryError, "the server ran out of memory while the run trained"),
    (OSError, "the server could not read or write the run's files"),
    (ValueError, "the run's settings could not be used on this server"),
)
UNEXPECTED = "something went wrong on the server while the run trained"


def failure_in_words(error: BaseException) -> str:
    """What failed, for the visitor: NO_DATA, one of FAILURES, else UNEXPECTED."""
    if isinstance(error, DataError):
        return NO_DATA
    return next((words for kind, words in FAILURES if isinstance(error, kind)), UNEXPECTED)
