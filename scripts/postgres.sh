# Throw-away PostgreSQL servers on 127.0.0.1 for the store tests (sourced by test.sh).
#
#   start_postgres [N]   starts N servers (default 1), each in its own folder on its own
#                        random port, and exports
#                          CRLMBOARD_TEST_PG_URL       the first server's URL
#                          CRLMBOARD_TEST_PG_RESTART   how a test restarts the first server
#                          CRLMBOARD_TEST_PG_URL_<i>, CRLMBOARD_TEST_PG_RESTART_<i>
#                                                      the same for server i = 0 … N-1
#   stop_postgres        stops them and removes their folders
#
# The parallel test run (pytest-xdist) gives worker gw<i> server i (tests/conftest.py):
# roles are per server and a test may restart its server, so two workers never share one.
start_postgres() {
  local count=${1:-1} bindir index
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL server binaries not found (package postgresql)" >&2
    return 1
  fi
  PG_RUN=()
  if [ "$(id -u)" = 0 ]; then
    PG_RUN=(runuser -u postgres --)
  fi
  PG_BIN=$bindir
  PG_DIRS=()
  for ((index = 0; index < count; index++)); do
    _start_one_postgres "$index" || return 1
  done
  export CRLMBOARD_TEST_PG_URL=$CRLMBOARD_TEST_PG_URL_0
  export CRLMBOARD_TEST_PG_RESTART=$CRLMBOARD_TEST_PG_RESTART_0
}

_start_one_postgres() {
  local index=$1 dir port
  dir=$(mktemp -d /tmp/crlmboard-pg.XXXXXX)
  PG_DIRS+=("$dir")
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir"
  fi
  port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$dir/data" -U crlmboard --auth=trust -E UTF8 \
    --no-locale >/dev/null
  # The superuser `crlmboard` keeps trust auth (the tests' schema owner); every other role
  # logs in with a SCRAM password, as a department's users do (tests of issue 20).
  "${PG_RUN[@]}" sh -c "cat > '$dir/data/pg_hba.conf'" <<'HBA'
local all crlmboard trust
host  all crlmboard 127.0.0.1/32 trust
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
HBA
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export "CRLMBOARD_TEST_PG_URL_$index=postgresql+psycopg://crlmboard@127.0.0.1:$port/postgres"
  # how a test restarts this server (tests/reliability/test_department.py)
  export "CRLMBOARD_TEST_PG_RESTART_$index=${PG_RUN[*]} $PG_BIN/pg_ctl -D $dir/data -l $dir/log -m fast -w restart"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $port"
}

stop_postgres() {
  local dir
  for dir in ${PG_DIRS[@]+"${PG_DIRS[@]}"}; do
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    rm -rf "$dir"
  done
  PG_DIRS=()
}
