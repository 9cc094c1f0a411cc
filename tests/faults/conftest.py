"""The fault suite (`make faults`): real server processes on a PostgreSQL cluster of the suite's
own, which its tests kill, restart and starve. It runs apart from `make test` (see the root
conftest) and prints its figures at the end; docs/reliability.md records them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fault_support import FIGURES
from pgcluster import PostgresCluster

OUTPUT = Path(__file__).parents[2] / "test-output" / "faults.json"


@pytest.fixture(scope="session")
def fault_cluster() -> Iterator[PostgresCluster]:
    """A cluster of the suite's own, since its tests stop and start it."""
    cluster = PostgresCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.faults)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("fault suite figures")
    for line in FIGURES.lines():
        terminalreporter.write_line(line)
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(json.dumps(FIGURES.as_json(), indent=2) + "\n")
    terminalreporter.write_line(f"(also written to {OUTPUT.relative_to(OUTPUT.parents[1])})")
