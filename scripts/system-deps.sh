#!/usr/bin/env bash
# Installs the system packages Hunter needs when they are missing: Python's venv module and
# Debian's Chromium (Hunter never downloads a browser of its own). Debian/Ubuntu only.
set -euo pipefail

PYTHON=${PYTHON:-python3}
missing=()
"$PYTHON" -c "import ensurepip, venv" 2>/dev/null || missing+=("python3-venv")
if [ "${HUNTER_SKIP_BROWSER:-0}" != "1" ] && ! command -v chromium >/dev/null 2>&1 \
    && [ -z "${BROWSER_EXECUTABLE:-}" ]; then
  missing+=("chromium")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install: ${missing[*]} (no apt-get on this machine)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing system packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
