"""Rendering: consoles, JSON, tables, and the one way errors are shown."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

# Piped or redirected output is read by scripts and people alike; wrapping it at 80 columns
# would split ids and secrets across lines.
_PIPED_WIDTH = 200


def make_console(*, stderr: bool = False) -> Console:
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=_PIPED_WIDTH)
    return console


def plain(value: object, empty: str = "—") -> Text:
    """A cell or line of data; never read as rich markup, so `[x]` in a name stays as it is."""
    if value is None or value == "":
        return Text(empty, style="dim")
    return Text(str(value))


def when(moment: datetime | None, empty: str = "never") -> Text:
    if moment is None:
        return Text(empty, style="dim")
    return Text(moment.isoformat(sep=" ", timespec="seconds"))


def counted(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def print_json(data: dict[str, Any]) -> None:
    """Exactly one JSON document on stdout, for scripts."""
    typer.echo(json.dumps(data, ensure_ascii=False))


def fail(err: Console, message: str) -> NoReturn:
    """Show `message` in red on stderr and exit with status 1."""
    err.print(Text(message, style="red"))
    raise typer.Exit(1)
