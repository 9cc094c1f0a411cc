"""`POST /users`: partial success, the answer's shapes, what the optional fields mean, role
names, and that a bulk add is one transaction (a crash leaves nobody half-added)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from tenantry.domain.memberships import MembershipStatus, Scope
from tenantry.services import accounts, directory, members
from tenantry.services.context import ServiceContext

from bulk_support import RATE_LIMIT_HEADERS, Bulk, new_user
from factories import OPERATOR, make_member


def scope_of(bulk: Bulk, email: str) -> tuple[Scope, MembershipStatus, str]:
    for m in members.list_all_members(bulk.ctx, OPERATOR, bulk.account.id):
        if m.user.email == email:
            return m.membership.scope, m.membership.status, m.role.key
    raise AssertionError(f"{email} is not a member")


def test_the_good_are_added_and_the_bad_reported(bulk: Bulk) -> None:
    good = [new_user(), new_user(role="qa"), new_user(role="admin")]
    users = [
        good[0],
        new_user("not an email"),
        good[1],
        new_user(role="boss"),
        {"email": "x@example.com"},
        good[2],
    ]
    response = bulk.add(users)

    assert response.status_code == 200, response.text
    assert all(response.headers.get(h) for h in RATE_LIMIT_HEADERS)
    body = response.json()
    assert set(body) == {"data", "errors"}
    assert [d["role"] for d in body["data"]] == ["marketing", "qa", "admin"]
    assert body["errors"] == [
        {"index": 1, "email": "not an email", "message": "Invalid email address."},
        {
            "index": 3,
            "email": users[3]["email"],
            "message": "The role was either misspelled or doesn\u2019t exist.",
        },
        {"index": 4, "email": "x@example.com", "message": "Invalid field scheme."},
    ]
    assert bulk.emails() == {bulk.admin.email, *(u["email"] for u in good)}


def test_an_added_user_as_the_answer_shows_it(bulk: Bulk) -> None:
    user = new_user(username="Demi Smith")
    body = bulk.add([user]).json()
    added = body["data"][0]
    assert set(added) == {"user_id", "username", "pending", "role"}
    assert added["username"] == "Demi Smith"
    assert added["pending"] is True  # a new user is invited
    assert added["role"] == "marketing"
    # One model: the same user through another service, by the id the answer gave.
    found, _ = directory.visible_user(bulk.ctx, OPERATOR, added["user_id"])
    assert found.email == user["email"]
    assert found.department == "MC Marketing"


def test_a_user_active_elsewhere_is_invited_not_joined(bulk: Bulk) -> None:
    # Consent: an existing identity joins only when its owner accepts this account's invitation.
    elsewhere = make_member(bulk.ctx, bulk.world.b, role="qa")
    body = bulk.add([new_user(elsewhere.email, username="Ignored Name")]).json()
    assert body["data"][0]["pending"] is True
    assert body["data"][0]["username"] == elsewhere.name  # an existing user keeps their name


def test_nobody_added_is_422_with_every_error(bulk: Bulk) -> None:
    response = bulk.add([new_user("bad"), new_user(role="nope")])
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "No users were added."
    assert [e["index"] for e in body["errors"]] == [0, 1]


def test_an_empty_array_adds_nobody(bulk: Bulk) -> None:
    response = bulk.add([])
    assert response.status_code == 422
    assert response.json() == {"message": "No users were added.", "errors": []}


def test_the_full_access_sample(bulk: Bulk) -> None:
    user = {
        "email": "my_company@my_company.com ",
        "username": "Demi Smith",
        "department": "MC Marketing",
        "role": "marketing",
        "allow_access_to_all_future_apps": True,
        "media_sources": [],
        "geos": [],
    }
    assert bulk.add([user]).status_code == 200
    scope, status, role = scope_of(bulk, "my_company@my_company.com")
    assert scope == Scope(app_ids=None, all_future_apps=True, media_sources=None, geos=None)
    assert (status, role) == (MembershipStatus.PENDING, "marketing")


def test_the_limited_access_sample(bulk: Bulk) -> None:
    for app in ("my_app1", "my_app2"):
        accounts.add_app(bulk.ctx, OPERATOR, bulk.account.id, app)
    user = {
        "email": "my_company@my_company.com ",
        "username": "Demi Smith",
        "department": "MC Marketing",
        "role": "marketing",
        "allow_access_to_all_future_apps": False,
        "app_ids": ["my_app1", "my_app2"],
        "media_sources": ["amplitude", "airship"],
        "geos": ["angola", "aruba"],
    }
    assert bulk.add([user]).status_code == 200
    scope, _, _ = scope_of(bulk, "my_company@my_company.com")
    assert scope == Scope(
        app_ids=("my_app1", "my_app2"),
        all_future_apps=False,
        media_sources=("amplitude", "airship"),
        geos=("AO", "AW"),
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, Scope(None, True, None, None), id="missing-app-ids-means-all"),
        pytest.param(
            {"allow_access_to_all_future_apps": False},
            Scope(None, False, None, None),
            id="all-current-apps-only",
        ),
        pytest.param(
            {"app_ids": [], "allow_access_to_all_future_apps": False},
            Scope((), False, None, None),
            id="empty-app-ids-means-none",
        ),
        pytest.param(
            {"app_ids": None, "media_sources": None, "geos": None},
            Scope(None, True, None, None),
            id="null-means-missing",
        ),
        pytest.param(
            {"media_sources": ["AMPLITUDE", "amplitude"], "geos": ["ao", "AGO", "Angola"]},
            Scope(None, True, ("amplitude",), ("AO",)),
            id="any-case-and-duplicates",
        ),
        pytest.param(
            {"geos": ["Korea, Republic of", "DE"]},
            Scope(None, True, None, ("KR", "DE")),
            id="geo-names-with-commas",
        ),
    ],
)
def test_what_the_scope_fields_mean(bulk: Bulk, fields: dict[str, Any], expected: Scope) -> None:
    user = new_user(**fields)
    for name in ("media_sources", "geos"):
        if name not in fields:
            del user[name]
    response = bulk.add([user])
    assert response.status_code == 200, response.text
    assert scope_of(bulk, user["email"])[0] == expected


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("admin", "admin"),
        ("team_manager", "manage"),
        ("Team_Manager", "manage"),
        ("contributor", "member"),
        ("marketing_lead", "marketing_lead"),
        ("marketing_limited", "marketing_limited"),
        ("accounting", "accounting"),
        ("security", "security"),
        ("qa", "qa"),
        ("view", "view"),  # no AppsFlyer name: shown, and taken, by its key
    ],
)
def test_role_names(bulk: Bulk, name: str, key: str) -> None:
    user = new_user(role=name)
    response = bulk.add([user])
    assert response.status_code == 200, response.text
    assert scope_of(bulk, user["email"])[2] == key


def test_a_custom_role_by_its_name(bulk: Bulk) -> None:
    bulk.add_analyst_role({"data": {"reports": "read"}})
    user = new_user(role="analyst")
    body = bulk.add([user]).json()
    assert body["data"][0]["role"] == "analyst"
    assert scope_of(bulk, user["email"])[2] == "analyst"


def test_an_api_account_of_the_account_may_add(bulk: Bulk, ctx: ServiceContext) -> None:
    from tenantry.services import credentials

    _, secret = credentials.create_api_account(ctx, OPERATOR, bulk.account.id, "bulkscript")
    issued = credentials.issue_access_token(ctx, "bulkscript", secret)
    response = bulk.add([new_user()], token=issued.token)
    assert response.status_code == 200, response.text


def test_the_audit_trail_names_this_face(bulk: Bulk) -> None:
    user = new_user()
    bulk.add([user])
    with bulk.ctx.uow(readonly=True) as uow:
        events = uow.audit.query(account_ids=[bulk.account.id], action="membership.create")
    assert events[0].face == "bulk_rest"
    assert events[0].actor_label == bulk.admin.email


# -- one transaction ---------------------------------------------------------------------------


# Writes of a bulk add: whatever statements the storage layer uses, they touch these tables.
WRITES = re.compile(
    r"\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(users|memberships|invitations|audit_events)\b",
    re.IGNORECASE,
)


@contextmanager
def crashing(ctx: ServiceContext, crash_at: int) -> Iterator[list[str]]:
    """Raise, as a failing disk or a bug would, at the `crash_at`-th write statement to the
    users, memberships, invitations or audit tables (never when `crash_at` is 0)."""
    engine = ctx.uow.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def before_write(*args: Any) -> None:
        statement: str = args[2]
        if WRITES.match(statement):
            seen.append(statement)
            if len(seen) == crash_at:
                raise RuntimeError("disk on fire")

    sa.event.listen(engine, "before_cursor_execute", before_write)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_write)


def test_a_crash_in_the_middle_leaves_nobody_half_added(bulk: Bulk) -> None:
    # How many write statements a bulk add of 5 users takes, whatever the storage layer does.
    with crashing(bulk.ctx, crash_at=0) as seen:
        assert bulk.add([new_user() for _ in range(5)]).status_code == 200
    writes = len(seen)
    users = [new_user() for _ in range(5)]
    with bulk.ctx.uow(readonly=True) as uow:
        audit_before = len(uow.audit.query(account_ids=[bulk.account.id], limit=10_000))
    members_before = bulk.emails()

    # The last write fails, after every user row was written.
    with crashing(bulk.ctx, crash_at=writes) as seen:
        response = bulk.add(users)
    assert len(seen) == writes
    assert any(re.match(r"\s*INSERT\s+INTO\s+\"?users\b", s, re.IGNORECASE) for s in seen[:-1])
    assert response.status_code == 500
    assert response.json() == {
        "message": "Something went wrong. Your request couldn\u2019t be completed."
    }
    assert "disk on fire" not in response.text
    assert all(response.headers.get(h) for h in RATE_LIMIT_HEADERS)
    assert bulk.emails() == members_before
    with bulk.ctx.uow(readonly=True) as uow:
        assert not uow.users.find_by_emails([u["email"] for u in users])
        assert len(uow.audit.query(account_ids=[bulk.account.id], limit=10_000)) == audit_before
    # and the same call, without the crash, adds them all
    assert len(bulk.add(users).json()["data"]) == 5
