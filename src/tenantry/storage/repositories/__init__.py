"""Repositories: typed access to one aggregate each. `get` raises, `find` returns None."""
