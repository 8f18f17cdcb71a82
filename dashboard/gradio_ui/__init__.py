"""The Gradio app's tabs and state (entry point: dashboard/gradio_app.py)."""
