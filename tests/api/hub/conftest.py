"""Fixtures of these tests live in hub_support.py, which the test modules import by name."""

from hub_support import *  # noqa: F403  (fixtures are found by name in this module)
