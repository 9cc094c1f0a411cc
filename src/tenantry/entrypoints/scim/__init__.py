"""The SCIM 2.0 face (RFC 7643/7644) under `/scim/v2`: an account's users and roles, as
identity providers (Entra ID, Okta) provision them, with a Bearer API token of the account."""

from tenantry.entrypoints.scim.router import scim_app
from tenantry.entrypoints.scim.schema import PREFIX

__all__ = ["PREFIX", "scim_app"]
