"""Options several commands share."""

from __future__ import annotations

from typing import Annotated

import typer

AccountOption = Annotated[str, typer.Option("--account", help="Account id.", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
