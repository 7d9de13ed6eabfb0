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
# pywb (the WARC replay test) lives in a virtualenv of its own, tests/pywb/.venv: its pins clash with newscrawl's.
if [ ! -f tests/pywb/.venv/.installed ] || [ tests/pywb/requirements.txt -nt tests/pywb/.venv/.installed ]; then
    echo "Installing pywb for the WARC replay test (tests/pywb/.venv)…" >&2
    python3 -m venv tests/pywb/.venv
    tests/pywb/.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/pywb/requirements.txt
    touch tests/pywb/.venv/.installed
fi
source scripts/setup.sh
python -m pytest -q "$@"
