#!/usr/bin/env bash
# The test suite: set up on first use, then pytest (arguments go to pytest). CI runs this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
python -m pytest -q "$@"
