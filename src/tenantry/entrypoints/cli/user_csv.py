"""Reading a users CSV file for `tenantry users import`, with the reader every face shares
(`entrypoints.member_csv`, whose docstring lists the columns): one member to add per row, or
why the row can't be one."""

from __future__ import annotations

from pathlib import Path

from tenantry.domain.roles import RoleCatalogue
from tenantry.entrypoints.member_csv import CsvProblem as CsvProblem
from tenantry.entrypoints.member_csv import CsvUnreadable, read_members
from tenantry.entrypoints.member_csv import Row as Row


def read_rows(path: Path, roles: RoleCatalogue) -> list[Row]:
    """Every data row of the file; raises CsvProblem when the file itself is unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets often write a BOM
    except UnicodeDecodeError:
        raise CsvProblem(f"{path.name} is not UTF-8 text.") from None
    except OSError as error:
        raise CsvProblem(f"Can't read {path.name}: {error.strerror}.") from None
    try:
        return read_members(text, roles)
    except CsvUnreadable as error:
        raise CsvProblem(
            f"{path.name}, line {error.line}: malformed CSV ({error.detail})."
        ) from None
