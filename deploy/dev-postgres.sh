#!/usr/bin/env bash
# Throw-away PostgreSQL 15 cluster for development and tests.
#
# Usage: deploy/dev-postgres.sh [start|stop|url|status|destroy] [name]
#   start    (default) init the cluster if needed, start it if not running,
#            ensure database "trade" exists; prints the Npgsql connection
#            string as the last line of stdout. Idempotent.
#   stop     stop the cluster (data is kept).
#   url      print the connection string of the running cluster.
#   status   exit 0 if running, 3 if not.
#   destroy  stop the cluster and delete its folder.
#
# Environment:
#   PGDEV_DIR  cluster folder (default: <repo>/.pgdata/<name>, name "dev")
#   PG_BIN     PostgreSQL binaries (default: /usr/lib/postgresql/15/bin)
#   PGDEV_DB   database to create (default: trade)
#   PGDEV_CONF extra server settings, one "name = value" per line, appended to
#              the cluster's configuration at each start (e.g. memory and
#              checkpoint sizes for a benchmark; durability stays on)
#
# Only the connection string goes to stdout; diagnostics go to stderr.
# Listens on 127.0.0.1 only, trust auth, fsync on. initdb and postgres refuse
# to run as root, so as root the folder is owned by "postgres" and the
# server tools run through runuser.
set -euo pipefail

die() { echo "dev-postgres: error: $*" >&2; exit 1; }
log() { echo "dev-postgres: $*" >&2; }

cmd="${1:-start}"
name="${2:-dev}"
case "$cmd" in
    start|stop|url|status|destroy) ;;
    -h|--help|help) sed -n '2,21p' "$0" >&2; exit 0 ;;
    *) die "unknown command '$cmd' (start|stop|url|status|destroy)" ;;
esac
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "invalid name '$name'"

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null || (cd "$script_dir/.." && pwd))"

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PGDEV_DB="${PGDEV_DB:-trade}"
dir="${PGDEV_DIR:-$repo_root/.pgdata/$name}"
if [[ ! -d "$dir" ]]; then
    case "$cmd" in
        start) mkdir -p "$dir" ;;
        status) log "not running ($dir)"; exit 3 ;;
        url) die "not running ($dir)" ;;
        stop|destroy) log "nothing at $dir"; exit 0 ;;
    esac
fi
dir="$(cd "$dir" && pwd)"
data="$dir/data"
sock="$dir/run"
logfile="$dir/postgres.log"
marker="$dir/.dev-postgres"

for tool in initdb pg_ctl pg_isready psql; do
    [[ -x "$PG_BIN/$tool" ]] || die "$PG_BIN/$tool not found (set PG_BIN)"
done

# Run a server tool as the cluster owner. fd 9 (the lock) is not passed on,
# or the postmaster would hold the lock for its whole life.
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@" 9>&-
    else
        "$@" 9>&-
    fi
}

# Serialise concurrent invocations on the same folder.
exec 9>"$dir/.lock"
if command -v flock >/dev/null 2>&1; then
    flock -w 120 9 || die "timed out waiting for the lock on $dir"
fi

