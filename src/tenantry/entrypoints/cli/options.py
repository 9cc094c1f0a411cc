"""Options several commands share."""

from __future__ import annotations

from typing import Annotated

import typer

AccountOption = Annotated[str, typer.Option("--account", help="Account id.", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
RoleOption = Annotated[
    str | None,
    typer.Option(
        "--role",
        help="Key of the role it acts with (one of the account's roles, none above your own).",
        show_default=False,
    ),
]
