#!/usr/bin/env bash
# Sets everything up, then runs the checks CI runs: lint, types, the default
# test suite, and the evaluation on the synthetic corpus (fails under the floors).
# Slow tests run after that when RUN_SLOW=1 (CI sets it when time allows).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_THREAD_LIMIT=1
py=.venv/bin
echo "== ruff" && $py/ruff check . && $py/ruff format --check .
echo "== mypy" && $py/mypy
echo "== pytest" && $py/pytest -q -m "not slow"
echo "== eval" && $py/intake eval fixtures/corpus --check-floors
echo "== bench (small subset; figures, not pass/fail)" && $py/intake bench --limit 1
if [[ ${RUN_SLOW:-0} == 1 ]]; then
  echo "== slow tests" && $py/pytest -q -m slow
fi
