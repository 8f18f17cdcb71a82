"""The Streamlit app's pages and state (entry point: dashboard/app.py)."""
