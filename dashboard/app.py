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

PAGES = [
    st.Page("streamlit_ui/pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("streamlit_ui/pages/draw.py", title="Draw", icon=":material/draw:"),
    st.Page("streamlit_ui/pages/distill.py", title="Distill", icon=":material/science:"),
    st.Page("streamlit_ui/pages/compare.py", title="Compare runs", icon=":material/stacked_line_chart:"),
    st.Page("streamlit_ui/pages/metrics.py", title="Metrics", icon=":material/analytics:"),
    st.Page("streamlit_ui/pages/latency.py", title="Latency", icon=":material/speed:"),
    st.Page("streamlit_ui/pages/sweeps.py", title="Sweeps", icon=":material/grid_on:"),
]

guarded(st.navigation(PAGES).run)()  # a failing page shows a notice, never a traceback
