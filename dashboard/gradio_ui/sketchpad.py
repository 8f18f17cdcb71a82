"""A gr.Sketchpad whose server-side store of uploaded drawings is bounded, whatever a client sends.

Gradio's image editor uploads each state of the drawing (background, layers, composite) to its
component server function `accept_blobs`, which keeps them in memory under a client-chosen id
until an event reads them. Upstream, that store is an unbounded dict, a layer index extends a
list to any length (a 400-byte request naming layer 5*10^7 costs hundreds of MB), and ids that
no event ever reads are kept forever. Here a blob is refused over a small size, only the one
drawing layer of a `layers=False` pad is accepted, and at most `MAX_PENDING` ids are kept (the
oldest dropped), so the store never holds more than MAX_PENDING x 3 x MAX_BLOB_BYTES.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import gradio as gr
from fastapi import HTTPException
from gradio.components.base import server
from gradio.components.image_editor import AcceptBlobs, EditorDataBlobs
from PIL import Image

MAX_BLOB_BYTES = 1_000_000  # a 280x280 drawing is a few KB as PNG; an incompressible one about 320 KB
MAX_PENDING = 32  # drawings uploaded and not yet read by an event; each is read within moments
MAX_ID_LENGTH = 64  # the editor's ids are about 11 characters
KINDS = ("background", "layer", "composite")


class BoundedSketchpad(gr.Sketchpad):
    """gr.Sketchpad (one drawing layer) with a bounded `accept_blobs`; the page shows the stock image editor."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.blob_storage: OrderedDict[str, EditorDataBlobs] = OrderedDict()  # oldest first
        self._blobs_lock = threading.Lock()  # accept_blobs and preprocess run on different threads

    # Gradio builds a component's page config from its class's __init__ signature and names the
    # frontend component after it: both are the stock editor's (a Sketchpad is an ImageEditor preset).
    def get_config(self, cls: type | None = None) -> dict[str, Any]:
        return super().get_config(cls or gr.Sketchpad)

    def get_block_name(self) -> str:
        return "imageeditor"

    def get_block_class(self) -> str:
        return "imageeditor"

    @server
    def accept_blobs(self, data: AcceptBlobs) -> None:
        """Keep one uploaded image of a drawing until the event that reads it; HTTP 400/413 for anything else."""
        fields, files = data.data, data.files
        kind, blob_id, index = fields.get("type"), fields.get("id"), fields.get("index")
        if kind not in KINDS or not isinstance(blob_id, str) or not 0 < len(blob_id) <= MAX_ID_LENGTH:
            raise HTTPException(400, "not a drawing upload")
        if kind == "layer" and index not in ("0", 0):
            raise HTTPException(400, "this sketchpad has one drawing layer")  # layers=False: index 0 only
        if len(files) != 1 or not isinstance(files[0][1], bytes):
            raise HTTPException(400, "send one image per upload")
        blob = files[0][1]
        if len(blob) > MAX_BLOB_BYTES:
            raise HTTPException(413, f"a drawing upload may be at most {MAX_BLOB_BYTES:,} bytes")
        with self._blobs_lock:
            current = self.blob_storage.pop(blob_id, None) or EditorDataBlobs(
                background=None, layers=[], composite=None
            )
            if kind == "layer":
                current.layers = [blob]
            else:
                setattr(current, kind, blob)
            self.blob_storage[blob_id] = current  # (re)inserted last: the dict's order is the age
            while len(self.blob_storage) > MAX_PENDING:
                self.blob_storage.popitem(last=False)

    def preprocess(self, payload: Any) -> Any:
        """The drawing as upstream decodes it; gr.Error, not a logged traceback, for one that cannot be decoded.

        The process-wide pixel limit (kd.lab.drawing) makes PIL refuse a forged drawing at open.
        """
        try:
            # upstream reads, then pops, the blobs of the payload's id: under the lock, no eviction comes between
            with self._blobs_lock:
                return super().preprocess(payload)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise gr.Error(f"This drawing cannot be read: {exc}", print_exception=False) from None
