#!/usr/bin/env bash
# The project's checks of its code: ruff (lint and format) and mypy, with pyproject.toml's configuration.
# scripts/test.sh runs this first; a finding fails it (and CI).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
ruff check --quiet .
ruff format --check --quiet .
mypy
