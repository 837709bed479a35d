"""``python -m ail_tui``: the same as the ``ail-tui`` command."""

from ail_tui.cli import run

run()
