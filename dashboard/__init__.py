"""KD Lab's Streamlit dashboard: `streamlit run dashboard/server.py`."""
