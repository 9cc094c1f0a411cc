"""`python -m bench.table_sizes`: the bytes each user, membership, invitation and audit event
takes on PostgreSQL, indexes included, for the arithmetic of docs/scaling.md.

A throwaway cluster is migrated to head and filled with rows shaped as tenantry writes them
(addresses of 25 characters, an invitation and three audit events per user, one membership
each, a second membership for a tenth of them), `--users` of them in `--accounts` accounts; then
`pg_total_relation_size` of each table, divided by its rows, is printed, and the same per-row
figures multiplied out to 10M users.
"""

from __future__ import annotations

import argparse

import sqlalchemy as sa

from bench.database import open_target
from tenantry.storage.migrations import upgrade_database

TABLES = ("accounts", "users", "memberships", "invitations", "audit_events")
FILL = """
INSERT INTO accounts (id, name, kind, status, can_partner_manage, event_enrichment,
                      multi_account_users, sso_enabled, two_factor_required, custom_data,
                      created_at)
SELECT 'a' || lpad(a::text, 7, '0'), 'Account ' || a, 'advertiser', 0, true, false, true,
       false, false, '{}', now()
FROM generate_series(1, :accounts) a;

INSERT INTO users (id, email, name, status, can_login_via_platform, notifications, created_at,
                   home_account_id, password_hash)
SELECT md5('u' || u)::uuid::text, 'person' || u || '@example-mail.org', 'Person ' || u,
       1, true, '{}', now(), 'a' || lpad((u % :accounts + 1)::text, 7, '0'),
       '$argon2id$v=19$m=65536,t=3,p=4$' || md5(u::text) || md5(u::text)
FROM generate_series(1, :users) u;

INSERT INTO memberships (user_id, account_id, role_key, status, all_future_apps, created_at)
SELECT md5('u' || u)::uuid::text, 'a' || lpad((u % :accounts + 1)::text, 7, '0'),
       'marketing', 'active', true, now()
FROM generate_series(1, :users) u
UNION ALL
SELECT md5('u' || u)::uuid::text, 'a' || lpad(((u + 1) % :accounts + 1)::text, 7, '0'),
       'view', 'active', true, now()
FROM generate_series(1, :users, 10) u;

INSERT INTO invitations (email, user_id, account_id, role_key, token_hash, expires_at,
                         invited_by, created_at, accepted_at)
SELECT 'person' || u || '@example-mail.org', md5('u' || u)::uuid::text,
       'a' || lpad((u % :accounts + 1)::text, 7, '0'), 'marketing',
       md5(u::text) || md5((-u)::text), now(), 'admin@example.org', now(), now()
FROM generate_series(1, :users) u;

INSERT INTO audit_events (at, account_id, actor_kind, actor_id, actor_label, face, request_id,
                          action, target_type, target_id, before, after)
SELECT now(), 'a' || lpad((u % :accounts + 1)::text, 7, '0'), 'api_token',
       'tok' || (u % 97), 'scripts@example.org', 'bulk', md5(u::text),
       (ARRAY['user.create', 'membership.create', 'invitation.accept'])[e], 'user',
       md5('u' || u)::uuid::text, NULL,
       json_build_object('user_id', md5('u' || u)::uuid::text, 'role', 'marketing',
                         'status', 'pending', 'app_ids', NULL, 'all_future_apps', true,
                         'media_sources', NULL, 'geos', NULL)
FROM generate_series(1, :users) u, generate_series(1, 3) e;
"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.table_sizes", description=__doc__)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    args = parser.parse_args()
    with open_target("postgresql", None) as target:
        upgrade_database(target.url)
        engine = sa.create_engine(target.url)
        with engine.begin() as conn:
            for statement in FILL.split(";\n"):
                if statement.strip():
                    conn.execute(
                        sa.text(statement), {"users": args.users, "accounts": args.accounts}
                    )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
            print(f"{'table':<14} {'rows':>10} {'bytes/row':>10} {'at 10M users':>14}")
            for table in TABLES:
                count = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                size = conn.execute(
                    sa.text("SELECT pg_total_relation_size(:t)"), {"t": table}
                ).scalar_one()
                per_row = size / max(count, 1)
                scale = 10_000_000 / args.users
                print(
                    f"{table:<14} {count:>10,} {per_row:>10,.0f} {size * scale / 2**30:>11.1f} GB"
                )
        engine.dispose()


if __name__ == "__main__":
    main()
