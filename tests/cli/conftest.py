"""Fixtures for the CLI tests: the CLI bound to the test's own database."""

from __future__ import annotations

import pytest

from clitools import Cli


@pytest.fixture
def cli(database_url: str) -> Cli:
    return Cli(database_url)
