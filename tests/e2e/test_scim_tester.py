"""scim2-tester, the independent RFC 7643/7644 checker, against a live server: uvicorn in its own
process on loopback, over a migrated SQLite file, with an API token of an advertiser account.

Every check must succeed. A check may be skipped only for a feature the ServiceProviderConfig
says is absent; this server announces every feature the tester knows (PATCH included), so in
practice nothing may be skipped for that reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tenantry.app import Composition
from tenantry.services import credentials
from tenantry.settings import Settings

from factories import OPERATOR, build_world

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_scim(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(the SCIM base URL, an API token of an advertiser account's admin)."""
    url = f"sqlite:///{tmp_path / 'tenantry.db'}"
    composition = Composition(Settings(database_url=url))
    composition.upgrade_database()
    world = build_world(composition.context)
    _, token, _ = credentials.create_api_token(
        composition.context, OPERATOR, world.a.id, user_email=world.a_admin.email
    )
    composition.dispose()
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "TENANTRY_DATABASE_URL": url}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "scim_app:create",
                "--factory",
                "--app-dir",
                str(HERE),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server exited: {log.read_text()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not become ready in 20 s")
        yield f"{base}/scim/v2", token
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_scim2_tester_finds_nothing_wrong(live_scim: tuple[str, str]) -> None:
    base, token = live_scim
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        client = SyncSCIMClient(http)
        results = check_server(client)
        config = client.provider.config
    assert config is not None
    absent = {
        feature
        for feature in ("patch", "bulk", "filter", "sort", "etag")
        if not getattr(config, feature).supported
    }
    failed = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    assert not failed, "\n".join(f"{r.resource_type} {r.title}: {r.reason}" for r in failed)
    skipped = [r for r in results if r.status is Status.SKIPPED]
    # scim2-tester skips only the PATCH checks, and only when PATCH is announced as absent.
    assert all("PATCH" in (r.reason or "") and "patch" in absent for r in skipped), skipped
    checked = {(r.resource_type, r.title) for r in results if r.status is Status.SUCCESS}
    for resource_type in ("User", "Group"):
        for title in (
            "object_creation",
            "object_query",
            "object_query_without_id",
            "object_replacement",
            "object_deletion",
            "check_add_attribute",
            "check_remove_attribute",
            "check_replace_attribute",
            "object_query_with_attributes",
            "search_with_attributes",
        ):
            assert (resource_type, title) in checked, (resource_type, title)
