"""Who is who on a department's PostgreSQL store: group roles, their rights, the users
table, the audit actor and signatures made by the server (issue 20).

Nothing changes on SQLite (one person's file: the OS account is the user).

On PostgreSQL:
- group roles `crlmboard_viewer` (read), `crlmboard_coordinator` (viewer + cases, meetings,
  agendas, follow-up), `crlmboard_clinician` (coordinator + sign and amend reviews) and
  `crlmboard_admin` (viewer + users and the database's settings), made when missing (roles
  belong to the server, so two crlmboard databases on one server share them);
- GRANTs on the tables this revision knows, by name (a table added later gets its grants
  from its own migration; nothing is granted on `ALL TABLES`, so a secret table such as an
  audit key stays private);
- `board_user`: login role -> printed name and role, written only through the SECURITY
  DEFINER functions `crlmboard_add_user`, `crlmboard_disable_user`,
  `crlmboard_enable_user` (callable by an admin or the schema owner);
- the audit actor: a trigger refuses an audit row whose `app_user` is not `session_user`
  (the client writes `session_user`, read from the server, so the row hash stays
  verifiable);
- signatures: `crlmboard_signature()` gives a clinician their printed name and the
  server's time (truncated to the second); a trigger refuses a review signed by anyone but
  a clinician, or with another name or another time.  The schema owner and superusers may
  store reviews signed elsewhere (a case file from another system); their rows carry their
  own login as the audit actor.

The role and login names are quoted with `format('%I')`; passwords arrive as SCRAM
verifiers made by the client (libpq's PQencryptPasswordConn), never in clear text.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GROUPS = ("crlmboard_viewer", "crlmboard_coordinator", "crlmboard_clinician", "crlmboard_admin")

READ_TABLES = (
    "alembic_version",
    "patient",
    "primary_tumour",
    "molecular_profile",
    "surgical_plan",
    "extrahepatic_disease",
    "lab_result",
    "chemotherapy_cycle",
    "immunotherapy_dose",
    "procedure",
    "imaging_timepoint",
    "lesion_measurement",
    "surgery_outcome",
    "review",
    "meeting",
    "meeting_attendee",
    "agenda_item",
    "review_follow_up",
    "audit_event",
    "setting",
    "board_user",
)
# What a coordinator edits (reviews: drafts; a signature needs a clinician, see the trigger).
EDIT_TABLES = (
    "patient",
    "primary_tumour",
    "molecular_profile",
    "surgical_plan",
    "extrahepatic_disease",
    "lab_result",
    "chemotherapy_cycle",
    "immunotherapy_dose",
    "procedure",
    "imaging_timepoint",
    "lesion_measurement",
    "surgery_outcome",
    "review",
    "meeting",
    "meeting_attendee",
    "agenda_item",
    "review_follow_up",
)

ACTOR_MESSAGE = "the audit actor must be the session user"
SIGNER_MESSAGE = "only a clinician can sign or amend a review"
SIGNATURE_MESSAGE = (
    "a signature is made by the server: its name must be the printed name of the session "
    "user and its time the time of the server"
)
ADMIN_MESSAGE = "only a crlmboard administrator can manage users"

_FUNCTIONS = [
    # whether the session user may act as the schema owner (superuser or owner of the schema)
    """CREATE OR REPLACE FUNCTION crlmboard_is_owner() RETURNS boolean
        LANGUAGE sql STABLE AS $$
        SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
            OR pg_has_role(session_user, (SELECT nspowner FROM pg_namespace
                                          WHERE nspname = current_schema()), 'MEMBER')
        $$""",
    """CREATE OR REPLACE FUNCTION crlmboard_printed_name() RETURNS text
        LANGUAGE sql STABLE AS $$
        SELECT coalesce((SELECT display_name FROM board_user WHERE login = session_user),
                        session_user::text)
        $$""",
    f"""CREATE OR REPLACE FUNCTION crlmboard_signature(
            OUT signer text, OUT signed_at timestamptz, OUT login text)
        LANGUAGE plpgsql STABLE AS $$
        BEGIN
          IF NOT pg_has_role(session_user, 'crlmboard_clinician', 'USAGE') THEN
            RAISE EXCEPTION '{SIGNER_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
          END IF;
          signer := crlmboard_printed_name();
          signed_at := date_trunc('second', transaction_timestamp());
          login := session_user;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION crlmboard_review_signature() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.signed_at IS NULL AND NEW.signed_by IS NULL THEN RETURN NEW; END IF;
          IF TG_OP = 'UPDATE' AND OLD.signed_at IS NOT NULL THEN RETURN NEW; END IF;
          IF NOT pg_has_role(session_user, 'crlmboard_clinician', 'USAGE') THEN
            RAISE EXCEPTION '{SIGNER_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF crlmboard_is_owner() THEN RETURN NEW; END IF;
          IF NEW.signed_by IS DISTINCT FROM crlmboard_printed_name()
             OR NEW.signed_at IS DISTINCT FROM date_trunc('second', transaction_timestamp())
          THEN
            RAISE EXCEPTION '{SIGNATURE_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$""",
    f"""CREATE OR REPLACE FUNCTION crlmboard_audit_actor() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.app_user IS DISTINCT FROM session_user::text THEN
            RAISE EXCEPTION '{ACTOR_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$""",
    # user management: runs with the owner's rights, for an admin or the owner only
    f"""CREATE OR REPLACE FUNCTION crlmboard_require_admin() RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
          IF NOT (pg_has_role(session_user, 'crlmboard_admin', 'USAGE') OR crlmboard_is_owner())
          THEN
            RAISE EXCEPTION '{ADMIN_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
          END IF;
        END $$""",
    """CREATE OR REPLACE FUNCTION crlmboard_add_user(
            p_login text, p_display text, p_roles text[], p_verifier text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
        DECLARE
          r text;
        BEGIN
          PERFORM crlmboard_require_admin();
          IF p_login IS NULL OR p_login !~ '^[a-z_][a-z0-9_.@-]{0,62}$' THEN
            RAISE EXCEPTION 'a user name is lower-case letters, digits and _ . @ - (at most 63)'
              USING ERRCODE = 'invalid_parameter_value';
          END IF;
          IF p_login LIKE 'crlmboard%' OR p_login LIKE 'pg\\_%' THEN
            RAISE EXCEPTION 'the user name % is reserved', p_login
              USING ERRCODE = 'invalid_parameter_value';
          END IF;
          IF cardinality(p_roles) = 0 THEN
            RAISE EXCEPTION 'give the user a role' USING ERRCODE = 'invalid_parameter_value';
          END IF;
          FOREACH r IN ARRAY p_roles LOOP
            IF r NOT IN ('viewer', 'coordinator', 'clinician', 'admin') THEN
              RAISE EXCEPTION 'there is no role %: viewer, coordinator, clinician or admin', r
                USING ERRCODE = 'invalid_parameter_value';
            END IF;
          END LOOP;
          IF p_verifier IS NOT NULL AND p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
            RAISE EXCEPTION 'a password arrives as a SCRAM verifier'
              USING ERRCODE = 'invalid_parameter_value';
          END IF;
          IF EXISTS (SELECT 1 FROM board_user WHERE login = p_login) THEN
            RAISE EXCEPTION 'there is already a user %', p_login
              USING ERRCODE = 'duplicate_object';
          END IF;
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login) THEN
            -- an existing server login (Kerberos, LDAP): made a board user, password kept
            IF p_verifier IS NOT NULL THEN
              EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', p_login, p_verifier);
            END IF;
          ELSIF p_verifier IS NULL THEN
            EXECUTE format('CREATE ROLE %I LOGIN', p_login);
          ELSE
            EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', p_login, p_verifier);
          END IF;
          FOREACH r IN ARRAY p_roles LOOP
            EXECUTE format('GRANT %I TO %I', 'crlmboard_' || r, p_login);
          END LOOP;
          INSERT INTO board_user (login, display_name, roles, created_at, created_by)
            VALUES (p_login, coalesce(nullif(btrim(p_display), ''), p_login),
                    array_to_string(p_roles, ','), now(), session_user);
        END $$""",
    """CREATE OR REPLACE FUNCTION crlmboard_disable_user(p_login text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
        BEGIN
          PERFORM crlmboard_require_admin();
          IF NOT EXISTS (SELECT 1 FROM board_user WHERE login = p_login) THEN
            RAISE EXCEPTION 'there is no user %', p_login USING ERRCODE = 'undefined_object';
          END IF;
          IF p_login = session_user THEN
            RAISE EXCEPTION 'an administrator cannot disable their own login'
              USING ERRCODE = 'invalid_parameter_value';
          END IF;
          EXECUTE format('ALTER ROLE %I NOLOGIN', p_login);
          UPDATE board_user SET disabled_at = now(), disabled_by = session_user
            WHERE login = p_login;
        END $$""",
    """CREATE OR REPLACE FUNCTION crlmboard_enable_user(p_login text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
        BEGIN
          PERFORM crlmboard_require_admin();
          IF NOT EXISTS (SELECT 1 FROM board_user WHERE login = p_login) THEN
            RAISE EXCEPTION 'there is no user %', p_login USING ERRCODE = 'undefined_object';
          END IF;
          EXECUTE format('ALTER ROLE %I LOGIN', p_login);
          UPDATE board_user SET disabled_at = NULL, disabled_by = NULL WHERE login = p_login;
        END $$""",
]

