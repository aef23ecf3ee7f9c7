#!/bin/bash
# Starts SQL Server, runs init.sql once (marker file in the data volume), then waits on the server process.
set -euo pipefail
SQLCMD=/opt/mssql-tools18/bin/sqlcmd
[[ -x "$SQLCMD" ]] || SQLCMD=/opt/mssql-tools/bin/sqlcmd
MARKER=/var/opt/mssql/.erpstream-init-done

/opt/mssql/bin/sqlservr &
pid=$!

if [[ ! -f "$MARKER" ]]; then
  for _ in $(seq 1 90); do
    if "$SQLCMD" -C -S localhost -U sa -P "$MSSQL_SA_PASSWORD" -Q 'SELECT 1' >/dev/null 2>&1; then break; fi
    sleep 2
  done
  "$SQLCMD" -C -S localhost -U sa -P "$MSSQL_SA_PASSWORD" -b -i /docker-init/init.sql
  touch "$MARKER"
fi
wait "$pid"
