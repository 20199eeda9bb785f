"""What the command modules share: the type of the subcommand registry and of a command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias

#: ``parser.add_subparsers()``; each area module's ``register`` adds its commands to it and
#: sets ``run`` (the command) and, for a command on a running system, ``operator=True``
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
#: a command: the parsed arguments in, the exit code out
Command: TypeAlias = Callable[[argparse.Namespace], int]
