"""Use cases: one function per behaviour, each authorizing its actor, owning its transaction
and writing its audit event in that same transaction."""
