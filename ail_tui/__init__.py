"""ail-tui: a terminal dashboard and Python runtime for AIL agent pipelines."""

__version__ = "0.1.0"
