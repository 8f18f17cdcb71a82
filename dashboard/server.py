"""The Streamlit lab as served: `streamlit run dashboard/server.py` (or `make run`).

dashboard/app.py is the script each visit runs; this module wraps it in Streamlit's ASGI app (st.App), whose
start-up hook builds and warms the lab before the server answers anyone: the libraries the pages draw with, MNIST,
the shipped models and the first comparisons (kd.lab.service.Lab.warm_up), so that no visitor, the first one
included, waits for them. `streamlit run dashboard/app.py` still works; there the first visitor does the waiting.
"""

import asyncio
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

# `streamlit run` puts dashboard/ on sys.path, not the repository root that holds `kd`.
if (repository := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, repository)  # only for this import path: kd.paths.ROOT is the repository for everything else

import streamlit as st  # noqa: E402
import uvicorn.config  # noqa: E402
from streamlit.logger import get_logger  # noqa: E402


def without_proxy_headers(app, trusted_hosts):
    """What uvicorn wraps the app in instead of its ProxyHeadersMiddleware: nothing, so the peer stays the peer.

    Only the lab reads X-Forwarded-For, behind KD_PROXY_HOPS trusted proxies (kd.lab.visitors). `streamlit run`
    made uvicorn's config (and read FORWARDED_ALLOW_IPS, "127.0.0.1,::1" by default) before it imports this
    module, but wraps the app after: anyone reaching the server through a local tunnel could forge their address.
    """
    return app


uvicorn.config.ProxyHeadersMiddleware = without_proxy_headers

log = get_logger(__name__)
WARM_UP_SECONDS = 120  # serve anyway after this long: a slow disk should delay visitors, not lock them out


@asynccontextmanager
async def warm_lab(_app):
    """Start-up: the lab every page's `lab()` returns (st.cache_resource), warmed before the first visitor."""
    started = time.monotonic()
    import streamlit_drawable_canvas  # noqa: F401  the Draw page's canvas

    from dashboard import charts, tables  # noqa: F401  Plotly and pandas, which most pages draw with
    from dashboard.streamlit_ui import state

    lab = state.lab()
    ready = await asyncio.to_thread(lab.warmed.wait, WARM_UP_SECONDS)
    log.info("KD Lab %s in %.1f s", "warmed up" if ready else "still warming up, serving", time.monotonic() - started)
    yield


app = st.App(Path(__file__).with_name("app.py"), lifespan=warm_lab)
