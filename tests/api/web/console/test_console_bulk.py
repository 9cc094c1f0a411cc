"""Bulk add: users from a CSV, pasted or uploaded, with the bulk API's rules and words."""

from __future__ import annotations

import re

import httpx

from tenantry.domain.accounts import Account
from tenantry.domain.memberships import MembershipStatus
from tenantry.services import accounts, members
from tenantry.services.auth import FACE
from tenantry.services.context import ServiceContext

from browsing import Browser, Host, audit, mailed_link, text_of
from console_support import console_user, csrf_of
from factories import OPERATOR, make_account, make_member, set_policy, stored
from mailserver import Inbox

HEADER = "email,role,username,department,app_ids,media_sources,geos"
UNKNOWN_ROLE = "The role was either misspelled or doesn\u2019t exist."
INVALID_EMAIL = "Invalid email address."
TOO_MANY = "Exceeded the limit of adding 20 users in a single API call."


def bulk_url(account: Account) -> str:
    return f"/hub/accounts/{account.id}/users/bulk"


def members_of(ctx: ServiceContext, account: Account) -> dict[str, members.Member]:
    everyone = members.list_all_members(ctx, OPERATOR, account.id)
    return {m.user.email: m for m in everyone}


def rows_of(page: httpx.Response) -> list[list[str]]:
    """The results table, a list of cells for each row."""
    body = re.search(r"<tbody>(.*?)</tbody>", page.text, re.S)
    assert body is not None, text_of(page)
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in row] for row in cells]


