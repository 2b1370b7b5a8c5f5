#!/usr/bin/env bash
# A throw-away PostgreSQL 15 for the store tests, from Debian's packages.
#   scripts/pg-test-server.sh start DIR   creates DIR, initdb, starts the server
#                                        on a free port of 127.0.0.1 and prints
#                                        its URL (postgres://postgres@127.0.0.1:PORT/boucle_test)
#   scripts/pg-test-server.sh stop DIR    stops it and removes DIR
# The server runs as the `postgres` user (initdb refuses root); fsync is off:
# the data is thrown away anyway.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { bindir=$d; break; }
  done
fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || {
  echo "pg-test-server: no PostgreSQL server binaries (apt-get install postgresql)" >&2
  exit 1
}

# Runs a server binary as postgres (we may be root), or as ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres boucle_test
  echo "postgres://postgres@127.0.0.1:$port/boucle_test"
  ;;
stop)
  [ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
