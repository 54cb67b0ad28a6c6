#!/usr/bin/env bash
# Runs the weighted-dns demo against a local moto_server: no AWS account
# needed. Extra arguments go to the demo (e.g. --bake 10s, --weights '[25, 100]').
#
# It says what it does from the first second: a cold build compiles the AWS
# SDK for a minute or more, so each package is listed as it is compiled
# (go build -v lists only what is not cached, so a warm build is silent).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
step() { printf '\n== %s\n' "$*"; }
step "building bluegreen and the demo (a cold build compiles the AWS SDK and takes a minute or two; packages are listed as they compile)"
start=$SECONDS
go build -v -o bin/bluegreen ./cmd/bluegreen 2>&1 | sed -u 's/^/   compiled /'
go build -v -o bin/bluegreen-demo ./scripts/demo 2>&1 | sed -u 's/^/   compiled /'
echo "   built in $((SECONDS - start))s"
# The run reports (HTML) outlive the demo's temporary state.
export BLUEGREEN_REPORT_DIR="${BLUEGREEN_REPORT_DIR:-$PWD/bin/demo-reports}"
mkdir -p "$BLUEGREEN_REPORT_DIR"
exec bin/bluegreen-demo --bin bin/bluegreen "$@"
