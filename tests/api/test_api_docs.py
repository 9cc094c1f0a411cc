"""The REST faces' documentation pages and the files every documentation page names: served
by tenantry, pinned, checked by their integrity hash, under the pages' strict policy."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from tenantry.entrypoints.http.api_docs import ASSETS, PREFIX

from httpclient import HttpClient

PAGES = [
    "/api/user-management/v1.0/docs",
    "/api/network-integration/docs",
    "/hub/graphql/",
    "/capig/graphql/",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_names_only_files_of_this_server_by_their_hash(
    client: HttpClient, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; script-src 'nonce-")
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    tags = re.findall(r"<(?:script|link)[^>]*(?:src|href)=\"[^\"]+\"[^>]*>", page.text)
    assert tags
    for tag in tags:
        url = re.search(r'(?:src|href)="([^"]+)"', tag)
        digest = re.search(r'integrity="(sha384-[^"]+)"', tag)
        assert url is not None
        assert digest is not None, tag
        assert url.group(1).startswith(PREFIX + "/"), tag
        served = client.get(url.group(1))
        assert served.status_code == 200
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert served.headers["x-content-type-options"] == "nosniff"
        expected = base64.b64encode(hashlib.sha384(served.content).digest()).decode()
        assert digest.group(1) == f"sha384-{expected}"


def test_the_rest_pages_show_their_own_documents(client: HttpClient) -> None:
    for page, document in (
        ("/api/user-management/v1.0/docs", "/api/user-management/v1.0/openapi.json"),
        ("/api/network-integration/docs", "/api/network-integration/openapi.json"),
    ):
        assert f'data-openapi="{document}"' in client.get(page).text
        assert client.get(document).status_code == 200


def test_only_the_named_files_are_served(client: HttpClient) -> None:
    urls = {asset.url for asset in ASSETS}
    assert len(urls) == len(ASSETS)
    assert all(re.fullmatch(PREFIX + r"/[a-z-]+-\d+(\.\d+)+/[a-z.-]+\.(js|css)", u) for u in urls)
    some = next(iter(urls))
    for path in (
        PREFIX + "/fastapi-offline-0.0.1/swagger-ui-bundle.js",  # not the installed version
        some.rsplit("/", 1)[0] + "/../../../settings.py",
        some.rsplit("/", 1)[0] + "/__init__.py",
    ):
        assert client.get(path).status_code == 404, path
