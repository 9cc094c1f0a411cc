"""The CAPIG faces: the GraphQL APIs (/hub/graphql/ and /capig/graphql/), schema-first on
graphql-core, and the gateways' traffic reports (/capig/traffic)."""

from tenantry.entrypoints.graphql.capig import CAPIG_PATH, capig_app
from tenantry.entrypoints.graphql.hub import HUB_PATH, hub_app
from tenantry.entrypoints.graphql.traffic import PATH as TRAFFIC_PATH
from tenantry.entrypoints.graphql.traffic import traffic_app

__all__ = ["CAPIG_PATH", "HUB_PATH", "TRAFFIC_PATH", "capig_app", "hub_app", "traffic_app"]
