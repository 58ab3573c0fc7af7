#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (issue 18): `start`, `stop`, `restart`, `url`,
# `status`, `psql`.
#
# Debian's `postgresql` package binaries (initdb, pg_ctl from the newest
# /usr/lib/postgresql/*/bin) run a cluster whose data directory is build/pg/data and whose
# only way in is a Unix socket in a private directory (build/pg/socket, mode 0700): no TCP
# port is opened (listen_addresses=''), so nothing else on the machine can reach it, and trust
# authentication over that socket is safe. Its superuser role and database are both `billing`.
#
# initdb and postgres refuse to run as root, and CI runs as root: then the cluster belongs to
# a system user `billingpg` (created when missing, no login shell, no home) and its
# directories are made that user's. When that user cannot reach build/ (a checkout under a
# mode-0700 directory, as `mktemp -d` makes) or the socket's path would be too long for a Unix
# socket, the cluster lives in a private directory under /tmp instead, named in
# build/pg/home. Every run starts a fresh cluster: `start` stops one still running and wipes
# what an earlier one left. `stop` is idempotent (nothing running is not an error). `restart`
# is the fault of the fault test (stress/pg_fault.py): `pg_ctl restart -m immediate` kills
# the server without a checkpoint, so every connection drops mid-statement, and starts it
# again on the same data (crash recovery replays the WAL); the data stays. `psql ARGS…` runs
# the cluster's own psql (the same version) as the caller. The cluster is tuned for
# tests (fsync off): it survives a killed client or a restarted server, not a machine crash.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
state="$top/build/pg"
port=${BILLING_PG_PORT:-5432}   # names the socket file only: no TCP listener
service_user=billingpg

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "pg-cluster: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin;" \
         "install Debian's postgresql package (scripts/install-deps.sh does as root)" >&2
    exit 1
fi

# Runs a PostgreSQL binary as the cluster's owner: ourselves, or billingpg under root.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        # From /: the service user may not be allowed into the current directory.
        (cd / && runuser -u "$service_user" -- "$@")
    else
        "$@"
    fi
}

# The directory holding data/, socket/ and the log: build/pg, or the private /tmp one that
# an earlier start recorded in build/pg/home.
home_dir() {
    if [ -f "$state/home" ]; then cat "$state/home"; else echo "$state"; fi
}

ensure_service_user() {
    [ "$(id -u)" = 0 ] || return 0
    if ! id "$service_user" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$service_user"
    fi
}

running() {
    local home
    home=$(home_dir)
    [ -f "$home/data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" status -D "$home/data" >/dev/null 2>&1
}

url() {
    local home
    home=$(home_dir)
    echo "postgresql:///billing?host=$home/socket&port=$port&user=billing"
}

start() {
    ensure_service_user
    if [ "$(id -u)" != 0 ] && [ -e "$state" ] && ! [ -w "$state" ]; then
        echo "pg-cluster: $state belongs to another user (an earlier run as root made it" \
             "billingpg's); remove it as root (rm -rf $state) and start again" >&2
        exit 1
    fi
    mkdir -p "$state"
    # A fresh cluster each time: one still running is stopped, and whatever an earlier run
    # (stopped or killed) left goes.
    if running; then stop; fi
    local old
    old=$(home_dir)
    # Only a private directory this script made under /tmp is ever removed outside build/pg.
    case "$old" in
        "$state") ;;
        /tmp/billing-pg.??????) rm -rf "$old" ;;
        *) echo "pg-cluster: ignoring an unexpected recorded home '$old'" >&2 ;;
    esac
    rm -rf "$state/data" "$state/socket" "$state/home" "$state/server.log"

    local home=$state
    if [ "$(id -u)" = 0 ]; then
        chown "$service_user" "$state"
        chmod 0700 "$state"
        # The service user must be able to reach build/pg through every parent directory.
        if ! runuser -u "$service_user" -- test -x "$state" 2>/dev/null; then home=""; fi
    fi
    # A Unix socket's path is at most 107 bytes: socket/.s.PGSQL.<port> must fit.
    if [ -n "$home" ] && [ $(( ${#home} + 25 )) -gt 100 ]; then home=""; fi
    if [ -z "$home" ]; then
        home=$(mktemp -d /tmp/billing-pg.XXXXXX)
        echo "$home" > "$state/home"
        if [ "$(id -u)" = 0 ]; then chown "$service_user" "$home"; fi
        chmod 0700 "$home"
    fi
    as_owner mkdir -p -m 0700 "$home/data" "$home/socket"

    as_owner "$bindir/initdb" --pgdata="$home/data" --username=billing --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$home/initdb.log" 2>&1 || {
        echo "pg-cluster: initdb failed:" >&2; cat "$home/initdb.log" >&2; exit 1; }
    # Only the socket, only local connections; tuned for throwaway test data.
    cat >> "$home/data/postgresql.conf" <<EOF
listen_addresses = ''
port = $port
unix_socket_directories = '$home/socket'
unix_socket_permissions = 0700
fsync = off
full_page_writes = off
max_connections = 100
EOF
    as_owner "$bindir/pg_ctl" start -D "$home/data" -l "$home/server.log" -w -t 60 >/dev/null || {
        echo "pg-cluster: the server did not start:" >&2; tail -n 30 "$home/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h "$home/socket" -p "$port" -U billing billing || {
        echo "pg-cluster: createdb failed; stopping the server" >&2; stop; exit 1; }
    echo "pg-cluster: started ($(url))" >&2
}

stop() {
    local home
    home=$(home_dir)
    if [ ! -f "$home/data/PG_VERSION" ]; then return 0; fi
    if running; then
        as_owner "$bindir/pg_ctl" stop -D "$home/data" -m fast -w -t 60 >/dev/null
        echo "pg-cluster: stopped" >&2
    fi
}

# The fault the fault test injects: an immediate shutdown (no checkpoint, every backend
# killed, as a crashed server) and a start on the same data, waiting until it accepts
# connections again.
restart() {
    local home
    home=$(home_dir)
    if ! running; then
        echo "pg-cluster: not running; nothing to restart" >&2
        exit 1
    fi
    as_owner "$bindir/pg_ctl" restart -D "$home/data" -m immediate -l "$home/server.log" -w -t 60 >/dev/null || {
        echo "pg-cluster: the server did not come back:" >&2; tail -n 30 "$home/server.log" >&2; exit 1; }
    echo "pg-cluster: restarted (immediate)" >&2
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) restart ;;
    psql) shift; exec "$bindir/psql" -X -q "$@" ;;
    url) url ;;
    status) if running; then echo "running: $(url)"; else echo "stopped"; exit 3; fi ;;
    *) echo "usage: $0 start|stop|restart|url|status|psql [ARGS…]" >&2; exit 2 ;;
esac
