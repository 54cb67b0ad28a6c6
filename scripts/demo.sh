#!/bin/sh
# Runs the weighted-dns demo against a local moto_server: no AWS account
# needed. Extra arguments go to the demo (e.g. --bake 10s, --weights '[25, 100]').
set -eu
cd "$(dirname "$0")/.."
exec go run ./scripts/demo "$@"
