"""Real `tenantry` servers in processes of their own, on one database, for the tests of what
must hold across processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

# A server as `tenantry serve` runs one (its lifespan starts the outbox's sender).
SERVER = """
import sys

import uvicorn

from tenantry.app import Composition

app = Composition().asgi_app()
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_servers(
    database_url: str, logs: Path, env: Mapping[str, str], count: int = 2
) -> Iterator[list[str]]:
    """`count` servers on `database_url` with `env` added to the environment; their base URLs
    once each answers /readyz."""
    environment = {
        **os.environ,
        "TENANTRY_DATABASE_URL": database_url,
        "TENANTRY_LOG_LEVEL": "WARNING",
        **env,
    }
    started: list[tuple[subprocess.Popen[bytes], Path, str]] = []
    try:
        for number in range(count):
            port = free_port()
            log = logs / f"server{number}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [sys.executable, "-c", SERVER, str(port)],
                    env=environment,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            started.append((process, log, f"http://127.0.0.1:{port}"))
        for process, log, base in started:
            _wait_until_ready(process, log, base)
        yield [base for _, _, base in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            process.wait(timeout=10)


def _wait_until_ready(process: subprocess.Popen[bytes], log: Path, base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"a server exited: {log.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("a server did not become ready in 30 s")
