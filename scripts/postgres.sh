#!/usr/bin/env bash
# A PostgreSQL cluster for the studio's store and Optuna studies: start it, stop it, or print its URL.
#
# Usage: bash scripts/postgres.sh start|stop|url [FOLDER]
#   FOLDER              where the cluster lives (default $FORECASTER_HOME/postgres, FORECASTER_HOME
#                       defaulting to ~/.forecaster); when run as root, one the postgres user can reach
#   FORECASTER_PG_PORT  its port on 127.0.0.1, chosen when the cluster is first made (default 5433,
#                       clear of a system server on 5432)
#   FORECASTER_PG_OPTIONS  extra server settings, e.g. "-c fsync=off" for throw-away test clusters
# The first start makes the cluster (initdb) with a role "forecaster" (a random password, CREATEDB)
# and a database "forecaster", and listens on 127.0.0.1 only. start and url print the store's URL:
#   export FORECASTER_STORE="$(bash scripts/postgres.sh start)"
# The server refuses to run as root, so as root every server command runs as the postgres user.
set -euo pipefail

action=${1:-}
folder=${2:-${FORECASTER_HOME:-$HOME/.forecaster}/postgres}
if [[ $action != start && $action != stop && $action != url ]]; then
    echo "usage: bash scripts/postgres.sh start|stop|url [FOLDER]" >&2
    exit 2
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z $bindir || ! -x $bindir/postgres ]]; then
    echo "error: PostgreSQL is not installed; run: apt-get install -y postgresql" >&2
    exit 1
fi
as=()
if [[ $(id -u) == 0 ]]; then
    as=(runuser -u postgres --)
fi

url() {
    echo "postgresql+psycopg://forecaster:$(cat "$folder/password")@127.0.0.1:$(cat "$folder/port")/forecaster"
}

if [[ $action == stop ]]; then
    if [[ -f $folder/data/postmaster.pid ]]; then
        "${as[@]}" "$bindir/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null
    fi
    exit 0
fi
if [[ $action == url ]]; then
    url
    exit 0
fi

mkdir -p "$folder"
folder=$(cd "$folder" && pwd)
fresh=0
if [[ ! -f $folder/data/PG_VERSION ]]; then
    echo "${FORECASTER_PG_PORT:-5433}" > "$folder/port"
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24 > "$folder/password")
    if [[ ${#as[@]} -gt 0 ]]; then
        chown postgres "$folder"
        chmod 700 "$folder"
        if ! "${as[@]}" test -w "$folder"; then
            echo "error: the postgres user cannot reach $folder; give a folder outside root's home," \
                 "e.g. bash scripts/postgres.sh start /var/lib/forecaster-postgres" >&2
            exit 1
        fi
    fi
    # Local socket connections (only the cluster's owner can reach the socket folder) are trusted;
    # TCP ones need the password.
    "${as[@]}" "$bindir/initdb" -D "$folder/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$folder/initdb.log" 2>&1 \
        || { cat "$folder/initdb.log" >&2; exit 1; }
    fresh=1
fi
port=$(cat "$folder/port")
if ! "${as[@]}" "$bindir/pg_ctl" -D "$folder/data" status >/dev/null 2>&1; then
    "${as[@]}" "$bindir/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $folder ${FORECASTER_PG_OPTIONS:-}" start >/dev/null \
        || { tail -n 20 "$folder/server.log" >&2; exit 1; }
fi
if [[ $fresh == 1 ]]; then
    "${as[@]}" "$bindir/psql" -h "$folder" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE forecaster LOGIN CREATEDB PASSWORD '$(cat "$folder/password")'" \
        -c "CREATE DATABASE forecaster OWNER forecaster" >/dev/null
fi
url
