"""Fixtures of these tests live in network_support.py, which the test modules import by name."""

from network_support import *  # noqa: F403  (fixtures are found by name in this module)
