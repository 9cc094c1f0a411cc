"""Fixtures of these tests live in bulk_support.py, which the test modules import by name."""

from bulk_support import *  # noqa: F403  (fixtures are found by name in this module)
