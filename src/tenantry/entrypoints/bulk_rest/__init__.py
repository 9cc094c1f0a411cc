"""The bulk user-management REST API (AppsFlyer's dialect) under
`/api/user-management/v1.0`: get, add and delete users in bulk, get roles."""

from tenantry.entrypoints.bulk_rest.router import OPENAPI_PATH, PREFIX, bulk_rest_app

__all__ = ["OPENAPI_PATH", "PREFIX", "bulk_rest_app"]
