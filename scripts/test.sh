#!/usr/bin/env bash
# Set up, then run the test suite (slow tests: add `-m slow`). Browser tests need
# Debian's chromium; it is installed here when missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium for the browser tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "chromium could not be installed: browser tests will skip" >&2
fi
exec .venv/bin/python -m pytest "$@"
