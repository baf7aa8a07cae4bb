#!/usr/bin/env bash
# Runs the backend suite in both modes at once (they share nothing: the production pass gets its own
# PostgreSQL database, Redis prefix and worker), printing the production pass's output after the
# embedded one. Usage: scripts/test-backend.sh <python> [pytest args...]
set -uo pipefail
python="$1"; shift
mkdir -p var
log=var/test-production.log

# Pure adapter tests (mail, net) do not depend on the mode and run once, in the embedded pass.
POSTDESK_TEST_MODE=production "$python" -m pytest -p no:cacheprovider backend/tests --ignore=backend/tests/e2e \
  --ignore=backend/tests/mail --ignore=backend/tests/net -q "$@" >"$log" 2>&1 &
production=$!

echo "== backend, embedded mode (production mode runs alongside, output below)"
POSTDESK_TEST_MODE=embedded "$python" -m pytest -p no:cacheprovider backend/tests --ignore=backend/tests/e2e -q "$@"
embedded_status=$?

wait "$production"
production_status=$?
echo "== backend, production mode"
cat "$log"
echo "== embedded: exit $embedded_status, production: exit $production_status"
[ "$embedded_status" -eq 0 ] && [ "$production_status" -eq 0 ]
