"""Reading the users CSV into members to add (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantry.domain.roles import RoleCatalogue
from tenantry.entrypoints.cli.user_csv import CsvProblem, Row, read_rows
from tenantry.services.catalogues import load_role_catalogue
from tenantry.services.members import NewMember
from tenantry.settings import Settings


@pytest.fixture(scope="module")
def roles() -> RoleCatalogue:
    return load_role_catalogue(Settings(database_url="sqlite://").role_catalogue)


def _read(tmp_path: Path, roles: RoleCatalogue, text: str, encoding: str = "utf-8") -> list[Row]:
    path = tmp_path / "users.csv"
    path.write_bytes(text.encode(encoding))
    return read_rows(path, roles)


def test_columns_aliases_and_lists(tmp_path: Path, roles: RoleCatalogue) -> None:
    rows = _read(
        tmp_path,
        roles,
        "Email, Name ,ROLE,department,App IDs,Media_Sources,geos,all_future_apps\r\n"
        " a@example.com ,Ann,Team_Manager,Sales,id1; id2 |id3,organic|,US;;de,FALSE\r\n",
    )
    [row] = rows
    assert row.line == 2
    assert row.problem is None
    assert row.member == NewMember(
        email="a@example.com",
        role_key="manage",
        username="Ann",
        department="Sales",
        app_ids=["id1", "id2", "id3"],
        all_future_apps=False,
        media_sources=["organic"],
        geos=["US", "de"],
    )


@pytest.mark.parametrize(
    ("app_ids", "expected"),
    [("", None), ("none", []), ("NONE", []), ("  ", None), ("one", ["one"])],
)
def test_app_ids_missing_means_all_and_none_means_no_app(
    tmp_path: Path, roles: RoleCatalogue, app_ids: str, expected: list[str] | None
) -> None:
    [row] = _read(tmp_path, roles, f"email,role,app_ids\nb@example.com,member,{app_ids}\n")
    assert row.member is not None
    assert row.member.app_ids == expected
    assert row.member.all_future_apps is None  # the service decides from app_ids


def test_role_keys_and_appsflyer_names(tmp_path: Path, roles: RoleCatalogue) -> None:
    rows = _read(
        tmp_path,
        roles,
        "email,role\na@x.io,contributor\nb@x.io,Admin\nc@x.io,custom_role\nd@x.io,\n",
    )
    assert [r.member.role_key for r in rows if r.member] == ["member", "admin", "custom_role", ""]


def test_missing_columns_and_blank_lines(tmp_path: Path, roles: RoleCatalogue) -> None:
    rows = _read(tmp_path, roles, "\ufeffemail\n\nc@example.com\n , \n")
    # The byte-order mark spreadsheets write is not part of the first column's name.
    [row] = rows
    assert row.line == 3
    assert row.member == NewMember(email="c@example.com", role_key="")


def test_short_rows_are_padded_and_long_rows_refused(tmp_path: Path, roles: RoleCatalogue) -> None:
    short, long = _read(tmp_path, roles, "email,role,geos\na@x.io\nb@x.io,member,US,extra\n")
    assert short.member == NewMember(email="a@x.io", role_key="")
    assert long.member is None
    assert long.problem == "The row has 4 cells; the header has 3."
    assert long.email == "b@x.io"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty; it needs a header row with an email column."),
        ("name,role\n", "The header has no email column; the first row must name the columns."),
        ("email,geo\n", "Unknown column(s) 'geo' in the header"),
        ("email,name,username\n", "Column(s) username appear more than once in the header."),
        ('email\n"a@x.io\n', "users.csv, line 2: malformed CSV"),
    ],
)
def test_unusable_files(tmp_path: Path, roles: RoleCatalogue, text: str, message: str) -> None:
    with pytest.raises(CsvProblem) as raised:
        _read(tmp_path, roles, text)
    assert str(raised.value).startswith(message)


def test_a_file_that_is_not_utf8(tmp_path: Path, roles: RoleCatalogue) -> None:
    with pytest.raises(CsvProblem, match="not UTF-8 text"):
        _read(tmp_path, roles, "email\nzoë@example.com\n", encoding="utf-16")
