#!/usr/bin/env bash
# The test suite: set up on first use, then pytest (arguments go to pytest). CI runs this (.ci/run).
# The distributed tests need a real redis-server: installed here from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
source scripts/setup.sh
python -m pytest -q "$@"
