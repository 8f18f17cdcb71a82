"""Failures as notices: a visitor reads what went wrong in words, the server's log gets the traceback.

`client.showErrorDetails = "none"` (.streamlit/config.toml) already hides tracebacks and server
paths; this turns the bare "an error occurred" that would remain into a notice that says what to do.
Streamlit's own control flow (st.rerun, st.stop, st.switch_page) raises BaseException, not
Exception, so it passes through untouched.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

log = logging.getLogger("kd.dashboard")
T = TypeVar("T")


def guarded(block: Callable[..., T]) -> Callable[..., T | None]:
    """Run a page (or a fragment); an unexpected error becomes a friendly notice and a logged traceback."""

    @functools.wraps(block)
    def run(*args, **kwargs) -> T | None:
        try:
            return block(*args, **kwargs)
        except Exception:
            log.exception("a dashboard page failed")
            st.error(
                "Something went wrong here. The details are in the server's log for whoever runs it; "
                "try again, or try other settings."
            )
            return None

    return run
