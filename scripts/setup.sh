# Sourced by crawl.sh and test.sh: a project virtualenv in .venv with newscrawl and its test extras,
# reinstalled only when pyproject.toml changed. Needs python3 (>= 3.11) with venv, and PyPI.
set -euo pipefail
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv 2>/dev/null || {
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && python3 -m venv .venv
    }
fi
stamp=".venv/.newscrawl-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
    touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
