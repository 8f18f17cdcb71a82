"""KD Lab dashboard: the script each visit runs, served by dashboard/server.py (`make run`).

One page per file under dashboard/streamlit_ui/pages/, wired together with st.navigation.
"""

import sys
from pathlib import Path

# `streamlit run` puts dashboard/ on sys.path, not the repository root that holds `kd`.
if (repository := str(Path(__file__).resolve().parent.parent)) not in sys.path:
    sys.path.insert(0, repository)  # only for this import path: kd.paths.ROOT is the repository for everything else

import streamlit as st  # noqa: E402

from dashboard.streamlit_ui.notices import guarded  # noqa: E402

st.set_page_config(page_title="KD Lab", layout="wide")  # no page_icon: a Material favicon comes from a font CDN
# Emoji icons: the browser draws them with its own fonts (Material icons would make it fetch a font from a CDN).

PAGES = [
    st.Page("streamlit_ui/pages/overview.py", title="Overview", icon="🏠", default=True),
    st.Page("streamlit_ui/pages/draw.py", title="Draw", icon="✏️"),
    st.Page("streamlit_ui/pages/distill.py", title="Distill", icon="🧪"),
    st.Page("streamlit_ui/pages/compare.py", title="Compare runs", icon="📈"),
    st.Page("streamlit_ui/pages/metrics.py", title="Metrics", icon="📊"),
    st.Page("streamlit_ui/pages/latency.py", title="Latency", icon="⏱️"),
    st.Page("streamlit_ui/pages/sweeps.py", title="Sweeps", icon="🔢"),
]

guarded(st.navigation(PAGES).run)()  # a failing page shows a notice, never a traceback
