#!/usr/bin/env bash
# Install everything the test suite needs into .venv and run it. Used by the README and by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

# Headless Chromium for the browser tests (Debian packages).
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi

[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0          # CPU build; an unpinned torch pulls CUDA packages
python -m pip install -q -e ".[all,dev]"
lint-imports                                   # the layer contracts of pyproject ([tool.importlinter])
python -m pytest "$@"
