#!/usr/bin/env bash
# Installs the pinned third-party clients of the interop suite (tests/interop/):
#   - nats-py + aiohttp + pytest + paho-mqtt (tests/interop/python/requirements.txt) in
#     .venv-interop/
#   - nats.ws, @nats-io/nats-core, ws, playwright-core, mqtt (tests/interop/node/package-lock.json)
#     in tests/interop/node/node_modules/ with `npm ci`
#   - Debian's chromium (apt-get) when /usr/bin/chromium is missing; no tool downloads a
#     browser of its own.
# Idempotent: each part is skipped when its stamp matches the pinned lists.
set -euo pipefail
cd "$(dirname "$0")/.."

REQ=tests/interop/python/requirements.txt
NODE_DIR=tests/interop/node
VENV=.venv-interop

sum() { sha256sum "$1" | cut -d' ' -f1; }

# Python: nats-py over aiohttp's WebSocket.
if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$(sum "$REQ")" ]; then
    echo "python: $VENV up to date"
else
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
    sum "$REQ" > "$VENV/.stamp"
    echo "python: installed $(grep -E '^(nats-py|aiohttp)==' "$REQ" | tr '\n' ' ')"
fi

# Node 20: the lock file pins every package.
node_major=$(node --version | sed -E 's/^v([0-9]+).*/\1/')
if [ "$node_major" -lt 20 ]; then
    echo "node >= 20 needed, found $(node --version)" >&2
    exit 1
fi
if [ -f "$NODE_DIR/node_modules/.stamp" ] &&
    [ "$(cat "$NODE_DIR/node_modules/.stamp")" = "$(sum "$NODE_DIR/package-lock.json")" ]; then
    echo "node: $NODE_DIR/node_modules up to date"
else
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    sum "$NODE_DIR/package-lock.json" > "$NODE_DIR/node_modules/.stamp"
    echo "node: installed from package-lock.json"
fi

# Chromium from Debian (CI runs as root on a fresh machine).
if [ -x /usr/bin/chromium ]; then
    echo "chromium: present"
else
    if [ "$(id -u)" != 0 ]; then
        echo "chromium missing: run 'apt-get install -y chromium' as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium > /dev/null
    echo "chromium: installed"
fi
/usr/bin/chromium --version 2>/dev/null | head -1
command -v openssl > /dev/null || { echo "openssl missing (test certificates)" >&2; exit 1; }
