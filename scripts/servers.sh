#!/usr/bin/env bash
# Throwaway Redis and PostgreSQL servers for the scale-out tests, from Debian's
# packages (scripts/setup.sh --servers installs them), on free loopback ports,
# with all their files under one folder.
#
#   bash scripts/servers.sh start DIR   # prints INTAKE_TEST_BROKER_URL=... and INTAKE_TEST_DATABASE_URL=...
#   bash scripts/servers.sh stop DIR
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# `postgres` user the Debian package creates, and its commands run as that user.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?folder for the servers\' files}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n $d ]] || { echo "servers: PostgreSQL is not installed (bash scripts/setup.sh --servers)" >&2; exit 1; }
  echo "$d"
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case $cmd in
start)
  command -v redis-server >/dev/null || { echo "servers: redis-server is not installed (bash scripts/setup.sh --servers)" >&2; exit 1; }
  bin=$(pg_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"
  # A start that fails half-way stops what it had started.
  trap 'bash "$0" stop "$dir" >/dev/null 2>&1' ERR
  rport=$(free_port)
  redis-server --port "$rport" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no >/dev/null
  pport=$(free_port)
  # The cluster gets a folder of its own under /tmp: DIR's parents may be closed to the
  # postgres user (pytest's are 0700).
  pg=$(mktemp -d /tmp/intake-pg.XXXXXX)
  echo "$pg" >"$dir/pg.path"
  chmod 755 "$pg"
  mkdir -p "$pg/data" "$pg/sock"
  [[ $(id -u) -eq 0 ]] && chown -R postgres "$pg"
  chmod 700 "$pg/data"
  as_pg "$bin/initdb" -D "$pg/data" -U intake --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
  # fsync off: a test cluster thrown away after the run; durability is PostgreSQL's own business.
  as_pg "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
    -o "-p $pport -k $pg/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$pport" -U intake intake
  for _ in $(seq 1 50); do
    redis-cli -p "$rport" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "INTAKE_TEST_BROKER_URL=redis://127.0.0.1:$rport/0"
  echo "INTAKE_TEST_DATABASE_URL=postgresql+psycopg://intake@127.0.0.1:$pport/intake"
  ;;
stop)
  [[ -d $dir ]] || exit 0
  if [[ -f $dir/redis.pid ]]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  if [[ -f $dir/pg.path ]]; then
    pg=$(cat "$dir/pg.path")
    as_pg "$(pg_bin)/pg_ctl" -D "$pg/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg"
  fi
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
