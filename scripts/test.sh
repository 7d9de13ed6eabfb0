#!/usr/bin/env bash
# The test suite: set up on first use, then pytest (arguments go to pytest). CI runs this (.ci/run).
# The distributed tests need a real redis-server: installed here from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Hexo tests need Node.js and npm (Debian's packages) and the pinned Hexo in tests/hexo.
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    echo "Installing ${missing[*]} from Debian's packages…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if command -v npm >/dev/null && { [ ! -f tests/hexo/node_modules/.package-lock.json ] \
        || [ tests/hexo/package-lock.json -nt tests/hexo/node_modules/.package-lock.json ]; }; then
    echo "Installing Hexo 7.3.0 for the Hexo tests (npm ci in tests/hexo)…"
    npm ci --prefix tests/hexo --no-audit --no-fund --loglevel=error >/dev/null
fi
source scripts/setup.sh
python -m pytest -q "$@"