_FUNCTION_SIGNATURES = (
    "crlmboard_enable_user(text)",
    "crlmboard_disable_user(text)",
    "crlmboard_add_user(text, text, text[], text)",
    "crlmboard_require_admin()",
    "crlmboard_audit_actor()",
    "crlmboard_review_signature()",
    "crlmboard_signature()",
    "crlmboard_printed_name()",
    "crlmboard_is_owner()",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE TABLE board_user (
            login text PRIMARY KEY,
            display_name text NOT NULL UNIQUE,
            roles text NOT NULL,
            created_at timestamptz NOT NULL,
            created_by text NOT NULL,
            disabled_at timestamptz,
            disabled_by text
        )"""
    )
    groups = ", ".join(f"'{g}'" for g in GROUPS)
    op.execute(
        f"""
        DO $$
        DECLARE g text;
        BEGIN
          FOREACH g IN ARRAY ARRAY[{groups}] LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g) THEN
              EXECUTE format('CREATE ROLE %I NOLOGIN', g);
            END IF;
          END LOOP;
        END $$"""
    )
    op.execute("GRANT crlmboard_viewer TO crlmboard_coordinator")
    op.execute("GRANT crlmboard_coordinator TO crlmboard_clinician")
    op.execute("GRANT crlmboard_viewer TO crlmboard_admin")
    op.execute(
        "DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO crlmboard_viewer', "
        "current_schema()); END $$"
    )
    schema = op.get_bind().exec_driver_sql("SELECT quote_ident(current_schema())").scalar()
    for statement in _FUNCTIONS:
        op.execute(statement.replace("{schema}", str(schema)))
    op.execute(
        """CREATE TRIGGER review_signature BEFORE INSERT OR UPDATE ON review
        FOR EACH ROW EXECUTE FUNCTION crlmboard_review_signature()"""
    )
    op.execute(
        """CREATE TRIGGER audit_event_actor BEFORE INSERT ON audit_event
        FOR EACH ROW EXECUTE FUNCTION crlmboard_audit_actor()"""
    )
    op.execute(f"GRANT SELECT ON {', '.join(READ_TABLES)} TO crlmboard_viewer")
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(EDIT_TABLES)} TO crlmboard_coordinator")
    op.execute("GRANT INSERT ON audit_event TO crlmboard_coordinator, crlmboard_admin")
    op.execute("GRANT INSERT, UPDATE ON setting TO crlmboard_admin")
    op.execute(
        "DO $$ BEGIN EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I "
        "TO crlmboard_coordinator', current_schema()); END $$"
    )
    # Functions are executable by PUBLIC by default: the user functions only by the groups
    # (each checks for an admin itself).
    for name in _FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {name} TO {', '.join(GROUPS)}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_actor ON audit_event")
    op.execute("DROP TRIGGER IF EXISTS review_signature ON review")
    for name in _FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {name}")
    # The group roles belong to the server (other databases may use them): revoke this
    # database's grants, keep the roles.
    groups = ", ".join(GROUPS)
    op.execute(f"REVOKE ALL ON {', '.join(READ_TABLES[:-1])} FROM {groups}")
    op.execute(
        "DO $$ BEGIN EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM "
        "crlmboard_coordinator', current_schema()); "
        "EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM crlmboard_viewer', current_schema()); "
        "END $$"
    )
    op.execute("DROP TABLE board_user")
