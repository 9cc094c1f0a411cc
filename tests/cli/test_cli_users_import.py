"""`tenantry users import`: each row on its own, a report of the refused ones."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tenantry.domain.errors import MESSAGES, ErrorCode
from tenantry.domain.memberships import MembershipStatus
from tenantry.services import accounts, invitations, members
from tenantry.services.context import ServiceContext
from tenantry.services.members import Member

from clitools import Cli, table_rows
from factories import OPERATOR, World

MIXED = """\
Email,Name,Role,Department,Geos,App_IDs,media_sources
good1@example.com,Good One,contributor,Growth,US;fr,,
not-an-email,Bad Email,member,,,,
Good2@Example.com,Good Two,team_manager,,,com.example.one|com.example.two,facebook ads
unknown@example.com,Unknown Role,wizard,,,,
geo@example.com,Bad Geo,member,,Atlantis,,
good1@example.com,Duplicate,member,,,,
"""

REFUSED = [
    {"line": 3, "email": "not-an-email", "message": MESSAGES[ErrorCode.INVALID_EMAIL]},
    {
        "line": 5,
        "email": "unknown@example.com",
        "message": MESSAGES[ErrorCode.UNKNOWN_ROLE],
    },
    {
        "line": 6,
        "email": "geo@example.com",
        "message": MESSAGES[ErrorCode.UNKNOWN_GEOS],
    },
    {
        "line": 7,
        "email": "good1@example.com",
        "message": MESSAGES[ErrorCode.ALREADY_MEMBER],
    },
]


def _csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _members(ctx: ServiceContext, account_id: str) -> dict[str, Member]:
    page = members.list_members(ctx, OPERATOR, account_id)
    return {m.user.email: m for m in page.items}


def _with_apps(ctx: ServiceContext, world: World) -> None:
    for app_id in ("com.example.one", "com.example.two"):
        accounts.add_app(ctx, OPERATOR, world.a.id, app_id)


def test_good_rows_are_added_and_bad_rows_reported(
    cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    _with_apps(ctx, world)
    result = cli("users", "import", _csv(tmp_path, MIXED), "--account", world.a.id)

    assert result.exit_code == 1
    rows = table_rows(result.stdout)
    assert rows == [[str(r["line"]), r["email"], r["message"]] for r in REFUSED]
    assert "2 added, 4 refused" in result.stdout

    found = _members(ctx, world.a.id)
    assert set(found) == {world.a_admin.email, "good1@example.com", "good2@example.com"}
    good1, good2 = found["good1@example.com"], found["good2@example.com"]
    assert (good1.role.key, good1.user.name, good1.user.department) == (
        "member",
        "Good One",
        "Growth",
    )
    assert good1.membership.scope.geos == ("US", "FR")
    assert good1.membership.scope.app_ids is None
    assert good1.membership.scope.all_future_apps is True
    assert good1.membership.status is MembershipStatus.PENDING  # invited
    assert good2.role.key == "manage"
    assert good2.membership.scope.app_ids == ("com.example.one", "com.example.two")
    assert good2.membership.scope.all_future_apps is False
    assert good2.membership.scope.media_sources == ("facebook ads",)


def test_json_report(cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path) -> None:
    _with_apps(ctx, world)
    result = cli("users", "import", _csv(tmp_path, MIXED), "--account", world.a.id, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["added"] == ["good1@example.com", "good2@example.com"]
    assert report["refused"] == REFUSED
    # Without SMTP, the invited people are reached through the links printed here.
    links = {i["email"]: i["link"] for i in report["invitation_links"]}
    assert set(links) == {"good1@example.com", "good2@example.com"}
    for email, link in links.items():
        query = parse_qs(urlsplit(link).query)
        assert query["email"][0].lower() == email  # as the CSV wrote it
        assert query["et"] == ["inv"]
        assert invitations.check_invitation(ctx, query["token"][0], email).email == email


def test_invitation_links_are_printed_one_per_line(
    cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    text = "email,role\nlinked@example.com,member\n"
    result = cli("users", "import", _csv(tmp_path, text), "--account", world.a.id)
    assert result.exit_code == 0
    lines = [line.split() for line in result.stdout.splitlines() if "/auth/verify/" in line]
    assert len(lines) == 1
    email, link = lines[0]
    assert email == "linked@example.com"
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert invitations.check_invitation(ctx, token, email).email == email


def test_all_rows_added_exits_zero(
    cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    _with_apps(ctx, world)
    text = (
        "email,username,role,app_ids,all_future_apps\n"
        "admin2@example.com,Second Admin,admin,,\n"
        "\n"
        "nobody@example.com,No Apps,qa,none,false\n"
        "future@example.com,,marketing,,true\n"
    )
    report = cli.json("users", "import", _csv(tmp_path, text), "--account", world.a.id)
    assert report["added"] == ["admin2@example.com", "nobody@example.com", "future@example.com"]
    assert report["refused"] == []
    found = _members(ctx, world.a.id)
    assert found["admin2@example.com"].role.key == "admin"
    assert found["nobody@example.com"].membership.scope.app_ids == ()
    assert found["future@example.com"].membership.scope.all_future_apps is True
    assert found["future@example.com"].user.name == ""

    # Users pending in A can't join B yet, so B gets people of its own.
    human = cli(
        "users", "import", _csv(tmp_path, text.replace("@", "+b@")), "--account", world.b.id
    )
    assert human.exit_code == 0
    assert "3 added, 0 refused" in human.stdout
    assert table_rows(human.stdout) == []
    assert "nobody+b@example.com" in _members(ctx, world.b.id)


def test_rows_the_cli_cannot_read_are_refused_too(
    cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    text = (
        "email,role,all_future_apps\n"
        "maybe@example.com,member,perhaps\n"
        "extra@example.com,member,true,surprise\n"
        "fine@example.com,member,\n"
    )
    report = cli("users", "import", _csv(tmp_path, text), "--account", world.a.id, "--json")
    assert report.exit_code == 1
    found = json.loads(report.stdout)
    assert found["added"] == ["fine@example.com"]
    assert found["refused"] == [
        {
            "line": 2,
            "email": "maybe@example.com",
            "message": "all_future_apps must be true or false.",
        },
        {
            "line": 3,
            "email": "extra@example.com",
            "message": "The row has 4 cells; the header has 3.",
        },
    ]


def test_a_file_without_an_email_column_is_refused_whole(
    cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    result = cli(
        "users", "import", _csv(tmp_path, "name,role\nX,member\n"), "--account", world.a.id
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "The header has no email column; the first row must name the columns."
    )
    assert result.stdout == ""
    assert set(_members(ctx, world.a.id)) == {world.a_admin.email}


def test_malformed_csv_adds_nobody(
    cli: Cli, ctx: ServiceContext, world: World, tmp_path: Path
) -> None:
    text = 'email,role\nfirst@example.com,member\n"second@example.com,member\n'
    result = cli("users", "import", _csv(tmp_path, text), "--account", world.a.id)
    assert result.exit_code == 1
    assert "users.csv, line 3: malformed CSV" in result.stderr
    assert set(_members(ctx, world.a.id)) == {world.a_admin.email}


def test_an_unknown_account_is_one_error(cli: Cli, world: World, tmp_path: Path) -> None:
    result = cli("users", "import", _csv(tmp_path, MIXED), "--account", "nope1234")
    assert result.exit_code == 1
    assert result.stderr.strip() == "The account doesn't exist."
    assert result.stdout == ""


def test_a_missing_file_is_a_usage_error(cli: Cli, world: World, tmp_path: Path) -> None:
    result = cli("users", "import", str(tmp_path / "absent.csv"), "--account", world.a.id)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
