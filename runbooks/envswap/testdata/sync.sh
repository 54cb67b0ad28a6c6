#!/usr/bin/env bash
# sync.sh FROM TO: replace the contents of database TO with a copy of
# database FROM (both PostgreSQL DSNs). pg_dump reads FROM in one snapshot,
# so a frozen (read-only) source is fine; --clean drops what TO had.
set -euo pipefail
from=$1
to=$2
pg_dump --clean --if-exists --no-owner --no-privileges --dbname="$from" |
	psql -X -q -v ON_ERROR_STOP=1 --dbname="$to" >/dev/null