def textarea_of(page: httpx.Response) -> str:
    found = re.search(r'<textarea id="csv" name="csv"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert found is not None
    return found.group(1)


def test_good_rows_are_added_and_bad_ones_refused_with_the_apis_words(
    host: Host, browser: Browser, ctx: ServiceContext, inbox: Inbox
) -> None:
    brand = make_account(ctx, parent=host.account, name="Brand")
    other = make_account(ctx, parent=host.account, name="Other brand")
    for account in (brand, other):
        set_policy(ctx, account.id, multi_account_users=True)
    accounts.add_app(ctx, OPERATOR, brand.id, "com.brand.app", "Brand app")
    known = make_member(ctx, other, role="view", email="known@example.com")
    console_user(ctx, browser, brand)
    page = browser.get(bulk_url(brand))
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    csv_text = "\n".join(
        [
            HEADER,
            "dana@example.com,manage,Dana Levi,Growth,com.brand.app,,US;GB",
            "nobody@example.com,wizard,,,,,",
            f"{known.email},view,,,,,",
            "not-an-email,view,,,,,",
            "eli@example.com,marketing,,,,,",
        ]
    )
    answer = browser.submit(page, bulk_url(brand), csv=csv_text)
    assert answer.status_code == 200, text_of(answer)
    assert "3 added, 2 refused" in text_of(answer)
    assert rows_of(answer) == [
        ["1", "dana@example.com", "Invited"],
        ["2", "nobody@example.com", UNKNOWN_ROLE],
        # Consent: a person who has an identity already is invited like everyone else.
        ["3", known.email, "Invited"],
        ["4", "not-an-email", INVALID_EMAIL],
        ["5", "eli@example.com", "Invited"],
    ]
    there = members_of(ctx, brand)
    dana, eli = there["dana@example.com"], there["eli@example.com"]
    assert dana.membership.status is MembershipStatus.PENDING
    assert eli.membership.status is MembershipStatus.PENDING
    assert there[known.email].membership.status is MembershipStatus.PENDING
    assert mailed_link(inbox, known.email)
    assert "nobody@example.com" not in there
    assert dana.user.name == "Dana Levi"
    assert dana.user.department == "Growth"
    assert dana.membership.scope.app_ids == ("com.brand.app",)
    assert eli.user.name == ""  # an empty username cell: no username
    assert mailed_link(inbox, "dana@example.com")
    created = [e for e in audit(ctx, "membership.create") if e.account_id == brand.id]
    added = {dana.user.id, eli.user.id, known.id}
    assert {e.target_id for e in created if e.face == FACE} == added


def test_a_row_the_api_would_refuse_for_its_scheme_gets_its_message(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(bulk_url(host.tenant))
    csv_text = f"{HEADER}\nno-role@example.com,,,,,,\nok@example.com,view,,,,,,extra\n"
    answer = browser.submit(page, bulk_url(host.tenant), csv=csv_text)
    assert answer.status_code == 422
    assert rows_of(answer) == [
        ["1", "no-role@example.com", "Invalid field scheme."],
        ["2", "ok@example.com", "Invalid field scheme."],
    ]
    assert "0 added, 2 refused" in text_of(answer)
    # Nothing was added: the CSV is still in the form, to be put right.
    assert "no-role@example.com,,,,,," in textarea_of(answer)


def test_a_csv_file_is_uploaded(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant)
    csv_file = "\ufeffEmail,Role\r\nfile@example.com,view\r\n".encode()
    answer = browser.post(
        bulk_url(host.tenant),
        data={"csrf_token": csrf_of(browser), "csv": ""},
        files={"csv_file": ("users.csv", csv_file, "text/csv")},
    )
    assert answer.status_code == 200, text_of(answer)
    assert rows_of(answer) == [["1", "file@example.com", "Invited"]]
    assert "file@example.com" in members_of(ctx, host.tenant)

    latin = "email,role\r\nj\xf6rg@example.com,view\r\n".encode("latin-1")
    refused = browser.post(
        bulk_url(host.tenant),
        data={"csrf_token": csrf_of(browser)},
        files={"csv_file": ("users.csv", latin, "text/csv")},
    )
    assert refused.status_code == 400
    assert re.search(r'id="csv_file-error">The CSV must be UTF-8 text.<', refused.text)


def test_a_control_character_is_refused_and_stores_nothing(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    csrf_token = csrf_of(browser)
    before = stored(ctx)
    for pasted in (f"{HEADER}\r\nnul@example.com,view,,Growth\x00,,,", f"{HEADER}\n\x1b[2J"):
        answer = browser.post(
            bulk_url(host.tenant),
            data={"csrf_token": csrf_token, "csv": pasted},
            files={"csv_file": ("", b"", "application/octet-stream")},
        )
        assert answer.status_code == 400
        assert "That can&#39;t be accepted" in answer.text
        assert re.search(r"\(U\+(0000|001B)\)", answer.text)
    searched = browser.get(f"/hub/accounts/{host.tenant.id}/users", params={"q": "a\x00"})
    assert searched.status_code == 400
    assert "(U+0000)" in searched.text
    assert stored(ctx) == before
    # Line breaks (CR LF as browsers send them) are what a pasted CSV is made of.
    answer = browser.post(
        bulk_url(host.tenant),
        data={"csrf_token": csrf_token, "csv": f"{HEADER}\r\ncrlf@example.com,view,,,,,\r\n"},
        files={"csv_file": ("", b"", "application/octet-stream")},
    )
    assert rows_of(answer) == [["1", "crlf@example.com", "Invited"]]


def test_a_csv_file_is_the_pages_to_read_control_characters_included(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    # Files are not looked into by the server; the rows' own rules refuse what they carry.
    console_user(ctx, browser, host.tenant)
    csv_file = f"{HEADER}\r\nnul@example.com,view,,Growth\x00,,,\r\n".encode()
    answer = browser.post(
        bulk_url(host.tenant),
        data={"csrf_token": csrf_of(browser), "csv": ""},
        files={"csv_file": ("users.csv", csv_file, "text/csv")},
    )
    assert answer.status_code == 422  # no one added
    assert rows_of(answer) == [["1", "nul@example.com", "Invalid field scheme."]]
    assert "nul@example.com" not in members_of(ctx, host.tenant)


def test_a_pasted_csv_over_1_mb_is_refused_next_to_the_field(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    """As a browser sends the form (multipart, with an empty file field), a pasted text over the
    multipart parser's default part size still reaches the page's own size check."""
    console_user(ctx, browser, host.tenant)
    big = HEADER + "\n" + "x" * 1_100_000
    answer = browser.post(
        bulk_url(host.tenant),
        data={"csrf_token": csrf_of(browser), "csv": big},
        files={"csv_file": ("", b"", "application/octet-stream")},
    )
    assert answer.status_code == 400, text_of(answer)
    assert re.search(r'id="csv-error">The CSV is larger than 1 MB.<', answer.text)


def test_more_than_twenty_rows_are_refused_whole(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(bulk_url(host.tenant))
    csv_text = "\n".join([HEADER] + [f"many{n}@example.com,view,,,,," for n in range(21)])
    answer = browser.submit(page, bulk_url(host.tenant), csv=csv_text)
    assert answer.status_code == 400
    assert re.search(rf'role="alert"><p>{TOO_MANY}</p>', answer.text)
    assert "many20@example.com,view" in textarea_of(answer)
    assert not [e for e in members_of(ctx, host.tenant) if e.startswith("many")]


def test_a_csv_without_its_header_is_refused_next_to_the_field(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant)
    page = browser.get(bulk_url(host.tenant))
    answer = browser.submit(page, bulk_url(host.tenant), csv="a@example.com,view")
    assert answer.status_code == 400
    assert re.search(r'id="csv-error">The first line must name the columns', answer.text)
    assert textarea_of(answer) == "a@example.com,view"
    for csv_text, message in (
        ("  ", "Paste a CSV, or choose a CSV file."),
        (HEADER, "The CSV has no users after its first line."),
        (
            f'{HEADER}\nshort@example.com,view\n"open quote',
            "The CSV could not be read at line 3: unexpected end of data.",
        ),
    ):
        refused = browser.submit(page, bulk_url(host.tenant), csv=csv_text)
        assert refused.status_code == 400
        assert re.search(rf'id="csv-error">{message}', refused.text), text_of(refused)


def test_a_viewer_sees_no_form_and_may_not_post(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    console_user(ctx, browser, host.tenant, role="view")
    page = browser.get(bulk_url(host.tenant))
    assert page.status_code == 200
    assert f'action="{bulk_url(host.tenant)}"' not in page.text
    answer = browser.post(
        bulk_url(host.tenant),
        data={"csrf_token": csrf_of(browser), "csv": f"{HEADER}\nsneak@example.com,view"},
    )
    assert answer.status_code == 403
    assert "sneak@example.com" not in members_of(ctx, host.tenant)


def test_the_form_needs_its_csrf_token(host: Host, browser: Browser, ctx: ServiceContext) -> None:
    console_user(ctx, browser, host.tenant)
    answer = browser.post(bulk_url(host.tenant), data={"csv": f"{HEADER}\nx@example.com,view"})
    assert answer.status_code == 403
    assert "x@example.com" not in members_of(ctx, host.tenant)


def test_a_form_the_parser_refuses_is_answered_as_a_page(
    host: Host, browser: Browser, ctx: ServiceContext
) -> None:
    """Over the multipart parser's 1,000 fields: an HTML page, as any form without its CSRF
    token gets, not the parser's JSON."""
    console_user(ctx, browser, host.tenant)
    fields = {f"f{n}": "x" for n in range(1_001)}
    answer = browser.post(
        bulk_url(host.tenant),
        data={"csrf_token": csrf_of(browser), "csv": f"{HEADER}\nx@example.com,view", **fields},
        files={"csv_file": ("", b"", "application/octet-stream")},
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "x@example.com" not in members_of(ctx, host.tenant)
