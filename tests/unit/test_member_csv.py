"""The one CSV reader of members to add, as the console and the CLI both read it."""

from __future__ import annotations

import pytest

from tenantry.domain.roles import RoleCatalogue
from tenantry.entrypoints.member_csv import (
    NO_HEADER,
    NO_USERS,
    CsvProblem,
    CsvUnreadable,
    read_members,
)
from tenantry.services.catalogues import load_role_catalogue
from tenantry.services.membership_commands import NewMember
from tenantry.settings import Settings


@pytest.fixture(scope="module")
def roles() -> RoleCatalogue:
    return load_role_catalogue(Settings(database_url="sqlite://").role_catalogue)


def test_the_consoles_and_the_clis_columns_read_alike(roles: RoleCatalogue) -> None:
    console = (
        "email,role,username,department,app_ids,media_sources,geos\n"
        "dana@example.com,team_manager,Dana Levi,Growth,com.example.app;id1,,US;GB\n"
    )
    cli = (
        "Email,Name,Role,Department,App IDs,Media_Sources,Geos,all_future_apps\n"
        "dana@example.com,Dana Levi,team_manager,Growth,com.example.app|id1,,US|GB,\n"
    )
    expected = NewMember(
        email="dana@example.com",
        role_key="manage",
        username="Dana Levi",
        department="Growth",
        app_ids=["com.example.app", "id1"],
        geos=["US", "GB"],
    )
    for text in (console, cli):
        [row] = read_members(text, roles)
        assert (row.line, row.member, row.problem) == (2, expected, None)


def test_a_first_line_of_data_is_no_header(roles: RoleCatalogue) -> None:
    with pytest.raises(CsvProblem) as raised:
        read_members("a@example.com,view\nb@example.com,view\n", roles)
    assert str(raised.value) == NO_HEADER


def test_a_header_alone_has_no_users(roles: RoleCatalogue) -> None:
    with pytest.raises(CsvProblem) as raised:
        read_members("\n email , role \n\n", roles)
    assert str(raised.value) == NO_USERS


def test_unreadable_csv_says_where(roles: RoleCatalogue) -> None:
    with pytest.raises(CsvUnreadable) as raised:
        read_members('email,role\nfirst@example.com,view\n"open quote', roles)
    assert raised.value.line == 3
    assert str(raised.value) == "The CSV could not be read at line 3: unexpected end of data."


def test_rows_that_cannot_be_read_say_why(roles: RoleCatalogue) -> None:
    rows = read_members(
        "email,role,all_future_apps\n"
        "long@example.com,view,true,extra\n"
        "flag@example.com,view,perhaps\n"
        "none@example.com,view,\n",
        roles,
    )
    assert [(r.email, r.problem) for r in rows[:2]] == [
        ("long@example.com", "The row has 4 cells; the header has 3."),
        ("flag@example.com", "all_future_apps must be true or false."),
    ]
    assert rows[2].member == NewMember(email="none@example.com", role_key="view")
