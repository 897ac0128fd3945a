#!/usr/bin/env bash
# Sets up everything the project needs on a fresh Debian machine, and is quick
# when nothing changed: Debian packages (installed when missing and running as
# root, otherwise the exact command is printed), then the virtual environment at
# .venv with the `intake` command, pinned by requirements.lock.
#   --servers  also what the tests need beyond the pipeline (scripts/test.sh): Redis and
#              PostgreSQL (the scale-out path) and Chromium (the reviewer page's browser tests,
#              driven by Playwright with Debian's browser; Playwright's own browsers are never
#              downloaded)
set -euo pipefail
cd "$(dirname "$0")/.."

# fonts-dejavu-core: the ballot-box and tick glyphs (☐ ☒ ✓) the page-structure tests print
DEBIAN_PACKAGES=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd fonts-dejavu-core)
if [[ ${1:-} == --servers ]]; then
  DEBIAN_PACKAGES+=(redis-server postgresql chromium)
fi
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "setup: missing Debian packages. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.installed
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing Python packages into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -c requirements.lock -e ".[dev]" >&2
  echo "$want" > "$stamp"
fi
