"""``python -m ail_tui``: the same as the ``ail-tui`` command."""

from ail_tui.cli import run

if __name__ == "__main__":
    run()
