"""What the Streamlit pages share: the one lab of this server (kd.lab.service.Lab), the visitor, and notices.

The lab holds every rule (caps, ownership, rate limits, drawing checks) and caches its models;
this module only finds the lab for the current KD_* environment, tells who the visitor is, and
turns the lab's refusals into notices a page shows. Comparisons are cached with st.cache_data.
"""

from __future__ import annotations

import binascii
import logging
import os

import numpy as np
import streamlit as st
import torch

from kd import checkpoint
from kd.lab.catalog import ModelEntry
from kd.lab.service import Lab
from kd.lab.visitors import client_address, visitor_id

log = logging.getLogger(__name__)
XSRF_COOKIE = "_streamlit_xsrf"  # set by Streamlit for each browser, kept across reloads and tabs


@st.cache_resource(show_spinner=False)
def _lab(environment: tuple[tuple[str, str], ...]) -> Lab:
    lab = Lab.from_env(dict(environment))
    lab.warm_up()  # the first visit to any page should not wait for MNIST, the models or the first comparison
    return lab


def lab() -> Lab:
    """The lab of this server process, shared by every visitor (one per set of KD_* values: tests change them)."""
    return _lab(tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("KD_"))))


def browser_token(cookie: str | None) -> str | None:
    """The stable part of Streamlit's XSRF cookie: a token per browser, masked anew on every page load.

    The cookie reads "2|mask|masked token|time" (hex); the token is the masked bytes XOR the mask.
    """
    try:
        version, mask_hex, masked_hex, _ = (cookie or "").strip("\"'").split("|")
        mask, masked = binascii.a2b_hex(mask_hex), binascii.a2b_hex(masked_hex)
    except ValueError:
        return None
    if version != "2" or not mask or not masked:
        return None
    return bytes(byte ^ mask[i % len(mask)] for i, byte in enumerate(masked)).hex()


def visitor() -> str:
    """Who this browser is, for every cap and ownership check: the same across reloads and tabs (kd.lab.visitors)."""
    context = st.context
    peer = context.ip_address if isinstance(context.ip_address, str) else None  # AppTest has a mock there
    lines = context.headers.get_all("X-Forwarded-For")  # every line of it, joined before counting hops
    address = client_address(peer, lines, lab().limits.proxy_hops)
    session = st.session_state.setdefault("kd_session", os.urandom(16).hex())
    return visitor_id(address, browser_token(context.cookies.get(XSRF_COOKIE)), session)


PLOT_CONFIG = {"displayModeBar": False}  # Plotly's toolbar covers the legends, on a phone most of all


def plot(figure, key: str) -> None:
    """A Plotly figure on the page, without Plotly's toolbar."""
    st.plotly_chart(figure, key=key, config=PLOT_CONFIG)


def missing_notice() -> None:
    """A friendly note about any shipped checkpoint that is not there."""
    notice = lab().missing_notice()
    if notice is not None:
        st.info(notice)


def _loaded(choice: ModelEntry | None, loader):
    if choice is None:
        return None
    try:
        with st.spinner(f"Loading {choice.label}…"):
            return loader(choice)
    except (OSError, checkpoint.CheckpointError) as exc:
        st.warning(f"Could not load {choice.label}: {exc}")
        return None


def load_model(choice: ModelEntry | None) -> torch.nn.Module | None:
    """The model behind a choice, or None with a warning on the page if it cannot be loaded."""
    return _loaded(choice, lab().model)


def load_runtime(choice: ModelEntry | None) -> str | None:
    """Load what answers drawings for a choice (ONNX Runtime where faster) and name it; None with a warning."""
    return _loaded(choice, lab().runtime)


def digit_from_canvas(raw: bytes | None) -> np.ndarray | None:
    """The canvas's PNG as the 28x28 digit the models get; None if blank, or refused with a notice."""
    if raw is None:
        return None
    try:
        return lab().digit_from_bytes(raw)
    except ValueError as exc:
        log.warning("drawing refused: %s", exc)
        st.warning(f"This drawing cannot be used: {exc}. Clear the canvas and draw again.")
        return None


def disagreement_gallery(a: ModelEntry, b: ModelEntry, limit: int = 40) -> list[dict]:
    with st.spinner("Finding test digits where they disagree…"):
        return lab().disagreements(a, b, limit)
