"""What `make run` does, for real: `tenantry init`, then `tenantry serve` in its own process,
reached over loopback with the credentials `init` printed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

TENANTRY = shutil.which("tenantry", path=str(Path(sys.executable).parent)) or "tenantry"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {**os.environ, "TENANTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'tenantry.db'}"}
    init = subprocess.run(
        [TENANTRY, "init", "--json"], env=env, capture_output=True, text=True, check=True
    )
    login = json.loads(init.stdout)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [TENANTRY, "serve", "--host", "127.0.0.1", "--port", str(port)],
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
        yield base, login
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_init_prints_a_ready_login_and_serve_accepts_it(
    server: tuple[str, dict[str, str]],
) -> None:
    base, login = server
    assert set(login) >= {
        "account_id",
        "admin_email",
        "admin_password",
        "client_id",
        "client_secret",
    }
    assert login["admin_password"]
    response = httpx.post(
        f"{base}/clients/token",
        data={
            "client_id": login["client_id"],
            "client_secret": login["client_secret"],
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200
    assert response.json()["expires_in"] == 36000
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}


def test_init_twice_keeps_the_data_and_shows_no_secret(tmp_path: Path) -> None:
    env = {**os.environ, "TENANTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'tenantry.db'}"}
    first = json.loads(
        subprocess.run(
            [TENANTRY, "init", "--json"], env=env, capture_output=True, check=True
        ).stdout
    )
    second = json.loads(
        subprocess.run(
            [TENANTRY, "init", "--json"], env=env, capture_output=True, check=True
        ).stdout
    )
    assert second["created"] is False
    assert second["account_id"] == first["account_id"]
    assert second["admin_password"] is None
    assert second["client_secret"] is None
