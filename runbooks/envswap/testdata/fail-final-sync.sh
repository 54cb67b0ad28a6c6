#!/usr/bin/env bash
# fail-final-sync.sh COUNTER FROM TO: the first call copies FROM into TO
# like sync.sh; every later call fails the way a lost connection would,
# quoting both DSNs on stdout and stderr (as careless tools do), so a test
# can check that the passwords never reach a log, an error or the journal.
set -euo pipefail
counter=$1
from=$2
to=$3
n=$(( $(cat "$counter" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$counter"
if [ "$n" -eq 1 ]; then
	exec "$(dirname "$0")/sync.sh" "$from" "$to"
fi
echo "sync attempt $n: copying $from to $to"
echo "psql: error: connection to $to failed: server closed the connection unexpectedly" >&2
exit 2
