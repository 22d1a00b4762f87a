"""Notebooks: reading both formats, and running them in a real Jupyter kernel."""
