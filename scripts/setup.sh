#!/usr/bin/env bash
# Creates the two Python 3.10 environments and installs their exact pins.
#
#   .venv-rasa  the Rasa server (rasa[spacy]==3.6.21 pins SQLAlchemy<1.5, aiohttp<3.10)
#   .venv       actions, gateway, tools and tests (current aiohttp, SQLAlchemy 2)
#
# An environment is reinstalled only when its lock file changed: the lock's hash is
# stamped into the environment after a successful install, so a second run is instant.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
    local candidate
    for candidate in "${PYTHON310:-}" python3.10 \
        "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
        [ -n "$candidate" ] || continue
        # A pyenv shim exists even when 3.10 is not the active version: ask it to run.
        if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    return 1
}

if ! PY=$(find_python310); then
    cat >&2 <<'EOF'
Python 3.10 was not found. Rasa Open Source 3.6 runs only on Python 3.8-3.10.
Install it, for example with pyenv:
    pyenv install 3.10.13
or with your package manager (python3.10 and python3.10-venv), then run make again.
You can also point to an interpreter explicitly: PYTHON310=/path/to/python3.10 make run
EOF
    exit 1
fi

install_env() {
    local venv=$1 lock=$2 stamp want
    stamp="$venv/.installed-lock"
    want=$(sha256sum "$lock" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "==> Installing $venv from $lock (first run takes a few minutes)"
    [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip wheel 2>&1 \
        | grep -v "is ignored: it is neither" || true
    # pip's own exit status decides; the filter only drops the noise of absent local mirrors.
    set +e
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock" \
        > "$venv/.install.log" 2>&1
    local status=$?
    set -e
    if [ $status -ne 0 ]; then
        grep -v "is ignored: it is neither" "$venv/.install.log" | tail -40 >&2
        echo "Installing $venv failed (full log: $venv/.install.log)" >&2
        exit $status
    fi
    echo "$want" > "$stamp"
}

install_env .venv-rasa requirements/rasa.lock
install_env .venv requirements/app.lock
