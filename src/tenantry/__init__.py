"""tenantry: a self-hostable control plane for accounts, users, roles and invitations."""

__version__ = "0.1.0"
