"""The Makefile's entry points: `make run` installs what the server needs and no more, the
developer targets install the test and lint tools, and HOST, PORT and the base URL reach the
server. Read from `make -n` on a virtual environment that does not exist yet, so every step
a first run would take is listed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
RUNTIME_INSTALL = "-m pip install -e ."
DEV_INSTALL = "-m pip install -e '.[dev]'"


def planned(target: str, tmp_path: Path, *assignments: str, **env: str) -> list[str]:
    """The commands `make <target>` would run, one a line, on a fresh virtual environment."""
    make = shutil.which("make")
    assert make is not None, "make is missing: install it (Debian: apt-get install make)"
    # Neither the caller's settings nor, under an outer make, its flags and level.
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TENANTRY_", "MAKE", "MFLAGS"))
    }
    environment.update(env)
    result = subprocess.run(
        [make, "-n", target, f"VENV={tmp_path / 'venv'}", *assignments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def installs(commands: list[str]) -> list[str]:
    return [command for command in commands if "pip install" in command]


def test_run_installs_only_the_runtime(tmp_path: Path) -> None:
    commands = planned("run", tmp_path)
    [install] = installs(commands)
    assert install.endswith(RUNTIME_INSTALL)
    assert not any("[dev]" in command for command in commands)
    assert commands[-2].endswith("/bin/tenantry init")
    assert "/bin/tenantry serve --host 127.0.0.1 --port 8000" in commands[-1]


@pytest.mark.parametrize("target", ["test", "faults", "lint", "check", "fmt", "bench"])
def test_developer_targets_install_the_dev_tools(tmp_path: Path, target: str) -> None:
    [install] = installs(planned(target, tmp_path))
    assert install.endswith(DEV_INSTALL)


def test_check_is_lint_then_the_whole_suite(tmp_path: Path) -> None:
    commands = planned("check", tmp_path)
    tools = [command.split("/bin/")[-1] for command in commands if "/bin/" in command]
    assert tools[-5:] == [
        "ruff format --check .",
        "ruff check .",
        "mypy",
        "lint-imports",
        "pytest -n 2",
    ]


def test_faults_runs_the_fault_suite_alone(tmp_path: Path) -> None:
    command = planned("faults", tmp_path)[-1]
    assert command.endswith("/bin/pytest --faults tests/faults")


def test_host_and_port_reach_the_server_and_its_links(tmp_path: Path) -> None:
    serve = planned("run", tmp_path, "HOST=0.0.0.0", "PORT=9000")[-1]
    assert serve.endswith("/bin/tenantry serve --host 0.0.0.0 --port 9000")
    assert serve.startswith("TENANTRY_BASE_URL='http://0.0.0.0:9000' ")


def test_a_base_url_set_in_the_environment_wins(tmp_path: Path) -> None:
    serve = planned("run", tmp_path, "PORT=9000", TENANTRY_BASE_URL="https://cp.example.org")[-1]
    assert serve.startswith("TENANTRY_BASE_URL='https://cp.example.org' ")
    assert serve.endswith("--port 9000")
