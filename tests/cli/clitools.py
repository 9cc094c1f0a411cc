"""Running the CLI in-process on a test's database, and reading what it prints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner, Result

from tenantry.app import Composition
from tenantry.entrypoints.cli.main import build_cli
from tenantry.services.passwords import Argon2Hasher
from tenantry.settings import Settings

# Rich reads these; unset, the output is what a pipe gets: no colours, no progress bar.
_PLAIN_OUTPUT = {"COLUMNS": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": "1"}


def fast_composition(settings: Settings) -> Composition:
    """The real composition, with Argon2 at test cost (as the `composition` fixture does)."""
    built = Composition(settings)
    built.context.passwords = Argon2Hasher(time_cost=1, memory_cost=1024)
    return built


@dataclass
class Cli:
    """`tenantry --database-url <the test's database> ...`, in-process."""

    database_url: str

    def __call__(self, *args: str) -> Result:
        runner = CliRunner(env=_PLAIN_OUTPUT)
        # Exceptions are not caught: anything but a clean exit fails the test with its traceback.
        result = runner.invoke(
            build_cli(fast_composition),
            ["--database-url", self.database_url, *args],
            catch_exceptions=False,
        )
        assert "Traceback" not in result.output
        return result

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str) -> Any:
        """Run with --json; the whole of stdout must be one JSON document."""
        return json.loads(self.ok(*args, "--json").stdout)


def table_rows(output: str) -> list[list[str]]:
    """The body rows of the rich tables in `output`, as lists of stripped cells."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]
