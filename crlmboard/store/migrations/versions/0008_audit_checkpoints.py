"""Audit checkpoints on PostgreSQL: a key only the schema owner can read, and functions that
sign and verify the chain head with it (AUDIT-DESIGN.md, issue 23 item 9).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

`audit_key` holds one random 32-byte key (pgcrypto's `gen_random_bytes`), owned by the role
that runs the migrations, with every privilege revoked from PUBLIC: the app's roles never
read it.  `crlmboard_checkpoint()` (SECURITY DEFINER) returns the current head's checkpoint
`{"database_id", "seq", "hash", "at", "mac"}` with
`mac = HMAC-SHA256(key, "crlmboard-checkpoint/1|{database_id}|{seq}|{hash}|{at}")`, and
`crlmboard_verify_checkpoint(...)` says whether a checkpoint is authentic — the same format
as `store/checkpoints.py` signs on SQLite with the key kept outside the file.  SQLite keeps
its key in the OS keyring or the user's key folder (`store/keys.py`): nothing to do here.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHECKPOINT_FORMAT = "crlmboard-checkpoint/1"

POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pgcrypto",
    """
    CREATE TABLE audit_key (
        id integer PRIMARY KEY CHECK (id = 1),
        key bytea NOT NULL CHECK (length(key) = 32)
    )
    """,
    "REVOKE ALL ON audit_key FROM PUBLIC",
    "INSERT INTO audit_key (id, key) VALUES (1, gen_random_bytes(32))",
    """
    CREATE FUNCTION crlmboard_checkpoint_mac(
        p_kind text, p_database_id text, p_seq bigint, p_hash text, p_at text
    ) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT encode(
            hmac(
                convert_to(p_kind || '|' || p_database_id || '|' || p_seq::text || '|'
                           || p_hash || '|' || p_at, 'UTF8'),
                (SELECT key FROM audit_key WHERE id = 1),
                'sha256'),
            'hex')
    $$
    """,
    "REVOKE ALL ON FUNCTION crlmboard_checkpoint_mac(text, text, bigint, text, text) FROM PUBLIC",
    f"""
    CREATE FUNCTION crlmboard_checkpoint() RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
        v_database_id text;
        v_seq bigint;
        v_hash text;
        v_at text;
    BEGIN
        SELECT value INTO v_database_id FROM setting WHERE key = 'database_id';
        SELECT seq, row_hash INTO v_seq, v_hash FROM audit_event ORDER BY seq DESC LIMIT 1;
        IF v_seq IS NULL THEN
            v_seq := 0;
            v_hash := repeat('0', 64);
        END IF;
        v_at := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
        RETURN jsonb_build_object(
            'database_id', v_database_id, 'seq', v_seq, 'hash', v_hash, 'at', v_at,
            'mac', crlmboard_checkpoint_mac(
                '{CHECKPOINT_FORMAT}', v_database_id, v_seq, v_hash, v_at));
    END
    $$
    """,
    """
    CREATE FUNCTION crlmboard_verify_checkpoint(
        p_database_id text, p_seq bigint, p_hash text, p_at text, p_mac text,
        p_kind text DEFAULT 'crlmboard-checkpoint/1'
    ) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT crlmboard_checkpoint_mac(p_kind, p_database_id, p_seq, p_hash, p_at) = p_mac
    $$
    """,
]

POSTGRESQL_DOWN = [
    "DROP FUNCTION IF EXISTS crlmboard_verify_checkpoint(text, bigint, text, text, text, text)",
    "DROP FUNCTION IF EXISTS crlmboard_checkpoint()",
    "DROP FUNCTION IF EXISTS crlmboard_checkpoint_mac(text, text, bigint, text, text)",
    "DROP TABLE IF EXISTS audit_key",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the key lives outside the file (store/keys.py)
    for statement in POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in POSTGRESQL_DOWN:
        op.execute(statement)
