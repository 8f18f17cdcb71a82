"""The Gradio app's doors, guarded before Gradio reads a request: events that skip its queue, and uploads.

An ASGI middleware (`launch(app_kwargs={"middleware": [...]})`) asks the lab (kd.lab.service.Lab)
before the request reaches Gradio: an event sent outside the queue (`/gradio_api/run/...`:
comparisons, the board, the run poll, the server's status) passes its gate (kd.lab.gate: a
bound on how many at once, a rate per address), and an upload (`/gradio_api/upload`) its budget
of bytes per window (kd.lab.uploads), from the length it declares. A refusal is answered with a
sentence before any body is read, after SLOW_DOWN seconds of an idle wait: a client looping on
its refusals then sends one per thread every SLOW_DOWN seconds, not hundreds (answered at once,
200 threads of one client drew 39,000 refusals in 30 s, and the event loop that answers /predict
spent its time writing them: the honest p95 was 2.9 s; with the wait, 0.4 s).
"""

from __future__ import annotations

import asyncio
import json

from dashboard.gradio_ui.state import lab
from kd.lab.visitors import address_visitor, client_address

EVENT_ROUTES = ("/gradio_api/run/", "/gradio_api/api/")  # Gradio's routes for events sent outside its queue
UPLOAD_ROUTE = "/gradio_api/upload"
SLOW_DOWN = 2.0  # seconds a refused event waits for its answer: a sleeping coroutine, no CPU


class Doors:
    """ASGI middleware: the lab's event gate and upload budget, in front of the Gradio app."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if any(route in path for route in EVENT_ROUTES):
            refused = lab().events.enter(visitor(scope))
            if refused is not None:
                await asyncio.sleep(SLOW_DOWN)  # the refused event was never going to answer sooner
                await answer(send, 429, refused)
                return
            try:
                await self.app(scope, receive, send)
            finally:
                lab().events.leave()
            return
        if path.rstrip("/").endswith(UPLOAD_ROUTE):
            length = header(scope, b"content-length")
            if length is None or not length.isdigit():
                await answer(send, 411, "An upload must state its length (Content-Length).")
                return
            refused = lab().uploads.spend(visitor(scope), int(length))
            if refused is not None:
                await answer(send, 413, refused)
                return
        await self.app(scope, receive, send)


def header(scope, name: bytes) -> str | None:
    """The first value of a request header, or None."""
    return next((value.decode("latin-1") for key, value in scope["headers"] if key == name), None)


def visitor(scope) -> str | None:
    """Who sent the request, by address (every X-Forwarded-For line, behind KD_PROXY_HOPS); None on a local server."""
    peer = (scope.get("client") or (None,))[0]
    lines = [value.decode("latin-1") for key, value in scope["headers"] if key == b"x-forwarded-for"]
    return address_visitor(client_address(peer, lines, lab().limits.proxy_hops))


async def answer(send, status: int, sentence: str) -> None:
    """A refusal in words, as JSON ({"error": ...}) that Gradio's page and client show."""
    body = json.dumps({"error": sentence}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
