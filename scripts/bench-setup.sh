#!/usr/bin/env bash
# Installs what `intake bench` compares against, apart from the project: OCRmyPDF in its
# own virtual environment at .venv-bench (never a dependency of the project; the bench
# finds it there), and Ghostscript, which OCRmyPDF uses for PDF/A output when its own
# conversion does not suffice.  Run scripts/setup.sh first (tesseract comes from there).
set -euo pipefail
cd "$(dirname "$0")/.."

OCRMYPDF_VERSION=17.13.0
if ! dpkg-query -W -f='${Status}' ghostscript 2>/dev/null | grep -q "install ok installed"; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ghostscript >&2
  else
    echo "bench-setup: run  sudo apt-get install -y ghostscript" >&2
    exit 1
  fi
fi
PY=${PYTHON:-python3}
[[ -x .venv-bench/bin/python ]] || "$PY" -m venv .venv-bench
.venv-bench/bin/python -m pip install -q "ocrmypdf==${OCRMYPDF_VERSION}" >&2
.venv-bench/bin/ocrmypdf --version
