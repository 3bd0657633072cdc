#!/usr/bin/env bash
# Creates .venv with evsim and everything its tests and the Brian2 cross-check need.
# Prefers Python 3.13 (Brian2 2.11 needs it); falls back to any Python >= 3.10.
# Usage: ./install.sh            (EVSIM_PYTHON=/path/to/python to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")"

pick_python() {
    if [ -n "${EVSIM_PYTHON:-}" ]; then echo "$EVSIM_PYTHON"; return; fi
    local candidates=(python3.13)
    if command -v pyenv >/dev/null 2>&1; then
        for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$' | sort -V -r); do
            candidates+=("$(pyenv root)/versions/$v/bin/python3")
        done
    fi
    candidates+=(python3.12 python3.11 python3.10 python3)
    for c in "${candidates[@]}"; do
        if "$c" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
            echo "$c"; return
        fi
    done
    echo "install.sh: no Python >= 3.10 found (set EVSIM_PYTHON)" >&2
    exit 2
}

PY=$(pick_python)
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[brian2,plot,test,images]'
.venv/bin/python -c 'import sys, numpy, numba; print("evsim installed: Python %s, numpy %s, numba %s" % (sys.version.split()[0], numpy.__version__, numba.__version__))'
# compile the engine once now (cached on disk), so that the first run does not wait for it
.venv/bin/evsim warmup
