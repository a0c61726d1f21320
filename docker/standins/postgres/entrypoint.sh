#!/bin/bash
# First start: a cluster with POSTGRES_USER (password POSTGRES_PASSWORD) and POSTGRES_DB.
set -e
chown -R postgres:postgres "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "$POSTGRES_PASSWORD" > /tmp/pw
  su postgres -c "initdb -D $PGDATA -U $POSTGRES_USER --pwfile=/tmp/pw --auth-host=scram-sha-256 --auth-local=trust" >/dev/null
  rm /tmp/pw
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  su postgres -c "pg_ctl -D $PGDATA -w start -o '-c listen_addresses=localhost'" >/dev/null
  su postgres -c "createdb -U $POSTGRES_USER $POSTGRES_DB"
  su postgres -c "pg_ctl -D $PGDATA -w stop" >/dev/null
fi
# postgres itself as PID 1, so that docker stop's signal reaches it.
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'

