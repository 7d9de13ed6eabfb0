#!/usr/bin/env bash
# The test suite: set up on first use, then (without arguments) scripts/lint.sh, then pytest (arguments go to
# pytest: `bash scripts/test.sh tests/unit` is the fast layer). CI runs this (.ci/run). Tests run in
# NEWSCRAWL_TEST_WORKERS pytest-xdist workers (2; 0 runs them in this process, in order).
# The tests start real components: redis-server, Node.js with the pinned Hexo (tests/hexo), Chromium
# (the report's test, with a Chinese font) from Debian's packages, installed here when missing and run as root; and pywb
# (the WARC replay test) in a virtualenv of its own, tests/pywb/.venv: its pins clash with newscrawl's.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v chromium >/dev/null || missing+=(chromium)
[ -n "$(fc-list :lang=zh 2>/dev/null)" ] || missing+=(fonts-wqy-zenhei)  # Chinese text in the report's screenshot
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
    echo "Installing ${missing[*]} from Debian's packages (first time: a few minutes)…" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if command -v npm >/dev/null && { [ ! -f tests/hexo/node_modules/.package-lock.json ] \
        || [ tests/hexo/package-lock.json -nt tests/hexo/node_modules/.package-lock.json ]; }; then
    echo "Installing Hexo 7.3.0 for the Hexo tests (npm ci in tests/hexo)…" >&2
    npm ci --prefix tests/hexo --no-audit --no-fund --loglevel=error >/dev/null
fi
if [ ! -f tests/pywb/.venv/.installed ] || [ tests/pywb/requirements.txt -nt tests/pywb/.venv/.installed ]; then
    echo "Installing pywb for the WARC replay test (tests/pywb/.venv)…" >&2
    python3 -m venv tests/pywb/.venv
    tests/pywb/.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/pywb/requirements.txt
    touch tests/pywb/.venv/.installed
fi
source scripts/setup.sh
if [ $# -eq 0 ]; then bash scripts/lint.sh; fi  # the whole suite (CI) checks the code first
python -m pytest -q -n "${NEWSCRAWL_TEST_WORKERS:-2}" "$@"
