#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/**/test_browser_*.py), which also
# take the README's screenshots. Playwright drives it as its executable: `playwright install` cannot
# download a browser build here, so Debian's package is used instead.
#
# Idempotent and fast: when a working chromium is already on PATH it only prints its version.
# Needs root (or passwordless sudo) to install; otherwise it explains and exits non-zero.
set -euo pipefail

find_chromium() {
    local candidate
    for candidate in "${CHROMIUM:-}" chromium /usr/bin/chromium chromium-browser; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# `make test` runs two chains at once and both want the browser: one installs, the other
# waits for it (two apt-get runs would fight over dpkg's lock).
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/foretagsstod-install-browser.lock"
    flock 9
fi

if path=$(find_chromium); then
    echo "Chromium is installed: $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    SUDO=(sudo -n)
else
    cat >&2 <<'MSG'
Chromium is not installed and this script cannot install it (it needs root or passwordless sudo).
Install Debian's package yourself, then run the browser tests again:
    sudo apt-get update && sudo apt-get install -y chromium
Or point the tests at another Chromium/Chrome binary: CHROMIUM=/path/to/chrome
MSG
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "Chromium is not installed and apt-get is not available: install Chromium yourself" \
         "and set CHROMIUM=/path/to/chromium." >&2
    exit 1
fi

echo "==> Installing Debian's chromium (apt-get)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
path=$(find_chromium) || { echo "chromium was installed but is not on PATH" >&2; exit 1; }
echo "Chromium is installed: $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
