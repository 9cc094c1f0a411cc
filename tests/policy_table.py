"""The policy matrix, as a table of expected outcomes written from the role catalogue
(src/tenantry/catalogue/roles.json) and DESIGN.md ("One policy"), not from the code.

`tests/integration/test_policy_matrix.py` runs every cell: each operation (a row) for each
column (who acts) in each relation between the account the column's role is held in and the
account the call names. Nothing here imports tenantry: the expectations are literal.

Reading a cell: `Y` the call succeeds, `.` it is refused with Forbidden and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum

# -- columns: who acts -------------------------------------------------------------------------

# Every predefined role of the catalogue (each applies to partner, agency and advertiser
# accounts, so each is a column on the partner → advertiser tree), then four more.
PREDEFINED = (
    "admin",
    "manage",
    "view",
    "member",
    "marketing_lead",
    "marketing",
    "marketing_limited",
    "accounting",
    "security",
    "qa",
)
CUSTOM = "custom"  # a member holding the account's custom role CUSTOM_ROLE
API_ACCOUNT_ADMIN = "api_account_admin"  # an API account made with role admin
API_ACCOUNT_VIEW = "api_account_view"  # an API account made with role view
TOKEN_VIEW = "token_view_as_admin"  # an API token with role view, acting as an admin user
COLUMNS = (*PREDEFINED, CUSTOM, API_ACCOUNT_ADMIN, API_ACCOUNT_VIEW, TOKEN_VIEW)

CUSTOM_ROLE_KEY = "integrator"
CUSTOM_ROLE = {"user_management": {"users": "all"}, "account": {"api_access": "all"}}

# The role each column acts with, by key (CUSTOM's is CUSTOM_ROLE). A credential acts with the
# role chosen when it was made; a token never above its user's, so view as an admin is view.
ACTS_AS = {
    **{key: key for key in PREDEFINED},
    CUSTOM: CUSTOM_ROLE_KEY,
    API_ACCOUNT_ADMIN: "admin",
    API_ACCOUNT_VIEW: "view",
    TOKEN_VIEW: "view",
}

# Roles every target account has for the calls to grant and change: `users: read` only, which
# every column with `users: all` may grant (nobody grants a role above their own).
GRANTED_ROLE = "reader"
OTHER_GRANTED_ROLE = "reader_two"
GRANTED_CAPABILITIES = {"user_management": {"users": "read"}}


# -- relations: where the role is held, against the account the call names --------------------


class Relation(StrEnum):
    OWN = "own"  # the role is held in the target
    CHILD_PM_ON = "child_pm_on"  # held in the parent; the target lets its partner manage it
    CHILD_PM_OFF = "child_pm_off"  # held in the parent; partner management is off
    PARENT = "parent"  # held in a child of the target
    SIBLING = "sibling"  # held in another child of the same parent
    FOREIGN = "foreign"  # the target belongs to another top-level partner


RELATIONS = tuple(Relation)

# The tree: partner P on top with advertiser children, another partner Q with its own.
#   OWN:          role in child C,        target C
#   CHILD_PM_ON:  role in P,              target M (child of P, can_partner_manage on)
#   CHILD_PM_OFF: role in P,              target U (child of P, can_partner_manage off)
#   PARENT:       role in child C,        target P
#   SIBLING:      role in child C,        target S (another child of P)
#   FOREIGN:      role in P,              target F (child of Q)
CHILD_KIND = "advertiser"
# accounts.create_account makes a child under the target. An advertiser has no children, so
# with advertiser children every cell but PARENT (and a partner FOREIGN) makes no sense: those
# cells are not run. The row runs on a partner → agency tree instead (same shape, children of
# kind agency); the catalogue treats the kinds alike (every role applies to all three).
CHILD_KIND_FOR = {"accounts.create_account": "agency"}


# -- operations: what each needs (the spec), by capability -------------------------------------

# The capabilities the actor's role must give in the target itself (all of them). None: no role
# held in the target is enough, the operation is its parent's (see PARENT_SIDE).
NEEDS: dict[str, tuple[str, ...] | None] = {
    "members.add_member": ("user_management.users:all",),  # grants GRANTED_ROLE
    "members.change_role": ("user_management.users:all",),  # GRANTED_ROLE → OTHER_GRANTED_ROLE
    "members.remove_member": ("user_management.users:all",),  # a member holding GRANTED_ROLE
    "members.set_user_active": ("user_management.users:all",),  # deactivates such a member
    "members.list_members": ("user_management.users:read",),
    # Invitations are managing users (links to join, pending addresses), not reading them.
    "invitations.list_invitations": ("user_management.users:all",),
    "invitations.renew_invitation": ("user_management.users:all",),
    "credentials.create_api_account": ("account.api_access:all",),  # with role GRANTED_ROLE
    "credentials.create_api_token": ("account.api_access:all",),  # for a GRANTED_ROLE member
    # `read` means read: the security role (api_access: read) reviews the credentials.
    "credentials.list_api_accounts": ("account.api_access:read",),
    # Every catalogue role reads users: any member sees the account it belongs to.
    "accounts.get_account": ("user_management.users:read",),
    "accounts.update_account": ("account.settings:all",),  # a rename
    # The account's app catalogue is the data section's `apps` capability.
    # The app catalogue is the account's setting (what members can be scoped to), not the
    # data.apps work on apps that manage and member roles do.
    "accounts.add_app": ("account.settings:all",),
    # A custom role is account configuration that can carry admin rights.
    "roles.create_custom_role": ("account.settings:all", "user_management.admins:all"),
    "audit.list_audit_events": ("security.audit_log:read",),
    "accounts.create_account": ("account.child_accounts:all",),  # a child under the target
    "accounts.delete_account": None,  # an account does not delete itself: its parent does
    "access.explain_access": ("user_management.users:read",),  # about one of its members
}

# Account-level operations the parent side may take, by the capability its role must give in
# the target's parent. They work whatever can_partner_manage says: that flag is about the
# target's users, not about the account as one of the parent's children.
PARENT_SIDE_NEEDS = {
    "accounts.get_account": "account.child_accounts:read",
    "accounts.update_account": "account.child_accounts:all",
    "accounts.delete_account": "account.child_accounts:all",
}

OPERATIONS = tuple(NEEDS)

# -- the table -----------------------------------------------------------------------------------

_HEADER = "adm man vie mem mkl mkt mlt acc sec qa  cus apA apV tkV"

# OWN: the role is held in the target account itself.
#                                        adm man vie mem mkl mkt mlt acc sec qa  cus apA apV tkV
_OWN = """
members.add_member                        Y   Y   .   .   .   .   .   .   .   .   Y   Y   .   .
members.change_role                       Y   Y   .   .   .   .   .   .   .   .   Y   Y   .   .
members.remove_member                     Y   Y   .   .   .   .   .   .   .   .   Y   Y   .   .
members.set_user_active                   Y   Y   .   .   .   .   .   .   .   .   Y   Y   .   .
members.list_members                      Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y
invitations.list_invitations              Y   Y   .   .   .   .   .   .   .   .   Y   Y   .   .
invitations.renew_invitation              Y   Y   .   .   .   .   .   .   .   .   Y   Y   .   .
credentials.create_api_account            Y   .   .   .   .   .   .   .   .   .   Y   Y   .   .
credentials.create_api_token              Y   .   .   .   .   .   .   .   .   .   Y   Y   .   .
credentials.list_api_accounts             Y   .   .   .   .   .   .   .   Y   .   Y   Y   .   .
accounts.get_account                      Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y
accounts.update_account                   Y   .   .   .   .   .   .   .   .   .   .   Y   .   .
accounts.add_app                          Y   .   .   .   .   .   .   .   .   .   .   Y   .   .
roles.create_custom_role                  Y   .   .   .   .   .   .   .   .   .   .   Y   .   .
audit.list_audit_events                   Y   Y   .   .   .   .   .   .   Y   .   .   Y   .   .
accounts.create_account                   Y   .   .   .   .   .   .   .   .   .   .   Y   .   .
accounts.delete_account                   .   .   .   .   .   .   .   .   .   .   .   .   .   .
access.explain_access                     Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y   Y
"""

# PARENT SIDE: the role is held in the target's parent and the operation is taken from there.
#                                        adm man vie mem mkl mkt mlt acc sec qa  cus apA apV tkV
_PARENT_SIDE = """
accounts.get_account                      Y   Y   Y   Y   Y   .   .   .   .   .   .   Y   Y   Y
accounts.update_account                   Y   .   .   .   .   .   .   .   .   .   .   Y   .   .
accounts.delete_account                   Y   .   .   .   .   .   .   .   .   .   .   Y   .   .
"""


def _grid(text: str) -> dict[str, dict[str, bool]]:
    rows = {}
    for line in text.strip().splitlines():
        name, *marks = line.split()
        assert len(marks) == len(COLUMNS), f"{name}: {len(marks)} cells"
        assert set(marks) <= {"Y", "."}, name
        rows[name] = {column: mark == "Y" for column, mark in zip(COLUMNS, marks, strict=True)}
    return rows


OWN = _grid(_OWN)
PARENT_SIDE = _grid(_PARENT_SIDE)
assert len(_HEADER.split()) == len(COLUMNS)
assert set(OWN) == set(OPERATIONS)
assert set(PARENT_SIDE) == set(PARENT_SIDE_NEEDS)


# -- the rules that give the other relations ---------------------------------------------------


def allowed(operation: str, column: str, relation: Relation) -> bool:
    """The expected outcome of one cell: True for ALLOW, False for DENY (Forbidden).

    - OWN: the table.
    - CHILD_PM_ON: the role is inherited into the child, so the OWN cell; the parent side's
      account-level operations work too.
    - CHILD_PM_OFF: no role in the child; only the parent side's operations work.
    - PARENT, SIBLING, FOREIGN: nothing (inheritance runs downwards only, and never sideways).
    """
    own = OWN[operation][column]
    parent_side = PARENT_SIDE.get(operation, {}).get(column, False)
    if relation is Relation.OWN:
        return own
    if relation is Relation.CHILD_PM_ON:
        return own or parent_side
    if relation is Relation.CHILD_PM_OFF:
        return parent_side
    return False


# -- protections: literal expectations -----------------------------------------------------------

# Each names the outcome: "ok", "Forbidden", "Forbidden <CODE>" or "Conflict <CODE>".
PROTECTIONS = {
    "manage member adds an admin": "Forbidden",
    "manage member promotes a viewer to admin": "Forbidden",
    "manage member changes an admin's role": "Forbidden",
    "last admin removed (by the parent's admin)": "Conflict LAST_ADMIN",
    "last admin demoted (by the parent's admin)": "Conflict LAST_ADMIN",
    "owner removed by another admin": "Conflict OWNER_PROTECTED",
    "owner deactivated by another admin": "Conflict OWNER_PROTECTED",
    "owner demoted by another admin": "Conflict OWNER_PROTECTED",
    "owner transfers ownership to an active admin": "ok",
    "non-owner admin transfers ownership": "Forbidden",
    "custom-role maker creates an API account with role admin": "Forbidden",
    "custom-role maker creates an API account with role manage": "Forbidden",
    "custom-role maker creates an API token with role admin": "Forbidden",
    "parent's admin deactivates the account (status 2)": "ok",
    "deactivated account's own admin lists members": "Forbidden ACCOUNT_DEACTIVATED",
    "deactivated account's own admin adds a member": "Forbidden ACCOUNT_DEACTIVATED",
    "deactivated account's own admin lifts status 2": "Forbidden",
    "deactivated account's API token lists members": "refused",  # Unauthenticated or the above
    "parent's admin reads the deactivated account": "ok",
    "parent's admin lifts status 2 (status 0)": "ok",
    "own admin turns partner management off": "ok",
    "parent turns partner management back on": "Forbidden PARTNER_MANAGE_LOCKED",
    "own admin turns partner management back on": "ok",
    "parent turns it on for an account without an admin of its own": "ok",
}