is_running() {
    [[ -f "$data/PG_VERSION" ]] && as_owner "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

configured_port() {
    [[ -f "$data/dev-postgres.conf" ]] || return 0
    sed -n "s/^port = \([0-9]*\).*/\1/p" "$data/dev-postgres.conf" | tail -n 1
}

# The port the running server listens on (line 4 of postmaster.pid), else the configured one. They differ when a start
# timed out on a loaded machine but the server came up after all, and a retry wrote another port into the configuration.
server_port() {
    local p=""
    [[ -f "$data/postmaster.pid" ]] && p="$(sed -n 4p "$data/postmaster.pid" 2>/dev/null | tr -dc '0-9')"
    if [[ -n "$p" ]]; then echo "$p"; else configured_port; fi
}

conn_string() {
    echo "Host=127.0.0.1;Port=$1;Database=$PGDEV_DB;Username=postgres;Pooling=true;Maximum Pool Size=64"
}

port_is_free() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

pick_port() {
    local p
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    for _ in $(seq 1 200); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    die "no free port found"
}

wait_ready() {
    local port="$1"
    for _ in $(seq 1 120); do
        if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U postgres; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

init_cluster() {
    log "initialising cluster in $data"
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root but user 'postgres' does not exist"
        chown -R postgres:postgres "$dir"
        # The owner must be able to reach the folder.
        runuser -u postgres -- test -w "$dir" || die "user postgres cannot write to $dir (check parent folder permissions)"
    fi
    rm -rf "$data"
    as_owner "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=trust >>"$logfile" 2>&1 \
        || { tail -n 20 "$logfile" >&2; die "initdb failed (see $logfile)"; }
    # Loopback only, trust auth.
    cat >"$data/pg_hba.conf" <<'EOF'
local   all all              trust
host    all all 127.0.0.1/32 trust
EOF
    echo "include 'dev-postgres.conf'" >>"$data/postgresql.conf"
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$data/pg_hba.conf" "$data/postgresql.conf"
    touch "$marker"
}

write_conf() {
    local port="$1"
    local sockdir="$sock"
    # Unix socket paths are limited to ~107 bytes.
    if (( ${#sockdir} > 90 )); then
        sockdir=""
        log "folder path too long for a unix socket; TCP only"
    fi
    cat >"$data/dev-postgres.conf" <<EOF
# Written by deploy/dev-postgres.sh
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
max_connections = 300
fsync = on
synchronous_commit = on
full_page_writes = on
timezone = 'UTC'
log_timezone = 'UTC'
EOF
    if [[ -n "${PGDEV_CONF:-}" ]]; then
        printf '# From PGDEV_CONF\n%s\n' "$PGDEV_CONF" >>"$data/dev-postgres.conf"
    fi
    [[ $EUID -eq 0 ]] && chown postgres:postgres "$data/dev-postgres.conf"
    return 0
}

start_cluster() {
    if [[ ! -f "$data/PG_VERSION" ]]; then
        init_cluster
    fi
    mkdir -p "$sock"
    [[ $EUID -eq 0 ]] && chown -R postgres:postgres "$dir"

    local port attempt
    port="$(configured_port)"
    for attempt in 1 2 3; do
        if [[ -z "$port" ]] || ! port_is_free "$port"; then
            port="$(pick_port)"
        fi
        write_conf "$port"
        log "starting on 127.0.0.1:$port (log: $logfile)"
        if as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$logfile" -w -t 60 start >&2; then
            break
        fi
        if is_running; then
            # Slower than pg_ctl's wait, but up: keep it (another attempt would only rewrite the port it does not use).
            port="$(server_port)"
            write_conf "$port"
            log "start attempt $attempt outlasted pg_ctl's wait; the server is up on 127.0.0.1:$port"
            break
        fi
        log "start attempt $attempt failed"
        port=""
        if (( attempt == 3 )); then
            tail -n 20 "$logfile" >&2
            die "could not start PostgreSQL (see $logfile)"
        fi
    done
    wait_ready "$port" || die "server did not become ready (see $logfile)"
}

ensure_database() {
    local port="$1" exists
    exists="$("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -XtAq \
        -c "SELECT 1 FROM pg_database WHERE datname = '$PGDEV_DB'")"
    if [[ "$exists" != "1" ]]; then
        log "creating database $PGDEV_DB"
        "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Xq \
            -c "CREATE DATABASE \"$PGDEV_DB\"" >&2
    fi
}

case "$cmd" in
    start)
        if is_running; then
            port="$(server_port)"
            log "already running on 127.0.0.1:$port"
            wait_ready "$port" || die "running but not ready (see $logfile)"
        else
            start_cluster
            port="$(server_port)"
        fi
        ensure_database "$port"
        conn_string "$port"
        ;;
    stop)
        if is_running; then
            as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >&2
        else
            log "not running"
        fi
        ;;
    url)
        is_running || die "not running ($dir)"
        conn_string "$(server_port)"
        ;;
    status)
        if is_running; then
            log "running on 127.0.0.1:$(server_port) ($dir)"
        else
            log "not running ($dir)"
            exit 3
        fi
        ;;
    destroy)
        if is_running; then
            as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >&2
        fi
        if [[ -f "$marker" || ! -e "$data" ]]; then
            exec 9>&-
            rm -rf "$dir"
            log "removed $dir"
        else
            die "$dir was not created by this script; not removing it"
        fi
        ;;
esac
