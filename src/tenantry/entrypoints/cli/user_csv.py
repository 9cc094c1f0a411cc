"""Reading a users CSV: one member to add per row, or why the row can't be one.

Columns (header names are case-insensitive): email (required), username or name, role (a role
key or an AppsFlyer role name such as team_manager), department, app_ids, media_sources, geos
(lists separated by `;` or `|`), all_future_apps (true/false). An empty or missing app_ids means
all apps, and `none` no app; empty or missing media_sources and geos mean all.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from tenantry.domain.roles import RoleCatalogue
from tenantry.services.members import NewMember

COLUMNS = (
    "email",
    "username",
    "role",
    "department",
    "app_ids",
    "media_sources",
    "geos",
    "all_future_apps",
)
_ALIASES = {"name": "username"}
_SEPARATORS = re.compile(r"[;|]")
NO_APPS = "none"
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class CsvProblem(Exception):
    """The file as a whole can't be read as a users CSV; nothing should be imported."""


@dataclass(slots=True, frozen=True)
class Row:
    line: int
    """Line of the file where the row ends (its only line, unless a quoted cell spans lines)."""
    email: str
    member: NewMember | None
    problem: str | None = None
    """Why the row can't be sent at all (set when `member` is None)."""


def read_rows(path: Path, roles: RoleCatalogue) -> list[Row]:
    """Every data row of the file; raises CsvProblem when the file itself is unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets often write a BOM
    except UnicodeDecodeError:
        raise CsvProblem(f"{path.name} is not UTF-8 text.") from None
    except OSError as error:
        raise CsvProblem(f"Can't read {path.name}: {error.strerror}.") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = _header(next(reader, None))
        rows = []
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append(_row(reader.line_num, header, cells, roles))
    except csv.Error as error:
        raise CsvProblem(f"{path.name}, line {reader.line_num}: malformed CSV ({error}).") from None
    return rows


def _header(cells: list[str] | None) -> list[str]:
    if cells is None:
        raise CsvProblem("The file is empty; it needs a header row with an email column.")
    names = [_ALIASES.get(key, key) for key in (c.strip().lower().replace(" ", "_") for c in cells)]
    unknown = [cell for cell, name in zip(cells, names, strict=True) if name not in COLUMNS]
    if unknown:
        raise CsvProblem(
            f"Unknown column(s) {', '.join(map(repr, unknown))} in the header; the columns are "
            f"{', '.join(COLUMNS)} (name for username)."
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CsvProblem(f"Column(s) {', '.join(repeated)} appear more than once in the header.")
    if "email" not in names:
        raise CsvProblem("The header has no email column; the first row must name the columns.")
    return names


def _row(line: int, header: list[str], cells: list[str], roles: RoleCatalogue) -> Row:
    values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
    email = values.get("email", "")
    if len(cells) > len(header):
        return Row(
            line, email, None, f"The row has {len(cells)} cells; the header has {len(header)}."
        )
    future = values.get("all_future_apps", "").lower()
    if future and future not in _TRUE | _FALSE:
        return Row(line, email, None, "all_future_apps must be true or false.")
    role = values.get("role", "")
    member = NewMember(
        email=email,
        role_key=(roles.key_for("appsflyer", role) or role.lower()) if role else "",
        username=values.get("username") or None,
        department=values.get("department") or None,
        app_ids=_apps(values.get("app_ids", "")),
        all_future_apps=(future in _TRUE) if future else None,
        media_sources=_items(values.get("media_sources", "")) or None,
        geos=_items(values.get("geos", "")) or None,
    )
    return Row(line, email, member)


def _items(cell: str) -> list[str]:
    return [item.strip() for item in _SEPARATORS.split(cell) if item.strip()]


def _apps(cell: str) -> list[str] | None:
    if cell.lower() == NO_APPS:
        return []
    return _items(cell) or None
