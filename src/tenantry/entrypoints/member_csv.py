"""Members to add, read from a CSV: one reader for every face that takes one (the console's
bulk add, `tenantry users import`), so a file means the same wherever it is sent. It belongs
to no face, and each face words the problems it reports as it does.

The first line names the columns, in any order and any case (spaces for underscores); `email`
is required:

- `email`, `role` (a role key, or a role's AppsFlyer name such as `team_manager`),
  `username` (or `name`), `department`;
- `app_ids`, `media_sources`, `geos`: lists, their values separated by `;` or `|`. An empty
  cell means all of them (for apps, the future ones too); `none` in `app_ids` means no app;
- `all_future_apps`: true or false (yes/no, 1/0); empty: true exactly when `app_ids` is empty.

Blank lines are skipped. A row with more cells than the header has, or an `all_future_apps`
that is neither true nor false, can't be read (`Row.problem`); everything else about a row is
the membership changes service's to judge.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from tenantry.domain.roles import RoleCatalogue
from tenantry.services.membership_commands import NewMember

COLUMNS = (
    "email",
    "role",
    "username",
    "department",
    "app_ids",
    "media_sources",
    "geos",
    "all_future_apps",
)
ALIASES = {"name": "username"}
ROLE_NAMES = "appsflyer"  # the role catalogue's names a cell may use besides the keys
NO_APPS = "none"
_SEPARATORS = re.compile(r"[;|]")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})

EMPTY = "The file is empty; it needs a header row with an email column."
NO_HEADER = "The first line must name the columns, email at least: " + ", ".join(COLUMNS) + "."
NO_EMAIL = "The header has no email column; the first row must name the columns."
NO_USERS = "The CSV has no users after its first line."
BAD_FLAG = "all_future_apps must be true or false."


class CsvProblem(Exception):
    """The CSV as a whole can't be read as members to add; nothing should be added."""


class CsvUnreadable(CsvProblem):
    """Not CSV at all from `line` on (an open quote, for one); each face says where."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(f"The CSV could not be read at line {line}: {detail}.")
        self.line = line
        self.detail = detail


@dataclass(slots=True, frozen=True)
class Row:
    line: int
    """Line of the text where the row ends (its only line, unless a quoted cell spans lines)."""
    email: str
    member: NewMember | None
    problem: str | None = None
    """Why the row can't be read (set when `member` is None)."""


def read_members(text: str, roles: RoleCatalogue) -> list[Row]:
    """Every row after the header, in order; raises CsvProblem when the text is unusable."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    header: list[str] | None = None
    rows: list[Row] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _header(cells)
            else:
                rows.append(_row(reader.line_num, header, cells, roles))
    except csv.Error as error:
        raise CsvUnreadable(reader.line_num, str(error)) from None
    if header is None:
        raise CsvProblem(EMPTY)
    if not rows:
        raise CsvProblem(NO_USERS)
    return rows


def _header(cells: list[str]) -> list[str]:
    names = [c.strip().lower().replace(" ", "_") for c in cells]
    names = [ALIASES.get(name, name) for name in names]
    unknown = [cell for cell, name in zip(cells, names, strict=True) if name not in COLUMNS]
    if unknown and "email" not in names:
        raise CsvProblem(NO_HEADER)  # most likely a first row of data, and no header at all
    if unknown:
        raise CsvProblem(
            f"Unknown column(s) {', '.join(map(repr, unknown))} in the header; the columns are "
            f"{', '.join(COLUMNS)} (name for username)."
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CsvProblem(f"Column(s) {', '.join(repeated)} appear more than once in the header.")
    if "email" not in names:
        raise CsvProblem(NO_EMAIL)
    return names


def _row(line: int, header: list[str], cells: list[str], roles: RoleCatalogue) -> Row:
    values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
    email = values.get("email", "")
    if len(cells) > len(header):
        problem = f"The row has {len(cells)} cells; the header has {len(header)}."
        return Row(line, email, None, problem)
    future = values.get("all_future_apps", "").lower()
    if future and future not in _TRUE | _FALSE:
        return Row(line, email, None, BAD_FLAG)
    role = values.get("role", "")
    member = NewMember(
        email=email,
        role_key=(roles.key_for(ROLE_NAMES, role) or role.lower()) if role else "",
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
