"""The ``veegan`` console script: :func:`veegan.cli.main`, with a Ctrl-C that arrives while the
command line is still importing its libraries (torch takes seconds) ending in one line, as a
Ctrl-C during a command does, and never in a traceback."""
from __future__ import annotations

import sys

INTERRUPTED_WHILE_STARTING = "veegan: interrupted while starting; nothing was run"


def main() -> int:
    """Import the command line and run it on ``sys.argv``; exit status 130 on an early Ctrl-C."""
    try:
        from .cli import main as run_command_line
    except KeyboardInterrupt:
        print(INTERRUPTED_WHILE_STARTING, file=sys.stderr)
        return 130
    return run_command_line()
