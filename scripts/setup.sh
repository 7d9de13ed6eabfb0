# Sourced by crawl.sh and test.sh, or by you once per shell (`source scripts/setup.sh`): a project
# virtualenv in .venv with newscrawl and its test extras, reinstalled only when pyproject.toml changed,
# and .venv/bin first on PATH. It changes nothing else in the calling shell: the installation runs in a
# subshell, each step checked by hand (`set -e` would be left in your shell if set here, and does not
# act inside a subshell whose status is tested). Needs python3 (>= 3.11) with venv, and PyPI.
(
    if [ ! -x .venv/bin/python ]; then
        echo "Creating .venv and installing newscrawl with its dependencies (first time: about a minute)…" >&2
        python3 -m venv .venv 2>/dev/null || {
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && python3 -m venv .venv
        } || exit 1
    fi
    stamp=".venv/.newscrawl-installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        if [ -f "$stamp" ]; then echo "pyproject.toml changed: updating .venv…" >&2; fi
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' || exit 1
        touch "$stamp" || exit 1
    fi
) || { echo "setup.sh: the set-up failed (see above); nothing was changed in this shell" >&2; return 1 2>/dev/null || exit 1; }
case ":$PATH:" in
    *":$PWD/.venv/bin:"*) ;;
    *) export PATH="$PWD/.venv/bin:$PATH" ;;
esac
