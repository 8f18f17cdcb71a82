"""What the Gradio app shares between visitors: one kd.lab.service.Lab per server process, and who is asking.

The Lab holds every rule of a public server (caps, owners, the latency board, drawing limits);
the tabs only translate widgets into its calls. A visitor is known per request from what Gradio
hands the handler (kd.lab.visitors): behind the Space's proxy its address, else the page's session.
"""

from __future__ import annotations

import functools

import gradio as gr

from kd.lab.catalog import ModelEntry
from kd.lab.service import Lab
from kd.lab.visitors import client_address, visitor_id


@functools.cache
def lab() -> Lab:
    """This server's lab, built from KD_* variables on first use (tests clear the cache to point it elsewhere)."""
    return Lab.from_env()


def visitor(request: gr.Request) -> str:
    """The opaque id of whoever sent this request, for run ownership and the per-visitor caps."""
    client = getattr(request, "client", None)
    headers = getattr(request, "headers", None) or {}
    # every X-Forwarded-For line (Starlette's headers list them all; a plain dict, as tests send, holds one)
    lines = headers.getlist("x-forwarded-for") if hasattr(headers, "getlist") else headers.get("x-forwarded-for")
    address = client_address(getattr(client, "host", None), lines, lab().limits.proxy_hops)
    return visitor_id(address, None, request.session_hash or "")


def choices(teacher: bool = True) -> list[tuple[str, str]]:
    """(label, key) pairs for a gr.Dropdown: visitors see labels, and only keys come back."""
    return [(entry.label, entry.key) for entry in lab().models(teacher)]


def entries(keys: list[str] | str | None) -> list[ModelEntry]:
    """The models some keys name, unknown keys (whatever a client sent) left out."""
    keys = [keys] if isinstance(keys, str) else keys or []
    found = (lab().entry(key) for key in keys if isinstance(key, str))
    return [entry for entry in found if entry is not None]


def missing_notice() -> str:
    """A friendly line about shipped checkpoints that are not there, or "" when all are."""
    return lab().missing_notice() or ""
