"""The Streamlit app's pages and state (the script: dashboard/app.py, served by dashboard/server.py)."""
