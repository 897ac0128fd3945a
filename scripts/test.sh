#!/usr/bin/env bash
# Sets everything up, then runs the checks CI runs: lint, types, the default
# test suite, and the evaluation on the synthetic corpus (fails under the floors).
# The service's end-to-end tests run on the embedded default and on Celery + Redis +
# PostgreSQL, real servers started here from Debian's packages.
# Slow tests run after that when RUN_SLOW=1 (CI sets it when time allows).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --servers
export OMP_THREAD_LIMIT=1
# Throwaway Redis and PostgreSQL for the scale-out path (Celery + PostgreSQL), stopped on exit.
servers_dir=$(mktemp -d)
trap 'bash scripts/servers.sh stop "$servers_dir"; rm -rf "$servers_dir"' EXIT
while IFS= read -r line; do export "${line?}"; done < <(bash scripts/servers.sh start "$servers_dir")
echo "== servers: redis ${INTAKE_TEST_BROKER_URL}, postgresql ${INTAKE_TEST_DATABASE_URL}"
py=.venv/bin
echo "== ruff" && $py/ruff check . && $py/ruff format --check .
echo "== mypy" && $py/mypy
echo "== pytest" && $py/pytest -q -m "not slow"
echo "== eval" && $py/intake eval fixtures/corpus --check-floors
echo "== bench (small subset; figures, not pass/fail)" && $py/intake bench --limit 1
if [[ ${RUN_SLOW:-0} == 1 ]]; then
  echo "== slow tests (load and faults, both paths)" && $py/pytest -q -s -m slow
  echo "== service bench (figures, not pass/fail)" && $py/intake bench-service --faxes 4
fi
