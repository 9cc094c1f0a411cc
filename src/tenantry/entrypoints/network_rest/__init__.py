"""The network integration REST API (Invoca's dialect) under
`/api/<version>/<network_id>/`: the network's users, its advertisers and their users."""

from tenantry.entrypoints.network_rest.router import OPENAPI_PATH, PREFIX, network_rest_app

__all__ = ["OPENAPI_PATH", "PREFIX", "network_rest_app"]
