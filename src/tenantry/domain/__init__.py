"""Pure rules of tenantry: entities, value objects and invariants. Standard library only."""
