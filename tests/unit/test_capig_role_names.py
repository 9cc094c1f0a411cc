"""The CAPIG face's role names, read and written over the catalogue's dialect-free roles."""

from __future__ import annotations

import pytest

from tenantry.domain.accounts import Account, AccountKind
from tenantry.domain.errors import NotFound
from tenantry.domain.roles import RoleCatalogue
from tenantry.entrypoints.graphql.roles import parse_role_name, role_name
from tenantry.services.catalogues import load_role_catalogue
from tenantry.settings import CATALOGUE_DIR


@pytest.fixture(scope="module")
def catalogue() -> RoleCatalogue:
    return load_role_catalogue(CATALOGUE_DIR / "roles.json")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("agency-admin", (None, "admin")),
        ("agency-manage", (None, "manage")),
        # The Objects page's spelling of the middle action.
        ("agency-user", (None, "manage")),
        ("advertiser-user-wW58k7FQ", ("wW58k7FQ", "manage")),
        ("advertiser-view-wW58k7FQ", ("wW58k7FQ", "view")),
        # A role CAPIG has no name for goes by its key.
        ("agency-marketing", (None, "marketing")),
    ],
)
def test_role_names_read_as_account_and_key(
    catalogue: RoleCatalogue, name: str, expected: tuple[str | None, str]
) -> None:
    assert parse_role_name(catalogue, name) == expected


def test_a_name_of_another_shape_is_not_a_role(catalogue: RoleCatalogue) -> None:
    with pytest.raises(NotFound):
        parse_role_name(catalogue, "team_manager")


def test_names_are_written_by_account_kind(catalogue: RoleCatalogue) -> None:
    manage = catalogue.find("manage")
    assert manage is not None
    advertiser = Account(id="wW58k7FQ", name="Shop", kind=AccountKind.ADVERTISER)
    agency = Account(id="aB3dE5gH", name="Agency", kind=AccountKind.AGENCY)
    assert role_name(catalogue, advertiser, manage) == "advertiser-manage-wW58k7FQ"
    assert role_name(catalogue, agency, manage) == "agency-manage"
