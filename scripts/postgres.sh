# A throw-away PostgreSQL server on 127.0.0.1 for the store tests (sourced by test.sh).
# Exports CRLMBOARD_TEST_PG_URL.
start_postgres() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL server binaries not found (package postgresql)" >&2
    return 1
  fi
  PG_DIR=$(mktemp -d /tmp/crlmboard-pg.XXXXXX)
  local run=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  PG_PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${run[@]}" "$bindir/initdb" -D "$PG_DIR/data" -U crlmboard --auth=trust -E UTF8 \
    --no-locale >/dev/null
  # The superuser `crlmboard` keeps trust auth (the tests' schema owner); every other role
  # logs in with a SCRAM password, as a department's users do (tests of issue 20).
  "${run[@]}" sh -c "cat > '$PG_DIR/data/pg_hba.conf'" <<'HBA'
local all crlmboard trust
host  all crlmboard 127.0.0.1/32 trust
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
HBA
  "${run[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  PG_RUN=("${run[@]}")
  PG_BIN=$bindir
  export CRLMBOARD_TEST_PG_URL="postgresql+psycopg://crlmboard@127.0.0.1:$PG_PORT/postgres"
  echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $PG_PORT"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null || true
    rm -rf "$PG_DIR"
  fi
}
