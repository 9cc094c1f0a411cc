"""The paths a document selects without arguments, which resolvers may read ahead for."""

from __future__ import annotations

from graphql import parse

from tenantry.entrypoints.graphql.selections import plain_selections


def test_fields_without_arguments_by_path_through_fragments() -> None:
    document = parse(
        """
        query ($id: String!) {
          tenant(tenantId: $id) { id ...People ... on Tenant { availableRoles { name } } }
          me: tenants { nodes { id } }
        }
        fragment People on Tenant { users { id roles { name } } }
        """
    )
    assert plain_selections(document) == {
        "tenant.id",
        "tenant.users",
        "tenant.availableRoles",
        "tenants",
        "tenants.nodes",
    }


def test_fields_with_arguments_are_not_listed() -> None:
    document = parse(
        '{ tenant(tenantId: "A") { users(first: 5) { id } usersConnection { nodes { id } } } }'
    )
    assert plain_selections(document) == {"tenant.usersConnection"}
