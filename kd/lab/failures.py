"""What a visitor is told when a run fails: what failed, in words, with no server path and no raw exception.

The exception itself (its text may hold a path, a library's internals) goes to the server's log with its
traceback; the visitor sees only the kind of failure and what they can do about it.
"""

from __future__ import annotations

from kd.checkpoint import CheckpointError

# (exception type, what failed), the first that matches wins: CheckpointError before the OSError it is not
FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (CheckpointError, "a checkpoint the run needs could not be read on this server"),
    (MemoryError, "the server ran out of memory while the run trained"),
    (OSError, "the server could not read or write the run's files"),
    (ValueError, "the run's settings could not be used on this server"),
)
UNEXPECTED = "something went wrong on the server while the run trained"


def failure_in_words(error: BaseException) -> str:
    """What failed, for the visitor: one of FAILURES, else UNEXPECTED."""
    return next((words for kind, words in FAILURES if isinstance(error, kind)), UNEXPECTED)
